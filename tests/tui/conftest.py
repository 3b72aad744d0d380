"""TUI fixtures: Services on a real SQLite db (the shipped content loaded), a fixed clock and
the real default grader, loaded once per session and shared by every app."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from tuihelpers import NOW

from labdeck.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SEED_CANDIDATES = (ROOT.parent / "shared" / "seeds" / "outline-exam-C.md",)


def fixed_now() -> datetime:
    return NOW


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch):
    """Study days and dates on screen do not depend on the machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _no_warm_child_outlives_its_test():
    """A screen showing a card with a demo has a warm demo child import torch (issue 19.6).
    Its environment names this test's home, so no later test can take it: reap it when the
    test ends rather than let it hold a core importing torch while the next tests run."""
    yield
    from labdeck.demos.runner import discard_warm

    discard_warm()


@pytest.fixture(scope="session")
def template_db(synced_db: Path) -> Path:
    """The folder of a migrated database with the shipped content (``synced_db``, built once
    per worker); each test copies its ``labdeck.db``."""
    return synced_db.parent


@pytest.fixture(scope="session")
def grader():
    """The real default grader (multilingual USE), loaded once for the whole session."""
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader

    return Grader(load_embedder("use", None, threads=1))


@pytest.fixture
def make_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_db: Path, grader
) -> Callable[..., object]:
    from labdeck.store import open_store
    from labdeck.tui.services import Services

    monkeypatch.setenv("LABDECK_HOME", str(tmp_path))
    monkeypatch.delenv("NO_COLOR", raising=False)

    def make(settings: Settings | None = None, now: Callable[[], datetime] = fixed_now):
        if not (tmp_path / "labdeck.db").exists():  # the content fingerprint is inside it
            shutil.copy(template_db / "labdeck.db", tmp_path / "labdeck.db")
        store = open_store(tmp_path)
        services = Services(
            store=store,
            home=tmp_path,
            settings=settings or Settings(),
            now=now,
            grader_factory=lambda _settings: grader,
        )
        services.load_grader()  # ready before the first frame: no "loading" race on screen
        return services

    return make


@pytest.fixture
def services(make_services):
    return make_services()


@pytest.fixture
def make_app(services):
    from labdeck.tui.app import LabdeckApp

    def make(svc=None):
        return LabdeckApp(svc or services, load_grader=False)

    return make


@pytest.fixture
def seed_outline() -> Path:
    for path in SEED_CANDIDATES:
        if path.exists():
            return path
    pytest.skip("seed document outline-exam-C.md not present")
