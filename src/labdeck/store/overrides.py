"""The learner's in-place edits of a card (prompt, answer, key points).

An edit is written into the card's own columns, so every reader (the review queue, exams,
grading, Browse, Anki/CSV export) sees the edited text with nothing to apply. The imported text
of each edited field is kept in ``card_override.original``; ``route_import`` — called by the one
place imports write a card (``labdeck.ingest.load._upsert_card``) — sends a re-import's new text
for an edited field there instead of into the card, so the edit survives re-import. Reverting
copies the originals back and drops the row.

``snapshot`` / ``restore`` capture and put back a card's editable text and its override row as
one JSON value: the undo log (``labdeck.srs.undo``) keeps it to undo an edit or a revert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from labdeck.textfmt import clean_text

if TYPE_CHECKING:
    from sqlmodel import Session

    from labdeck.store.models import Card

EDITABLE = ("prompt", "answer", "key_points")
LABELS = {"prompt": "prompt", "answer": "answer", "key_points": "key points"}
MAX_FIELD = 20_000  # characters in one edited field (a card, not a document)


class EditError(ValueError):
    """An edit that cannot be stored (names the field)."""


@dataclass(frozen=True)
class Override:
    """A card's edit as stored: the edited fields' imported values, and when."""

    original: dict[str, Any]
    created_at: str
    updated_at: str

    @property
    def fields(self) -> list[str]:
        return [f for f in EDITABLE if f in self.original]


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime text


def _points(value: Any) -> list[str]:
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str | bytes) else value)


def clean_edit(prompt: str, answer: str | None, key_points: list[str] | str) -> dict[str, Any]:
    """The edit as stored: control characters stripped, an empty answer is "no reference",
    key points one per line (blank lines dropped). EditError names a bad field."""
    if isinstance(key_points, str):
        key_points = key_points.splitlines()
    values: dict[str, Any] = {
        "prompt": clean_text(prompt).strip(),
        "answer": clean_text(answer or "").strip() or None,
        "key_points": [p for p in (clean_text(k).strip() for k in key_points) if p],
    }
    if not values["prompt"]:
        raise EditError("prompt: a card needs a prompt")
    for name in EDITABLE:
        size = len(json.dumps(values[name], ensure_ascii=False))
        if size > MAX_FIELD:
            raise EditError(f"{LABELS[name]}: too long ({size} characters, at most {MAX_FIELD})")
    return values


def current(conn: Connection, card_id: int) -> dict[str, Any]:
    """The card's editable fields as they are now (edited or not)."""
    row = conn.execute(
        text("SELECT prompt, answer, key_points FROM card WHERE id = :c"), {"c": card_id}
    ).first()
    if row is None:
        raise EditError(f"no card with id {card_id}")
    return {"prompt": row[0], "answer": row[1], "key_points": _points(row[2])}


def read(conn: Connection, card_id: int) -> Override | None:
    row = conn.execute(
        text("SELECT original, created_at, updated_at FROM card_override WHERE card_id = :c"),
        {"c": card_id},
    ).first()
    if row is None:
        return None
    raw = row[0]
    original = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
    return Override(original, str(row[1]), str(row[2]))


def snapshot(conn: Connection, card_id: int) -> dict[str, Any]:
    """The card's editable text and its override row, as one JSON value (for undo)."""
    found = read(conn, card_id)
    return {
        "fields": current(conn, card_id),
        "override": None
        if found is None
        else {"original": found.original, "created_at": found.created_at},
    }


def _write(
    conn: Connection,
    card_id: int,
    fields: dict[str, Any],
    override: dict[str, Any] | None,
    stamp: str,
) -> None:
    conn.execute(
        text(
            "UPDATE card SET prompt = :p, answer = :a, key_points = :k, updated_at = :t "
            "WHERE id = :c"
        ),
        {
            "p": fields["prompt"],
            "a": fields["answer"],
            "k": json.dumps(fields["key_points"]),
            "t": stamp,
            "c": card_id,
        },
    )
    if override is None:
        conn.execute(text("DELETE FROM card_override WHERE card_id = :c"), {"c": card_id})
        return
    conn.execute(
        text(
            "INSERT INTO card_override (card_id, original, created_at, updated_at) "
            "VALUES (:c, :o, :cr, :t) ON CONFLICT (card_id) DO UPDATE SET "
            "original = excluded.original, updated_at = excluded.updated_at"
        ),
        {
            "c": card_id,
            "o": json.dumps(override["original"]),
            "cr": override.get("created_at") or stamp,
            "t": stamp,
        },
    )


def restore(conn: Connection, card_id: int, snap: dict[str, Any], now: datetime) -> None:
    """Put back what ``snapshot`` took (in the caller's transaction)."""
    _write(conn, card_id, snap["fields"], snap["override"], _stamp(now))


def edit(
    conn: Connection, card_id: int, values: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Store ``values`` (from ``clean_edit``) as the card's text; returns the snapshot before,
    or None when nothing changed. A field edited back to its imported text is no longer
    overridden; a card with no overridden field left has no override row."""
    before = snapshot(conn, card_id)
    fields = before["fields"]
    if all(values[f] == fields[f] for f in EDITABLE):
        return None
    found = before["override"]
    original = dict(found["original"]) if found else {}
    for name in EDITABLE:
        imported = original.get(name, fields[name])
        if values[name] == imported:
            original.pop(name, None)
        else:
            original[name] = imported
    override = None
    if original:
        override = {"original": original, "created_at": found["created_at"] if found else None}
    _write(conn, card_id, values, override, _stamp(now))
    return before


def revert(conn: Connection, card_id: int, now: datetime) -> dict[str, Any] | None:
    """Put the imported text back and drop the override; the snapshot before, or None when the
    card was not edited."""
    before = snapshot(conn, card_id)
    if before["override"] is None:
        return None
    fields = {**before["fields"], **before["override"]["original"]}
    _write(conn, card_id, fields, None, _stamp(now))
    return before


def route_import(
    session: Session, card: Card, values: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """For an import about to rewrite ``card``: the values to write into the card (the edited
    fields left out) and whether the imported text of an edited field changed (it is stored
    as the new original, so the learner's edit stays in force and "revert" gives the new text).
    """
    from labdeck.store.models import CardOverride

    found = session.get(CardOverride, card.id)
    if found is None:
        return values, False
    original = dict(found.original)
    changed = False
    kept = dict(values)
    for name in list(original):
        if name in kept:
            imported = kept.pop(name)
            if original[name] != imported:
                original[name] = imported
                changed = True
    if changed:  # the edit's own time (``updated_at``) stays: the learner made it, not this
        found.original = original
    return kept, changed
