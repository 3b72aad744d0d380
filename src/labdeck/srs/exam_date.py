"""An exam date per deck: which due reviews to take first, and the recall projected for that day.

Both use FSRS's forgetting curve, R(t) = (1 + F·t/S)^C, with the deck's fitted parameters (or
py-fsrs' defaults) and each card's memory rebuilt from its scheduled answers
(``fsrs_step.memory``) — for SM-2 decks too: SM-2 has no model of recall, FSRS's model of the
same history is the scale both are measured on.

* **Priority.** When more reviews are due than the day's limit allows, the limit takes the due
  cards whose review today raises their expected recall on the exam day the most:
  ``gain = p·R_exam(Good today) + (1 − p)·R_exam(Again today) − R_exam(no review)``, with p the
  recall predicted today. A card FSRS has no memory of (answered only in re-drills) comes first:
  its recall on the exam day is unknown. Only the first ``queue.PRIORITY_PROBE`` due cards (most
  overdue first) are weighed, which bounds the cost on a large backlog. Within the limit, the
  order is the same rule; with no exam date (or after it) the queue is as before.
  Each gain is kept (``_gain``) under everything it is computed from: the deck's parameters
  and desired retention, the card's scheduled history, the study day and the exam day. The
  queue is built again after every answer; only the answered card's history has changed, so
  only its gain is computed again (an undo brings the old history back, and its old value;
  a new study day, a new exam date or a refit are new keys). The history is read every time,
  so a cached gain can never outlive what it was computed from.
* **Projection.** The expected recall on the exam day of every reviewed card, if each review
  that falls due before the exam is done on its due day (Good or Again with the predicted
  probability, then Good reviews as they fall due), averaged over reviewed cards. Cards never
  answered are counted apart (``unseen``): FSRS says nothing of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck.config import Settings
from labdeck.srs import fsrs_step
from labdeck.srs.fsrs_deck import cards_histories, deck_scheduler, parameters
from labdeck.srs.repo import day_of

if TYPE_CHECKING:
    import fsrs

_AGAIN, _GOOD = 1, 4  # labdeck qualities for FSRS's Again and Good
_MAX_STEPS = 64  # Good reviews simulated before an exam (intervals only grow: a bound)
GAINS_KEPT = 8192  # cached gains (20 decks' worth of weighed due cards)


class ExamDateError(ValueError):
    pass


def parse_exam_date(value: str, where: str = "exam date") -> date:
    """An ISO day (YYYY-MM-DD), or ExamDateError naming ``where``."""
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ExamDateError(f"{where} must be a date as YYYY-MM-DD, got {value!r}") from None


def exam_day(settings: Settings, deck_key: str) -> date | None:
    raw = settings.exam_dates.get(deck_key)
    return parse_exam_date(raw) if raw else None


def _recall(scheduler: fsrs.Scheduler, card: fsrs.Card, day: date) -> float:
    value = fsrs_step.retrievability(scheduler, card, day)
    return 1.0 if value is None else value


def _review(scheduler: fsrs.Scheduler, card: fsrs.Card, quality: int, day: date) -> fsrs.Card:
    after, _ = scheduler.review_card(card, fsrs_step.rating(quality), fsrs_step.moment(day))
    return after


def _due(card: fsrs.Card) -> date:
    return card.due.date()


def _keep_up(scheduler: fsrs.Scheduler, card: fsrs.Card, exam: date) -> float:
    """Recall on the exam day if every review due before it is passed (Good) on its due day."""
    for _ in range(_MAX_STEPS):
        if _due(card) > exam:
            break
        card = _review(scheduler, card, _GOOD, _due(card))
    return _recall(scheduler, card, exam)


def _expected(scheduler: fsrs.Scheduler, card: fsrs.Card, day: date, exam: date) -> float:
    """Expected recall on the exam day when the card is reviewed on ``day``."""
    p = _recall(scheduler, card, day)
    good = _keep_up(scheduler, _review(scheduler, card, _GOOD, day), exam)
    again = _keep_up(scheduler, _review(scheduler, card, _AGAIN, day), exam)
    return p * good + (1 - p) * again


def gain(
    scheduler: fsrs.Scheduler, history: Sequence[tuple[date, int]], day: date, exam: date
) -> float:
    """How much a review today raises the card's expected recall on the exam day."""
    card = fsrs_step.memory(scheduler, history)
    if card.last_review is None:
        return 1.0  # no memory to speak of: the most to gain
    return _expected(scheduler, card, day, exam) - _recall(scheduler, card, exam)


@lru_cache(maxsize=16)
def _scheduler(params: tuple[float, ...] | None, retention: float) -> fsrs.Scheduler:
    return fsrs_step.make_scheduler(params, retention)


@lru_cache(maxsize=GAINS_KEPT)
def _gain(
    params: tuple[float, ...] | None,
    retention: float,
    history: tuple[tuple[date, int], ...],
    day: date,
    exam: date,
) -> float:
    """``gain`` kept under every input it is computed from (see the module's doc)."""
    return gain(_scheduler(params, retention), history, day, exam)


def prioritise(
    conn: Connection, settings: Settings, deck_key: str, day: date, card_ids: Sequence[int]
) -> list[int]:
    """``card_ids`` (due today, most overdue first) in exam-day order: largest gain first,
    ties in the given order. Unchanged when the deck has no exam date or it has passed."""
    exam = exam_day(settings, deck_key)
    if exam is None or exam < day or len(card_ids) < 2:
        return list(card_ids)
    fitted = parameters(conn, deck_key)
    params = tuple(fitted) if fitted is not None else None
    retention = settings.desired_retention
    found = cards_histories(conn, card_ids)
    order = {cid: i for i, cid in enumerate(card_ids)}
    gains = {cid: _gain(params, retention, tuple(found[cid]), day, exam) for cid in card_ids}
    return sorted(card_ids, key=lambda c: (-round(gains[c], 9), order[c]))


@dataclass(frozen=True)
class ExamProjection:
    deck: str
    exam: date
    days_left: int
    reviewed: int  # cards with scheduled answers
    unseen: int  # studiable cards never answered
    recall: float | None  # expected recall on the exam day, mean over reviewed cards

    def to_dict(self) -> dict[str, object]:
        return {
            "deck": self.deck,
            "exam": self.exam.isoformat(),
            "days_left": self.days_left,
            "reviewed": self.reviewed,
            "unseen": self.unseen,
            "recall": self.recall,
        }

    @property
    def _when(self) -> str:
        return "today" if self.days_left == 0 else f"in {self.days_left} d"

    @property
    def _recall(self) -> str:
        return f"{self.recall:.0%}" if self.recall is not None else "-"

    def short(self) -> str:
        """Two short lines for a narrow panel (the home screen's 30 columns; the days left
        say which year)."""
        if self.days_left < 0:
            return f"{self.deck}: exam passed ({self.exam:%d %b})"
        unseen = f" · {self.unseen} unseen" if self.unseen else ""
        return (
            f"{self.deck} exam {self.exam:%d %b} ({self._when})\nrecall then {self._recall}{unseen}"
        )

    def line(self) -> str:
        """One line for ``labdeck due`` and ``labdeck deck exam-date``."""
        if self.days_left < 0:
            return f"{self.deck}: exam {self.exam.isoformat()} has passed"
        unseen = f", {self.unseen} not yet seen" if self.unseen else ""
        return (
            f"{self.deck}: exam {self.exam.isoformat()} ({self._when}), projected recall "
            f"{self._recall} of {self.reviewed} reviewed cards{unseen}"
        )


def projection(
    conn: Connection, settings: Settings, deck_id: int, deck_key: str, day: date
) -> ExamProjection | None:
    """The deck's projected recall on its exam day (None without an exam date)."""
    exam = exam_day(settings, deck_key)
    if exam is None:
        return None
    rows = conn.execute(
        text(
            "SELECT cs.card_id, cs.due FROM card c JOIN card_state cs ON cs.card_id = c.id "
            "WHERE c.deck_id = :d AND c.retired = 0 AND cs.suspended = 0"
        ),
        {"d": deck_id},
    ).all()
    seen: dict[int, date] = {}
    for cid, due in rows:
        when = day_of(due)
        if when is not None:
            seen[int(cid)] = when
    unseen = len(rows) - len(seen)
    if exam < day:
        return ExamProjection(deck_key, exam, (exam - day).days, len(seen), unseen, None)
    scheduler = deck_scheduler(conn, settings, deck_key)
    values: list[float] = []
    for cid, history in cards_histories(conn, list(seen)).items():
        card = fsrs_step.memory(scheduler, history)
        if card.last_review is None:
            continue
        review_day = max(seen[cid], day)
        if review_day <= exam:
            values.append(_expected(scheduler, card, review_day, exam))
        else:
            values.append(_recall(scheduler, card, exam))
    recall = sum(values) / len(values) if values else None
    return ExamProjection(deck_key, exam, (exam - day).days, len(values), unseen, recall)
