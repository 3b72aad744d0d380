"""Grading's word lists, kept as data: ``contradiction.toml`` and ``stopwords.toml`` here.

Each file is parsed once per process (``load`` is cached); callers build their own tables
from it. ``stop_words`` gives the two stop lists of grading (see ``stopwords.toml``).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any, Literal

FILES: tuple[str, ...] = ("contradiction", "stopwords")


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed ``<name>.toml`` of this package."""
    if name not in FILES:
        raise KeyError(f"no grading lexicon named {name!r}")
    with files(__name__).joinpath(f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def stop_words(use: Literal["key_terms", "concepts"], lang: Literal["en", "zh"]) -> frozenset[str]:
    """The stop list for ``use``: the common entries plus that use's own ones."""
    table = load("stopwords")[lang]
    if lang == "zh":
        return frozenset(table["common"] + table[use])
    return frozenset(table["common"]) | frozenset(table[use])
