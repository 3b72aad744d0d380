"""True retention by interval band and time spent per day (the Stats screen's Anki-style
figures), computed over a real store's review log."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from .conftest import START, key, make


def _due_day(store, card_key: str):
    with sqlite3.connect(store.path) as conn:
        (due,) = conn.execute(
            "SELECT cs.due FROM card_state cs JOIN card c ON c.id = cs.card_id WHERE c.key = ?",
            (card_key,),
        ).fetchone()
    return datetime.fromisoformat(due).replace(hour=10)


def test_retention_by_interval_band_counts_scheduled_reviews_only(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    one, two = key(a, "A1", 1), key(a, "A1", 2)
    # card one: new (not a review), then passes at intervals 1, 6, ~15 and ~38 days
    sched.answer(one, 5)
    sched.answer(two, 5)
    for quality in (5, 5, 5, 3):
        clock.set(_due_day(store, one))
        sched.answer(one, quality)
    # card two: passes at interval 1, fails at interval 6, then a same-day re-drill
    clock.set(START + timedelta(days=1))
    sched.answer(two, 4)
    clock.set(_due_day(store, two))
    sched.answer(two, 1)
    sched.answer(two, 4)  # the re-drill: not a measure of retention

    with sqlite3.connect(store.path) as conn:
        prev = conn.execute(
            "SELECT rl.prev_interval, rl.quality, rl.mode FROM review_log rl "
            "JOIN card c ON c.id = rl.card_id WHERE c.key = ? AND rl.prev_due IS NOT NULL "
            "ORDER BY rl.id",
            (one,),
        ).fetchall()
    assert [p[0] for p in prev][:2] == [1, 6]
    assert 7 <= prev[2][0] <= 20 and 21 <= prev[3][0] <= 89, prev

    bands = {b.band: b for b in sched.stats.retention_by_interval()}
    assert list(bands) == ["1-6 d", "7-20 d", "21-89 d", "90 d+"]
    assert (bands["1-6 d"].reviews, bands["1-6 d"].passed) == (4, 3)
    assert (bands["7-20 d"].reviews, bands["7-20 d"].passed) == (1, 1)
    assert (bands["21-89 d"].reviews, bands["21-89 d"].passed) == (1, 1)
    assert bands["90 d+"].reviews == 0 and bands["90 d+"].rate is None
    assert [b.mature for b in bands.values()] == [False, False, True, True]
    assert bands["1-6 d"].rate == 0.75


def test_undone_answers_leave_the_bands(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    card = key(a, "A1", 1)
    sched.answer(card, 5)
    clock.next_day()
    sched.answer(card, 2)
    assert sched.stats.retention_by_interval()[0].reviews == 1
    sched.undo()
    assert sched.stats.retention_by_interval()[0].reviews == 0


def test_time_per_day_sums_recorded_minutes(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    sched.answer(key(a, "A1", 1), 4, duration_ms=90_000)
    sched.answer(key(a, "A1", 2), 4, duration_ms=30_000)
    sched.answer(key(a, "A1", 3), 4)  # no time recorded: counts 0
    clock.next_day(2)
    sched.answer(key(a, "A1", 4), 3, duration_ms=6_000)
    days = sched.stats.time_per_day(5)
    assert [d for d, _ in days] == [(START + timedelta(days=i)).date() for i in range(-2, 3)]
    assert [m for _, m in days] == [0.0, 0.0, 2.0, 0.0, 0.1]
