"""Export cards as a tab-separated file in Anki's text-import format.

One row per Anki note (the cards of a cloze drill share one row, like the .apkg export):
GUID, Notetype (Basic or Cloze), Deck (``Deck::CODE Title``), Front/Text, Back, Tags, under
``#`` header lines that tell Anki (and ``labdeck import``) which column is which. Plain text
(``#html:false``); fields with tabs, quotes or newlines are quoted.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from labdeck.export.rows import (
    ExportCard,
    anki_deck_name,
    basic_sides,
    cloze_note_key,
    group_notes,
    note_guid,
)

HEADER = (
    "#separator:tab\n#html:false\n#columns:GUID\tNotetype\tDeck\tFront\tBack\tTags\n"
    "#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:6\n"
)


def export_csv(rows: list[ExportCard], out: Path) -> int:
    """Write the file atomically; returns the number of note rows."""
    if not rows:
        raise ValueError("nothing to export: no cards")
    buffer = io.StringIO()
    buffer.write(HEADER)
    writer = csv.writer(buffer, delimiter="\t", quotechar='"', lineterminator="\n")
    count = 0
    for group in group_notes(rows):
        first = group[0]
        tags = " ".join(t.replace(" ", "_") for t in first.card.tags if t.strip())
        if first.card.kind == "cloze":
            guid, notetype = note_guid(cloze_note_key(first.card.key)), "Cloze"
            front, back = (first.card.drill or {})["text"], ""  # a cloze has its drill
        else:
            guid, notetype = note_guid(first.card.key), "Basic"
            front, back = basic_sides(first)
        writer.writerow([guid, notetype, anki_deck_name(first), front, back, tags])
        count += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(out.name + ".part")
    staged.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(staged, out)
    return count
