"""One answer's effect on a card, as a pure function (after Anki's ``rslib`` card states).

``answer(before, quality, day, mode, rules) -> Transition`` holds every rule that moves a card
when it is answered: the scheduled step (SM-2's ``sm2.next_state``, or FSRS through the step
``fsrs_deck.step_for`` builds for an FSRS deck), the due day, a lapse (q < 3 on a card that
had graduated), the leech points (at ``leech_threshold`` lapses, then every ``leech_every``
more: flagged and suspended) and a re-drill (logged, never moving the schedule). The interval
preview shows ``answer`` for each quality (worded by ``preview_label``) and ``Scheduler.answer``
applies the same ``Transition``, refusing it when the card's state is no longer its ``before``
(``Stale``).

A new card state or SM-2 mode is added here (and where it is shown); ``repo`` writes whatever
a Transition says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from labdeck.srs import sm2
from labdeck.srs.outcomes import SrsError

MODES: tuple[str, ...] = ("review", "redrill", "exam")
SCHEDULED_MODES: tuple[str, ...] = ("review", "exam")
StepFn = Callable[[sm2.State, int], sm2.State]


class Stale(SrsError):
    """The card changed since the transition was computed (answered or edited elsewhere)."""


@dataclass(frozen=True)
class Snapshot:
    """Everything an answer reads and writes of a card's scheduling state."""

    state: sm2.State = field(default_factory=sm2.State)
    due: date | None = None
    lapses: int = 0
    leech: bool = False
    suspended: bool = False

    def columns(self, prefix: str) -> dict[str, Any]:
        """The review-log columns ``prefix + name`` (``prev_`` or ``new_``) of this state."""
        return {
            f"{prefix}repetitions": self.state.repetitions,
            f"{prefix}ease": self.state.ease_permille,
            f"{prefix}interval": self.state.interval,
            f"{prefix}due": self.due,
            f"{prefix}lapses": self.lapses,
            f"{prefix}leech": self.leech,
            f"{prefix}suspended": self.suspended,
        }


@dataclass(frozen=True)
class Rules:
    """What the transition depends on besides the card: its deck's step and the leech rule."""

    step: StepFn
    leech_threshold: int
    leech_every: int


@dataclass(frozen=True)
class Transition:
    quality: int
    mode: str  # review | redrill | exam
    day: date  # the study day of the answer
    before: Snapshot
    after: Snapshot
    lapsed: bool = False  # this answer counts as a lapse
    became_leech: bool = False  # this answer made the card a leech (and suspended it)

    @property
    def scheduled(self) -> bool:
        return self.mode in SCHEDULED_MODES

    @property
    def days(self) -> int:
        """Study days until the card is due after this answer (0 when it has no due day)."""
        return max(0, (self.after.due - self.day).days) if self.after.due else 0

    @property
    def again_today(self) -> bool:
        """The card comes back later today as a re-drill (q < 4, the queue's rule), unless this
        answer suspended it as a leech (``AnswerOutcome.again_today`` says the same)."""
        return self.quality < sm2.REDRILL_BELOW and not self.after.suspended

    def log_columns(self) -> dict[str, Any]:
        """The review-log row's columns that the transition decides."""
        return {
            "study_day": self.day,
            "quality": self.quality,
            "mode": self.mode,
            **self.before.columns("prev_"),
            **self.after.columns("new_"),
        }


def is_leech_point(lapses: int, threshold: int, every: int) -> bool:
    """True at ``threshold`` lapses and every ``every`` lapses after (never when threshold ≤ 0)."""
    if threshold <= 0 or lapses < threshold:
        return False
    if lapses == threshold:
        return True
    return every > 0 and (lapses - threshold) % every == 0


def answer(before: Snapshot, quality: int, day: date, mode: str, rules: Rules) -> Transition:
    """The transition of answering a card in state ``before`` with ``quality`` on ``day``."""
    q = sm2.check_quality(quality)
    if mode not in MODES:
        raise SrsError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode not in SCHEDULED_MODES:  # a re-drill is logged but never moves the schedule
        return Transition(q, mode, day, before, before)
    new = rules.step(before.state, q)
    after = replace(before, state=new, due=day + timedelta(days=new.interval))
    lapsed = q < sm2.PASS and (before.state.repetitions > 0 or before.lapses > 0)
    became_leech = False
    if lapsed:
        after = replace(after, lapses=before.lapses + 1)
        if is_leech_point(after.lapses, rules.leech_threshold, rules.leech_every):
            became_leech = True
            after = replace(after, leech=True, suspended=True)
    return Transition(q, mode, day, before, after, lapsed, became_leech)


def require_current(transition: Transition, current: Snapshot, day: date) -> None:
    """Refuse to apply ``transition`` unless the card is still in its ``before`` state on its
    study day (Anki's ``require!(current_state == …)``)."""
    if transition.before != current or transition.day != day:
        raise Stale(
            "the card changed since its intervals were shown (answered elsewhere, "
            "or a new study day); show it again"
        )


def span_text(days: int) -> str:
    """A number of days as Anki writes an interval: ``6d``, ``1.5mo``, ``2.1y``."""
    if days < 30:
        return f"{days}d"
    value, unit = (days / 30, "mo") if days < 365 else (days / 365, "y")
    return f"{value:.1f}".removesuffix(".0") + unit


def preview_label(transition: Transition) -> str:
    """What answering with this transition's quality does, in a few cells (the review screen's
    interval on each rating, after Anki's buttons): ``again today, then 1d`` when the card
    comes back as a re-drill later today and its schedule makes it due in a day; ``again
    today`` for an answer to a re-drill that brings it back once more (a re-drill never moves
    the schedule); ``6d`` when it is next seen in six days; ``leech: suspended`` when the answer
    suspends it."""
    if transition.became_leech:
        return "leech: suspended"
    if transition.again_today:
        if not transition.scheduled:
            return "again today"
        return f"again today, then {span_text(transition.days)}"
    return span_text(transition.days)
