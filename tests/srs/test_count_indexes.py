"""Migration 0009: ``ix_card_state_chapter`` gains ``card_id``, so a deck's due reviews are one
merge of its chapters' index ranges (``queue._due_cards``), read from the index alone.

On a real store of a few thousand cards in mixed states: the queue's reviews equal a reference
computed here from every row, per scope and limits, also when the chapters are merged in
several statements; the statement's plan is an ordered merge of covering-index ranges (no
sort); the migration goes down and up on that file, keeping every schedule and the queue.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from labdeck.config import Settings
from labdeck.srs import queue
from labdeck.srs.scheduler import Scheduler
from labdeck.store import Store, db, open_store

from .conftest import Clock
from .test_counts_scale import DECKS, SETTINGS, fill


def reference_reviews(
    store: Store, settings: Settings, today, deck: str | None, chapter: str | None
) -> list[int]:
    """The due reviews studying (deck, chapter) should give, from every row: studiable due
    cards, most overdue first (ties by id), each deck's share within its limit, then the
    global limit when no deck is chosen."""
    conn = sqlite3.connect(store.path)
    day = today.isoformat()
    decks = conn.execute("SELECT id, key FROM deck ORDER BY position, key").fetchall()
    used: dict[int, int] = {}
    for (deck_id,) in conn.execute(
        "SELECT c.deck_id FROM review_log rl JOIN card c ON c.id = rl.card_id "
        "WHERE rl.study_day = ? AND rl.undone = 0 AND rl.mode = 'review' "
        "AND rl.prev_due IS NOT NULL",
        (day,),
    ):
        used[deck_id] = used.get(deck_id, 0) + 1
    rows = conn.execute(
        "SELECT c.id, c.deck_id, ch.code, c.retired, cs.due, cs.suspended, cs.buried_until "
        "FROM card c JOIN card_state cs ON cs.card_id = c.id JOIN chapter ch ON ch.id = c.chapter_id"
    ).fetchall()
    conn.close()
    picked: list[tuple[str, int]] = []
    for deck_id, key in decks:
        if deck is not None and key != deck:
            continue
        due = sorted(
            (due_day, cid)
            for cid, d_id, code, retired, due_day, suspended, buried in rows
            if d_id == deck_id
            and (chapter is None or code == chapter)
            and not retired
            and not suspended
            and (buried is None or buried <= day)
            and due_day is not None
            and due_day <= day
        )
        cap = max(0, settings.limits_for(key)[1] - used.get(deck_id, 0))
        if deck is None:
            cap = min(cap, max(0, settings.reviews_per_day - sum(used.values())))
        picked.extend(due[:cap])
    picked.sort()
    if deck is None:
        picked = picked[: max(0, settings.reviews_per_day - sum(used.values()))]
    return [cid for _, cid in picked]


def reviews(sched: Scheduler, deck: str | None, chapter: str | None) -> list[int]:
    return [e.card_id for e in sched.queue(deck, chapter) if e.kind == "review"]


@pytest.mark.parametrize("arms", [queue.MERGE_ARMS, 2])
@pytest.mark.parametrize("name", ["defaults", "large", "per-deck"])
def test_due_reviews_are_the_reference_in_every_scope(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch, name: str, arms: int
) -> None:
    monkeypatch.setattr(queue, "MERGE_ARMS", arms)  # 2: several statements, merged again
    settings = Settings(**SETTINGS[name])  # type: ignore[arg-type]
    sched = Scheduler(store, settings, now=clock)
    today = sched.today()
    fill(store, today)
    for entry in sched.queue()[:10]:  # part of today's limits used, some re-drills
        sched.answer(entry.card_id, 2 if entry.card_id % 3 == 0 else 4)

    scopes: list[tuple[str | None, str | None]] = [(None, None)]
    for d, (deck, n_chapters) in enumerate(DECKS.items(), start=1):
        scopes.append((deck, None))
        scopes.extend((deck, f"C{d}{c}") for c in range(1, n_chapters + 1))
    for deck, chapter in scopes:
        expected = reference_reviews(store, settings, today, deck, chapter)
        assert reviews(sched, deck, chapter) == expected, (deck, chapter)
    assert reviews(sched, None, None)  # the scopes are not all empty


def _plan(store: Store, sql: str) -> list[str]:
    conn = sqlite3.connect(store.path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", {"day": "x", "n": 1})]
    finally:
        conn.close()


def test_the_due_read_is_an_ordered_merge_of_covering_index_ranges(store: Store) -> None:
    """Before 0009 each arm came out in (due, buried, id) order and SQLite sorted them."""
    fill(store, Scheduler(store, Settings()).today())
    plan = _plan(store, queue.due_sql([1, 2, 3]))
    searches = [step for step in plan if step.startswith("SEARCH")]
    assert len(searches) == 3
    assert all("COVERING INDEX ix_card_state_chapter" in step for step in searches)
    assert "MERGE (UNION ALL)" in plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def _index_columns(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[2] for r in conn.execute("PRAGMA index_info(ix_card_state_chapter)")]
    finally:
        conn.close()


def test_migration_0009_goes_down_and_up_keeping_schedules_and_the_queue(
    home: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    assert db.known_revisions()["0009"] == "0008"
    store = open_store(home)
    assert store.revision() == db.head_revision()
    head = ["chapter_id", "suspended", "due", "card_id", "buried_until"]
    assert _index_columns(store.path) == head
    sched = Scheduler(store, Settings(reviews_per_day=500), now=clock)
    fill(store, sched.today())
    for entry in sched.queue()[:6]:
        sched.answer(entry.card_id, 4)
    conn = sqlite3.connect(store.path)
    states = conn.execute("SELECT * FROM card_state ORDER BY card_id").fetchall()
    conn.close()
    queued, counts = sched.queue(), sched.overview()

    db.downgrade(store.path, store.engine, "0008")
    assert store.revision() == "0008"
    assert _index_columns(store.path) == ["chapter_id", "suspended", "due", "buried_until"]
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT * FROM card_state ORDER BY card_id").fetchall() == states
    conn.close()

    db.upgrade(store.path, store.engine)
    assert store.revision() == db.head_revision()
    assert _index_columns(store.path) == head
    assert sched.queue() == queued and sched.overview() == counts
    store.close()
