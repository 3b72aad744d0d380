"""An exam date per deck: the setting, `labdeck deck exam-date`, the queue's exam-day priority
and the projected recall, on a real store (FSRS's forgetting curve as the model of recall)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from labdeck.cli import main
from labdeck.config import Settings, SettingsError, load_settings
from labdeck.srs import exam_date, fsrs_deck, fsrs_step
from labdeck.srs.scheduler import Scheduler
from labdeck.store import open_store

from .conftest import START, Clock, import_outline, key


def test_a_bad_exam_date_in_config_names_the_field(home: Path) -> None:
    (home / "config.toml").write_text('[exam_dates]\nexam-b = "2027-02-30"\n')
    with pytest.raises(SettingsError, match=r"exam_dates\.exam-b must be a date"):
        load_settings()


def test_cli_sets_shows_and_clears(store, home, monkeypatch, capsys) -> None:
    import_outline(store, home / "alpha.md", "Alpha", {"A1": 3})
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    assert main(["deck", "exam-date", "alpha", "2026-03-12"]) == 0
    out = capsys.readouterr().out
    assert "alpha: exam 2026-03-12 (in 10 d)" in out and "3 not yet seen" in out
    assert load_settings().exam_dates == {"alpha": "2026-03-12"}
    assert main(["due"]) == 0 and "alpha: exam 2026-03-12" in capsys.readouterr().out
    assert main(["deck", "exam-date", "alpha", "12/03/2026"]) == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert load_settings().exam_dates == {"alpha": "2026-03-12"}  # nothing half-written
    assert main(["deck", "exam-date", "alpha", "--clear", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deck": "alpha", "exam": None}
    assert load_settings().exam_dates == {}


def _backlog(store, home, clock: Clock) -> str:
    """30 cards learnt on two days with mixed qualities, then a week away: all due at once."""
    deck = import_outline(store, home / "alpha.md", "Alpha", {"A1": 30})
    sched = Scheduler(store, Settings(new_per_day=30, reviews_per_day=100), now=clock)
    for i in range(1, 31):
        sched.answer(key(deck, "A1", i), (3, 4, 5)[i % 3])
    clock.next_day()
    for i in range(1, 31):
        if i % 4:  # a quarter skipped: their memory is a day older
            sched.answer(key(deck, "A1", i), (5, 3, 4, 5)[i % 4])
    clock.next_day(8)
    return deck


def _recall_on(store, deck: str, exam: date) -> float:
    """Mean recall on the exam day predicted by py-fsrs from each card's history as it is."""
    scheduler = fsrs_step.make_scheduler()
    with store.engine.connect() as conn:
        (deck_id,) = conn.exec_driver_sql("SELECT id FROM deck WHERE key = ?", (deck,)).one()
        histories = fsrs_deck.deck_histories(conn, deck_id)
    values = [
        float(
            scheduler.get_card_retrievability(
                fsrs_step.memory(scheduler, h), fsrs_step.moment(exam)
            )
        )
        for h in histories.values()
    ]
    return sum(values) / len(values)


def _study_until(store, clock: Clock, deck: str, exam: date, exam_dates: dict) -> int:
    settings = Settings(new_per_day=0, reviews_per_day=4, exam_dates=exam_dates)
    sched = Scheduler(store, settings, now=clock)
    done = 0
    while clock().date() < exam:
        for entry in sched.queue():
            if entry.kind == "review":
                sched.answer(entry.card_id, 4)
                done += 1
        clock.next_day()
    return done


def test_exam_priority_raises_recall_on_the_exam_day(store, home, tmp_path) -> None:
    clock = Clock(START)
    deck = _backlog(store, home, clock)
    exam = clock().date() + timedelta(days=5)
    twin = tmp_path / "twin"
    twin.mkdir()
    store.close()
    shutil.copy(store.path, twin / "labdeck.db")
    twin_store = open_store(twin)
    store = open_store(home)

    plain_sched = Scheduler(store, Settings(new_per_day=0, reviews_per_day=4), now=clock)
    exam_sched = Scheduler(
        twin_store,
        Settings(new_per_day=0, reviews_per_day=4, exam_dates={deck: exam.isoformat()}),
        now=Clock(clock()),
    )
    plain_first = [e.key for e in plain_sched.queue()]
    exam_first = [e.key for e in exam_sched.queue()]
    assert len(plain_first) == len(exam_first) == 4  # the limit holds either way
    assert plain_first != exam_first  # the backlog is taken in another order

    start = clock()
    reviews = _study_until(store, Clock(start), deck, exam, {})
    exam_reviews = _study_until(twin_store, Clock(start), deck, exam, {deck: exam.isoformat()})
    assert reviews == exam_reviews == 4 * 5  # the same work...
    assert _recall_on(twin_store, deck, exam) > _recall_on(store, deck, exam)  # ...more recall
    twin_store.close()
    store.close()


def test_projection_counts_reviewed_and_unseen_cards(store, home) -> None:
    clock = Clock(START)
    deck = import_outline(store, home / "alpha.md", "Alpha", {"A1": 5})
    exam = (START + timedelta(days=20)).date()
    settings = Settings(exam_dates={deck: exam.isoformat()})
    sched = Scheduler(store, settings, now=clock)
    (none_yet,) = sched.exam_projections()
    assert (none_yet.reviewed, none_yet.unseen, none_yet.recall) == (0, 5, None)
    sched.answer(key(deck, "A1", 1), 5)
    sched.answer(key(deck, "A1", 2), 3)
    (after,) = sched.exam_projections()
    assert (after.reviewed, after.unseen, after.days_left) == (2, 3, 20)
    assert 0.0 < after.recall < 1.0
    # keeping up with the reviews due before the exam beats stopping today
    scheduler = fsrs_step.make_scheduler()
    with store.engine.connect() as conn:
        histories = fsrs_deck.cards_histories(
            conn, [sched.card_id(key(deck, "A1", 1)), sched.card_id(key(deck, "A1", 2))]
        )
    stop_now = [
        scheduler.get_card_retrievability(fsrs_step.memory(scheduler, h), fsrs_step.moment(exam))
        for h in histories.values()
    ]
    assert after.recall > sum(stop_now) / 2
    assert Scheduler(store, Settings(), now=clock).exam_projections() == []


def test_cached_gains_order_the_queue_as_fresh_ones_across_answer_undo_and_day_change(
    store, home
) -> None:
    """``exam_date`` keeps each card's gain between queue builds; the order must be the one
    computed afresh. Yesterday's failed answer undone today is the hard case: the card stays
    due today with another history, so a gain kept per card and day would be stale."""
    clock = Clock(START)
    deck = _backlog(store, home, clock)  # 30 cards, all due
    exam = clock().date() + timedelta(days=12)
    settings = Settings(new_per_day=0, reviews_per_day=100, exam_dates={deck: exam.isoformat()})
    sched = Scheduler(store, settings, now=clock)

    def order() -> tuple[list[str], int]:
        """(the queue's due reviews built with the cache as it is, gains computed while
        building it), after checking the whole queue against a build with every gain afresh.
        (Cards with the same history share one gain.)"""
        misses = exam_date._gain.cache_info().misses
        cached = sched.queue()
        computed = exam_date._gain.cache_info().misses - misses
        exam_date._gain.cache_clear()
        assert sched.queue() == cached
        return [e.key for e in cached if e.kind == "review"], computed

    first, computed = order()
    assert len(first) == 30 and computed > 1
    again, computed = order()
    assert again == first and computed == 0  # nothing changed: every gain kept

    failed = first[-1]  # the least to gain: a failure moves it up
    sched.answer(failed, 1)  # due tomorrow again (a re-drill today)
    after_answer, computed = order()
    assert failed not in after_answer and computed == 0

    clock.next_day()
    next_day, computed = order()
    assert failed in next_day and computed > 1  # a new study day: every gain is new

    sched.undo()  # yesterday's answer: the card is still due, its history one shorter
    after_undo, computed = order()
    assert failed in after_undo and computed <= 1
    assert after_undo.index(failed) != next_day.index(failed)  # its gain did change
