"""Today's queue and counts, built in stages from one read (one connection).

Stages of ``build``: the scope (decks, chapter) and today's log (limits used, re-drill
membership, ``surfaced_drills``); gather the due reviews within each deck's and the global
review limit, most overdue first (``_due_cards``: one merge of the deck's chapter ranges of
``ix_card_state_chapter``, bounded by the limit whatever the deck's size); the re-drills
(ready ones after ``REDRILL_GAP`` other answers, the rest waiting behind the new cards); the
new cards within the new-card limits, in deck / chapter / content order; then the order:
reviews, ready re-drills, new, waiting re-drills. ``Queue`` holds the entries and their counts. ``overview`` gives the deck list's
counts (capped per chapter, one statement per deck; see ``_capped``). ``answer_mode`` says
whether an answer to a card now is a scheduled review or a re-drill, by the same rules.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

from labdeck.config import Settings
from labdeck.srs import sm2
from labdeck.srs.outcomes import Counts, QueueEntry, SrsError
from labdeck.srs.repo import Deck, Repo, day_of, fetch, ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from labdeck.store.sql import Conn

REDRILL_GAP = 3  # answers to other cards before a failed card comes back the same day
PRIORITY_PROBE = 400  # due cards weighed per deck with an exam date (``exam_date.prioritise``)
MERGE_ARMS = 200  # chapters merged by one statement (SQLite allows 500 terms in a compound)


@dataclass(frozen=True)
class Queue:
    """Today's queue for a scope, and its counts (what a review screen shows)."""

    entries: list[QueueEntry]
    counts: Counts


def answer_mode(conn: Connection, cid: int, day: date, due: date | None) -> str:
    """``"redrill"`` when an answer to the card now does not move its schedule (its review
    already happened today, or its essay's lapse surfaced it), else ``"review"``."""
    done = fetch(
        conn,
        "SELECT 1 FROM review_log WHERE card_id = :c AND study_day = :day "
        "AND undone = 0 AND mode != 'redrill' LIMIT 1",
        {"c": cid, "day": day.isoformat()},
    )
    if done:
        return "redrill"
    if due is not None and due > day and cid in surfaced_drills(conn, day, cid):
        return "redrill"
    return "review"


@dataclass
class _TodayLog:
    """What today's not-undone log rows say: limits used and re-drill membership."""

    new_by_deck: Counter[int] = field(default_factory=Counter)
    reviews_by_deck: Counter[int] = field(default_factory=Counter)
    redrill: dict[int, int] = field(default_factory=dict)  # card id -> id of its latest answer
    answer_ids: list[int] = field(default_factory=list)  # today's answers, in id order

    def answers_since(self, card_id: int) -> int:
        """How many answers (to any card) came after this card's latest answer today
        (``answer_ids`` is in id order)."""
        return len(self.answer_ids) - bisect_right(self.answer_ids, self.redrill[card_id])


def surfaced_drills(conn: Conn, day: date, card_id: int | None = None) -> dict[int, int]:
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
    rows = fetch(
        conn,
        "SELECT d.id, max(rl.id) FROM review_log rl "
        "CROSS JOIN card d INDEXED BY ix_card_parent_id ON d.parent_id = rl.card_id "
        "CROSS JOIN card_state ds ON ds.card_id = d.id "
        "WHERE rl.study_day = :day AND rl.undone = 0 AND rl.mode != 'redrill' "
        f"AND rl.quality < :pass AND d.retired = 0 AND ds.due IS NOT NULL AND ds.due > :day {where} "
        "GROUP BY d.id",
        {"day": day.isoformat(), "pass": sm2.PASS, "card": card_id},
    )
    return {int(a): int(b) for a, b in rows}


@dataclass
class _Scope:
    decks: list[Deck]
    chapter_ids: list[int] | None  # None: every chapter
    is_global: bool  # no deck filter: the global limits apply too
    chapters: dict[int, list[int]]  # deck id -> its chapters in scope, in deck order


def _not_buried(alias: str = "cs") -> str:
    return f"({alias}.buried_until IS NULL OR {alias}.buried_until <= :day)"


def _capped(which: str, cap: str, chapters: str) -> str:
    """A scalar subquery: how many studiable cards (not retired, suspended or buried) match
    ``which`` (new or due) in the chapters ``chapters`` selects, at most ``cap``.

    It is one range of ``ix_card_state_chapter`` (chapter, suspended, due, buried) per
    chapter, read from the index alone and stopped at ``cap``: ``card_state.chapter_id`` is
    NULL for a retired card, so no card row is read and the work is bounded by the cap,
    whatever the deck's size (through ``card``'s indexes, 63 ms for 75 chapters at 1M cards;
    now about 1.5 ms)."""
    return (
        "(SELECT count(*) FROM (SELECT 1 FROM card_state cs INDEXED BY ix_card_state_chapter "
        f"WHERE cs.chapter_id {chapters} AND cs.suspended = 0 AND {which} AND {_not_buried()} "
        f"LIMIT {cap}))"
    )


NEW, DUE = "cs.due IS NULL", "cs.due <= :day"


def _scope(
    conn: Conn, deck: str | None, chapter: str | None, *, chapters_read: bool = True
) -> _Scope:
    """The decks and chapters in scope; ``chapters_read=False`` (the counts, which read the
    chapters with their counts) leaves ``chapters`` empty when no chapter is chosen."""
    decks = Repo.decks(conn, deck)
    chapters: dict[int, list[int]] = {d.id: [] for d in decks}
    wanted = chapter.strip().upper() if chapter is not None else None
    if wanted is None and not chapters_read:
        return _Scope(decks, None, deck is None, chapters)
    for chapter_id, deck_id, code in fetch(
        conn,
        f"SELECT id, deck_id, upper(code) FROM chapter WHERE deck_id IN ({ids(list(chapters))}) "
        "ORDER BY position, id",
    ):
        if wanted is None or code == wanted:
            chapters[int(deck_id)].append(int(chapter_id))
    chapter_ids: list[int] | None = None
    if wanted is not None:
        chapter_ids = [c for found in chapters.values() for c in found]
        if not chapter_ids:
            raise SrsError(f"unknown chapter {chapter!r}")
        decks = [d for d in decks if chapters[d.id]]
    return _Scope(decks, chapter_ids, deck is None, chapters)


def scope_filter(conn: Conn, deck: str | None, chapter: str | None) -> str:
    """SQL terms (on ``card c``) that keep the cards of ``deck`` / ``chapter``: "" for every
    deck; SrsError for an unknown deck or chapter, as the queue says it."""
    if deck is None and chapter is None:
        return ""
    scope = _scope(conn, deck, chapter)
    if scope.chapter_ids is not None:
        return f" AND c.chapter_id IN ({ids(scope.chapter_ids)})"
    return f" AND c.deck_id IN ({ids([d.id for d in scope.decks])})"


def _today_log(conn: Conn, day: date) -> _TodayLog:
    log = _TodayLog()
    latest: dict[int, tuple[int, int]] = {}
    scheduled: set[int] = set()
    rows = fetch(
        conn,
        "SELECT rl.id, rl.card_id, rl.quality, rl.mode, rl.prev_due IS NULL, c.deck_id "
        "FROM review_log rl JOIN card c ON c.id = rl.card_id "
        "WHERE rl.study_day = :day AND rl.undone = 0 ORDER BY rl.id",
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
    for drill_id, since in surfaced_drills(conn, day).items():
        mine = latest.get(drill_id)
        if drill_id in scheduled:
            continue  # reviewed today on its own schedule: the ordinary rule applies
        if mine is None or mine[0] < since or mine[1] < sm2.REDRILL_BELOW:
            log.redrill[drill_id] = max(since, mine[0] if mine else since)
    return log


def redrill_ids(conn: Conn, day: date) -> frozenset[int]:
    """Today's re-drills by the queue's own rule (Home's "learn" count; Browse's ``is:learn``),
    before the scope, suspension and burial filters."""
    return frozenset(_today_log(conn, day).redrill)


def _remaining(
    settings: Settings, decks: list[Deck], log: _TodayLog
) -> tuple[dict[int, tuple[int, int]], tuple[int, int]]:
    """Per deck and global (new, reviews) still allowed today."""
    per_deck = {}
    for deck in decks:
        new_limit, review_limit = settings.limits_for(deck.key)
        per_deck[deck.id] = (
            max(0, new_limit - log.new_by_deck[deck.id]),
            max(0, review_limit - log.reviews_by_deck[deck.id]),
        )
    overall = (
        max(0, settings.new_per_day - sum(log.new_by_deck.values())),
        max(0, settings.reviews_per_day - sum(log.reviews_by_deck.values())),
    )
    return per_deck, overall


def _redrill_cards(
    conn: Conn, day: date, log: _TodayLog, scope: _Scope
) -> list[tuple[int, int, int]]:
    """(card id, deck id, chapter id) of today's re-drills, the longest-waiting first."""
    if not log.redrill:
        return []
    where = f"c.deck_id IN ({ids([d.id for d in scope.decks])})"
    if scope.chapter_ids is not None:
        where += f" AND c.chapter_id IN ({ids(scope.chapter_ids)})"
    rows = fetch(
        conn,
        "SELECT c.id, c.deck_id, c.chapter_id FROM card c "
        "JOIN card_state cs ON cs.card_id = c.id "
        f"WHERE c.id IN ({ids(list(log.redrill))}) AND c.retired = 0 "
        f"AND cs.suspended = 0 AND {_not_buried()} AND {where}",
        {"day": day.isoformat()},
    )
    return sorted(((int(a), int(b), int(c)) for a, b, c in rows), key=lambda r: log.redrill[r[0]])


@dataclass(frozen=True)
class _Limits:
    """What the day's limits still allow: per deck (new, reviews), and overall."""

    per_deck: dict[int, tuple[int, int]]
    overall: tuple[int, int]


def build(
    conn: Connection, settings: Settings, day: date, deck: str | None, chapter: str | None
) -> Queue:
    """Today's queue for ``deck`` / ``chapter`` (None: everything), and its counts."""
    scope = _scope(conn, deck, chapter)
    log = _today_log(conn, day)
    limits = _Limits(*_remaining(settings, scope.decks, log))
    review_ids = _gather_due(conn, settings, day, scope, limits)
    ready, waiting = _gather_redrills(conn, day, scope, log, set(review_ids))
    new_ids = _gather_new(conn, day, scope, limits)
    info = _entry_info(conn, review_ids + ready + waiting + new_ids)
    entries = []
    order = (("review", review_ids), ("redrill", ready), ("new", new_ids), ("redrill", waiting))
    for kind, card_ids in order:
        for cid in card_ids:
            key, prompt, deck_key, code, due = info[cid]
            entries.append(QueueEntry(cid, key, kind, deck_key, code, prompt, day_of(due)))
    kinds = Counter(e.kind for e in entries)
    title = " · ".join(x for x in (deck, chapter) if x) or "All decks"
    counts = Counts(deck, chapter, title, kinds["new"], kinds["redrill"], kinds["review"])
    return Queue(entries, counts)


def _gather_due(
    conn: Connection, settings: Settings, day: date, scope: _Scope, limits: _Limits
) -> list[int]:
    """Due reviews, most overdue first (ties in card-id order): each deck's share within its
    review limit, then the global cap. A deck with an exam date ahead takes its share by
    exam-day gain instead (``exam_date.prioritise``) and comes first under the global cap."""
    due_rows: list[tuple[int, str, int]] = []  # (0: exam deck | 1, order key, card id)
    for d in scope.decks:
        cap = limits.per_deck[d.id][1]
        if scope.is_global:
            cap = min(cap, limits.overall[1])
        if cap <= 0:
            continue
        weigh = False
        if d.key in settings.exam_dates:  # (exam_date and FSRS are imported only then)
            from labdeck.srs import exam_date

            exam = exam_date.exam_day(settings, d.key)
            weigh = exam is not None and exam >= day
        probe = max(cap, PRIORITY_PROBE) if weigh else cap
        rows = _due_cards(conn, day, scope.chapters[d.id], probe)
        if weigh:
            ranked = exam_date.prioritise(conn, settings, d.key, day, [cid for _, cid in rows])
            due_rows.extend((0, f"{rank:09d}", cid) for rank, cid in enumerate(ranked[:cap]))
        else:
            due_rows.extend((1, due, cid) for due, cid in rows)
    due_rows.sort()
    if scope.is_global:
        due_rows = due_rows[: limits.overall[1]]
    return [cid for _, _, cid in due_rows]


def _due_cards(
    conn: Connection, day: date, chapter_ids: list[int], n: int
) -> list[tuple[str, int]]:
    """(due, card id) of the first ``n`` studiable due cards of these chapters, most overdue
    first, ties in card-id order.

    Each chapter's due cards are one range of ``ix_card_state_chapter`` (chapter, suspended,
    due, card id, buried), in exactly that order and read from the index alone (a retired
    card has no ``chapter_id``). SQLite merges the ranges (``UNION ALL`` … ``ORDER BY``: a
    merge of sorted arms, no sort) and stops at ``n``, so the work is bounded by ``n`` plus
    the number of chapters, whatever the deck's size or its share of all due cards (walking
    ``ix_card_state_queue`` and each card's ``card`` row took 24 ms for a third deck's 200 at
    1M cards; the merge 0.15 ms). More than ``MERGE_ARMS`` chapters: merged again here.
    """
    if n <= 0 or not chapter_ids:
        return []
    found = [
        fetch(
            conn, due_sql(chapter_ids[start : start + MERGE_ARMS]), {"day": day.isoformat(), "n": n}
        )
        for start in range(0, len(chapter_ids), MERGE_ARMS)
    ]
    merged = found[0] if len(found) == 1 else list(islice(heapq.merge(*found), n))
    return [(str(due), int(cid)) for due, cid in merged]


def due_sql(chapter_ids: list[int]) -> str:
    """The statement ``_due_cards`` runs for these chapters (``:day``, ``:n``): one arm a
    chapter, merged in (due, card id) order."""
    arms = " UNION ALL ".join(
        "SELECT cs.due, cs.card_id FROM card_state cs INDEXED BY ix_card_state_chapter "
        f"WHERE cs.chapter_id = {int(ch)} AND cs.suspended = 0 AND cs.due <= :day "
        f"AND {_not_buried()}"
        for ch in chapter_ids
    )
    return f"{arms} ORDER BY 1, 2 LIMIT :n"


def _gather_redrills(
    conn: Connection, day: date, scope: _Scope, log: _TodayLog, taken: set[int]
) -> tuple[list[int], list[int]]:
    """(ready, waiting) re-drills not already due as reviews. A re-drill's turn comes once a
    few other cards have been answered since it was failed; until then it waits behind the
    new cards (so it never repeats at once)."""
    redrill_ids = [r[0] for r in _redrill_cards(conn, day, log, scope) if r[0] not in taken]
    ready = [cid for cid in redrill_ids if log.answers_since(cid) >= REDRILL_GAP]
    is_ready = set(ready)
    return ready, [cid for cid in redrill_ids if cid not in is_ready]


def _gather_new(conn: Connection, day: date, scope: _Scope, limits: _Limits) -> list[int]:
    """New cards: deck order, then chapter and content order, within the limits."""
    new_ids: list[int] = []
    budget = limits.overall[0] if scope.is_global else None
    for d in scope.decks:
        limit = limits.per_deck[d.id][0]
        if budget is not None:
            limit = min(limit, budget)
        if limit <= 0:
            continue
        found = _new_cards(conn, day, d.id, scope.chapters[d.id], limit)
        new_ids.extend(found)
        if budget is not None:
            budget -= len(found)
    return new_ids


def _new_cards(
    conn: Connection, day: date, deck_id: int, chapter_ids: list[int], limit: int
) -> list[int]:
    """Up to ``limit`` new cards of a deck in chapter / content order (``chapter_ids``: the
    deck's chapters in scope, in deck order).

    Walks the chapters in order and each chapter's cards through ``ix_card_deck_order``, so
    only the cards before the ones returned are visited.
    """
    found: list[int] = []
    for chapter_id in chapter_ids:
        found.extend(
            int(cid)
            for (cid,) in fetch(
                conn,
                "SELECT c.id FROM card c JOIN card_state cs ON cs.card_id = c.id "
                "WHERE c.deck_id = :deck AND c.chapter_id = :chapter AND c.retired = 0 "
                f"AND cs.due IS NULL AND cs.suspended = 0 AND {_not_buried()} "
                "ORDER BY c.position, c.id LIMIT :n",
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


class _EntryInfo(NamedTuple):
    """What a queue entry shows of its card."""

    key: str
    prompt: str
    deck_key: str
    code: str
    due: str | None


def _entry_info(conn: Connection, card_ids: list[int]) -> dict[int, _EntryInfo]:
    if not card_ids:
        return {}
    rows = fetch(
        conn,
        "SELECT c.id, c.key, c.prompt, d.key, ch.code, cs.due FROM card c "
        "JOIN deck d ON d.id = c.deck_id JOIN chapter ch ON ch.id = c.chapter_id "
        f"JOIN card_state cs ON cs.card_id = c.id WHERE c.id IN ({ids(card_ids)})",
    )
    return {int(r[0]): _EntryInfo(*r[1:]) for r in rows}


def overview(
    conn: Conn, settings: Settings, day: date, deck: str | None, *, chapters: bool = True
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
    scope = _scope(conn, deck, None, chapters_read=False)
    log = _today_log(conn, day)
    per_deck, overall = _remaining(settings, scope.decks, log)
    redrills = Counter(
        (deck_id, chapter_id) for _, deck_id, chapter_id in _redrill_cards(conn, day, log, scope)
    )
    rows: list[Counts] = []
    total_new = total_learning = total_due = 0
    for d in scope.decks:
        new_left, reviews_left = per_deck[d.id]
        if not chapters:
            new, due = _deck_counts(conn, day, d.id, new_left, reviews_left)
            learning = sum(n for (deck_id, _), n in redrills.items() if deck_id == d.id)
            deck_row = Counts(d.key, None, d.name, new, learning, due)
            rows.append(deck_row)
            total_new += deck_row.new
            total_learning += deck_row.learning
            total_due += deck_row.due
            continue
        chapter_rows = [
            Counts(d.key, code, title, new, redrills.get((d.id, chapter_id), 0), due)
            for chapter_id, code, title, new, due in _chapter_counts(
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
    conn: Conn, day: date, deck_id: int, new_cap: int, due_cap: int
) -> list[tuple[int, str, str, int, int]]:
    """(chapter id, code, title, new, due) of a deck's chapters in order, each count at
    most its cap: what studying the chapter would give under the deck's limits."""
    rows = fetch(
        conn,
        f"SELECT ch.id, ch.code, ch.title, {_capped(NEW, ':new', '= ch.id')}, "
        f"{_capped(DUE, ':due', '= ch.id')} FROM chapter ch "
        "WHERE ch.deck_id = :deck ORDER BY ch.position, ch.id",
        {"day": day.isoformat(), "deck": deck_id, "new": new_cap, "due": due_cap},
    )
    return [(int(i), code, title, int(n), int(u)) for i, code, title, n, u in rows]


def _deck_counts(
    conn: Conn, day: date, deck_id: int, new_cap: int, due_cap: int
) -> tuple[int, int]:
    """(new, due) of a whole deck, each at most its cap, without its chapters' rows."""
    chapters = "IN (SELECT id FROM chapter WHERE deck_id = :deck)"
    ((new, due),) = fetch(
        conn,
        f"SELECT {_capped(NEW, ':new', chapters)}, {_capped(DUE, ':due', chapters)}",
        {"day": day.isoformat(), "deck": deck_id, "new": new_cap, "due": due_cap},
    )
    return int(new), int(due)
