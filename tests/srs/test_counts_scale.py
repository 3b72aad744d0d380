"""Home counts on a deck larger than the daily limits: capped as Anki shows them.

A few thousand cards in mixed states (new, overdue, due later, suspended, buried, retired) are
bulk-inserted into a real migrated store; some are answered today so the limits are partly used
and a few cards are re-drills. ``overview()`` must equal a straightforward reference computed
here from every row, for every scope (all decks, one deck, each chapter), with global and
per-deck limits; and each row must equal what studying that scope queues (``scope_counts``).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta

import pytest

from labdeck.config import Settings
from labdeck.srs.scheduler import Counts, Scheduler
from labdeck.store import Store

from .conftest import Clock

DECKS = {"d1": 4, "d2": 3, "d3": 2}  # deck key -> chapters
CARDS = 3000


def fill(store: Store, today, seed: int = 11) -> None:
    """Decks, chapters and cards with random states, straight into the store's tables."""
    rng = random.Random(seed)
    conn = sqlite3.connect(store.path)
    chapters: list[tuple[int, int]] = []
    with conn:
        for d, (deck, n_chapters) in enumerate(DECKS.items(), start=1):
            conn.execute(
                "INSERT INTO deck (id, key, name, description, source, position, aliases) "
                "VALUES (?, ?, ?, '', 'outline', ?, '[]')",
                (d, deck, f"Deck {deck}", d),
            )
            for c in range(1, n_chapters + 1):
                cid = len(chapters) + 1
                conn.execute(
                    "INSERT INTO chapter (id, deck_id, code, title, description, position) "
                    "VALUES (?, ?, ?, ?, '', ?)",
                    (cid, d, f"C{d}{c}", f"Chapter {d}.{c}", c),
                )
                chapters.append((cid, d))
        for i in range(1, CARDS + 1):
            # uneven chapters: some hold fewer cards than the limits, most far more
            chapter_id, deck_id = chapters[min(int(rng.paretovariate(1.2)) - 1, 8) % 9]
            conn.execute(
                "INSERT INTO card (id, key, deck_id, chapter_id, position, prompt, answer, "
                "key_points, tags, demos, retired, created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, NULL, '[]', '[]', '[]', ?, '2026-01-01', '2026-01-01')",
                (
                    i,
                    f"k{i}",
                    deck_id,
                    chapter_id,
                    rng.randint(1, 500),
                    f"P{i}",
                    rng.random() < 0.03,
                ),
            )
            roll = rng.random()
            due = (
                None if roll < 0.35 else (today + timedelta(days=rng.randint(-20, 15))).isoformat()
            )
            buried = rng.choice(
                [None] * 8 + [today.isoformat(), (today + timedelta(days=1)).isoformat()]
            )
            conn.execute(
                "INSERT INTO card_state (card_id, repetitions, ease, interval, due, lapses, "
                "reviews, leech, suspended, buried_until) VALUES (?, ?, 2500, ?, ?, 0, ?, 0, ?, ?)",
                (
                    i,
                    0 if due is None else 2,
                    0 if due is None else 6,
                    due,
                    0 if due is None else 2,
                    rng.random() < 0.05,
                    buried,
                ),
            )
    conn.close()


def reference(store: Store, settings: Settings, today) -> dict[tuple, tuple[int, int]]:
    """(deck, chapter) and (deck, None) and (None, None) -> capped (new, due), from all rows."""
    conn = sqlite3.connect(store.path)
    day = today.isoformat()
    decks = {d_id: key for d_id, key in conn.execute("SELECT id, key FROM deck")}
    chapters = dict(conn.execute("SELECT id, code FROM chapter").fetchall())
    used_new = dict.fromkeys(decks.values(), 0)
    used_rev = dict.fromkeys(decks.values(), 0)
    for deck_id, was_new in conn.execute(
        "SELECT c.deck_id, rl.prev_due IS NULL FROM review_log rl JOIN card c ON c.id = rl.card_id "
        "WHERE rl.study_day = ? AND rl.undone = 0 AND rl.mode = 'review'",
        (day,),
    ):
        (used_new if was_new else used_rev)[decks[deck_id]] += 1
    new: dict[tuple, int] = {}
    due: dict[tuple, int] = {}
    rows = conn.execute(
        "SELECT c.deck_id, c.chapter_id, c.retired, cs.due, cs.suspended, cs.buried_until "
        "FROM card c JOIN card_state cs ON cs.card_id = c.id"
    ).fetchall()
    conn.close()
    for deck_id, chapter_id, retired, due_day, suspended, buried in rows:
        if retired or suspended or (buried is not None and buried > day):
            continue
        scope = (decks[deck_id], chapters[chapter_id])
        if due_day is None:
            new[scope] = new.get(scope, 0) + 1
        elif due_day <= day:
            due[scope] = due.get(scope, 0) + 1
    out: dict[tuple, tuple[int, int]] = {}
    total_new = total_due = 0
    for deck in decks.values():
        new_limit, rev_limit = settings.limits_for(deck)
        new_left = max(0, new_limit - used_new[deck])
        rev_left = max(0, rev_limit - used_rev[deck])
        scopes = [s for s in {*new, *due} if s[0] == deck]
        for s in scopes:
            out[s] = (min(new.get(s, 0), new_left), min(due.get(s, 0), rev_left))
        deck_new = min(sum(new.get(s, 0) for s in scopes), new_left)
        deck_due = min(sum(due.get(s, 0) for s in scopes), rev_left)
        out[(deck, None)] = (deck_new, deck_due)
        total_new += deck_new
        total_due += deck_due
    overall_new = max(0, settings.new_per_day - sum(used_new.values()))
    overall_rev = max(0, settings.reviews_per_day - sum(used_rev.values()))
    out[(None, None)] = (min(total_new, overall_new), min(total_due, overall_rev))
    return out


SETTINGS = {
    "defaults": {},
    "small": {"new_per_day": 3, "reviews_per_day": 9},
    "large": {"new_per_day": 5000, "reviews_per_day": 5000},
    "per-deck": {
        "new_per_day": 12,
        "reviews_per_day": 40,
        "deck_limits": {
            "d1": {"new_per_day": 2, "reviews_per_day": 500},
            "d3": {"new_per_day": 400, "reviews_per_day": 0},
        },
    },
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_counts_are_the_capped_counts(store: Store, clock: Clock, name: str) -> None:
    settings = Settings(**SETTINGS[name])  # type: ignore[arg-type]
    sched = Scheduler(store, settings, now=clock)
    today = sched.today()
    fill(store, today)

    # use part of today's limits: answer a few queued cards, some of them failing (re-drills)
    for entry in sched.queue()[:12]:
        sched.answer(entry.card_id, 2 if entry.card_id % 3 == 0 else 5)
    for deck in DECKS:
        for entry in sched.queue(deck)[:4]:
            sched.answer(entry.card_id, 3)

    expected = reference(store, settings, today)
    total, rows = sched.overview()
    got = {(r.deck, r.chapter): (r.new, r.due) for r in rows}
    got[(None, None)] = (total.new, total.due)
    assert {k: v for k, v in got.items() if v != (0, 0)} == {
        k: v for k, v in expected.items() if v != (0, 0)
    }
    assert any(v[0] or v[1] for v in got.values())

    # each row is what studying its scope would queue, re-drills included
    def queued(deck: str | None, chapter: str | None) -> Counts:
        return sched.scope_counts(deck, chapter)

    for row in rows:
        q = queued(row.deck, row.chapter)
        assert (row.new, row.learning, row.due) == (q.new, q.learning, q.due), row
    q = queued(None, None)
    assert (total.new, total.learning, total.due) == (q.new, q.learning, q.due)
    assert total.learning == sum(r.learning for r in rows if r.chapter is None)
    assert total.learning > 0  # the failed answers are re-drills now

    # without the chapter rows each deck is counted directly, with the same figures
    assert sched.overview(chapters=False) == (total, [r for r in rows if r.chapter is None])

    # a single-deck overview shows that deck with its own limits only
    for deck in DECKS:
        deck_total, deck_rows = sched.overview(deck)
        assert [r for r in rows if r.deck == deck] == deck_rows
        assert sched.overview(deck, chapters=False) == (deck_total, deck_rows[:1])
        own = next(r for r in rows if r.deck == deck and r.chapter is None)
        assert (deck_total.new, deck_total.learning, deck_total.due) == (
            own.new,
            own.learning,
            own.due,
        )
