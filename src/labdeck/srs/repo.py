"""The scheduler's SQL: connections, lookups, a card's state, and writing a Transition.

Every read and write the scheduler, the queue, undo and the stats make goes through one
``Repo`` (one store): ``read()`` is one consistent snapshot, ``write()`` one committed
``BEGIN IMMEDIATE`` transaction. ``write_answer`` writes ``card_state`` and the review-log row
from a ``step.Transition`` (the row's before/after columns are the transition's own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from labdeck.srs import sm2
from labdeck.srs.outcomes import SrsError
from labdeck.srs.step import Snapshot, Transition
from labdeck.store.errors import store_error
from labdeck.store.sql import fetch as fetch

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.sql.elements import TextClause

    from labdeck.store.db import Store
    from labdeck.store.queries import CardInfo
    from labdeck.store.sql import Conn


def text(sql: str) -> TextClause:
    """SQLAlchemy's ``text``, imported on first use: the reads the counts make (``fetch``,
    ``Repo.decks``) run on a DB-API connection too, before SQLAlchemy is imported."""
    from sqlalchemy import text as sql_text

    return sql_text(sql)


@lru_cache(maxsize=1)
def statements() -> SimpleNamespace:
    """Insert/update statements built from the models, on first write: read-only commands
    (`labdeck due`, the home screen) never import sqlmodel and pydantic."""
    from sqlalchemy import bindparam

    from labdeck.store.models import CardState, ReviewLog

    cs = CardState.__table__  # type: ignore[attr-defined]
    update_state = cs.update().where(cs.c.card_id == bindparam("cid"))
    return SimpleNamespace(
        insert_state=cs.insert(),
        insert_log=ReviewLog.__table__.insert(),  # type: ignore[attr-defined]
        update_state=update_state,
        answer_state=update_state.values(reviews=cs.c.reviews + 1),
    )


@dataclass(frozen=True)
class Deck:
    id: int
    key: str
    name: str


def day_of(value: Any) -> date | None:
    """A study day from the store's ISO text (or a date); None stays None."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def ids(values: Sequence[int]) -> str:
    """An SQL ``IN`` list of integers (``NULL`` when empty)."""
    return ",".join(str(int(v)) for v in values) or "NULL"


def _json(value: str | bytes | Sequence[str] | None) -> list[str]:
    """A JSON list-of-strings column (key points, demos, tags) as a list."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        decoded: list[str] = json.loads(value)
        return decoded
    return list(value)


_STATE = (
    "SELECT c.key, cs.repetitions, cs.ease, cs.interval, cs.due, cs.lapses, cs.leech, "
    "cs.suspended FROM card c JOIN card_state cs ON cs.card_id = c.id WHERE c.id = :c"
)


class Repo:
    """The scheduler's reads and writes over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ connections

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent snapshot for a group of reads."""
        from sqlalchemy.exc import DBAPIError

        try:
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN")
                try:
                    yield conn
                finally:
                    conn.rollback()
        except DBAPIError as exc:
            raise self.busy(exc) from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One committed write transaction, holding the write lock from its start."""
        from sqlalchemy.exc import DBAPIError

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
            raise self.busy(exc) from exc

    def busy(self, exc: DBAPIError) -> Exception:
        """The store's one-line error for ``exc`` (busy, damaged, read-only, disk full…)."""
        return store_error(exc, self.store.path) or exc

    # ------------------------------------------------------------ lookups

    @staticmethod
    def resolve(conn: Connection, card: int | str) -> int:
        """A card's id from its id or key (SrsError when there is no such card)."""
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

    @staticmethod
    def decks(conn: Conn, deck: str | None) -> list[Deck]:
        """Every deck in order, or the one ``deck`` names (by key, else by name)."""
        rows = [
            Deck(int(r[0]), r[1], r[2])
            for r in fetch(conn, "SELECT id, key, name FROM deck ORDER BY position, key")
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

    @staticmethod
    def snapshot(conn: Connection, cid: int, *, create: bool = False) -> tuple[str, Snapshot]:
        """(key, scheduling state) of a card. A card without a state row is new: with
        ``create`` (in a write) its row is made, else the new state is returned."""
        row = conn.execute(text(_STATE), {"c": cid}).first()
        if row is None:
            if not create:
                key = conn.execute(text("SELECT key FROM card WHERE id = :c"), {"c": cid})
                return str(key.scalar_one()), Snapshot()
            conn.execute(statements().insert_state, {"card_id": cid})
            row = conn.execute(text(_STATE), {"c": cid}).one()
        key, reps, ease, interval, due, lapses, leech, suspended = row
        state = sm2.State.from_permille(reps, ease, interval)
        return key, Snapshot(state, day_of(due), int(lapses), bool(leech), bool(suspended))

    @staticmethod
    def card_info(conn: Connection, cid: int) -> CardInfo:
        """A card's content (prompt, answer, key points, notes, demos) for the review screen."""
        from labdeck.store.queries import CardInfo

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

    # ------------------------------------------------------------ writes

    @staticmethod
    def write_answer(
        conn: Connection, cid: int, t: Transition, moment: datetime, extras: dict[str, Any]
    ) -> int:
        """Apply ``t`` to the card and append its review-log row; returns the row's id.
        ``extras`` are the answer's own columns (typed answer, score, grader's confidence…)."""
        after = t.after
        conn.execute(
            statements().answer_state,
            {
                "cid": cid,
                "repetitions": after.state.repetitions,
                "ease": after.state.ease_permille,
                "interval": after.state.interval,
                "due": after.due,
                "lapses": after.lapses,
                "leech": after.leech,
                "suspended": after.suspended,
                "last_review": moment,
            },
        )
        from sqlalchemy import null

        checklist = extras.get("checklist")
        row = {
            **extras,
            "checklist": checklist if checklist is not None else null(),  # SQL NULL
            "card_id": cid,
            "ts": moment,
            "undone": False,
            **t.log_columns(),
        }
        result = conn.execute(statements().insert_log, row)
        key = result.inserted_primary_key
        assert key is not None  # an INSERT always reports its new id
        return int(key[0])

    @staticmethod
    def set_field(conn: Connection, cid: int, field: str, value: Any) -> tuple[str, Any]:
        """Set one ``card_state`` field (suspended, buried_until); returns (key, value before)."""
        Repo.snapshot(conn, cid, create=True)
        key, before = conn.execute(
            text(
                f"SELECT c.key, cs.{field} FROM card c JOIN card_state cs "
                "ON cs.card_id = c.id WHERE c.id = :c"
            ),
            {"c": cid},
        ).one()
        conn.execute(statements().update_state, {"cid": cid, field: value})
        return key, before

    @staticmethod
    def set_many(conn: Connection, card_ids: Sequence[int], values: dict[str, Any]) -> list[Any]:
        """Set ``card_state`` fields on many cards (a state row is made for a card without
        one); returns an ``undo.Change`` with the values before for each card that changed."""
        from labdeck.srs.undo import STATE_FIELDS, Change

        names = sorted(values)
        assert set(names) <= STATE_FIELDS, names  # field names go into the SQL text
        wanted = sorted({int(c) for c in card_ids})
        changes: list[Any] = []
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            conn.execute(
                text(
                    "INSERT INTO card_state (card_id, repetitions, ease, interval, lapses, "
                    "reviews, leech, suspended) SELECT id, 0, 2500, 0, 0, 0, 0, 0 FROM card "
                    f"WHERE id IN ({ids(chunk)}) AND id NOT IN (SELECT card_id FROM card_state)"
                )
            )
            rows = conn.execute(
                text(
                    f"SELECT c.id, c.key, {', '.join(f'cs.{n}' for n in names)} FROM card c "
                    f"JOIN card_state cs ON cs.card_id = c.id WHERE c.id IN ({ids(chunk)})"
                )
            ).all()
            for row in rows:
                before = dict(zip(names, row[2:], strict=True))
                if "due" in before or "buried_until" in before:
                    for day_field in ("due", "buried_until"):
                        if before.get(day_field) is not None:
                            before[day_field] = str(before[day_field])[:10]
                for flag in ("suspended", "leech"):
                    if flag in before:
                        before[flag] = bool(before[flag])
                if all(before[n] == values[n] for n in names):
                    continue
                changes.append(Change(int(row[0]), str(row[1]), before))
        if changes:
            sets = ", ".join(f"{n} = :{n}" for n in names)
            conn.execute(
                text(f"UPDATE card_state SET {sets} WHERE card_id = :card"),
                [{**values, "card": c.card_id} for c in changes],
            )
        return changes

    # ------------------------------------------------------------ reads for stats

    @staticmethod
    def due_by_day(conn: Connection, end: date, scope: str = "") -> list[tuple[date, int]]:
        """(due day, cards) of the studiable cards due before ``end`` (overdue ones too);
        ``scope``: SQL terms on ``card c`` that narrow it (``queue.scope_filter``)."""
        rows = conn.execute(
            text(
                "SELECT cs.due, count(*) FROM card_state cs JOIN card c ON c.id = cs.card_id "
                f"WHERE cs.suspended = 0 AND cs.due < :end AND c.retired = 0{scope} "
                "GROUP BY cs.due"
            ),
            {"end": end.isoformat()},
        )
        return [(day_of(due), int(n)) for due, n in rows]  # type: ignore[misc]
