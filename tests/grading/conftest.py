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


@pytest.fixture(scope="session")
def dev_items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def holdout_items() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in HOLDOUT_SET.read_text(encoding="utf-8").splitlines() if line
    ]
