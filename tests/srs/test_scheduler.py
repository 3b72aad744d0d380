"""Scheduler rules on a real SQLite store with a fixed, hand-moved clock."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from labdeck.srs.scheduler import Scheduler, SrsError
from labdeck.srs.sm2 import State
from labdeck.store import Store

from .conftest import START, Clock, key, make

D0 = START.date()


def kinds(sched: Scheduler, **kw: str) -> list[tuple[str, str]]:
    return [(e.key, e.kind) for e in sched.queue(**kw)]


def state_row(store: Store, k: str) -> tuple:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(
            "SELECT cs.repetitions, cs.ease, cs.interval, cs.due, cs.lapses, cs.leech, "
            "cs.suspended, cs.reviews, cs.buried_until FROM card_state cs "
            "JOIN card c ON c.id = cs.card_id WHERE c.key = ?",
            (k,),
        ).fetchone()


def set_due(store: Store, k: str, due: date, reps: int = 2, interval: int = 6) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "UPDATE card_state SET due = ?, repetitions = ?, interval = ? "
            "WHERE card_id = (SELECT id FROM card WHERE key = ?)",
            (due.isoformat(), reps, interval, k),
        )


# ---------------------------------------------------------------- new cards and limits


def test_new_cards_in_content_order_with_global_and_deck_limits(store, two_decks, clock):
    a, b = two_decks
    sched = make(store, clock, new_per_day=5)
    assert kinds(sched) == [(key(a, "A1", i), "new") for i in (1, 2, 3, 4)] + [
        (key(a, "A2", 1), "new")
    ]
    sched = make(store, clock, new_per_day=5, deck_limits={a: {"new_per_day": 2}})
    assert kinds(sched) == [(key(a, "A1", 1), "new"), (key(a, "A1", 2), "new")] + [
        (key(b, "B1", i), "new") for i in (1, 2, 3)
    ]
    # studying one deck: that deck's own limit (falling back to the global one)
    assert len(sched.queue(deck=b)) == 5
    assert len(sched.queue(deck=a)) == 2
    assert [e.key for e in sched.queue(deck=a, chapter="a2")] == [key(a, "A2", 1), key(a, "A2", 2)]
    with pytest.raises(SrsError):
        sched.queue(deck="nope")
    with pytest.raises(SrsError):
        sched.queue(chapter="Z9")


def test_new_cards_introduced_today_count_against_the_limit(store, two_decks, clock):
    a, b = two_decks
    sched = make(store, clock, new_per_day=3)
    for _ in range(2):
        sched.answer(sched.next_card().card_id, 5)
    assert kinds(sched) == [(key(a, "A1", 3), "new")]
    assert sched.totals().new == 1
    sched.answer(key(a, "A1", 3), 5)
    assert sched.queue() == []
    # the per-deck count of beta is untouched, but the global budget is spent
    assert sched.queue(deck=b)[0].key == key(b, "B1", 1)
    clock.next_day()
    assert [e.kind for e in sched.queue()] == ["review"] * 3 + ["new"] * 3
    # exam answers schedule a new card without spending the day's new budget
    sched.answer(key(b, "B1", 5), 4, mode="exam")
    assert sum(e.kind == "new" for e in sched.queue()) == 3


def test_due_reviews_most_overdue_first_then_redrill_then_new(store, two_decks, clock):
    a, b = two_decks
    set_due(store, key(b, "B1", 2), D0 - timedelta(days=1))
    set_due(store, key(a, "A2", 3), D0 - timedelta(days=5))
    set_due(store, key(a, "A1", 2), D0)
    set_due(store, key(a, "A1", 4), D0 + timedelta(days=1))  # not due yet
    sched = make(store, clock, new_per_day=2)
    assert kinds(sched) == [
        (key(a, "A2", 3), "review"),
        (key(b, "B1", 2), "review"),
        (key(a, "A1", 2), "review"),
        (key(a, "A1", 1), "new"),
        (key(a, "A1", 3), "new"),
    ]
    out = sched.answer(key(a, "A2", 3), 3)  # q = 3 passes but is re-drilled
    assert out.mode == "review" and out.again_today and out.state.interval == 15
    # the re-drill waits until a few other cards were answered, then comes before new cards
    assert kinds(sched) == [
        (key(b, "B1", 2), "review"),
        (key(a, "A1", 2), "review"),
        (key(a, "A1", 1), "new"),
        (key(a, "A1", 3), "new"),
        (key(a, "A2", 3), "redrill"),
    ]
    sched.answer(key(b, "B1", 2), 5)
    sched.answer(key(a, "A1", 2), 5)
    sched.answer(key(a, "A1", 1), 5)
    assert kinds(sched) == [(key(a, "A2", 3), "redrill"), (key(a, "A1", 3), "new")]


def test_review_limits(store, two_decks, clock):
    a, b = two_decks
    for i in (1, 2, 3, 4):
        set_due(store, key(a, "A1", i), D0 - timedelta(days=i))
    set_due(store, key(b, "B1", 1), D0 - timedelta(days=9))
    sched = make(
        store, clock, new_per_day=0, reviews_per_day=3, deck_limits={a: {"reviews_per_day": 2}}
    )
    assert kinds(sched) == [
        (key(b, "B1", 1), "review"),
        (key(a, "A1", 4), "review"),
        (key(a, "A1", 3), "review"),
    ]
    sched.answer(key(a, "A1", 4), 5)
    assert kinds(sched) == [(key(b, "B1", 1), "review"), (key(a, "A1", 3), "review")]
    sched.answer(key(a, "A1", 3), 5)
    assert kinds(sched) == [(key(b, "B1", 1), "review")]  # alpha's own limit is spent
    assert kinds(sched, deck=a) == []
    sched.answer(key(b, "B1", 1), 5)
    assert sched.queue() == []  # the global limit is spent
    assert sched.totals().due == 0
    clock.next_day()
    assert kinds(sched) == [(key(a, "A1", 2), "review"), (key(a, "A1", 1), "review")]


# ---------------------------------------------------------------- re-drill


def test_same_day_redrill_until_four(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=3)
    k1, k2, k3 = (key(a, "A1", i) for i in (1, 2, 3))
    assert sched.answer(k1, 2).mode == "review"
    after_first = state_row(store, k1)
    assert after_first[:4] == (0, 2500, 1, (D0 + timedelta(days=1)).isoformat())
    sched.answer(k2, 3)
    sched.answer(k3, 5)
    assert kinds(sched) == [(k1, "redrill"), (k2, "redrill")]
    assert sched.totals().learning == 2
    out = sched.answer(k1, 3)
    assert out.mode == "redrill" and out.state == out.previous and out.again_today
    assert kinds(sched) == [(k2, "redrill"), (k1, "redrill")]
    assert sched.intervals_preview(k1) == dict.fromkeys(range(6), 1)
    assert sched.answer(k2, 4).mode == "redrill"
    assert sched.answer(k1, 5).mode == "redrill"
    assert sched.queue() == []
    assert state_row(store, k1)[:5] == after_first[:5]  # re-drills never schedule
    with sqlite3.connect(store.path) as conn:
        modes = conn.execute("SELECT mode, quality FROM review_log ORDER BY id").fetchall()
    assert modes == [
        ("review", 2),
        ("review", 3),
        ("review", 5),
        ("redrill", 3),
        ("redrill", 4),
        ("redrill", 5),
    ]
    # undo brings k1 back into re-drill (membership comes from the not-undone log)
    sched.undo()
    assert kinds(sched) == [(k1, "redrill")]
    clock.next_day()
    # re-drills end with the day; all three were scheduled for tomorrow
    assert kinds(sched)[:3] == [(k1, "review"), (k2, "review"), (k3, "review")]


def test_rollover_hour(store, two_decks, clock):
    a, _ = two_decks
    k = key(a, "A1", 1)
    sched = make(store, clock, new_per_day=1, rollover_hour=4)
    clock.set(datetime(2026, 3, 2, 23, 0))
    sched.answer(k, 2)
    clock.set(datetime(2026, 3, 3, 3, 59))
    assert sched.today() == date(2026, 3, 2)
    assert kinds(sched) == [(k, "redrill")]
    clock.set(datetime(2026, 3, 3, 4, 0))
    assert sched.today() == date(2026, 3, 3)
    assert kinds(sched)[0] == (k, "review")
    late = make(store, clock, rollover_hour=6)
    assert late.today() == date(2026, 3, 2)
    assert make(store, clock, rollover_hour=0).today() == date(2026, 3, 3)
    # aware clocks work too
    aware = Clock(datetime(2026, 3, 3, 12, 0).astimezone())
    assert make(store, aware).today() == date(2026, 3, 3)


# ---------------------------------------------------------------- bury, suspend, leech


def test_bury_and_suspend_are_reversible(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=2)
    k1, k2, k3 = (key(a, "A1", i) for i in (1, 2, 3))
    assert sched.bury(k1) == D0 + timedelta(days=1)
    assert [e.key for e in sched.queue()] == [k2, k3]
    sched.unbury(k1)
    assert [e.key for e in sched.queue()] == [k1, k2]
    sched.bury(k1)
    clock.next_day()
    assert [e.key for e in sched.queue()] == [k1, k2]
    sched.suspend(k1)
    assert [e.key for e in sched.queue()] == [k2, k3]
    clock.next_day(3)
    assert k1 not in [e.key for e in sched.queue()]
    sched.suspend(k1, on=False)
    assert [e.key for e in sched.queue()] == [k1, k2]
    sched.answer(k1, 1)
    sched.suspend(k1)
    assert sched.queue()[0].key == k2  # suspended cards leave the re-drill too
    sched.unsuspend(k1)
    assert k1 in [e.key for e in sched.queue()]  # back in the re-drill, waiting its turn
    with pytest.raises(SrsError, match="unknown card"):
        sched.bury("no:such:card")


def test_leech_after_threshold_then_every_four(store, two_decks, clock):
    a, _ = two_decks
    k = key(a, "A1", 1)
    sched = make(store, clock, new_per_day=1)
    assert not sched.answer(k, 1).lapsed  # a card that never graduated does not lapse
    clock.next_day()
    assert sched.answer(k, 5).state.repetitions == 1
    leech_at = []
    for lapse in range(1, 13):
        clock.next_day()
        assert sched.queue(deck=a)[0].key == k
        out = sched.answer(k, 0 if lapse % 2 else 2)
        assert out.lapsed and out.lapses == lapse
        assert out.state.ease == Decimal("2.6")  # EF never changes on q < 3
        if out.became_leech:
            leech_at.append(lapse)
            assert out.leech and out.suspended
            assert k not in [e.key for e in sched.queue()]
            if lapse == 8:
                # undo restores the exact previous state, suspension included
                undone = sched.undo()
                assert undone is not None and (undone.lapses, undone.leech, undone.suspended) == (
                    7,
                    False,
                    False,
                )
                assert sched.answer(k, 1).became_leech
            sched.unsuspend(k)
    assert leech_at == [8, 12]
    assert state_row(store, k)[4:7] == (12, 1, 0)
    # lapses after re-learning count again: pass, then fail
    clock.next_day()
    sched.answer(k, 4)
    clock.next_day()
    assert sched.answer(k, 2).lapses == 13


# ---------------------------------------------------------------- undo


def test_undo_twenty_five_steps_restores_everything(store, two_decks, clock):
    a, b = two_decks
    sched = make(store, clock, new_per_day=10, leech_threshold=1, leech_every=1)
    all_keys = [key(a, "A1", i) for i in (1, 2, 3, 4)] + [key(b, "B1", i) for i in (1, 2)]
    # day 0: introduce the cards; day 1: a mix of reviews, lapses, leeches and re-drills
    for i, k in enumerate(all_keys):
        sched.answer(k, 3 + i % 3)
    clock.next_day(1)
    first_queue = kinds(sched)
    history = []
    qualities = [1, 5, 2, 4, 3, 0, 5, 4, 3, 5, 5, 4, 2, 5, 5, 4, 5, 5, 4, 4, 5, 4, 5, 5, 4]
    for i, q in enumerate(qualities):
        entry = sched.next_card()
        k = entry.key if entry is not None and i % 3 else all_keys[i % len(all_keys)]
        snapshot = state_row(store, k)
        history.append((k, snapshot, kinds(sched)))
        sched.answer(k, q, answer=f"typed {q}", duration_ms=1000 + q)
    assert len(history) == 25
    assert any(state_row(store, k)[5] for k in all_keys)  # someone became a leech
    for k, snapshot, queue_before in reversed(history):
        undone = sched.undo()
        assert undone is not None and undone.key == k
        assert state_row(store, k)[:8] == snapshot[:8]
        assert undone.state == State.from_permille(*snapshot[:3])
        assert kinds(sched) == queue_before
    assert kinds(sched) == first_queue
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*), sum(undone) FROM review_log").fetchone() == (31, 25)
    assert sched.stats.today().answered == 0
    for _ in range(6):
        assert sched.undo() is not None
    assert sched.undo() is None
    assert all(state_row(store, k)[:5] == (0, 2500, 0, None, 0) for k in all_keys)


# ---------------------------------------------------------------- counts, forecast, stats


def test_counts_agree_with_the_queue(store, two_decks, clock):
    a, b = two_decks
    sched = make(
        store, clock, new_per_day=6, reviews_per_day=3, deck_limits={b: {"new_per_day": 2}}
    )
    for _ in range(4):
        sched.answer(sched.next_card().card_id, 2)
    clock.next_day()
    sched.answer(sched.next_card().card_id, 1)
    sched.answer(sched.next_card().card_id, 5)
    sched.bury(key(a, "A2", 1))
    total, rows = sched.overview()
    q = sched.queue()
    assert (total.new, total.learning, total.due) == tuple(
        sum(e.kind == k for e in q) for k in ("new", "redrill", "review")
    )
    for row in rows:
        sub = sched.queue(deck=row.deck, chapter=row.chapter)
        assert (row.new, row.learning, row.due) == tuple(
            sum(e.kind == k for e in sub) for k in ("new", "redrill", "review")
        ), row
    assert [(r.deck, r.chapter) for r in rows] == [
        (a, None),
        (a, "A1"),
        (a, "A2"),
        (b, None),
        (b, "B1"),
    ]
    assert sched.counts(deck=b) == [r for r in rows if r.deck == b]


def test_forecast_and_stats(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=4)
    for q in (5, 4, 3, 1):
        sched.answer(sched.next_card().card_id, q)
    sched.answer(key(a, "A1", 4), 5)  # re-drill
    fc = sched.forecast(3)
    assert fc == [(D0, 0), (D0 + timedelta(days=1), 4), (D0 + timedelta(days=2), 0)]
    st = sched.stats
    today = st.today()
    assert (today.answered, today.passed, today.new, today.redrills) == (5, 4, 4, 1)
    assert today.passed_share == pytest.approx(0.8)
    assert st.reviews_per_day(3) == [
        (D0 - timedelta(days=2), 0),
        (D0 - timedelta(days=1), 0),
        (D0, 5),
    ]
    assert st.retention().reviews == 0  # first sight of new cards is not retention
    # A1.3 (q = 3) waits its turn, so A1.4 was the 4th card (q = 1) and then re-drilled
    assert dict(st.ease_distribution()) == {
        Decimal("2.36"): 1,
        Decimal("2.5"): 2,
        Decimal("2.6"): 1,
    }
    mastery = {m.chapter: m for m in st.chapter_mastery()}
    assert (mastery["A1"].total, mastery["A1"].seen, mastery["A1"].known) == (4, 4, 0)
    assert st.streak() == 1
    clock.next_day(5)  # everything is overdue now and counts today
    assert sched.forecast(2)[0] == (D0 + timedelta(days=5), 4)
    assert st.streak() == 0
    for e in sched.queue():
        if e.kind == "review":
            sched.answer(e.card_id, 3 if e.key.endswith("1") else 2)
    ret = st.retention()
    assert (ret.reviews, ret.passed) == (4, 1) and ret.rate == 0.25
    assert st.streak() == 1
    known = {m.chapter: m.known for m in st.chapter_mastery(deck=a)}
    assert known == {"A1": 1, "A2": 0}


def test_forecast_counts_only_the_deck_or_chapter_asked_for(store, two_decks, clock):
    """QA: "Nothing left for today" in one deck listed tomorrow's cards of every deck."""
    a, b = two_decks
    sched = make(store, clock, new_per_day=20)
    for k in (key(a, "A1", 1), key(a, "A2", 1), key(b, "B1", 1)):
        sched.answer(k, 5)
    tomorrow = D0 + timedelta(days=1)
    assert sched.forecast(2)[1] == (tomorrow, 3)
    assert sched.forecast(2, deck=a)[1] == (tomorrow, 2)
    assert sched.forecast(2, deck=b)[1] == (tomorrow, 1)
    assert sched.forecast(2, deck=a, chapter="A2")[1] == (tomorrow, 1)
    with pytest.raises(SrsError):
        sched.forecast(2, deck="no-such-deck")


def test_answer_validation_and_exam_mode(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    for bad in (-1, 6, "x", 2.5):
        with pytest.raises(ValueError):
            sched.answer(k, bad)  # type: ignore[arg-type]
    with pytest.raises(SrsError):
        sched.answer(k, 3, mode="cram")
    with pytest.raises(SrsError):
        sched.answer("nope", 3)
    sched.answer(k, 5)
    out = sched.answer(k, 4, mode="exam", score=0.71, suggested=4, answer="my answer")
    assert out.mode == "exam" and out.state == State(2, "2.6", 6)
    assert out.due == D0 + timedelta(days=6)
    with sqlite3.connect(store.path) as conn:
        row = conn.execute(
            "SELECT mode, answer, score, suggested, prev_repetitions, new_repetitions, "
            "prev_ease, new_ease, ts FROM review_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row[:8] == ("exam", "my answer", 0.71, 4, 1, 2, 2600, 2600)
    assert sched.card_id(k) == sched.card_id(str(out.card_id)) == out.card_id


def test_helpers_for_the_screens(store, two_decks, clock):
    a, b = two_decks
    sched = make(store, clock, new_per_day=3)
    sched.answer(key(a, "A1", 1), 2)
    scoped = sched.scope_counts()
    assert (scoped.new, scoped.redrill, scoped.due) == (2, 1, 0)
    assert sched.scope_counts(b, "B1").new == 3 and sched.scope_counts(b).name == b
    assert sched.counts()[0].name == "Alpha"
    card = sched.card(key(a, "A1", 2))
    assert (card.key, card.deck, card.chapter, card.prompt) == (
        key(a, "A1", 2),
        a,
        "A1",
        "A1 Chapter A1 › A1 item 2",  # a bare outline heading gets its chapter (ingest.prompts)
    )
    assert card.answer == "Notes for A1 item 2." and card.key_points == [] and card.demos == []
    summary = sched.today_summary()
    assert (summary.answered, summary.pass_rate, summary.streak) == (1, 0.0, 1)
    assert sched.reviews_per_day(1) == [(D0, 1)]
