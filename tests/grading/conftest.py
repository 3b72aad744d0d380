"""Grading fixtures: the real packaged models, each loaded once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_SET = ROOT / "tests" / "data" / "grading_dev.jsonl"
HOLDOUT_SET = ROOT / "tests" / "data" / "grading_holdout.jsonl"
CONTENT = ROOT / "content"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class CountingEmbedder:
    """Wraps a real embedder and records what it was asked to encode (not a mock)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


@pytest.fixture(scope="session")
def use_embedder() -> Any:
    from labdeck.grading.embedder import load_embedder

    return load_embedder("use")


@pytest.fixture(scope="session")
def st_embedder() -> Any:
    from labdeck.grading.embedder import load_embedder

    return load_embedder("st")


@pytest.fixture(scope="session")
def grader(use_embedder: Any) -> Any:
    from labdeck.grading.grader import Grader

    return Grader(use_embedder)


@pytest.fixture
def counting(use_embedder: Any) -> CountingEmbedder:
    return CountingEmbedder(use_embedder)


class GradedOnce:
    """The session's real grader, grading each distinct list of items once.

    The labelled sets are graded (key points as given and derived) by several modules; each
    grading of the 700-item dev set costs seconds. Every result is the real grader's.
    """

    def __init__(self, grader: Any) -> None:
        self.grader = grader
        self.params = grader.params
        self._graded: dict[str, list[Any]] = {}

    def grade_with_signals(self, items: list[dict[str, Any]]) -> list[Any]:
        key = json.dumps(items, sort_keys=True, ensure_ascii=False)
        if key not in self._graded:
            self._graded[key] = self.grader.grade_with_signals(items)
        return self._graded[key]


@pytest.fixture(scope="session")
def graded_once(grader: Any) -> GradedOnce:
    return GradedOnce(grader)


@pytest.fixture(scope="session")
def dev_both(graded_once: GradedOnce, dev_items: list[dict[str, Any]]) -> tuple[Any, Any]:
    """The dev set's signals with key points as given and derived (``fitting.collect_both``)."""
    from labdeck.grading import fitting as F

    return F.collect_both(graded_once, dev_items)


@pytest.fixture(scope="session")
def holdout_both(graded_once: GradedOnce, holdout_items: list[dict[str, Any]]) -> tuple[Any, Any]:
    from labdeck.grading import fitting as F

    return F.collect_both(graded_once, holdout_items)


@pytest.fixture(scope="session")
def dev_results(graded_once: GradedOnce, dev_items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The whole dev set graded by the real grader, key points as given and derived (the same
    grading ``dev_both`` reads its signals from)."""
    from labdeck.grading import fitting as F

    return {
        "given": [r for r, _s in graded_once.grade_with_signals(dev_items)],
        "derived": [r for r, _s in graded_once.grade_with_signals(F.strip_key_points(dev_items))],
    }


@pytest.fixture(scope="session")
def dev_items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def holdout_items() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in HOLDOUT_SET.read_text(encoding="utf-8").splitlines() if line
    ]
