"""What the scheduler hands back: queue entries, counts, answer and undo outcomes, its error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from labdeck.srs import sm2


class SrsError(ValueError):
    """A request the scheduler cannot honour (unknown card or deck, bad quality or mode)."""


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class QueueEntry:
    card_id: int
    key: str
    kind: str  # review | redrill | new
    deck: str  # deck key
    chapter: str  # chapter code
    prompt: str
    due: date | None = None  # the card's due study day (None for a new card)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = self.due.isoformat() if self.due else None
        return data


@dataclass(frozen=True)
class Counts:
    """Today's counts like Anki's deck list: new / learning (re-drill) / due reviews."""

    deck: str | None  # deck key; None for the all-decks total
    chapter: str | None  # chapter code; None for a deck (or total) row
    title: str
    new: int
    learning: int
    due: int

    @property
    def redrill(self) -> int:
        return self.learning

    @property
    def name(self) -> str:
        return self.title

    @property
    def total(self) -> int:
        return self.new + self.learning + self.due

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnswerOutcome:
    log_id: int
    card_id: int
    key: str
    quality: int
    mode: str  # review | redrill | exam
    day: date  # the study day the answer belongs to
    previous: sm2.State
    state: sm2.State
    previous_due: date | None
    due: date | None
    lapses: int
    leech: bool
    suspended: bool
    lapsed: bool = False  # this answer counted as a lapse
    became_leech: bool = False  # this answer made the card a leech (and suspended it)

    @property
    def scheduled(self) -> bool:
        """True when the answer moved the schedule (review or exam, not a re-drill)."""
        return self.mode != "redrill"

    @property
    def again_today(self) -> bool:
        """True when the card comes back as a re-drill later today (q < 4)."""
        return self.quality < sm2.REDRILL_BELOW and not self.suspended

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "key": self.key,
            "quality": self.quality,
            "mode": self.mode,
            "day": self.day.isoformat(),
            "previous": _state_dict(self.previous, self.previous_due),
            "state": _state_dict(self.state, self.due),
            "lapses": self.lapses,
            "leech": self.leech,
            "suspended": self.suspended,
            "lapsed": self.lapsed,
            "became_leech": self.became_leech,
            "again_today": self.again_today,
        }


@dataclass(frozen=True)
class UndoOutcome:
    """What ``undo`` reversed: an answer (``op == "answer"``), or a card operation — suspend,
    unsuspend, bury, unbury, reset, edit, revert — of ``cards`` cards (then ``log_id`` is 0,
    ``quality`` and ``mode`` are None, and the card fields describe the first card)."""

    log_id: int
    card_id: int
    key: str
    quality: int | None
    mode: str | None
    day: date  # study day of the undone answer or operation
    state: sm2.State  # the restored state
    due: date | None
    lapses: int
    leech: bool
    suspended: bool
    op: str = "answer"  # answer | suspend | unsuspend | bury | unbury | reset | edit | revert
    cards: int = 1  # cards the undone operation touched

    @property
    def summary(self) -> str:
        """One line for the learner: what was undone."""
        if self.op == "answer":
            return f"Undid the answer to {self.key}."
        if self.cards > 1:
            return f"Undid {self.op} of {self.cards} cards."
        return f"Undid {self.op} of {self.key}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "log_id": self.log_id,
            "key": self.key,
            "quality": self.quality,
            "mode": self.mode,
            "day": self.day.isoformat(),
            "state": _state_dict(self.state, self.due),
            "lapses": self.lapses,
            "leech": self.leech,
            "suspended": self.suspended,
            "cards": self.cards,
        }


def _state_dict(state: sm2.State, due: date | None) -> dict[str, Any]:
    return {
        "repetitions": state.repetitions,
        "ease": str(state.ease),
        "interval": state.interval,
        "due": due.isoformat() if due else None,
    }
