"""``card_state.chapter_id`` (migration 0008): the chapter counts' index copy of a card's chapter.

It must follow every writer: the importer creating, moving, retiring and restoring cards (ORM),
the scheduler creating a state row (SQL), bulk SQL loads. The migration backfills it on a real
file with data and goes down and up again without losing a schedule.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlmodel import select

from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.srs.scheduler import Scheduler
from labdeck.store import Store, db, open_store
from labdeck.store.models import Card, Chapter

from .conftest import Clock, import_outline, key, make, outline
from .test_counts_scale import fill


def copies(store: Store) -> dict[int, tuple[int | None, int | None]]:
    """card id -> (the live chapter the card says, the chapter its state row says)."""
    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute(
            "SELECT c.id, CASE WHEN c.retired THEN NULL ELSE c.chapter_id END, cs.chapter_id "
            "FROM card c JOIN card_state cs ON cs.card_id = c.id"
        ).fetchall()
    finally:
        conn.close()
    return {int(cid): (want, got) for cid, want, got in rows}


def in_step(store: Store) -> bool:
    pairs = copies(store)
    return bool(pairs) and all(want == got for want, got in pairs.values())


def chapter_rows(sched: Scheduler) -> dict[str | None, int]:
    return {r.chapter: r.new for r in sched.overview()[1] if r.chapter is not None}


def test_the_copy_follows_import_move_retire_and_restore(
    store: Store, home: Path, clock: Clock
) -> None:
    sched = make(store, clock, new_per_day=50)
    deck = import_outline(store, home / "alpha.md", "Alpha", {"A1": 4, "A2": 3})
    assert in_step(store)
    assert all(got is not None for _, got in copies(store).values())
    assert chapter_rows(sched) == {"A1": 4, "A2": 3}

    # a card moved to another chapter (what the content importer's upsert does)
    moved = key(deck, "A1", 1)
    with store.session() as s:
        card = s.exec(select(Card).where(Card.key == moved)).one()
        a2 = s.exec(select(Chapter).where(Chapter.code == "A2")).one()
        card.chapter_id = a2.id or 0
    assert in_step(store)
    assert chapter_rows(sched) == {"A1": 3, "A2": 4}

    # re-imported without two items (retiring them): retired cards count nowhere
    path = home / "alpha.md"
    path.write_text(outline("Alpha", {"A1": 4, "A2": 1}), encoding="utf-8")
    import_document(store, detect_and_parse(path), retire=True)
    assert in_step(store)
    retired = [cid for cid, (want, _) in copies(store).items() if want is None]
    assert len(retired) == 2
    assert all(copies(store)[cid][1] is None for cid in retired)
    # (and the importer moved the first card back to A1, where the document has it)
    assert chapter_rows(sched) == {"A1": 4, "A2": 1}

    # restored by the next import
    import_outline(store, home / "alpha.md", "Alpha", {"A1": 4, "A2": 3})
    assert in_step(store)
    assert all(got is not None for _, got in copies(store).values())


def test_a_state_row_made_by_sql_takes_its_cards_chapter(store: Store, clock: Clock) -> None:
    """Cards loaded in bulk without state rows; the scheduler makes a row when one is
    answered, suspended or buried (``Repo.snapshot(create=True)``)."""
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute(
            "INSERT INTO deck (id, key, name, description, source, position, aliases) "
            "VALUES (1, 'd', 'D', '', 'outline', 1, '[]')"
        )
        conn.execute(
            "INSERT INTO chapter (id, deck_id, code, title, description, position) "
            "VALUES (7, 1, 'C7', 'Seven', '', 1)"
        )
        conn.execute(
            "INSERT INTO card (id, key, deck_id, chapter_id, position, prompt, key_points, tags, "
            "demos, retired, created_at, updated_at) VALUES "
            "(1, 'k1', 1, 7, 1, 'P', '[]', '[]', '[]', 0, '2026-01-01', '2026-01-01')"
        )
    conn.close()
    make(store, clock).suspend("k1")
    assert copies(store) == {1: (7, 7)}


def test_migration_backfills_on_a_real_file_and_goes_down_and_up(
    home: Path, clock: Clock, monkeypatch
) -> None:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    below = db.known_revisions()["0008"]  # the revision 0008 migrates from
    assert below is not None
    store = open_store(home, migrate=False)
    db.upgrade(store.path, store.engine, below)
    assert store.revision() == below
    sched = make(store, clock)
    fill(store, sched.today())  # 3,000 cards in mixed states, 3 % retired, before 0008
    conn = sqlite3.connect(store.path)
    before = conn.execute("SELECT * FROM card_state ORDER BY card_id").fetchall()
    conn.close()

    db.upgrade(store.path, store.engine)
    assert store.revision() == db.head_revision()
    assert in_step(store)
    pairs = copies(store)
    assert len(pairs) == 3000 and sum(got is None for _, got in pairs.values()) > 30
    counts = sched.overview()

    db.downgrade(store.path, store.engine, below)
    assert store.revision() == below
    conn = sqlite3.connect(store.path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(card_state)")]
    triggers = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'card_state_chapter%'"
    ).fetchall()
    after = conn.execute("SELECT * FROM card_state ORDER BY card_id").fetchall()
    conn.close()
    assert "chapter_id" not in columns and triggers == []
    assert after == before  # every schedule kept

    db.upgrade(store.path, store.engine)
    assert in_step(store)
    assert sched.overview() == counts
    store.close()
