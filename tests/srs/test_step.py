"""The pure answer transition (``labdeck.srs.step``) and the facade applying it (issue 14):
lapses, leech points, re-drills, SM-2 vs FSRS, preview == applied, a stale preview refused."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from tests.drills.conftest import write_deck

from labdeck.ingest.load import import_content
from labdeck.srs import fsrs_step, sm2, step
from labdeck.srs.scheduler import Stale
from labdeck.srs.step import Rules, Snapshot
from labdeck.store import Store

from .conftest import Clock, key, make

DAY = date(2026, 3, 2)
SM2 = Rules(sm2.next_state, leech_threshold=3, leech_every=2)
GRADUATED = Snapshot(sm2.State(3, sm2.State().ease, 15), DAY, 0)


def test_a_scheduled_answer_takes_the_step_and_its_due_day() -> None:
    for mode in ("review", "exam"):
        t = step.answer(Snapshot(), 4, DAY, mode, SM2)
        assert t.after.state == sm2.next_state(sm2.State(), 4)
        assert t.after.due == DAY + timedelta(days=t.after.state.interval)
        assert t.days == t.after.state.interval and t.scheduled
        assert not t.lapsed and not t.became_leech


def test_a_lapse_is_a_failed_answer_of_a_graduated_card() -> None:
    new_fail = step.answer(Snapshot(), 1, DAY, "review", SM2)
    assert not new_fail.lapsed and new_fail.after.lapses == 0  # never graduated
    lapse = step.answer(GRADUATED, 2, DAY, "review", SM2)
    assert lapse.lapsed and lapse.after.lapses == 1 and lapse.after.state.repetitions == 0
    again = step.answer(lapse.after, 0, DAY, "review", SM2)  # relearning: lapses > 0
    assert again.lapsed and again.after.lapses == 2
    assert not step.answer(GRADUATED, 3, DAY, "review", SM2).lapsed


def test_leech_points_flag_and_suspend() -> None:
    points = [n for n in range(1, 10) if step.is_leech_point(n, 3, 2)]
    assert points == [3, 5, 7, 9]
    assert not any(step.is_leech_point(n, 0, 2) for n in range(1, 10))
    assert [n for n in range(1, 10) if step.is_leech_point(n, 3, 0)] == [3]
    card = GRADUATED
    leeched = []
    for _ in range(5):
        t = step.answer(card, 0, DAY, "review", SM2)
        leeched.append(t.became_leech)
        card = t.after
    assert leeched == [False, False, True, False, True]
    assert card.leech and card.suspended and card.lapses == 5


def test_a_redrill_never_moves_the_schedule() -> None:
    before = Snapshot(sm2.State(2, sm2.State().ease, 6), DAY + timedelta(days=6), 1)
    for q in sm2.QUALITIES:
        t = step.answer(before, q, DAY, "redrill", SM2)
        assert t.after == before and not t.lapsed and not t.scheduled
        assert t.days == 6
    with pytest.raises(ValueError, match="mode must be one of"):
        step.answer(before, 3, DAY, "cram", SM2)


def test_the_log_row_is_the_transition(store: Store, two_decks, clock: Clock) -> None:
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    t = sched.preview(k)[5]
    out = sched.answer(k, 5, previewed=t)
    with sqlite3.connect(store.path) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM review_log WHERE id = ?", (out.log_id,)).fetchone())
    for column, value in t.log_columns().items():
        assert row[column] == (value.isoformat() if isinstance(value, date) else value), column


def test_fsrs_and_sm2_decks_preview_what_they_apply(store: Store, two_decks, clock: Clock) -> None:
    a, b = two_decks
    sched = make(store, clock, deck_schedulers={b: "fsrs"})
    ka, kb = key(a, "A1", 1), key(b, "B1", 1)
    for day_no, q in enumerate((4, 5, 2, 4)):
        clock.set(datetime.combine(DAY + timedelta(days=day_no * 20), time(10)))
        for k in (ka, kb):
            preview = sched.preview(k)
            assert sched.intervals_preview(k) == {x: t.days for x, t in preview.items()}
            out = sched.answer(k, q)
            t = preview[q]
            assert (out.state, out.due, out.lapses, out.mode) == (
                t.after.state,
                t.after.due,
                t.after.lapses,
                t.mode,
            )
    with store.engine.connect() as conn:
        fsrs_rules = sched._rules(conn, sched.card_id(kb), sched.today())
        sm2_rules = sched._rules(conn, sched.card_id(ka), sched.today())
    assert isinstance(fsrs_rules.step, fsrs_step.Step) and sm2_rules.step is sm2.next_state
    assert sched.intervals_preview(ka) != sched.intervals_preview(kb)  # two schedulers


def test_a_stale_preview_is_refused(store: Store, two_decks, clock: Clock) -> None:
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    shown = sched.preview(k)
    sched.answer(k, 4)  # answered elsewhere (another window, the CLI)
    with pytest.raises(Stale, match="changed since"):
        sched.answer(k, 3, previewed=shown[3])
    shown = sched.preview(k)
    assert shown[3].mode == "redrill"
    clock.next_day()  # a new study day: the re-drill preview no longer holds
    with pytest.raises(Stale):
        sched.answer(k, 3, previewed=shown[3])
    with pytest.raises(ValueError, match="another quality"):
        sched.answer(k, 4, previewed=sched.preview(k)[3])
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM review_log").fetchone() == (1,)


def test_a_surfaced_drill_previews_its_redrill(store: Store, home: Path) -> None:
    """An essay's lapse brings its met drills back as re-drills: the preview shows that the
    schedule will not move (it used to show a scheduled step the answer then did not take)."""
    deck = write_deck(home)
    import_content(store, deck.parent, only=deck)
    start = datetime(2026, 3, 2, 10, 0)
    clock = Clock(start)
    sched = make(store, clock)
    drill = "t:a1.1.axis"
    plan = ((1, drill, 5), (2, drill, 5), (3, "t:a1.1", 5), (4, "t:a1.1", 5), (8, drill, 5))
    for day, k, q in (*plan, (10, "t:a1.1", 1)):  # the essay's lapse on day 10
        clock.set(start + timedelta(days=day - 1))
        sched.answer(k, q)
    preview = sched.preview(drill)
    assert {t.mode for t in preview.values()} == {"redrill"}
    out = sched.answer(drill, 4, previewed=preview[4])
    assert out.mode == "redrill" and out.due == preview[4].before.due
    assert sched.intervals_preview(drill) == dict.fromkeys(sm2.QUALITIES, preview[4].days)
