"""The home screen's first counts read through ``Workspace.peek`` (a DB-API ``sqlite3``
connection, no SQLAlchemy) are the store's own: the same statements as through the open store
give the same view on real databases; and a database that opening would change (behind the
head, newer, damaged, missing, with another shipped deck synced) is not peeked at: the store
opens it (migrates, syncs) first."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from labdeck.config import Settings
from labdeck.ingest.fingerprint import META_KEY
from labdeck.srs.scheduler import Scheduler
from labdeck.store import DatabaseCorrupt, NewerSchema, Store, open_store
from labdeck.store.db import downgrade, head_revision, known_revisions, revision_of
from labdeck.tui import home_view
from labdeck.tui.home_view import HomeView
from labdeck.workspace import Workspace

from .conftest import Clock, key, make


def _both(home: Path, settings: Settings, clock: Clock) -> tuple[HomeView, HomeView]:
    """(through peek, through the opened store), the decks' rows and the chapters' rows
    each, as Home reads them; asserts the peek happened and the two agree."""
    workspace = Workspace(home, settings=settings, now=clock)
    with workspace.peek() as conn:
        assert isinstance(conn, sqlite3.Connection)  # the fast path was taken
        day = workspace.today()
        decks = home_view.read_on(conn, settings, day, chapters=False)
        direct = home_view.read_on(conn, settings, day, like=decks)
    scheduler = workspace.scheduler()  # opens the store the usual way
    assert scheduler.today() == day
    opened_decks = home_view.read(scheduler, chapters=False)
    opened = home_view.read(scheduler, like=opened_decks)
    workspace.close()
    assert direct == opened
    assert decks == opened_decks
    return direct, opened


def test_new_decks_nothing_answered(store: Store, home, two_decks, clock) -> None:
    direct, _ = _both(home, Settings(), clock)
    assert direct.total == (12, 0, 0)
    assert [(r.deck, r.chapter, r.new) for r in direct.rows][:3] == [
        (two_decks[0], None, 7),
        (two_decks[0], "A1", 4),
        (two_decks[0], "A2", 3),
    ]


def test_due_cards_redrills_limits_suspended_buried_exam_dates(
    store: Store, home, two_decks, clock
) -> None:
    a, b = two_decks
    settings = Settings(
        new_per_day=5,
        reviews_per_day=4,
        deck_limits={b: {"new_per_day": 2, "reviews_per_day": 1}},
        exam_dates={a: (clock().date() + timedelta(days=20)).isoformat()},
    )
    sched = make(store, clock, new_per_day=20, reviews_per_day=200)
    for i in range(1, 5):
        sched.answer(key(a, "A1", i), 4)
    for i in range(1, 4):
        sched.answer(key(b, "B1", i), 5)
    clock.next_day()
    sched.answer(key(a, "A1", 1), 2)  # a failed review: a re-drill today
    sched.answer(key(a, "A2", 1), 3)  # a new card at q 3: a re-drill too
    sched.suspend(key(a, "A1", 2))
    sched.bury(key(b, "B1", 4))
    clock.next_day(6)  # several due at once, over the limits
    direct, _ = _both(home, settings, clock)
    assert direct.answered == 0 and direct.streak == 0
    assert direct.total[2] > 0  # due reviews
    clock.set(clock().replace(hour=10))
    sched = make(store, clock, **{"new_per_day": 5, "reviews_per_day": 4})
    sched.answer(key(a, "A1", 3), 1)  # today: a re-drill, a review used
    direct, _ = _both(home, settings, clock)
    assert direct.total[1] == 1
    assert direct.answered == 1 and direct.streak == 1
    assert sum(direct.per_day.values()) == 10


def test_a_new_study_day_at_the_rollover(store: Store, home, two_decks, clock) -> None:
    a, _ = two_decks
    sched = make(store, clock)
    for i in range(1, 4):
        sched.answer(key(a, "A1", i), 2)  # re-drills today
    before, _ = _both(home, Settings(), clock)
    assert before.total[1] == 3
    clock.set((clock() + timedelta(days=1)).replace(hour=3, minute=59))  # still yesterday
    still, _ = _both(home, Settings(), clock)
    assert still.day == before.day and still.total == before.total
    clock.set(clock().replace(hour=4, minute=0))  # the rollover: a new day
    after, _ = _both(home, Settings(), clock)
    assert after.day == before.day + timedelta(days=1)
    assert after.total[1] == 0 and after.total[2] == 3  # yesterday's failures due again
    assert after.answered == 0 and after.streak == 1


def test_the_shipped_deck_with_drills(synced_home: Path, monkeypatch, clock) -> None:
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    workspace = Workspace(synced_home, settings=Settings(), now=clock)
    sched = workspace.scheduler()
    for entry in sched.queue()[:12]:
        sched.answer(entry.key, 2 if entry.kind == "new" and len(entry.key) % 2 else 5)
    workspace.close()
    direct, _ = _both(synced_home, Settings(), clock)
    assert direct.answered == 12 and direct.total[1] > 0


# ------------------------------------------------------------ not peeked at


def test_no_database_is_not_peeked_at_nor_created(home: Path) -> None:
    workspace = Workspace(home)
    with workspace.peek() as conn:
        assert conn is None
    assert not (home / "labdeck.db").exists()


def test_a_database_behind_the_head_is_migrated_first(store: Store, home, two_decks, clock):
    head = head_revision()
    downgrade(store.path, store.engine, known_revisions()[head] or "base")
    store.close()
    workspace = Workspace(home, now=clock)
    with workspace.peek() as conn:
        assert conn is None
    assert workspace.store.backup_made is not None  # the store migrated it
    assert workspace.store.revision() == head
    workspace.close()
    _both(home, Settings(), clock)  # at head now: peeked at, the same counts


def test_a_newer_database_is_left_to_the_store_to_refuse(store: Store, home) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    store.close()
    with Workspace(home).peek() as conn:
        assert conn is None
    with pytest.raises(NewerSchema):
        open_store(home)


def test_a_damaged_database_is_left_to_the_store_to_refuse(home: Path) -> None:
    (home / "labdeck.db").write_bytes(b"not a database, " * 64)
    with Workspace(home).peek() as conn:
        assert conn is None
    with pytest.raises(DatabaseCorrupt):
        open_store(home)


def test_another_shipped_deck_synced_is_synced_first(synced_home: Path, monkeypatch, clock):
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    with sqlite3.connect(synced_home / "labdeck.db") as conn:
        conn.execute("UPDATE meta SET value = 'an older deck' WHERE key = ?", (META_KEY,))
    conn.close()
    workspace = Workspace(synced_home, now=clock)
    with workspace.peek() as peeked:
        assert peeked is None
    with workspace.store.engine.connect() as conn:  # opening synced the deck again
        assert revision_of(conn) == head_revision()
        row = conn.exec_driver_sql("SELECT value FROM meta WHERE key = :k", {"k": META_KEY})
        assert row.scalar() != "an older deck"
    workspace.close()
    _both(synced_home, Settings(), clock)


def test_peek_never_writes(synced_home: Path, monkeypatch, clock) -> None:
    """mode=ro: the file's bytes and times are as they were (the store's integrity cache
    still holds for the open that follows)."""
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    db = synced_home / "labdeck.db"
    Workspace(synced_home).store.close()  # the integrity check ran (and is cached, if due)
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    workspace = Workspace(synced_home, now=clock)
    with workspace.peek() as conn:
        assert conn is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM review_log")
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before


def test_an_open_store_is_used_not_peeked(store: Store, home) -> None:
    workspace = Workspace(home, store=store)
    with workspace.peek() as conn:
        assert conn is None
    assert isinstance(Scheduler(store).today(), date)
