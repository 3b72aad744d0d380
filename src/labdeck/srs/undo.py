"""The undo operation log: answers and card operations, replayed newest first.

Answers are their own log (``review_log``: each row keeps the state before it, and undo marks
it ``undone``). Suspend, unsuspend, bury and unbury leave no review-log row, so they are kept
in the ``meta`` table under ``undo.log`` (no migration): a JSON list of the last
``KEEP`` operations, each with the field it changed, the value before, and ``after`` — the
highest ``review_log`` id when it happened, which orders it against the answers. ``undo``
reverses whichever is newest: the last operation when no not-undone answer came after it,
else the last answer. Exam apply's answers are review-log rows and are undone as answers.
(Card edits have no feature yet, so there is nothing of theirs to record.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck.srs import sm2
from labdeck.srs.outcomes import UndoOutcome

KEY = "undo.log"
KEEP = 50  # card operations remembered; answers are all in review_log
FIELDS = {"suspend": "suspended", "unsuspend": "suspended", "bury": "buried_until"}
FIELDS["unbury"] = "buried_until"


@dataclass(frozen=True)
class CardOp:
    """One recorded card operation: ``field`` of ``card_id`` was ``before`` until it."""

    op: str
    card_id: int
    key: str
    field: str
    before: Any  # a JSON value: bool for suspended, an ISO day or None for buried_until
    day: str  # the study day it happened
    after: int  # the highest review_log id at the time (0: none yet)

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "card": self.card_id,
            "key": self.key,
            "field": self.field,
            "before": self.before,
            "day": self.day,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardOp:
        return cls(
            str(data["op"]),
            int(data["card"]),
            str(data["key"]),
            str(data["field"]),
            data["before"],
            str(data["day"]),
            int(data["after"]),
        )


def _load(conn: Connection) -> list[CardOp]:
    raw = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": KEY}).scalar()
    if not raw:
        return []
    try:
        return [CardOp.from_json(item) for item in json.loads(raw)]
    except (ValueError, TypeError, KeyError):
        return []  # a damaged log is forgotten, never fatal: answers still undo


def _save(conn: Connection, ops: list[CardOp]) -> None:
    value = json.dumps([op.to_json() for op in ops[-KEEP:]])
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES (:k, :v) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"k": KEY, "v": value},
    )


def _last_log_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM review_log")).scalar_one())


def record(
    conn: Connection, op: str, card_id: int, key: str, before: Any, after: Any, day: date
) -> None:
    """Remember ``op`` on a card (in the caller's transaction); a change to nothing is not
    remembered, so ``u`` never seems to do nothing."""
    if before == after:
        return
    ops = _load(conn)
    ops.append(CardOp(op, card_id, key, FIELDS[op], before, day.isoformat(), _last_log_id(conn)))
    _save(conn, ops)


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


def undo_latest(conn: Connection, today: date) -> UndoOutcome | None:
    """Reverse the newest answer or card operation (in the caller's write transaction)."""
    ops = _load(conn)
    row = _latest_answer(conn)
    if ops and (row is None or ops[-1].after >= int(row[0])):
        return _undo_op(conn, ops)
    if row is None:
        return None
    return _undo_answer(conn, row, today)


def _undo_op(conn: Connection, ops: list[CardOp]) -> UndoOutcome:
    op = ops.pop()
    conn.execute(
        text(f"UPDATE card_state SET {op.field} = :v WHERE card_id = :c"),
        {"v": op.before, "c": op.card_id},
    )
    _save(conn, ops)
    reps, ease, interval, due, lapses, leech, suspended = conn.execute(
        text(
            "SELECT repetitions, ease, interval, due, lapses, leech, suspended "
            "FROM card_state WHERE card_id = :c"
        ),
        {"c": op.card_id},
    ).one()
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
    )


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
