"""Today's queue, answers, undo, suspend/bury and the forecast, over the store.

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
* Undo marks the last not-undone log row ``undone`` and restores the card's ``prev_*`` state.
* Scheduler per deck (``Settings.deck_schedulers``): a scheduled answer's new state comes from
  ``fsrs_deck.step_for`` — SM-2, or FSRS with its memory rebuilt from the card's history
  (``labdeck.srs.fsrs_step``). Every rule above holds for FSRS decks unchanged.

Reads use plain SQL aggregates over the indexes ``ix_card_state_queue`` (suspended, due),
``ix_review_log_day`` (study_day), ``ix_review_log_card_ts`` and ``ix_card_deck_order``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, null, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from labdeck import clock
from labdeck.config import Settings, load_settings
from labdeck.srs import fsrs_deck, sm2, undo
from labdeck.srs.outcomes import (
    AnswerOutcome,
    Counts,
    QueueEntry,
    SrsError,
    UndoOutcome,
)
from labdeck.store.db import Store
from labdeck.store.errors import store_error

if TYPE_CHECKING:
    from labdeck.srs.stats import StudyStats, TodaySummary
    from labdeck.store.queries import CardInfo

MODES: tuple[str, ...] = ("review", "redrill", "exam")
SCHEDULED_MODES: tuple[str, ...] = ("review", "exam")
KINDS: tuple[str, ...] = ("review", "redrill", "new")


@lru_cache(maxsize=1)
def _statements() -> SimpleNamespace:
    """Insert/update statements built from the models, on first write: read-only commands
    (`labdeck due`, the home screen) never import sqlmodel and pydantic."""
    from labdeck.store.models import CardState, ReviewLog

    cs = CardState.__table__  # type: ignore[attr-defined]
    update_state = cs.update().where(cs.c.card_id == bindparam("cid"))
    return SimpleNamespace(
        insert_state=cs.insert(),
        insert_log=ReviewLog.__table__.insert(),  # type: ignore[attr-defined]
        update_state=update_state,
        answer_state=update_state.values(reviews=cs.c.reviews + 1),
    )


REDRILL_GAP = 3  # answers to other cards before a failed card comes back the same day
PLAN_PROBE = 20_000  # the queue's plan probes (due cards, a deck's cards) count up to this


# ---------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Deck:
    id: int
    key: str
    name: str


@dataclass
class _TodayLog:
    """What today's not-undone log rows say: limits used and re-drill membership."""

    new_by_deck: Counter[int] = field(default_factory=Counter)
    reviews_by_deck: Counter[int] = field(default_factory=Counter)
    redrill: dict[int, int] = field(default_factory=dict)  # card id -> id of its latest answer
    answer_ids: list[int] = field(default_factory=list)  # today's answers, in order

    def answers_since(self, card_id: int) -> int:
        """How many answers (to any card) came after this card's latest answer today."""
        latest = self.redrill[card_id]
        return sum(1 for log_id in self.answer_ids if log_id > latest)


def _surfaced_drills(conn: Connection, day: date, card_id: int | None = None) -> dict[int, int]:
    """Drill cards brought back today by their essay card's lapse.

    Rule: when an essay card gets a scheduled answer below 3 today, each of its drill cards
    that the learner has already met (not new), and that is not due today anyway, joins
    today's re-drills after that answer (as any failed card does: re-drill answers never move
    its schedule). Returns drill card id -> the id of the parent's failing answer.

    CROSS JOIN and INDEXED BY pin the plan: today's log rows first, then their drills through
    ``ix_card_parent_id``. Left to itself, on a store where almost no card has a parent,
    SQLite's statistics call that index useless and it scans every card instead (0.3 s at
    1M cards, on every queue and counts read).
    """
    where = "AND d.id = :card" if card_id is not None else ""
    rows = conn.execute(
        text(
            "SELECT d.id, max(rl.id) FROM review_log rl "
            "CROSS JOIN card d INDEXED BY ix_card_parent_id ON d.parent_id = rl.card_id "
            "CROSS JOIN card_state ds ON ds.card_id = d.id "
            "WHERE rl.study_day = :day AND rl.undone = 0 AND rl.mode != 'redrill' "
            f"AND rl.quality < :pass AND d.retired = 0 AND ds.due IS NOT NULL AND ds.due > :day {where} "
            "GROUP BY d.id"
        ),
        {"day": day.isoformat(), "pass": sm2.PASS, "card": card_id},
    ).all()
    return {int(a): int(b) for a, b in rows}


@dataclass
class _Scope:
    decks: list[_Deck]
    chapter_ids: list[int] | None  # None: every chapter
    is_global: bool  # no deck filter: the global limits apply too


def _d(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _json(value: Any) -> list:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else list(value)


def _ids(values: Sequence[int]) -> str:
    return ",".join(str(int(v)) for v in values) or "NULL"


def _not_buried(alias: str = "cs") -> str:
    return f"({alias}.buried_until IS NULL OR {alias}.buried_until <= :day)"


def _capped(which: str, cap: str, index: str, where: str) -> str:
    """A scalar subquery: how many studiable cards (not retired, suspended or buried) match
    ``which`` (new or due) among the cards ``where`` selects through ``index``, at most ``cap``.

    It walks the index's card ids (an index-only read), checks each one's state by primary
    key, reads the card row only for a match, and stops at ``cap``: the work is bounded by the
    cap over the share of matching cards, whatever the deck's size. (The due index holds every
    deck's due cards, of which one chapter's are a small share; reading each card row before
    its state costs twice as much.)"""
    return (
        f"(SELECT count(*) FROM (SELECT 1 FROM card k INDEXED BY {index} "
        "CROSS JOIN card_state cs ON cs.card_id = k.id CROSS JOIN card c ON c.id = k.id "
        f"WHERE {where} AND cs.suspended = 0 AND {which} AND {_not_buried()} "
        f"AND c.retired = 0 LIMIT {cap}))"
    )


NEW, DUE = "cs.due IS NULL", "cs.due <= :day"


def _is_leech_point(lapses: int, threshold: int, every: int) -> bool:
    if threshold <= 0 or lapses < threshold:
        return False
    if lapses == threshold:
        return True
    return every > 0 and (lapses - threshold) % every == 0


# ---------------------------------------------------------------- scheduler


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

    # ------------------------------------------------------------ time

    def now(self) -> datetime:
        moment = self._now()
        return moment if moment.tzinfo is not None else moment.astimezone()

    def today(self) -> date:
        """The current study day (rolls over at ``settings.rollover_hour`` local time)."""
        return clock.study_day(self.now(), self.settings.rollover_hour)

    # ------------------------------------------------------------ connections

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One consistent snapshot for a group of reads."""
        try:
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN")
                try:
                    yield conn
                finally:
                    conn.rollback()
        except DBAPIError as exc:
            raise self._busy(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One committed write transaction, holding the write lock from its start."""
        try:
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except DBAPIError as exc:
            raise self._busy(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A ``BEGIN IMMEDIATE`` write transaction, committed on success, for callers that
        record answers (``answer(..., conn=)``) together with rows of their own."""
        with self._write() as conn:
            yield conn

    def _busy(self, exc: DBAPIError) -> Exception:
        """The store's one-line error for ``exc`` (busy, damaged, read-only, disk full…)."""
        return store_error(exc, self.store.path) or exc

    # ------------------------------------------------------------ lookups

    def card_id(self, card: int | str) -> int:
        """The id of a card given its id or its key (SrsError when there is no such card)."""
        with self._read() as conn:
            return self._resolve(conn, card)

    def card(self, card_id: int | str) -> CardInfo:
        """A card's content (prompt, answer, key points, notes, demos) for the review screen."""
        from labdeck.store.queries import CardInfo

        with self._read() as conn:
            cid = self._resolve(conn, card_id)
            row = conn.execute(
                text(
                    "SELECT c.key, d.key, ch.code, c.prompt, c.answer, c.key_points, c.demos, "
                    "c.prompt_zh, c.tags, c.outline_ref, c.notes, c.kind, c.drill, p.key, "
                    "cs.reviews, c.note_check FROM card c "
                    "JOIN deck d ON d.id = c.deck_id JOIN chapter ch ON ch.id = c.chapter_id "
                    "LEFT JOIN card p ON p.id = c.parent_id "
                    "LEFT JOIN card_state cs ON cs.card_id = c.id "
                    "WHERE c.id = :c"
                ),
                {"c": cid},
            ).one()
        key, deck, chapter, prompt, answer, points, demos, zh, tags, ref, notes = row[:11]
        kind, drill, parent_key, reviews, note_check = row[11:]
        return CardInfo(
            key=key,
            deck=deck,
            chapter=chapter,
            prompt=prompt,
            answer=answer,
            key_points=list(_json(points)),
            demos=list(_json(demos)),
            prompt_zh=zh,
            tags=list(_json(tags)),
            outline_ref=ref,
            notes=notes,
            id=cid,
            kind=kind or "essay",
            drill=json.loads(drill) if isinstance(drill, str) else drill,
            parent_key=parent_key,
            reviews=int(reviews or 0),
            note_check=json.loads(note_check) if isinstance(note_check, str) else note_check,
        )

    def _resolve(self, conn: Connection, card: int | str) -> int:
        if isinstance(card, str) and not card.isdigit():
            found = conn.execute(text("SELECT id FROM card WHERE key = :k"), {"k": card}).scalar()
        else:
            found = conn.execute(
                text("SELECT id FROM card WHERE id = :i"), {"i": int(card)}
            ).scalar()
            if found is None and isinstance(card, str):
                found = conn.execute(
                    text("SELECT id FROM card WHERE key = :k"), {"k": card}
                ).scalar()
        if found is None:
            raise SrsError(f"unknown card {card!r}")
        return int(found)

    def _decks(self, conn: Connection, deck: str | None) -> list[_Deck]:
        rows = [
            _Deck(int(r[0]), r[1], r[2])
            for r in conn.execute(text("SELECT id, key, name FROM deck ORDER BY position, key"))
        ]
        if deck is None:
            return rows
        wanted = deck.strip().casefold()
        chosen = [d for d in rows if d.key.casefold() == wanted] or [
            d for d in rows if d.name.casefold() == wanted
        ]
        if not chosen:
            known = ", ".join(d.key for d in rows) or "none"
            raise SrsError(f"unknown deck {deck!r} (decks: {known})")
        return chosen

    def _scope(self, conn: Connection, deck: str | None, chapter: str | None) -> _Scope:
        decks = self._decks(conn, deck)
        chapter_ids: list[int] | None = None
        if chapter is not None:
            rows = conn.execute(
                text(
                    f"SELECT id, deck_id FROM chapter WHERE upper(code) = :c "
                    f"AND deck_id IN ({_ids([d.id for d in decks])})"
                ),
                {"c": chapter.strip().upper()},
            ).all()
            if not rows:
                raise SrsError(f"unknown chapter {chapter!r}")
            chapter_ids = [int(r[0]) for r in rows]
            with_chapter = {int(r[1]) for r in rows}
            decks = [d for d in decks if d.id in with_chapter]
        return _Scope(decks, chapter_ids, deck is None)

    def _smaller(self, conn: Connection, deck_ids: list[int], than: int) -> bool:
        """True when these decks hold fewer than ``than`` cards (counts at most ``than``).

        SQLite cannot know that a small deck's cards are few among many due ones; when they
        are, walking the deck's cards beats walking the whole due index.
        """
        if than <= 0:
            return False
        n = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM card "
                f"WHERE deck_id IN ({_ids(deck_ids)}) LIMIT :n)"
            ),
            {"n": than},
        ).scalar_one()
        return int(n) < than

    def _today_log(self, conn: Connection, day: date) -> _TodayLog:
        log = _TodayLog()
        latest: dict[int, tuple[int, int]] = {}
        scheduled: set[int] = set()
        rows = conn.execute(
            text(
                "SELECT rl.id, rl.card_id, rl.quality, rl.mode, rl.prev_due IS NULL, c.deck_id "
                "FROM review_log rl JOIN card c ON c.id = rl.card_id "
                "WHERE rl.study_day = :day AND rl.undone = 0 ORDER BY rl.id"
            ),
            {"day": day.isoformat()},
        )
        for log_id, card_id, quality, mode, was_new, deck_id in rows:
            log.answer_ids.append(log_id)
            latest[card_id] = (log_id, quality)
            if mode == "redrill":
                continue
            scheduled.add(card_id)
            if mode == "review":
                if was_new:
                    log.new_by_deck[deck_id] += 1
                else:
                    log.reviews_by_deck[deck_id] += 1
        log.redrill = {
            card_id: log_id
            for card_id, (log_id, quality) in latest.items()
            if card_id in scheduled and quality < sm2.REDRILL_BELOW
        }
        for drill_id, since in _surfaced_drills(conn, day).items():
            mine = latest.get(drill_id)
            if drill_id in scheduled:
                continue  # reviewed today on its own schedule: the ordinary rule applies
            if mine is None or mine[0] < since or mine[1] < sm2.REDRILL_BELOW:
                log.redrill[drill_id] = max(since, mine[0] if mine else since)
        return log

    def _remaining(
        self, decks: list[_Deck], log: _TodayLog
    ) -> tuple[dict[int, tuple[int, int]], tuple[int, int]]:
        """Per deck and global (new, reviews) still allowed today."""
        per_deck = {}
        for deck in decks:
            new_limit, review_limit = self.settings.limits_for(deck.key)
            per_deck[deck.id] = (
                max(0, new_limit - log.new_by_deck[deck.id]),
                max(0, review_limit - log.reviews_by_deck[deck.id]),
            )
        overall = (
            max(0, self.settings.new_per_day - sum(log.new_by_deck.values())),
            max(0, self.settings.reviews_per_day - sum(log.reviews_by_deck.values())),
        )
        return per_deck, overall

    def _redrill_cards(
        self, conn: Connection, day: date, log: _TodayLog, scope: _Scope
    ) -> list[tuple[int, int, int]]:
        """(card id, deck id, chapter id) of today's re-drills, the longest-waiting first."""
        if not log.redrill:
            return []
        where = f"c.deck_id IN ({_ids([d.id for d in scope.decks])})"
        if scope.chapter_ids is not None:
            where += f" AND c.chapter_id IN ({_ids(scope.chapter_ids)})"
        rows = conn.execute(
            text(
                "SELECT c.id, c.deck_id, c.chapter_id FROM card c "
                "JOIN card_state cs ON cs.card_id = c.id "
                f"WHERE c.id IN ({_ids(list(log.redrill))}) AND c.retired = 0 "
                f"AND cs.suspended = 0 AND {_not_buried()} AND {where}"
            ),
            {"day": day.isoformat()},
        ).all()
        return sorted(
            ((int(a), int(b), int(c)) for a, b, c in rows), key=lambda r: log.redrill[r[0]]
        )

    # ------------------------------------------------------------ queue

    def queue(self, deck: str | None = None, chapter: str | None = None) -> list[QueueEntry]:
        """Today's queue: due reviews, then re-drills, then new cards (limits applied)."""
        day = self.today()
        with self._read() as conn:
            return self._queue(conn, day, deck, chapter)

    def next_card(self, deck: str | None = None, chapter: str | None = None) -> QueueEntry | None:
        entries = self.queue(deck, chapter)
        return entries[0] if entries else None

    def _queue(
        self, conn: Connection, day: date, deck: str | None, chapter: str | None
    ) -> list[QueueEntry]:
        scope = self._scope(conn, deck, chapter)
        log = self._today_log(conn, day)
        per_deck, overall = self._remaining(scope.decks, log)
        params = {"day": day.isoformat()}
        chapter_clause = (
            f" AND c.chapter_id IN ({_ids(scope.chapter_ids)})"
            if scope.chapter_ids is not None
            else ""
        )

        # due reviews, most overdue first: each deck's share, then the global cap
        due_rows: list[tuple[str, int]] = []
        n_due = -1
        for d in scope.decks:
            cap = per_deck[d.id][1]
            if scope.is_global:
                cap = min(cap, overall[1])
            if cap <= 0:
                continue
            if n_due < 0:
                n_due = conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT 1 FROM card_state "
                        "WHERE suspended = 0 AND due <= :day LIMIT :n)"
                    ),
                    {**params, "n": PLAN_PROBE},
                ).scalar_one()
            # walk the due index, or this deck's cards when the deck is the smaller set (both
            # counted up to PLAN_PROBE: past that the due index is walked)
            source = (
                "card c CROSS JOIN card_state cs ON cs.card_id = c.id"
                if self._smaller(conn, [d.id], n_due)
                else "card_state cs JOIN card c ON c.id = cs.card_id"
            )
            due_rows.extend(
                (str(due), int(cid))
                for cid, due in conn.execute(
                    text(
                        f"SELECT cs.card_id, cs.due FROM {source} "
                        "WHERE cs.suspended = 0 AND cs.due <= :day AND c.deck_id = :deck "
                        f"AND c.retired = 0 AND {_not_buried()}{chapter_clause} "
                        "ORDER BY cs.due, cs.card_id LIMIT :n"
                    ),
                    {**params, "deck": d.id, "n": cap},
                )
            )
        due_rows.sort()
        if scope.is_global:
            due_rows = due_rows[: overall[1]]
        review_ids = [cid for _, cid in due_rows]

        redrill_ids = [r[0] for r in self._redrill_cards(conn, day, log, scope)]
        taken = set(review_ids)
        redrill_ids = [cid for cid in redrill_ids if cid not in taken]
        # A re-drill's turn comes once a few other cards have been answered since it was
        # failed; until then it waits behind the new cards (so it never repeats at once).
        ready = [cid for cid in redrill_ids if log.answers_since(cid) >= REDRILL_GAP]
        waiting = [cid for cid in redrill_ids if cid not in set(ready)]

        # new cards: deck order, then chapter and content order, within the limits
        new_ids: list[int] = []
        budget = overall[0] if scope.is_global else None
        for d in scope.decks:
            limit = per_deck[d.id][0]
            if budget is not None:
                limit = min(limit, budget)
            if limit <= 0:
                continue
            found = self._new_cards(conn, day, d.id, scope.chapter_ids, limit)
            new_ids.extend(found)
            if budget is not None:
                budget -= len(found)

        info = self._entry_info(conn, review_ids + redrill_ids + new_ids)
        entries = []
        order = (("review", review_ids), ("redrill", ready), ("new", new_ids), ("redrill", waiting))
        for kind, ids in order:
            for cid in ids:
                key, prompt, deck_key, code, due = info[cid]
                entries.append(QueueEntry(cid, key, kind, deck_key, code, prompt, _d(due)))
        return entries

    def _new_cards(
        self,
        conn: Connection,
        day: date,
        deck_id: int,
        chapter_ids: list[int] | None,
        limit: int,
    ) -> list[int]:
        """Up to ``limit`` new cards of a deck in chapter / content order.

        Walks the deck's chapters in order and each chapter's cards through
        ``ix_card_deck_order``, so only the cards before the ones returned are visited.
        """
        chapters = conn.execute(
            text("SELECT id FROM chapter WHERE deck_id = :deck ORDER BY position, id"),
            {"deck": deck_id},
        ).scalars()
        wanted = set(chapter_ids) if chapter_ids is not None else None
        found: list[int] = []
        for chapter_id in chapters:
            if wanted is not None and chapter_id not in wanted:
                continue
            found.extend(
                int(cid)
                for (cid,) in conn.execute(
                    text(
                        "SELECT c.id FROM card c JOIN card_state cs ON cs.card_id = c.id "
                        "WHERE c.deck_id = :deck AND c.chapter_id = :chapter AND c.retired = 0 "
                        f"AND cs.due IS NULL AND cs.suspended = 0 AND {_not_buried()} "
                        "ORDER BY c.position, c.id LIMIT :n"
                    ),
                    {
                        "day": day.isoformat(),
                        "deck": deck_id,
                        "chapter": chapter_id,
                        "n": limit - len(found),
                    },
                )
            )
            if len(found) >= limit:
                break
        return found

    def _entry_info(self, conn: Connection, ids: list[int]) -> dict[int, tuple]:
        if not ids:
            return {}
        rows = conn.execute(
            text(
                "SELECT c.id, c.key, c.prompt, d.key, ch.code, cs.due FROM card c "
                "JOIN deck d ON d.id = c.deck_id JOIN chapter ch ON ch.id = c.chapter_id "
                f"JOIN card_state cs ON cs.card_id = c.id WHERE c.id IN ({_ids(ids)})"
            )
        )
        return {int(r[0]): tuple(r[1:]) for r in rows}

    # ------------------------------------------------------------ counts

    def overview(
        self, deck: str | None = None, *, chapters: bool = True
    ) -> tuple[Counts, list[Counts]]:
        """(total, rows): today's counts for all decks in scope, and per deck and chapter.

        A deck row shows what studying that deck would give (its own limits); a chapter row
        what studying that chapter would give (capped by its deck's limits); the total what
        studying everything in scope would give (with the global limits when ``deck`` is None).

        Each chapter's new and due cards are counted only up to its deck's remaining limits
        (``_capped``), so the work is bounded by chapters × limits, not by the deck's size. A
        deck's row is then min(Σ chapters, limit): a chapter reaching the limit reaches it for
        its deck too, so capping the chapters first never changes the deck's figure.
        ``chapters=False`` leaves the chapter rows out and counts each deck directly, bounded
        by its limits alone (the home screen shows these first).
        """
        day = self.today()
        with self._read() as conn:
            scope = self._scope(conn, deck, None)
            log = self._today_log(conn, day)
            per_deck, overall = self._remaining(scope.decks, log)
            redrills = Counter(
                (deck_id, chapter_id)
                for _, deck_id, chapter_id in self._redrill_cards(conn, day, log, scope)
            )
            rows: list[Counts] = []
            total_new = total_learning = total_due = 0
            for d in scope.decks:
                new_left, reviews_left = per_deck[d.id]
                if not chapters:
                    new, due = self._deck_counts(conn, day, d.id, new_left, reviews_left)
                    learning = sum(n for (deck_id, _), n in redrills.items() if deck_id == d.id)
                    deck_row = Counts(d.key, None, d.name, new, learning, due)
                    rows.append(deck_row)
                    total_new += deck_row.new
                    total_learning += deck_row.learning
                    total_due += deck_row.due
                    continue
                chapter_rows = [
                    Counts(d.key, code, title, new, redrills.get((d.id, chapter_id), 0), due)
                    for chapter_id, code, title, new, due in self._chapter_counts(
                        conn, day, d.id, new_left, reviews_left
                    )
                ]
                deck_row = Counts(
                    d.key,
                    None,
                    d.name,
                    min(sum(c.new for c in chapter_rows), new_left),
                    sum(c.learning for c in chapter_rows),
                    min(sum(c.due for c in chapter_rows), reviews_left),
                )
                rows.append(deck_row)
                rows.extend(chapter_rows)
                total_new += deck_row.new
                total_learning += deck_row.learning
                total_due += deck_row.due
        if scope.is_global:
            total_new = min(total_new, overall[0])
            total_due = min(total_due, overall[1])
        title = "All decks" if scope.is_global else scope.decks[0].name
        return Counts(None, None, title, total_new, total_learning, total_due), rows

    def _chapter_counts(
        self, conn: Connection, day: date, deck_id: int, new_cap: int, due_cap: int
    ) -> list[tuple[int, str, str, int, int]]:
        """(chapter id, code, title, new, due) of a deck's chapters in order, each count at
        most its cap: what studying the chapter would give under the deck's limits."""
        where = "k.chapter_id = ch.id AND c.deck_id = ch.deck_id"
        index = "ix_card_chapter_id"
        rows = conn.execute(
            text(
                f"SELECT ch.id, ch.code, ch.title, {_capped(NEW, ':new', index, where)}, "
                f"{_capped(DUE, ':due', index, where)} FROM chapter ch "
                "WHERE ch.deck_id = :deck ORDER BY ch.position, ch.id"
            ),
            {"day": day.isoformat(), "deck": deck_id, "new": new_cap, "due": due_cap},
        )
        return [(int(i), code, title, int(n), int(u)) for i, code, title, n, u in rows]

    def _deck_counts(
        self, conn: Connection, day: date, deck_id: int, new_cap: int, due_cap: int
    ) -> tuple[int, int]:
        """(new, due) of a whole deck, each at most its cap, without its chapters' rows."""
        where, index = "k.deck_id = :deck", "ix_card_deck_order"
        new, due = conn.execute(
            text(
                f"SELECT {_capped(NEW, ':new', index, where)}, {_capped(DUE, ':due', index, where)}"
            ),
            {"day": day.isoformat(), "deck": deck_id, "new": new_cap, "due": due_cap},
        ).one()
        return int(new), int(due)

    def counts(self, deck: str | None = None) -> list[Counts]:
        """Per deck (chapter None) and per chapter: new / learning (re-drill) / due."""
        return self.overview(deck)[1]

    def totals(self, deck: str | None = None) -> Counts:
        return self.overview(deck)[0]

    def scope_counts(self, deck: str | None = None, chapter: str | None = None) -> Counts:
        """Counts of exactly what ``queue(deck, chapter)`` holds (for a review screen)."""
        entries = self.queue(deck, chapter)
        kinds = Counter(e.kind for e in entries)
        title = " · ".join(x for x in (deck, chapter) if x) or "All decks"
        return Counts(deck, chapter, title, kinds["new"], kinds["redrill"], kinds["review"])

    # ------------------------------------------------------------ answers

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
    ) -> AnswerOutcome:
        """Record one answer in its own committed transaction.

        ``mode`` None decides: a re-drill when the card's scheduled review already happened
        today, else a scheduled review. ``"exam"`` is a scheduled review logged as an exam.
        With ``conn`` (from ``transaction()``) the answer is written in the caller's
        transaction instead, so the caller commits its own rows atomically with it.
        The typed ``answer`` is stored without control, bidi or zero-width characters.
        ``confidence`` / ``sure`` are the grader's; ``checklist`` is the learner's key-point
        ticks (``labdeck.grading.checklist.StoredTick`` rows), written into the same log row.
        """
        from labdeck.ingest.common import clean_text

        if answer is not None:
            answer = clean_text(answer)
        q = sm2.check_quality(quality)
        if mode is not None and mode not in MODES:
            raise SrsError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if suggested is not None:
            suggested = sm2.check_quality(suggested)
        if confidence is not None:
            if isinstance(confidence, bool) or not 0.0 <= float(confidence) <= 1.0:
                raise SrsError(f"confidence must be between 0 and 1, got {confidence!r}")
            confidence = float(confidence)
        if sure is not None and not isinstance(sure, bool):
            raise SrsError(f"sure must be true or false, got {sure!r}")
        ticks = None
        if checklist is not None:
            from labdeck.grading.checklist import check_stored

            try:
                ticks = [dict(row) for row in check_stored(list(checklist))]
            except ValueError as exc:
                raise SrsError(str(exc)) from None
        moment = self.now()
        day = clock.study_day(moment, self.settings.rollover_hour)
        with nullcontext(conn) if conn is not None else self._write() as conn:
            cid = self._resolve(conn, card_id)
            row = self._state_row(conn, cid)
            key, reps, ease, interval, due_raw, lapses, leech, suspended = row
            prev = sm2.State.from_permille(reps, ease, interval)
            prev_due = _d(due_raw)
            if mode is None:
                done = conn.execute(
                    text(
                        "SELECT 1 FROM review_log WHERE card_id = :c AND study_day = :day "
                        "AND undone = 0 AND mode != 'redrill' LIMIT 1"
                    ),
                    {"c": cid, "day": day.isoformat()},
                ).first()
                surfaced = not done and prev_due is not None and prev_due > day
                if surfaced:
                    surfaced = cid in _surfaced_drills(conn, day, cid)
                mode = "redrill" if done or surfaced else "review"
            new, new_due = prev, prev_due
            new_lapses, new_leech, new_suspended = lapses, bool(leech), bool(suspended)
            lapsed = became_leech = False
            if mode != "redrill":
                new = fsrs_deck.step_for(conn, self.settings, cid, day)(prev, q)
                new_due = day + timedelta(days=new.interval)
                lapsed = q < sm2.PASS and (prev.repetitions > 0 or lapses > 0)
                if lapsed:
                    new_lapses = lapses + 1
                    if _is_leech_point(
                        new_lapses, self.settings.leech_threshold, self.settings.leech_every
                    ):
                        became_leech = new_leech = new_suspended = True
            conn.execute(
                _statements().answer_state,
                {
                    "cid": cid,
                    "repetitions": new.repetitions,
                    "ease": new.ease_permille,
                    "interval": new.interval,
                    "due": new_due,
                    "lapses": new_lapses,
                    "leech": new_leech,
                    "suspended": new_suspended,
                    "last_review": moment,
                },
            )
            result = conn.execute(
                _statements().insert_log,
                {
                    "card_id": cid,
                    "ts": moment,
                    "study_day": day,
                    "quality": q,
                    "mode": mode,
                    "answer": answer,
                    "score": score,
                    "suggested": suggested,
                    "duration_ms": duration_ms,
                    "confidence": confidence,
                    "sure": sure,
                    "checklist": ticks if ticks is not None else null(),  # SQL NULL
                    "prev_repetitions": prev.repetitions,
                    "prev_ease": prev.ease_permille,
                    "prev_interval": prev.interval,
                    "prev_due": prev_due,
                    "prev_lapses": lapses,
                    "prev_leech": bool(leech),
                    "prev_suspended": bool(suspended),
                    "new_repetitions": new.repetitions,
                    "new_ease": new.ease_permille,
                    "new_interval": new.interval,
                    "new_due": new_due,
                    "new_lapses": new_lapses,
                    "new_leech": new_leech,
                    "new_suspended": new_suspended,
                    "undone": False,
                },
            )
            log_id = int(result.inserted_primary_key[0])
        return AnswerOutcome(
            log_id=log_id,
            card_id=cid,
            key=key,
            quality=q,
            mode=mode,
            day=day,
            previous=prev,
            state=new,
            previous_due=prev_due,
            due=new_due,
            lapses=new_lapses,
            leech=new_leech,
            suspended=new_suspended,
            lapsed=lapsed,
            became_leech=became_leech,
        )

    def _state_row(self, conn: Connection, cid: int) -> tuple:
        sql = text(
            "SELECT c.key, cs.repetitions, cs.ease, cs.interval, cs.due, cs.lapses, cs.leech, "
            "cs.suspended FROM card c JOIN card_state cs ON cs.card_id = c.id WHERE c.id = :c"
        )
        row = conn.execute(sql, {"c": cid}).first()
        if row is None:  # a card without scheduling state: it is new
            conn.execute(_statements().insert_state, {"card_id": cid})
            row = conn.execute(sql, {"c": cid}).first()
        assert row is not None
        return tuple(row)

    def undo(self) -> UndoOutcome | None:
        """Undo the newest answer or card operation (suspend, unsuspend, bury, unbury):
        ``labdeck.srs.undo`` replays the operation log in reverse."""
        today = self.today()
        with self._write() as conn:
            return undo.undo_latest(conn, today)

    def intervals_preview(self, card_id: int | str) -> dict[int, int]:
        """Quality → days until the card is next due after answering with that quality.

        For a scheduled review this is the next interval of the card's deck scheduler (SM-2,
        or FSRS: the same ``fsrs_deck.step_for`` that ``answer`` applies); for a re-drill (the
        day's review already happened) the schedule does not move, so every quality maps to
        the days left.
        """
        day = self.today()
        with self._read() as conn:
            cid = self._resolve(conn, card_id)
            row = conn.execute(
                text(
                    "SELECT cs.repetitions, cs.ease, cs.interval, cs.due, EXISTS (SELECT 1 "
                    "FROM review_log WHERE card_id = :c AND study_day = :day AND undone = 0 "
                    "AND mode != 'redrill') FROM card_state cs WHERE cs.card_id = :c"
                ),
                {"c": cid, "day": day.isoformat()},
            ).first()
            if row is not None and row[4] and row[3] is not None:
                left = max(0, (_d(row[3]) - day).days)  # type: ignore[operator]
                return dict.fromkeys(sm2.QUALITIES, left)
            step = fsrs_deck.step_for(conn, self.settings, cid, day)
        state = sm2.State.from_permille(*row[:3]) if row is not None else sm2.State()
        return {q: step(state, q).interval for q in sm2.QUALITIES}

    # ------------------------------------------------------------ suspend / bury

    def _set_state(self, card_id: int | str, op: str, value: Any) -> int:
        """Set the field ``op`` changes and remember the value before for ``undo``."""
        field = undo.FIELDS[op]
        with self._write() as conn:
            cid = self._resolve(conn, card_id)
            self._state_row(conn, cid)
            key, before = conn.execute(
                text(
                    f"SELECT c.key, cs.{field} FROM card c JOIN card_state cs "
                    "ON cs.card_id = c.id WHERE c.id = :c"
                ),
                {"c": cid},
            ).one()
            if field == "suspended":
                before, after = bool(before), value
            else:  # a study day, kept as its ISO text
                before = None if before is None else str(before)[:10]
                after = None if value is None else value.isoformat()
            conn.execute(_statements().update_state, {"cid": cid, field: value})
            undo.record(conn, op, cid, key, before, after, self.today())
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

    # ------------------------------------------------------------ forecast / stats

    def forecast(self, days: int = 30) -> list[tuple[date, int]]:
        """Cards due on each of the next ``days`` study days (overdue ones count today)."""
        day = self.today()
        end = day + timedelta(days=max(days, 0))
        counts: Counter[date] = Counter()
        with self._read() as conn:
            for due, n in conn.execute(
                text(
                    "SELECT cs.due, count(*) FROM card_state cs JOIN card c ON c.id = cs.card_id "
                    "WHERE cs.suspended = 0 AND cs.due < :end AND c.retired = 0 GROUP BY cs.due"
                ),
                {"end": end.isoformat()},
            ):
                when = _d(due)
                assert when is not None
                counts[max(when, day)] += int(n)
        return [(day + timedelta(days=i), counts[day + timedelta(days=i)]) for i in range(days)]

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
