"""Fixtures for the scheduler tests: a real SQLite store in a temp home, a small outline deck
imported through labdeck.ingest, and a clock the tests move by hand."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from labdeck.config import Settings
from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.srs.scheduler import Scheduler
from labdeck.store import Store, open_store

START = datetime(2026, 3, 2, 10, 0)  # naive = local time, like LABDECK_NOW without offset


class Clock:
    def __init__(self, moment: datetime = START) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def next_day(self, days: int = 1) -> None:
        self.moment += timedelta(days=days)


def outline(title: str, chapters: dict[str, int]) -> str:
    """An exam outline: ``# CODE Title`` chapters with ``## item`` headings and notes."""
    lines = ["---", f"title: {title}", "---", ""]
    for code, items in chapters.items():
        lines += [f"# {code} Chapter {code}", ""]
        for i in range(1, items + 1):
            lines += [f"## {code} item {i}", "", f"Notes for {code} item {i}.", ""]
    return "\n".join(lines)


def import_outline(store: Store, path: Path, title: str, chapters: dict[str, int]) -> str:
    path.write_text(outline(title, chapters), encoding="utf-8")
    report = import_document(store, detect_and_parse(path))
    return report.deck


def key(deck: str, code: str, item: int) -> str:
    return f"{deck}:{code}:{code.lower()}-item-{item}"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store migrated once per session (the migrations cost ~0.3 s a store)."""
    home = tmp_path_factory.mktemp("srs-template")
    open_store(home).close()  # closing checkpoints the WAL: the .db file holds everything
    return home / "labdeck.db"


@pytest.fixture
def store(home: Path, monkeypatch: pytest.MonkeyPatch, migrated_db: Path) -> Iterator[Store]:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.delenv("LABDECK_NOW", raising=False)
    shutil.copy(migrated_db, home / "labdeck.db")
    s = open_store(home)
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def two_decks(store: Store, home: Path) -> tuple[str, str]:
    """Deck 'alpha' (A1: 4 cards, A2: 3 cards) then deck 'beta' (B1: 5 cards)."""
    a = import_outline(store, home / "alpha.md", "Alpha", {"A1": 4, "A2": 3})
    b = import_outline(store, home / "beta.md", "Beta", {"B1": 5})
    return a, b


def make(store: Store, clock: Clock, **settings: object) -> Scheduler:
    return Scheduler(store, Settings(**settings), now=clock)  # type: ignore[arg-type]
