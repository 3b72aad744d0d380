"""The scheduler's facade: today's queue, answers, undo, suspend/bury and the forecast.

The work is done in stages, one module each: ``step`` (the pure transition of an answer: SM-2
or FSRS step, lapse, leech, re-drill), ``repo`` (the SQL; writes a Transition), ``queue`` (the
queue and counts from one read), ``undo`` (the operation log) and ``stats`` (over ``repo``).

Rules (issue 3):

* A study day rolls over at ``settings.rollover_hour`` local time; due dates are study days.
* Queue order: due reviews (most overdue first, ties in card-id order), then same-day re-drills
  (the card answered longest ago first), then new cards in deck / chapter / content order.
* Limits: ``new_per_day`` and ``reviews_per_day`` per deck (``Settings.limits_for``) and, when
  studying all decks, globally too (Anki's rule: the limits of the deck you study apply, and
  each deck's own limit caps its share). New cards introduced and reviews done earlier today
  count against the day's limits; re-drills are not limited.
* Re-drill: a card whose day's scheduled review has happened and whose latest answer today has
  q < 4 is shown again, until it scores ≥ 4. Membership is derived from today's not-undone log
  rows, so undo restores it. Re-drill answers are logged but never move n, EF, I or due.
* Drill cards (cloze, choice, true/false) are scheduled like any card. When their essay card
  gets a scheduled answer below 3, the drills the learner has met join today's re-drills
  (``_surfaced_drills``) until each scores ≥ 4 once more; this never moves their schedule.
* A lapse is a scheduled answer with q < 3 of a card that had graduated (passed a scheduled
  review before). At ``leech_threshold`` lapses, then every ``leech_every`` more, the card is
  flagged as a leech and suspended (``AnswerOutcome.became_leech``).
* Every answer is its own committed transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) that updates
  ``card_state`` and appends one ``review_log`` row with the state before and after.
  An exam apply passes its own ``transaction()`` connection in, so the review and the
  question's ``applied`` flag commit together.
* Undo reverses the newest answer (marks its log row ``undone``, restores the ``prev_*`` state)
  or card operation (suspend, unsuspend, bury, unbury; ``labdeck.srs.undo``).
* Scheduler per deck (``Settings.deck_schedulers``): a scheduled answer's new state comes from
  ``fsrs_deck.step_for`` — SM-2, or FSRS with its memory rebuilt from the card's history
  (``labdeck.srs.fsrs_step``). Every rule above holds for FSRS decks unchanged.

Reads use plain SQL over the indexes ``ix_card_state_chapter`` (chapter, suspended, due,
card id, buried: the queue's due cards and the counts), ``ix_card_state_queue`` (suspended, due),
``ix_review_log_day`` (study_day), ``ix_review_log_card_ts`` and ``ix_card_deck_order``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck import clock
from labdeck.config import Settings, load_settings
from labdeck.srs import queue, sm2, step
from labdeck.srs.outcomes import AnswerOutcome, Counts, QueueEntry, SrsError, UndoOutcome
from labdeck.srs.queue import REDRILL_GAP, Queue
from labdeck.srs.repo import Repo
from labdeck.srs.step import MODES, SCHEDULED_MODES, Snapshot, Stale, Transition
from labdeck.store.db import Store
from labdeck.store.sql import fetch

if TYPE_CHECKING:
    from labdeck.grading.checklist import StoredTick
    from labdeck.srs.exam_date import ExamProjection
    from labdeck.srs.stats import StudyStats, TodaySummary
    from labdeck.store.queries import CardInfo

__all__ = [
    "KINDS",
    "MODES",
    "REDRILL_GAP",
    "SCHEDULED_MODES",
    "AnswerOutcome",
    "Counts",
    "QueueEntry",
    "Scheduler",
    "SrsError",
    "Stale",
    "UndoOutcome",
]

KINDS: tuple[str, ...] = ("review", "redrill", "new")


class Scheduler:
    """Today's study queue and answers over one store. ``now`` is injected (tests fix it)."""

    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.store = store
        self.settings = settings if settings is not None else load_settings()
        self._now = now
        self.repo = Repo(store)

    # ------------------------------------------------------------ time

    def now(self) -> datetime:
        moment = self._now()
        return moment if moment.tzinfo is not None else moment.astimezone()

    def today(self) -> date:
        """The current study day (rolls over at ``settings.rollover_hour`` local time)."""
        return clock.study_day(self.now(), self.settings.rollover_hour)

    # ------------------------------------------------------------ connections

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A ``BEGIN IMMEDIATE`` write transaction, committed on success, for callers that
        record answers (``answer(..., conn=)``) together with rows of their own."""
        with self.repo.write() as conn:
            yield conn

    # ------------------------------------------------------------ lookups

    def card_id(self, card: int | str) -> int:
        """The id of a card given its id or its key (SrsError when there is no such card)."""
        with self.repo.read() as conn:
            return self.repo.resolve(conn, card)

    def card(self, card_id: int | str) -> CardInfo:
        """A card's content (prompt, answer, key points, notes, demos) for the review screen."""
        with self.repo.read() as conn:
            return self.repo.card_info(conn, self.repo.resolve(conn, card_id))

    # ------------------------------------------------------------ queue and counts

    def queue(self, deck: str | None = None, chapter: str | None = None) -> list[QueueEntry]:
        """Today's queue: due reviews, then re-drills, then new cards (limits applied)."""
        return self.queue_and_counts(deck, chapter).entries

    def queue_and_counts(self, deck: str | None = None, chapter: str | None = None) -> Queue:
        """Today's queue and its counts, from one read."""
        day = self.today()
        with self.repo.read() as conn:
            return queue.build(conn, self.settings, day, deck, chapter)

    def next_card(self, deck: str | None = None, chapter: str | None = None) -> QueueEntry | None:
        entries = self.queue(deck, chapter)
        return entries[0] if entries else None

    def overview(
        self, deck: str | None = None, *, chapters: bool = True
    ) -> tuple[Counts, list[Counts]]:
        """(total, rows): today's counts for all decks in scope, per deck and chapter
        (``queue.overview``)."""
        day = self.today()
        with self.repo.read() as conn:
            return queue.overview(conn, self.settings, day, deck, chapters=chapters)

    def counts(self, deck: str | None = None) -> list[Counts]:
        """Per deck (chapter None) and per chapter: new / learning (re-drill) / due."""
        return self.overview(deck)[1]

    def totals(self, deck: str | None = None) -> Counts:
        return self.overview(deck)[0]

    def exam_projections(self, deck: str | None = None) -> list[ExamProjection]:
        """Per deck in scope with an exam date: recall projected for that day
        (``exam_date.projection``); decks without one are left out."""
        if not self.settings.exam_dates:
            return []
        from labdeck.srs import exam_date

        day = self.today()
        with self.repo.read() as conn:
            found = (
                exam_date.projection(conn, self.settings, d.id, d.key, day)
                for d in self.repo.decks(conn, deck)
                if d.key in self.settings.exam_dates
            )
            return [p for p in found if p is not None]

    def scope_counts(self, deck: str | None = None, chapter: str | None = None) -> Counts:
        """Counts of exactly what ``queue(deck, chapter)`` holds (for a review screen)."""
        return self.queue_and_counts(deck, chapter).counts

    # ------------------------------------------------------------ answers

    def _rules(self, conn: Connection, cid: int, day: date) -> step.Rules:
        from labdeck.srs import fsrs_deck

        return step.Rules(
            fsrs_deck.step_for(conn, self.settings, cid, day),
            self.settings.leech_threshold,
            self.settings.leech_every,
        )

    def _transition(
        self, conn: Connection, cid: int, before: Snapshot, q: int, day: date, mode: str | None
    ) -> Transition:
        if mode is None:
            mode = queue.answer_mode(conn, cid, day, before.due)
        if mode not in SCHEDULED_MODES:  # a re-drill never needs the deck's step
            return step.answer(before, q, day, mode, step.Rules(sm2.next_state, 0, 0))
        return step.answer(before, q, day, mode, self._rules(conn, cid, day))

    def preview(self, card_id: int | str) -> dict[int, Transition]:
        """Quality → the transition answering the card now with it would apply. Pass one to
        ``answer(..., previewed=)`` to apply exactly it (refused with ``Stale`` when the
        card changed since)."""
        day = self.today()
        with self.repo.read() as conn:
            cid = self.repo.resolve(conn, card_id)
            _, before = self.repo.snapshot(conn, cid)
            mode = queue.answer_mode(conn, cid, day, before.due)
            rules = self._rules(conn, cid, day) if mode in SCHEDULED_MODES else None
        return {
            q: step.answer(before, q, day, mode, rules or step.Rules(sm2.next_state, 0, 0))
            for q in sm2.QUALITIES
        }

    def intervals_preview(self, card_id: int | str) -> dict[int, int]:
        """Quality → days until the card is next due after answering with that quality: the
        ``days`` of the same transitions ``answer`` applies (``preview``). For a re-drill the
        schedule does not move, so every quality maps to the days left."""
        return {q: t.days for q, t in self.preview(card_id).items()}

    def answer(
        self,
        card_id: int | str,
        quality: int,
        *,
        answer: str | None = None,
        score: float | None = None,
        suggested: int | None = None,
        duration_ms: int | None = None,
        mode: str | None = None,
        conn: Connection | None = None,
        confidence: float | None = None,
        sure: bool | None = None,
        checklist: Sequence[Any] | None = None,
        previewed: Transition | None = None,
    ) -> AnswerOutcome:
        """Record one answer in its own committed transaction.

        ``mode`` None decides: a re-drill when the card's scheduled review already happened
        today, else a scheduled review. ``"exam"`` is a scheduled review logged as an exam.
        With ``conn`` (from ``transaction()``) the answer is written in the caller's
        transaction instead, so the caller commits its own rows atomically with it.
        The typed ``answer`` is stored without control, bidi or zero-width characters.
        ``confidence`` / ``sure`` are the grader's; ``checklist`` is the learner's key-point
        ticks (``labdeck.grading.checklist.StoredTick`` rows), written into the same log row.
        ``previewed`` (from ``preview``) is applied as it is, if the card is still in its
        ``before`` state on the same study day (else ``Stale``).
        """
        q = sm2.check_quality(quality)
        if mode is not None and mode not in MODES:
            raise SrsError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        extras = self._answer_extras(answer, score, suggested, duration_ms, confidence, sure)
        if previewed is not None and (
            previewed.quality != q or (mode is not None and previewed.mode != mode)
        ):
            raise SrsError("the previewed transition is for another quality or mode")
        extras["checklist"] = _checked(checklist)
        moment = self.now()
        day = clock.study_day(moment, self.settings.rollover_hour)
        with nullcontext(conn) if conn is not None else self.repo.write() as conn:
            cid = self.repo.resolve(conn, card_id)
            key, before = self.repo.snapshot(conn, cid, create=True)
            if previewed is not None:
                step.require_current(previewed, before, day)
                t = previewed
            else:
                t = self._transition(conn, cid, before, q, day, mode)
            log_id = self.repo.write_answer(conn, cid, t, moment, extras)
        return AnswerOutcome(
            log_id=log_id,
            card_id=cid,
            key=key,
            quality=t.quality,
            mode=t.mode,
            day=day,
            previous=t.before.state,
            state=t.after.state,
            previous_due=t.before.due,
            due=t.after.due,
            lapses=t.after.lapses,
            leech=t.after.leech,
            suspended=t.after.suspended,
            lapsed=t.lapsed,
            became_leech=t.became_leech,
        )

    @staticmethod
    def _answer_extras(
        answer: str | None,
        score: float | None,
        suggested: int | None,
        duration_ms: int | None,
        confidence: float | None,
        sure: bool | None,
    ) -> dict[str, Any]:
        """The answer's own review-log columns, checked and cleaned."""
        from labdeck.ingest.common import clean_text

        if answer is not None:
            answer = clean_text(answer)
        if suggested is not None:
            suggested = sm2.check_quality(suggested)
        if confidence is not None:
            if isinstance(confidence, bool) or not 0.0 <= float(confidence) <= 1.0:
                raise SrsError(f"confidence must be between 0 and 1, got {confidence!r}")
            confidence = float(confidence)
        if sure is not None and not isinstance(sure, bool):
            raise SrsError(f"sure must be true or false, got {sure!r}")
        return {
            "answer": answer,
            "score": score,
            "suggested": suggested,
            "duration_ms": duration_ms,
            "confidence": confidence,
            "sure": sure,
        }

    def undo(self) -> UndoOutcome | None:
        """Undo the newest answer or card operation (suspend, unsuspend, bury, unbury):
        ``labdeck.srs.undo`` replays the operation log in reverse."""
        from labdeck.srs import undo

        today = self.today()
        with self.repo.write() as conn:
            return undo.undo_latest(conn, today, self.now())

    def logged_answer(self, log_id: int) -> tuple[str | None, int | None]:
        """The typed answer and its time (ms) of one review-log row (an undone answer's, to
        give it back to the learner)."""
        with self.repo.read() as conn:
            rows = fetch(
                conn, "SELECT answer, duration_ms FROM review_log WHERE id = :id", {"id": log_id}
            )
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    # ------------------------------------------------------------ suspend / bury

    def _set_state(self, card_id: int | str, op: str, value: Any) -> int:
        """Set the field ``op`` changes and remember the value before for ``undo``."""
        from labdeck.srs import undo

        field = undo.FIELDS[op]
        day = self.today()
        with self.repo.write() as conn:
            cid = self.repo.resolve(conn, card_id)
            key, before = self.repo.set_field(conn, cid, field, value)
            if field == "suspended":
                before, after = bool(before), value
            else:  # a study day, kept as its ISO text
                before = None if before is None else str(before)[:10]
                after = None if value is None else value.isoformat()
            undo.record(conn, op, cid, key, before, after, day)
        return cid

    def suspend(self, card_id: int | str, on: bool = True) -> None:
        """Suspend a card (or lift the suspension with ``on=False``); the leech flag stays."""
        self._set_state(card_id, "suspend" if on else "unsuspend", bool(on))

    def unsuspend(self, card_id: int | str) -> None:
        self.suspend(card_id, on=False)

    def bury(self, card_id: int | str) -> date:
        """Hide a card until the next study day; returns the day it comes back."""
        back = self.today() + timedelta(days=1)
        self._set_state(card_id, "bury", back)
        return back

    def unbury(self, card_id: int | str) -> None:
        self._set_state(card_id, "unbury", None)

    # ------------------------------------------------------------ many cards, one undo step

    def suspend_many(self, card_ids: Sequence[int], on: bool = True) -> int:
        """Suspend (or unsuspend) every card in ``card_ids`` as one operation ``u`` undoes in
        one step; returns how many cards changed."""
        from labdeck.srs import undo

        op = "suspend" if on else "unsuspend"
        with self.repo.write() as conn:
            changes = self.repo.set_many(conn, card_ids, {"suspended": bool(on)})
            undo.record_changes(conn, op, changes, self.today())
        return len(changes)

    def reset_many(self, card_ids: Sequence[int]) -> int:
        """Reset cards to new (Anki's "Forget"): repetitions, ease, interval, due, lapses, the
        leech flag and a burial go back to a new card's; the review log, the answer count and
        a suspension stay. One undo step; returns how many cards changed."""
        from labdeck.srs import undo

        fresh = {"repetitions": 0, "ease": 2500, "interval": 0, "due": None, "lapses": 0}
        fresh |= {"leech": False, "buried_until": None}
        with self.repo.write() as conn:
            changes = self.repo.set_many(conn, card_ids, fresh)
            undo.record_changes(conn, "reset", changes, self.today())
        return len(changes)

    # ------------------------------------------------------------ the learner's edits

    def edit(
        self, card_id: int | str, prompt: str, answer: str | None, key_points: list[str] | str
    ) -> bool:
        """Store the learner's text for a card (``labdeck.store.overrides``: it survives
        re-import); an undo step. False when nothing changed; EditError names a bad field."""
        from labdeck.store import overrides

        values = overrides.clean_edit(prompt, answer, key_points)
        return self._content(
            "edit", card_id, lambda conn, cid: overrides.edit(conn, cid, values, self.now())
        )

    def revert(self, card_id: int | str) -> bool:
        """Put a card's imported text back (an undo step); False when it was not edited."""
        from labdeck.store import overrides

        return self._content(
            "revert", card_id, lambda conn, cid: overrides.revert(conn, cid, self.now())
        )

    def _content(
        self, op: str, card_id: int | str, change: Callable[[Connection, int], Any]
    ) -> bool:
        from labdeck.srs import undo

        with self.repo.write() as conn:
            cid = self.repo.resolve(conn, card_id)
            before = change(conn, cid)
            if before is None:
                return False
            key = conn.execute(text("SELECT key FROM card WHERE id = :c"), {"c": cid}).scalar_one()
            change_ = undo.Change(cid, str(key), {undo.CONTENT: before})
            undo.record_changes(conn, op, [change_], self.today())
        return True

    # ------------------------------------------------------------ forecast / stats

    def forecast(
        self, days: int = 30, deck: str | None = None, chapter: str | None = None
    ) -> list[tuple[date, int]]:
        """Cards due on each of the next ``days`` study days (overdue ones count today), in
        every deck or the one ``deck`` (and ``chapter``) names."""
        day = self.today()
        end = day + timedelta(days=max(days, 0))
        counts: dict[date, int] = {}
        with self.repo.read() as conn:
            scope = queue.scope_filter(conn, deck, chapter)
            for when, n in self.repo.due_by_day(conn, end, scope):
                counts[max(when, day)] = counts.get(max(when, day), 0) + n
        return [
            (day + timedelta(days=i), counts.get(day + timedelta(days=i), 0)) for i in range(days)
        ]

    @property
    def stats(self) -> StudyStats:
        """Aggregates for the Stats screen (see ``labdeck.srs.stats``)."""
        from labdeck.srs.stats import StudyStats

        return StudyStats(self)

    def today_summary(self) -> TodaySummary:
        """Today's answered count, share with q ≥ 3 and the streak (``stats.today()``)."""
        return self.stats.today()

    def reviews_per_day(self, days: int = 30) -> list[tuple[date, int]]:
        """Answers per study day, last ``days`` days (``stats.reviews_per_day``)."""
        return self.stats.reviews_per_day(days)


def _checked(checklist: Sequence[Any] | None) -> list[StoredTick] | None:
    """The learner's key-point ticks as stored rows (SrsError naming the bad field)."""
    if checklist is None:
        return None
    from labdeck.grading.checklist import check_stored

    try:
        return check_stored(list(checklist))
    except ValueError as exc:
        raise SrsError(str(exc)) from None
