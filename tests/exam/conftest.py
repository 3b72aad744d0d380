"""Fixtures for mock-exam tests: a real database with the shipped deck, a fake clock, the real
grader (loaded once per session)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from exam_helpers import FakeClock

from labdeck.store import Store, open_store


@pytest.fixture(scope="session")
def template_db(synced_db: Path) -> Path:
    """A database with the shipped deck loaded (``synced_db``, built once per worker), copied
    per test."""
    return synced_db


@pytest.fixture
def store(template_db: Path, home: Path) -> Iterator[Store]:
    target = home / "labdeck.db"
    src = sqlite3.connect(template_db)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    stamp = template_db.with_name(template_db.name + ".content")
    if stamp.exists():
        target.with_name(target.name + ".content").write_text(stamp.read_text())
    opened = open_store(home)
    yield opened
    opened.close()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def grader() -> Any:
    from labdeck.grading.embedder import load_embedder
    from labdeck.grading.grader import Grader

    return Grader(load_embedder())


@pytest.fixture
def scheduler_factory(store: Store, fake_clock: FakeClock) -> Callable[[], Any]:
    from labdeck.config import Settings
    from labdeck.srs.scheduler import Scheduler

    return lambda: Scheduler(store, Settings(), now=fake_clock)


def card_info(store: Store, key: str) -> Any:
    from labdeck.store.queries import list_cards

    return next(c for c in list_cards(store) if c.key == key)
