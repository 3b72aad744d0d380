"""Import CSV/TSV files that follow Anki's text-import conventions.

Header lines at the top (``#key:value``, as Anki writes and reads them):
``#separator:`` (comma, semicolon, tab, space, pipe, colon or one character), ``#html:``
(true/false), ``#tags:`` (tags for every row), ``#columns:`` (column names), ``#notetype:``,
``#deck:``, and ``#notetype column:``, ``#deck column:``, ``#tags column:``, ``#guid column:``
(1-based). Without ``#columns:`` a first row made only of known column names (Front, Back,
Tags, …) is taken as the header. The remaining columns are the note's fields in order: Front
and Back for a Basic note, Text (and Back Extra) for a Cloze note (``#notetype:Cloze``, a
notetype column saying Cloze, or a first field with ``{{c1::…}}`` deletions).

Keys: ``csv:<guid>`` with a GUID column, else ``csv:<deck>:<hash of the front>``; a cloze adds
``.cN``. The whole file is parsed before anything is written; any bad line is one
``file:line`` error and nothing from the file is stored.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from labdeck.drills import cloze as cz
from labdeck.ingest.common import ImportError_, clean_text, read_document, slug
from labdeck.ingest.external import ExternalCard, ExternalDeck
from labdeck.ingest.htmltext import html_to_text

SEPARATORS = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
HEADERS = {
    "separator",
    "html",
    "tags",
    "columns",
    "notetype",
    "deck",
    "notetype column",
    "deck column",
    "tags column",
    "guid column",
    "if matches",
    "match scope",
}
KNOWN_COLUMNS = {
    "front",
    "back",
    "question",
    "answer",
    "text",
    "back extra",
    "extra",
    "tags",
    "deck",
    "guid",
    "notetype",
}
_HTML = re.compile(r"<(br|div|p|img|b|i|u|span|ul|ol|li|sup|sub)\b[^>]*>|&[a-z]+;|&#\d+;", re.I)
_HEADER = re.compile(r"^#([a-z ]+):(.*)$", re.I)


def is_csv(path: Path) -> bool:
    return path.suffix.lower() in (".csv", ".tsv")


class _Meta:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.separator: str | None = None
        self.html: bool | None = None
        self.tags: list[str] = []
        self.columns: list[str] | None = None
        self.notetype = "Basic"
        self.deck: str | None = None
        self.special: dict[str, int] = {}  # "deck"/"tags"/"guid"/"notetype" -> 0-based column

    def set(self, line: int, key: str, value: str) -> None:
        key = " ".join(key.lower().split())
        value = value.strip()
        if key not in HEADERS:
            raise ImportError_(self.path, line, f"unknown header #{key}:")
        if key == "separator":
            sep = SEPARATORS.get(value.lower(), value)
            if len(sep) != 1 or sep in '"\n':
                raise ImportError_(self.path, line, f"#separator: {value!r} is not a separator")
            self.separator = sep
        elif key == "html":
            if value.lower() not in ("true", "false"):
                raise ImportError_(self.path, line, "#html: must be true or false")
            self.html = value.lower() == "true"
        elif key == "tags":
            self.tags = value.split()
        elif key == "columns":
            self.columns = [value]  # split once the separator is known
        elif key == "notetype":
            self.notetype = value
        elif key == "deck":
            self.deck = value
        elif key.endswith(" column"):
            if not value.isdigit() or int(value) < 1:
                raise ImportError_(self.path, line, f"#{key}: must be a column number (1, 2, …)")
            self.special[key.removesuffix(" column")] = int(value) - 1


def _records(path: Path, lines: list[tuple[int, str]], sep: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) per record; quoted fields may span lines."""
    position = {"line": 0}

    def feed() -> Iterator[str]:
        for number, text in lines:
            position["line"] = number
            yield text

    source = feed()
    reader = csv.reader(source, delimiter=sep, quotechar='"', strict=True)
    while True:
        start = position["line"] + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportError_(path, start, f"bad CSV: {exc}") from None
        if cells and any(c.strip() for c in cells):
            yield _first_line(lines, start), cells


def _first_line(lines: list[tuple[int, str]], start: int) -> int:
    """Skip blank lines before a record, so the error points at its first real line."""
    for number, text in lines:
        if number >= start and text.strip():
            return number
    return start


def _guess_separator(path: Path, first: str) -> str:
    if path.suffix.lower() == ".tsv" or "\t" in first:
        return "\t"
    if first.count(";") > first.count(","):
        return ";"
    return ","


def parse_csv(path: Path, rollover_hour: int = 4) -> list[ExternalDeck]:
    """Parse the whole file (nothing written); one ExternalDeck per top-level deck."""
    del rollover_hour  # a text file carries no schedule
    text = read_document(path)
    meta = _Meta(path)
    numbered = list(enumerate(text.splitlines(keepends=True), start=1))
    body_from = len(numbered)
    for index, (number, line) in enumerate(numbered):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            body_from = index
            break
        match = _HEADER.match(stripped)
        if match:
            meta.set(number, match.group(1), match.group(2))
    body = numbered[body_from:]
    first = next((t for _, t in body if t.strip()), "")
    sep = meta.separator or _guess_separator(path, first)
    columns = None
    if meta.columns is not None:
        columns = [c.strip() for c in meta.columns[0].split(sep)]
    records = list(_records(path, body, sep))
    if columns is None and records:
        names = [c.strip().lower() for c in records[0][1]]
        if names and all(n in KNOWN_COLUMNS for n in names) and len(set(names)) == len(names):
            columns = [c.strip() for c in records[0][1]]
            records = records[1:]
    if columns is not None:
        for i, name in enumerate(columns):
            low = name.lower()
            if low in ("tags", "deck", "guid", "notetype") and low not in meta.special:
                meta.special[low] = i
    if not records:
        raise ImportError_(path, None, "no cards: the file has no data rows")
    return _decks(path, meta, columns, records)


def _field(meta: _Meta, value: str) -> str:
    value = clean_text(value)
    is_html = meta.html if meta.html is not None else bool(_HTML.search(value))
    return html_to_text(value) if is_html else value.strip()


def _decks(
    path: Path, meta: _Meta, columns: list[str] | None, records: list[tuple[int, list[str]]]
) -> list[ExternalDeck]:
    # Every row has the header's width, or the first row's: a short or long row is broken.
    width = len(columns) if columns is not None else len(records[0][1])
    special = set(meta.special.values())
    decks: dict[str, ExternalDeck] = {}
    seen: dict[str, int] = {}
    for line, cells in records:
        if len(cells) != width:
            raise ImportError_(path, line, f"expected {width} columns, found {len(cells)}")
        for name, index in meta.special.items():
            if index >= len(cells):
                raise ImportError_(path, line, f"no {name} column {index + 1} on this line")
        fields = [_field(meta, c) for i, c in enumerate(cells) if i not in special]
        notetype = cells[meta.special["notetype"]] if "notetype" in meta.special else meta.notetype
        deck_name = (
            clean_text(
                cells[meta.special["deck"]] if "deck" in meta.special else (meta.deck or path.stem)
            ).strip()
            or path.stem
        )
        tags = list(meta.tags)
        if "tags" in meta.special:
            tags += clean_text(cells[meta.special["tags"]]).split()
        guid = clean_text(cells[meta.special["guid"]]).strip() if "guid" in meta.special else ""
        if not fields or not fields[0]:
            raise ImportError_(path, line, "the first field (the front) is empty")
        top, _, sub = deck_name.partition("::")
        deck = decks.get(top)
        if deck is None:
            deck = decks[top] = ExternalDeck(
                key=f"csv:{slug(top)}", name=top, source="csv", path=path
            )
        chapter = sub.replace("::", " / ")
        base = (
            f"csv:{guid}"
            if guid
            else (f"csv:{slug(top)}:" + hashlib.sha1(fields[0].encode("utf-8")).hexdigest()[:12])
        )
        is_cloze = "cloze" in notetype.lower() or bool(cz.CLOZE.search(fields[0]))
        if is_cloze:
            found = cz.deletions(fields[0])
            if not found:
                raise ImportError_(path, line, "a Cloze note needs {{c1::…}} deletions")
            extra = fields[1] if len(fields) > 1 else ""
            for deletion in found:
                cards = [
                    ExternalCard(
                        key=f"{base}.c{deletion.number}",
                        chapter=chapter,
                        prompt=cz.front(fields[0], deletion.number),
                        answer=deletion.answers[0] + (f"\n\n{extra}" if extra else ""),
                        kind="cloze",
                        drill={
                            "text": fields[0],
                            "number": deletion.number,
                            "answers": [deletion.answers[0]],
                            "hint": deletion.hint,
                            "note": base,
                        },
                        tags=tags,
                        line=line,
                    )
                ]
                _add(path, deck, cards, seen)
        else:
            if len(fields) < 2:
                raise ImportError_(
                    path, line, f"expected a front and a back, found {len(fields)} field"
                )
            answer = "\n\n".join(f for f in fields[1:] if f) or None
            card = ExternalCard(
                key=base, chapter=chapter, prompt=fields[0], answer=answer, tags=tags, line=line
            )
            _add(path, deck, [card], seen)
    return list(decks.values())


def _add(path: Path, deck: ExternalDeck, cards: list[ExternalCard], seen: dict[str, int]) -> None:
    for card in cards:
        if card.key in seen:
            raise ImportError_(
                path, card.line, f"same note as line {seen[card.key]} (same GUID or front)"
            )
        seen[card.key] = card.line or 0
        deck.cards.append(card)
