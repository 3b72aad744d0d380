"""FSRS (open-spaced-repetition's py-fsrs 6) as the scheduled-review step of an FSRS deck.

Pure and clock-free like ``sm2.next_state``; the database side is ``labdeck.srs.fsrs_deck``.

* Quality → rating: 0–2 → Again, 3 → Hard, 4 → Good, 5 → Easy (q ≥ 3 is a pass in both).
* Labdeck's schedule is in study days, so every scheduled review happens at noon UTC of its
  study day, and py-fsrs runs without (re)learning steps and without fuzz: each answer gives a
  whole number of days ≥ 1, the same every time (preview == applied). Same-day re-drills stay
  labdeck's own rule: they are not FSRS reviews and never move the schedule.
* The memory state (stability, difficulty) is never stored: it is rebuilt from the card's
  scheduled, not-undone answers with ``fsrs.Scheduler.reschedule_card`` (FSRS's own way of
  rebuilding a card from its review log), so undo and switching decks need nothing extra.
* ``card_state`` keeps the queue's truth: ``interval`` and ``due`` come from FSRS;
  ``repetitions`` counts passes since the last failure (as in SM-2, so lapses and "known" mean
  the same) and ``ease`` is left as it was (SM-2's, used again if the deck switches back).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from labdeck.srs import sm2

if TYPE_CHECKING:
    import fsrs

DEFAULT_RETENTION = 0.9
History = Sequence[tuple[date, int]]  # (study day, quality) of each scheduled review, in order
_CARD_ID = 1  # py-fsrs wants an id; histories here are always one card's


def rating(quality: int) -> fsrs.Rating:
    """SM-2 quality 0–5 → FSRS rating (0–2 Again, 3 Hard, 4 Good, 5 Easy)."""
    from fsrs import Rating

    q = sm2.check_quality(quality)
    if q < sm2.PASS:
        return Rating.Again
    return (Rating.Hard, Rating.Good, Rating.Easy)[q - sm2.PASS]


def moment(day: date) -> datetime:
    """The instant an answer on a study day counts as for FSRS (noon UTC of that day)."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def make_scheduler(
    parameters: Sequence[float] | None = None, desired_retention: float = DEFAULT_RETENTION
) -> fsrs.Scheduler:
    """A day-granular py-fsrs scheduler (no learning steps, no fuzz)."""
    from fsrs import Scheduler
    from fsrs.scheduler import DEFAULT_PARAMETERS

    return Scheduler(
        parameters=tuple(parameters) if parameters is not None else DEFAULT_PARAMETERS,
        desired_retention=desired_retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def review_logs(history: History, card_id: int = _CARD_ID) -> list[fsrs.ReviewLog]:
    from fsrs import ReviewLog

    return [ReviewLog(card_id, rating(q), moment(day), None) for day, q in history]


def memory(scheduler: fsrs.Scheduler, history: History) -> fsrs.Card:
    """The card as FSRS sees it after these scheduled reviews (a new card for none)."""
    from fsrs import Card

    card = Card(card_id=_CARD_ID, due=moment(history[0][0]) if history else moment(date.min))
    return scheduler.reschedule_card(card, review_logs(history)) if history else card


def retrievability(scheduler: fsrs.Scheduler, card: fsrs.Card, day: date) -> float | None:
    """Predicted probability of recall on ``day``; None for a card never reviewed."""
    if card.last_review is None:
        return None
    return float(scheduler.get_card_retrievability(card, moment(day)))


class Step:
    """One card's next scheduled review under FSRS, its memory rebuilt once from history."""

    def __init__(self, scheduler: fsrs.Scheduler, history: History, day: date) -> None:
        self.scheduler = scheduler
        self.day = day
        self.card = memory(scheduler, history)

    def interval(self, quality: int) -> int:
        """Days until due after answering ``quality`` on ``self.day``."""
        after, _ = self.scheduler.review_card(self.card, rating(quality), moment(self.day))
        return max(1, (after.due - moment(self.day)) // timedelta(days=1))

    def __call__(self, state: sm2.State, quality: int) -> sm2.State:
        """The ``card_state`` after the answer (same shape as ``sm2.next_state``)."""
        q = sm2.check_quality(quality)
        reps = state.repetitions + 1 if q >= sm2.PASS else 0
        return sm2.State(reps, state.ease, self.interval(q))


def replay_sm2(history: History) -> tuple[sm2.State, date | None]:
    """SM-2's state and due day from the same history (used when a deck switches back)."""
    state = sm2.State()
    due = None
    for day, q in history:
        state = sm2.next_state(state, q)
        due = day + timedelta(days=state.interval)
    return state, due
