"""Export cards to an Anki package (.apkg) with the official ``anki`` package.

Why ``anki`` and not ``genanki``: the schedule and the review history have to continue in
Anki, and ``anki`` is Anki's own Rust backend — it builds a real collection (cards, decks,
revlog) and writes the package with Anki's exporter, so the file is exactly what Anki expects.

* Essays become notes of the "labdeck Basic" type (Front, Back, Key points, Notes); choice and
  true/false drills the same type with the options / the verdict written out. The cards of one
  cloze drill (``<key>.c1``, ``.c2`` …) become ONE note of the "labdeck Cloze" type (Text, Back
  Extra, Notes), each card at its deletion's ord.
* Deck and chapter become ``Deck::CODE Title`` subdecks; tags are kept (spaces → ``_``); a
  leech gets Anki's ``leech`` tag. Note GUIDs are the card keys (``anki:`` keys give back the
  original GUID), so importing a newer export into Anki updates the notes in place.
* ``with_schedule``: cards answered in labdeck become Anki review cards (ivl = interval,
  factor = ease per-mille, due = Anki's today + days until the labdeck due date, reps, lapses,
  suspended → queue -1) and every answer a revlog row (button from the quality, see
  ``labdeck.ankilib``; ivl/lastIvl/factor from the logged states; type learn for a first answer,
  relearn for a re-drill, review otherwise).
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labdeck.ankilib import (
    CARD_REVIEW,
    QUEUE_REVIEW,
    QUEUE_SUSPENDED,
    REVLOG_LEARN,
    REVLOG_RELEARN,
    REVLOG_REVIEW,
    button_for_quality,
    load_anki,
)
from labdeck.export.rows import (
    ExportCard,
    anki_deck_name,
    basic_sides,
    cloze_note_key,
    group_notes,
    note_guid,
)

if TYPE_CHECKING:  # anki loads only when an export runs
    from anki.collection import Collection
    from anki.decks import DeckId

BASIC = "labdeck Basic"
CLOZE = "labdeck Cloze"
_DAY_S = 86400


@dataclass
class AnkiExport:
    path: Path
    notes: int
    cards: int
    revlog: int
    decks: int

    def summary(self) -> str:
        return (
            f"exported {self.notes} notes ({self.cards} cards, {self.decks} decks, "
            f"{self.revlog} review-log rows) to {self.path}"
        )


def _h(text: str | None) -> str:
    return html.escape(text or "", quote=False).replace("\n", "<br>")


def _tags(values: Sequence[str]) -> list[str]:
    return [t.replace(" ", "_") for t in values if t.strip()]


def _notetype(
    col: Collection, name: str, stock: str, fields: list[str], afmt: str
) -> dict[str, Any]:
    existing = col.models.by_name(name)
    if existing:
        return existing
    model = col.models.copy(_stock(col, stock), add=False)
    model["name"] = name
    for field_name in fields:
        if field_name not in col.models.field_names(model):
            col.models.add_field(model, col.models.new_field(field_name))
    model["tmpls"][0]["afmt"] = afmt
    col.models.add(model)
    return _stock(col, name)


def _stock(col: Collection, name: str) -> dict[str, Any]:
    """The collection's note type ``name`` (a fresh collection has Anki's stock ones)."""
    found = col.models.by_name(name)
    if found is None:
        raise RuntimeError(f"the Anki collection has no note type {name!r}")
    return found


def _basic_type(col: Collection) -> dict[str, Any]:
    afmt = (
        "{{FrontSide}}<hr id=answer>{{Back}}"
        "{{#Key points}}<br><br><b>Key points</b><br>{{Key points}}{{/Key points}}"
        "{{#Notes}}<br><br><b>My notes</b><br>{{Notes}}{{/Notes}}"
    )
    return _notetype(col, BASIC, "Basic", ["Key points", "Notes"], afmt)


def _cloze_type(col: Collection) -> dict[str, Any]:
    afmt = (
        "{{cloze:Text}}<br>{{Back Extra}}{{#Notes}}<br><br><b>My notes</b><br>{{Notes}}{{/Notes}}"
    )
    return _notetype(col, CLOZE, "Cloze", ["Notes"], afmt)


def _basic_fields(row: ExportCard) -> tuple[str, str, str]:
    front, back = basic_sides(row)
    points = "".join(f"<li>{_h(p)}</li>" for p in row.card.key_points)
    return _h(front), _h(back), f"<ul>{points}</ul>" if points else ""


def _cloze_extra(rows: list[ExportCard]) -> str:
    also = []
    for row in rows:
        drill = row.card.drill or {}
        answers = list(drill.get("answers", []))[1:]
        if answers:
            also.append(f"c{drill['number']}: " + ", ".join(answers))
    return _h("Also accepted: " + "; ".join(also)) if also else ""


def _anki_today_covering(col: Collection, rows: list[ExportCard], today: date) -> int:
    """Move the scratch collection's creation day back so every due day and review is >= 0."""
    earliest = today
    for row in rows:
        if row.state is not None and row.state.due is not None:
            earliest = min(earliest, row.state.due)
        for log in row.history:
            earliest = min(earliest, log.study_day)
    back = (today - earliest).days + 1
    col.crt = col.crt - back * _DAY_S
    return col.sched.today


def _moment_ms(ts: datetime) -> int:
    moment = ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # the store keeps UTC
    return round(moment.timestamp() * 1000)


def _schedule(anki_card: Any, row: ExportCard, today: date, anki_today: int) -> bool:
    """Set the card's scheduling fields from labdeck's state; True when there was one."""
    state = row.state
    if state is None:
        return False
    if state.due is not None:
        anki_card.type = CARD_REVIEW
        anki_card.queue = QUEUE_REVIEW
        anki_card.ivl = max(state.interval, 1)
        anki_card.factor = state.ease
        anki_card.due = anki_today + (state.due - today).days
        anki_card.reps = state.reviews
        anki_card.lapses = state.lapses
    if state.suspended:
        anki_card.queue = QUEUE_SUSPENDED
    return state.due is not None or state.suspended


def _revlog(col: Collection, cid: int, row: ExportCard, used: set[int]) -> int:
    written = 0
    for log in row.history:
        rid = _moment_ms(log.ts)
        while rid in used:
            rid += 1
        used.add(rid)
        if log.mode == "redrill":
            kind = REVLOG_RELEARN
        elif log.prev_due is None:
            kind = REVLOG_LEARN
        else:
            kind = REVLOG_REVIEW
        assert col.db is not None  # an open collection
        col.db.execute(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rid,
            cid,
            col.usn(),
            button_for_quality(log.quality),
            log.new_interval,
            log.prev_interval,
            log.new_ease,
            min(log.duration_ms or 0, 60_000),
            kind,
        )
        written += 1
    return written


def export_apkg(
    rows: list[ExportCard], out: Path, *, today: date, with_schedule: bool = False
) -> AnkiExport:
    """Write ``rows`` as an Anki package at ``out`` (atomically: a failed export leaves no file)."""
    if not rows:
        raise ValueError("nothing to export: no cards")
    collection = load_anki()
    with tempfile.TemporaryDirectory(prefix="labdeck-apkg-") as tmp:
        col = collection.Collection(str(Path(tmp) / "collection.anki2"))
        try:
            result = _fill(col, rows, today, with_schedule)
            part = Path(tmp) / "out.apkg"
            col.export_anki_package(
                out_path=str(part),
                options=collection.ExportAnkiPackageOptions(
                    with_scheduling=with_schedule,
                    with_deck_configs=with_schedule,
                    with_media=False,
                    legacy=False,
                ),
                limit=None,
            )
        finally:
            col.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = out.with_name(out.name + ".part")
        staged.write_bytes(part.read_bytes())
        os.replace(staged, out)
    notes, cards, revlog, decks = result
    return AnkiExport(out, notes, cards, revlog, decks)


def _fill(
    col: Collection, rows: list[ExportCard], today: date, with_schedule: bool
) -> tuple[int, int, int, int]:
    from anki.collection import AddNoteRequest

    basic, cloze = _basic_type(col), _cloze_type(col)
    anki_today = _anki_today_covering(col, rows, today) if with_schedule else 0
    deck_ids: dict[str, DeckId] = {}
    used: set[int] = set()
    made: list[tuple[Any, list[ExportCard], DeckId]] = []
    for group in group_notes(rows):
        first = group[0]
        name = anki_deck_name(first)
        if name not in deck_ids:
            deck_id = col.decks.id(name)  # creates the deck: never None
            assert deck_id is not None
            deck_ids[name] = deck_id
        leech = ["leech"] if any(r.state and r.state.leech for r in group) else []
        if first.card.kind == "cloze":
            note = col.new_note(cloze)
            note["Text"] = _h((first.card.drill or {})["text"])  # a cloze has its drill
            note["Back Extra"] = _cloze_extra(group)
            note.guid = note_guid(cloze_note_key(first.card.key))
        else:
            note = col.new_note(basic)
            note["Front"], note["Back"], note["Key points"] = _basic_fields(first)
            note.guid = note_guid(first.card.key)
        note["Notes"] = _h(first.card.notes)
        note.tags = _tags([*first.card.tags, *leech])
        made.append((note, group, deck_ids[name]))
    # One transaction for all notes (add_note would commit, and fsync, once per note).
    col.add_notes([AddNoteRequest(note=note, deck_id=did) for note, _, did in made])
    cards = revlog = 0
    changed: list[Any] = []
    for note, group, _ in made:
        by_ord = {c.ord: c for c in note.cards()}
        cards += len(by_ord)
        if not with_schedule:
            continue
        for row in group:
            number = (row.card.drill or {}).get("number", 1) if row.card.kind == "cloze" else 1
            anki_card = by_ord.get(number - 1)
            if anki_card is None:
                continue
            if _schedule(anki_card, row, today, anki_today):
                changed.append(anki_card)
            revlog += _revlog(col, anki_card.id, row, used)
    if changed:
        col.update_cards(changed, skip_undo_entry=True)
    notes = len(made)
    return notes, cards, revlog, len(deck_ids)
