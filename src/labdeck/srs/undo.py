"""The undo operation log: answers and card operations, replayed newest first.

Answers are their own log (``review_log``: each row keeps the state before it, and undo marks
it ``undone``). Card operations leave no review-log row, so they are kept in the ``meta`` table
under ``undo.log`` (no migration): a JSON list of the last ``KEEP`` operations. One operation
is one step for ``u`` however many cards it touched (a bulk suspend, unsuspend or reset of the
rows marked in Browse): it lists each card with what it was before — the ``card_state`` fields
it changed (suspend, unsuspend, bury, unbury, reset), or the card's text and override row
(edit, revert; ``labdeck.store.overrides``) — and ``after``, the highest ``review_log`` id when
it happened, which orders it against the answers. ``undo`` reverses whichever is newest: the
last operation when no not-undone answer came after it, else the last answer. Exam apply's
answers are review-log rows and are undone as answers; undoing one also marks its exam question
(and the exam) not applied, so the exam can be applied again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck.srs import sm2
from labdeck.srs.outcomes import UndoOutcome
from labdeck.store import overrides

KEY = "undo.log"
KEEP = 50  # card operations remembered; answers are all in review_log
KEEP_CARDS = 200_000  # cards over all remembered operations (older operations are forgotten)
FIELDS = {"suspend": "suspended", "unsuspend": "suspended", "bury": "buried_until"}
FIELDS["unbury"] = "buried_until"
# what "reset to new" changes (review_log, reviews and suspension stay)
RESET_FIELDS = ("repetitions", "ease", "interval", "due", "lapses", "leech", "buried_until")
STATE_FIELDS = {"suspended", "buried_until", *RESET_FIELDS}
CONTENT = "content"  # a change's ``before`` key for a card's text (edit, revert)


@dataclass(frozen=True)
class Change:
    """One card in an operation and what it was before: ``card_state`` field -> value, or
    ``{"content": overrides.snapshot(...)}`` for an edit or a revert."""

    card_id: int
    key: str
    before: dict[str, Any]


@dataclass(frozen=True)
class CardOp:
    """One recorded card operation (on one card or many): undone as one step."""

    op: str  # suspend | unsuspend | bury | unbury | reset | edit | revert
    changes: tuple[Change, ...]
    day: str  # the study day it happened
    after: int  # the highest review_log id at the time (0: none yet)

    @property
    def card_id(self) -> int:
        return self.changes[0].card_id

    @property
    def key(self) -> str:
        return self.changes[0].key

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "day": self.day,
            "after": self.after,
            "cards": [{"card": c.card_id, "key": c.key, "before": c.before} for c in self.changes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardOp:
        if "cards" in data:
            changes = tuple(
                Change(int(c["card"]), str(c["key"]), dict(c["before"])) for c in data["cards"]
            )
        else:  # an entry written before operations could hold many cards: one field of one
            field = str(data["field"])
            changes = (Change(int(data["card"]), str(data["key"]), {field: data["before"]}),)
        for change in changes:
            if not set(change.before) <= STATE_FIELDS | {CONTENT}:
                raise ValueError(f"unknown field in {change.before}")
        if not changes:
            raise ValueError("an operation on no card")
        return cls(str(data["op"]), changes, str(data["day"]), int(data["after"]))


def _load(conn: Connection) -> list[CardOp]:
    raw = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": KEY}).scalar()
    if not raw:
        return []
    try:
        return [CardOp.from_json(item) for item in json.loads(raw)]
    except (ValueError, TypeError, KeyError):
        return []  # a damaged log is forgotten, never fatal: answers still undo


def _save(conn: Connection, ops: list[CardOp]) -> None:
    kept: list[CardOp] = []
    cards = 0
    for op in reversed(ops[-KEEP:]):  # newest first, until the card budget is spent
        cards += len(op.changes)
        if kept and cards > KEEP_CARDS:
            break
        kept.append(op)
    value = json.dumps([op.to_json() for op in reversed(kept)])
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES (:k, :v) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"k": KEY, "v": value},
    )


def _last_log_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM review_log")).scalar_one())


def record_changes(conn: Connection, op: str, changes: Sequence[Change], day: date) -> None:
    """Remember ``op`` over ``changes`` as one undo step (in the caller's transaction); an
    operation that changed nothing is not remembered, so ``u`` never seems to do nothing."""
    if not changes:
        return
    ops = _load(conn)
    ops.append(CardOp(op, tuple(changes), day.isoformat(), _last_log_id(conn)))
    _save(conn, ops)


def record(
    conn: Connection, op: str, card_id: int, key: str, before: Any, after: Any, day: date
) -> None:
    """Remember ``op`` on one card's ``FIELDS[op]`` (in the caller's transaction); a change to
    nothing is not remembered."""
    if before == after:
        return
    record_changes(conn, op, [Change(card_id, key, {FIELDS[op]: before})], day)


class _AnswerRow(NamedTuple):
    """The newest not-undone review-log row, with the card state it replaced."""

    log_id: int
    card_id: int
    key: str
    quality: int
    mode: str
    study_day: str | None
    prev_repetitions: int
    prev_ease: int
    prev_interval: int
    prev_due: str | None
    prev_lapses: int
    prev_leech: int  # 0 or 1, as stored
    prev_suspended: int


def _latest_answer(conn: Connection) -> _AnswerRow | None:
    row = conn.execute(
        text(
            "SELECT rl.id, rl.card_id, c.key, rl.quality, rl.mode, rl.study_day, "
            "rl.prev_repetitions, rl.prev_ease, rl.prev_interval, rl.prev_due, "
            "rl.prev_lapses, rl.prev_leech, rl.prev_suspended "
            "FROM review_log rl JOIN card c ON c.id = rl.card_id "
            "WHERE rl.undone = 0 ORDER BY rl.id DESC LIMIT 1"
        )
    ).first()
    return None if row is None else _AnswerRow(*row)


def undo_latest(conn: Connection, today: date, now: datetime | None = None) -> UndoOutcome | None:
    """Reverse the newest answer or card operation (in the caller's write transaction);
    ``now`` stamps a card whose edit is undone."""
    ops = _load(conn)
    row = _latest_answer(conn)
    if ops and (row is None or ops[-1].after >= int(row[0])):
        return _undo_op(conn, ops, now or datetime.now().astimezone())
    if row is None:
        return None
    return _undo_answer(conn, row, today)


def _undo_op(conn: Connection, ops: list[CardOp], now: datetime) -> UndoOutcome:
    op = ops.pop()
    for change in op.changes:
        before = dict(change.before)
        content = before.pop(CONTENT, None)
        if content is not None:
            overrides.restore(conn, change.card_id, content, now)
        if before:
            names = sorted(before)  # checked against STATE_FIELDS when the log was read
            sets = ", ".join(f"{name} = :{name}" for name in names)
            conn.execute(
                text(f"UPDATE card_state SET {sets} WHERE card_id = :c"),
                {**before, "c": change.card_id},
            )
    _save(conn, ops)
    state = conn.execute(
        text(
            "SELECT repetitions, ease, interval, due, lapses, leech, suspended "
            "FROM card_state WHERE card_id = :c"
        ),
        {"c": op.card_id},
    ).first()
    reps, ease, interval, due, lapses, leech, suspended = state or (0, 2500, 0, None, 0, 0, 0)
    return UndoOutcome(
        log_id=0,
        card_id=op.card_id,
        key=op.key,
        quality=None,
        mode=None,
        day=date.fromisoformat(op.day),
        state=sm2.State.from_permille(reps, ease, interval),
        due=_day(due),
        lapses=int(lapses),
        leech=bool(leech),
        suspended=bool(suspended),
        op=op.op,
        cards=len(op.changes),
    )


def _unapply_exam_question(conn: Connection, card_id: int) -> None:
    """An exam's review of this card was undone: its question (the newest applied one of the
    card: undo runs newest first) and its exam are no longer applied, so the exam can be
    applied again and that question records its review anew."""
    row = conn.execute(
        text(
            "SELECT id, exam_id FROM exam_question WHERE card_id = :c AND (applied = 1 OR "
            "coalesce(json_extract(feedback, '$.applied'), 0)) ORDER BY id DESC LIMIT 1"
        ),
        {"c": card_id},
    ).first()
    if row is None:
        return
    conn.execute(
        text(
            "UPDATE exam_question SET applied = 0, feedback = CASE WHEN feedback IS NULL "
            "THEN NULL ELSE json_remove(feedback, '$.applied') END WHERE id = :q"
        ),
        {"q": row[0]},
    )
    conn.execute(text("UPDATE exam SET applied = 0 WHERE id = :e"), {"e": row[1]})


def _undo_answer(conn: Connection, row: _AnswerRow, today: date) -> UndoOutcome:
    log_id, cid, key, quality, mode, day = row[:6]
    reps, ease, interval, due, lapses, leech, suspended = row[6:]
    conn.execute(
        text(
            "UPDATE card_state SET repetitions = :reps, ease = :ease, "
            "interval = :interval, due = :due, lapses = :lapses, leech = :leech, "
            "suspended = :suspended, reviews = max(reviews - 1, 0), last_review = "
            "(SELECT max(ts) FROM review_log WHERE card_id = :c AND undone = 0 "
            "AND id != :log) WHERE card_id = :c"
        ),
        {
            "reps": reps,
            "ease": ease,
            "interval": interval,
            "due": due,
            "lapses": lapses,
            "leech": leech,
            "suspended": suspended,
            "c": cid,
            "log": log_id,
        },
    )
    conn.execute(text("UPDATE review_log SET undone = 1 WHERE id = :log"), {"log": log_id})
    if mode == "exam":
        _unapply_exam_question(conn, int(cid))
    return UndoOutcome(
        log_id=int(log_id),
        card_id=int(cid),
        key=key,
        quality=int(quality),
        mode=mode,
        day=_day(day) or today,
        state=sm2.State.from_permille(reps, ease, interval),
        due=_day(due),
        lapses=int(lapses),
        leech=bool(leech),
        suspended=bool(suspended),
    )


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
