"""FSRS decks beside SM-2: answers follow py-fsrs itself, preview == applied, undo, re-drills,
switching sm2 → fsrs → sm2 from the review history, the optimizer and predicted retrievability.

py-fsrs is called directly here (its own Scheduler, Card and Rating) as the reference."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import fsrs
import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import text

from labdeck.cli import main
from labdeck.config import Settings, SettingsError, load_settings
from labdeck.srs import fsrs_deck, fsrs_fit, sm2
from labdeck.srs.scheduler import Scheduler
from labdeck.store import Store

from .conftest import Clock, import_outline, key, make

RATING = {0: 1, 1: 1, 2: 1, 3: 2, 4: 3, 5: 4}  # README "Scheduling": 0–2 Again … 5 Easy


def reference(parameters=DEFAULT_PARAMETERS, retention: float = 0.9) -> fsrs.Scheduler:
    return fsrs.Scheduler(
        parameters, retention, learning_steps=(), relearning_steps=(), enable_fuzzing=False
    )


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def py_fsrs_due(history: list[tuple[date, int]], sched: fsrs.Scheduler | None = None) -> date:
    """Due study day py-fsrs gives after these (day, quality) reviews, computed step by step."""
    sched = sched or reference()
    card = fsrs.Card(card_id=7)
    for day, q in history:
        card, _ = sched.review_card(card, fsrs.Rating(RATING[q]), noon(day))
    return card.due.date()


def at(clock: Clock, day: date) -> None:
    clock.set(datetime.combine(day, time(10)))


def state(store: Store, card_key: str) -> tuple:
    with store.engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT cs.repetitions, cs.ease, cs.interval, cs.due, cs.lapses, cs.leech, "
                    "cs.suspended FROM card_state cs JOIN card c ON c.id = cs.card_id "
                    "WHERE c.key = :k"
                ),
                {"k": card_key},
            ).one()
        )


def log_rows(store: Store) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM review_log ORDER BY id"))]


def fsrs_sched(store: Store, clock: Clock, deck: str, **settings: object) -> Scheduler:
    return make(store, clock, deck_schedulers={deck: "fsrs"}, **settings)


DAY0 = date(2026, 3, 2)


def test_answers_follow_py_fsrs_and_preview_equals_applied(
    store: Store, clock: Clock, two_decks: tuple[str, str]
) -> None:
    a, b = two_decks
    sched = fsrs_sched(store, clock, a)
    card = key(a, "A1", 1)
    history: list[tuple[date, int]] = []
    day = DAY0
    for q in (4, 3, 5, 1, 4, 2, 4, 5):
        at(clock, day)
        preview = sched.intervals_preview(card)
        out = sched.answer(card, q)
        assert out.mode == "review"
        history.append((day, q))
        assert out.due == py_fsrs_due(history)
        assert out.state.interval == preview[q] == (out.due - day).days
        assert out.state.repetitions == (0 if q < 3 else out.previous.repetitions + 1)
        day = out.due + timedelta(days=1) if q >= 3 else out.due  # one day late now and then
    assert state(store, card)[4] == 2  # two lapses (q 1 and q 2 after graduating)
    # the SM-2 deck next to it is untouched by the FSRS setting
    at(clock, DAY0)
    assert sched.answer(key(b, "B1", 1), 4).state == sm2.next_state(sm2.State(), 4)


def test_desired_retention_and_stored_parameters_are_used(
    store: Store, clock: Clock, two_decks: tuple[str, str]
) -> None:
    a, _ = two_decks
    at(clock, DAY0)
    fsrs_sched(store, clock, a).answer(key(a, "A1", 1), 4)
    at(clock, DAY0 + timedelta(days=3))
    history = [(DAY0, 4), (DAY0 + timedelta(days=3), 4)]
    low = fsrs_sched(store, clock, a, desired_retention=0.8).intervals_preview(key(a, "A1", 1))
    assert DAY0 + timedelta(days=3 + low[4]) == py_fsrs_due(history, reference(retention=0.8))
    slow = list(DEFAULT_PARAMETERS)
    slow[0:4] = [p * 3 for p in slow[0:4]]
    slow[8] = 2.6
    sched = fsrs_sched(store, clock, a)
    with sched.transaction() as conn:
        fsrs_deck.save_parameters(conn, a, slow)
    fitted = sched.intervals_preview(key(a, "A1", 1))
    assert DAY0 + timedelta(days=3 + fitted[4]) == py_fsrs_due(history, reference(slow))
    with pytest.raises(ValueError, match="parameters"), sched.transaction() as conn:
        fsrs_deck.save_parameters(conn, a, [0.0] * 3)


def test_undo_restores_and_redrills_do_not_move_the_schedule(
    store: Store, clock: Clock, two_decks: tuple[str, str]
) -> None:
    a, _ = two_decks
    sched = fsrs_sched(store, clock, a)
    card = key(a, "A1", 1)
    at(clock, DAY0)
    first = sched.answer(card, 4)
    at(clock, first.due)
    before, preview = state(store, card), sched.intervals_preview(card)
    failed = sched.answer(card, 2)  # a lapse: re-drilled today
    assert failed.lapsed and failed.again_today
    after_fail = state(store, card)
    redrill = sched.answer(card, 5)
    assert redrill.mode == "redrill"
    assert state(store, card) == after_fail and redrill.due == failed.due
    assert sched.intervals_preview(card) == dict.fromkeys(sm2.QUALITIES, failed.state.interval)
    # the re-drill is not an FSRS review: the next scheduled answer ignores it
    at(clock, failed.due)
    nxt = sched.answer(card, 4)
    assert nxt.due == py_fsrs_due([(DAY0, 4), (first.due, 2), (failed.due, 4)])
    for _ in range(3):
        assert sched.undo() is not None
    assert state(store, card) == before
    at(clock, first.due)
    assert sched.intervals_preview(card) == preview
    assert sched.answer(card, 2).state == failed.state


def test_switching_keeps_history_and_gives_replayed_states_back(
    store: Store, clock: Clock, two_decks: tuple[str, str], capsys
) -> None:
    a, _ = two_decks
    cards = [key(a, "A1", i) for i in (1, 2, 3)]
    histories: dict[str, list[tuple[date, int]]] = {c: [] for c in cards}
    sm2_sched = make(store, clock)
    rng = random.Random(3)
    for offset in range(0, 40):
        day = DAY0 + timedelta(days=offset)
        at(clock, day)
        for c in cards:
            due = state(store, c)[3]
            if due is None or date.fromisoformat(str(due)[:10]) <= day:
                q = rng.choice((1, 3, 4, 4, 5))
                sm2_sched.answer(c, q)
                histories[c].append((day, q))
                if q < 4:
                    sm2_sched.answer(c, 4)  # a re-drill: logged, never replayed
    sm2_states = {c: state(store, c) for c in cards}
    rows = log_rows(store)
    at(clock, DAY0 + timedelta(days=40))

    assert main(["deck", "scheduler", a, "fsrs", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cards"] == 3 and report["reviews"] == sum(map(len, histories.values()))
    assert load_settings().deck_schedulers == {a: "fsrs"}
    assert log_rows(store) == rows
    for c in cards:
        reps, ease, interval, due, *rest = state(store, c)
        last = histories[c][-1][0]
        assert date.fromisoformat(str(due)[:10]) == py_fsrs_due(histories[c])
        assert interval == (py_fsrs_due(histories[c]) - last).days
        assert (reps, ease, *rest) == (sm2_states[c][0], sm2_states[c][1], *sm2_states[c][4:])

    # an FSRS answer in between, then back to SM-2: the SM-2 replay of everything
    fs = Scheduler(store, load_settings(), now=clock)
    fs.answer(cards[0], 5)
    histories[cards[0]].append((clock().date(), 5))
    assert main(["deck", "scheduler", a, "sm2"]) == 0
    assert "review log kept" in capsys.readouterr().out
    assert len(log_rows(store)) == len(rows) + 1
    for c in cards:
        replayed = sm2.run([q for _, q in histories[c]])
        reps, ease, interval, due, *rest = state(store, c)
        assert sm2.State.from_permille(reps, ease, interval) == replayed
        assert date.fromisoformat(str(due)[:10]) == histories[c][-1][0] + timedelta(
            days=replayed.interval
        )
        if c != cards[0]:
            assert state(store, c) == sm2_states[c]  # untouched cards: exactly as before
    assert main(["deck", "scheduler", "nope", "fsrs"]) == 1
    assert "unknown deck" in capsys.readouterr().err


def test_predicted_retrievability_per_deck(
    store: Store, clock: Clock, two_decks: tuple[str, str], capsys
) -> None:
    a, b = two_decks
    sched = fsrs_sched(store, clock, a)
    at(clock, DAY0)
    sched.answer(key(a, "A1", 1), 4)
    sched.answer(key(a, "A1", 2), 1)
    at(clock, DAY0 + timedelta(days=5))
    ref = reference()
    expected = []
    for q in (4, 1):
        card, _ = ref.review_card(fsrs.Card(card_id=1), fsrs.Rating(RATING[q]), noon(DAY0))
        expected.append(ref.get_card_retrievability(card, noon(DAY0 + timedelta(days=5))))
    rows = {r.deck: r for r in sched.stats.retrievability()}
    assert rows[a].cards == 2 and rows[a].scheduler == "fsrs"
    assert rows[a].mean == pytest.approx(sum(expected) / 2)
    assert rows[b].cards == 0 and rows[b].mean is None


def _generated_histories(cards: int, seed: int) -> dict[int, list[tuple[date, int]]]:
    """Learners whose memory follows FSRS with fast-forgetting parameters, reviewed on a
    fixed expanding schedule; recall drawn from the true retrievability."""
    truth = list(DEFAULT_PARAMETERS)
    truth[0:4] = [p * 0.3 for p in truth[0:4]]
    truth[8] = 1.2
    model = reference(truth)
    rng = random.Random(seed)
    out: dict[int, list[tuple[date, int]]] = {}
    for cid in range(1, cards + 1):
        card, day, history = fsrs.Card(card_id=cid), DAY0 + timedelta(days=cid % 7), []
        for gap in (0, 1, 2, 3, 5, 8, 12, 18, 25, 35):
            day += timedelta(days=gap)
            r = model.get_card_retrievability(card, noon(day)) if history else 0.6
            q = rng.choice((3, 4, 4, 5)) if rng.random() < r else 1
            card, _ = model.review_card(card, fsrs.Rating(RATING[q]), noon(day))
            history.append((day, q))
        out[cid] = history
    return out


@pytest.mark.slow
def test_optimizer_fits_and_reports_both_losses() -> None:
    histories = _generated_histories(70, seed=5)  # 700 reviews, 630 a day or more apart
    assert fsrs_fit.fit_reviews(histories.values()) >= fsrs_fit.MIN_REVIEWS
    report = fsrs_fit.optimize(histories)
    assert report.default.reviews == report.fitted.reviews == 630
    for s in (report.default, report.fitted):
        assert math.isfinite(s.log_loss) and 0 < s.rmse_bins < 1
    assert report.fitted.log_loss < report.default.log_loss
    assert len(report.parameters) == len(DEFAULT_PARAMETERS)
    assert list(report.parameters) != list(DEFAULT_PARAMETERS)
    reference(report.parameters)  # within py-fsrs' bounds


def test_optimize_refuses_a_short_history(
    store: Store, clock: Clock, two_decks: tuple[str, str], capsys, monkeypatch, home: Path
) -> None:
    a, _ = two_decks
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    assert main(["answer", key(a, "A1", 1), "4"]) == 0
    capsys.readouterr()
    assert main(["fsrs", "optimize", "--deck", a]) == 1
    err = capsys.readouterr().err
    assert f"at least {fsrs_fit.MIN_REVIEWS} reviews" in err and "has 0" in err
    with pytest.raises(fsrs_fit.NotEnoughReviews):
        fsrs_fit.optimize(dict(list(_generated_histories(70, seed=5).items())[:20]))


def test_settings_validate_scheduler_and_retention(home: Path, capsys) -> None:
    assert Settings().deck_schedulers == {} and Settings().desired_retention == 0.9
    (home / "config.toml").write_text("desired_retention = 1.5\n")
    with pytest.raises(SettingsError, match="desired_retention"):
        load_settings()
    (home / "config.toml").write_text('[deck_schedulers]\nalpha = "anki"\n')
    with pytest.raises(SettingsError, match=r"deck_schedulers\.alpha"):
        load_settings()
    (home / "config.toml").write_text("")
    assert main(["fsrs", "retention", "0.85"]) == 0
    assert load_settings().desired_retention == 0.85
    assert main(["fsrs", "retention", "2"]) == 1
    assert "between 0.7 and 0.99" in capsys.readouterr().err


@pytest.mark.slow
def test_optimize_command_stores_the_fit_for_the_deck(
    store: Store, clock: Clock, two_decks: tuple[str, str], capsys, home: Path
) -> None:
    g = import_outline(store, home / "gamma.md", "Gamma", {"G1": 10})
    sched = fsrs_sched(store, clock, g)
    cards = [key(g, "G1", i) for i in range(1, 11)]
    rng = random.Random(11)

    def study(some: list[str]) -> None:
        for offset in range(0, 160, 2):  # 80 reviews of each card, two days apart
            at(clock, DAY0 + timedelta(days=offset))
            for c in some:
                sched.answer(c, rng.choice((1, 3, 4, 4, 4, 5)), mode="review")

    study(cards[:7])
    assert main(["fsrs", "optimize", "--deck", g]) == 1
    assert "has 441" in capsys.readouterr().err  # 7 x 63: py-fsrs would return its defaults
    study(cards[7:])
    assert main(["fsrs", "optimize", "--deck", g, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[g]
    assert report["default"]["reviews"] == report["fitted"]["reviews"] == 790
    assert report["fitted"]["log_loss"] < report["default"]["log_loss"]
    with store.engine.connect() as conn:
        assert fsrs_deck.parameters(conn, g) == pytest.approx(report["parameters"])
        assert fsrs_deck.parameters(conn, two_decks[0]) is None
    at(clock, DAY0 + timedelta(days=170))
    c = cards[0]
    with store.engine.connect() as conn:
        own = fsrs_deck.card_history(conn, store_card_id(conn, c))
    preview = sched.intervals_preview(c)
    fitted = reference(report["parameters"])
    expected = py_fsrs_due([*own, (clock().date(), 4)], fitted)
    assert clock().date() + timedelta(days=preview[4]) == expected


def store_card_id(conn, card_key: str) -> int:
    return int(conn.execute(text("SELECT id FROM card WHERE key = :k"), {"k": card_key}).scalar())
