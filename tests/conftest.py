"""Shared fixtures: a temporary labdeck home and the learner's seed documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"

# Tests never read the real user's data.
os.environ.setdefault("LABDECK_HOME", str(ROOT / ".pytest_home_unused"))
# The model warm-start cache is shared by the whole run (and its subprocesses), never the
# user's own cache directory.
if "LABDECK_CACHE" not in os.environ:
    import tempfile

    os.environ["LABDECK_CACHE"] = tempfile.mkdtemp(prefix="labdeck-test-cache-")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    return SEEDS
