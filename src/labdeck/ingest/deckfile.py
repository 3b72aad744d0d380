"""The project's own deck format (content/README.md): one TOML file per chapter."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from labdeck.ingest.common import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    ImportError_,
    clean_text,
    read_document,
)

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_NOT_CHAPTERS = {"deck.toml", "note_checks.toml"}


@dataclass
class ContentCard:
    id: str
    prompt: str
    answer: str
    key_points: list[str]
    line: int
    prompt_zh: str | None = None
    tags: list[str] = field(default_factory=list)
    demos: list[str] = field(default_factory=list)
    outline: str | None = None
    source_title: str | None = None


@dataclass
class ContentDrill:
    """One drill card (a cloze note gives one per deletion). See content/README.md."""

    id: str  # the card id: the drill's id, plus ".cN" for a cloze deletion
    parent: str
    kind: str  # cloze | choice | truefalse
    prompt: str  # what the card shows (a cloze with its deletion blanked)
    answer: str  # the answer shown after grading
    drill: dict[str, Any]
    line: int
    prompt_zh: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class ContentChapter:
    code: str
    title: str
    path: Path
    title_zh: str | None = None
    description: str = ""
    cards: list[ContentCard] = field(default_factory=list)
    drills: list[ContentDrill] = field(default_factory=list)


@dataclass
class ContentDeck:
    key: str
    name: str
    path: Path
    description: str = ""
    position: int = 0
    aliases: list[str] = field(default_factory=list)
    chapters: list[ContentChapter] = field(default_factory=list)
    note_checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # card id -> check

    @property
    def card_count(self) -> int:
        return sum(len(c.cards) for c in self.chapters)


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    text = read_document(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, str(exc)) from None


_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
STATEMENT_TRIES = 25  # prefixes parsed at most (each the file so far) to find that start


def _toml_error(path: Path, text: str, message: str) -> ImportError_:
    """A TOML error at the line to fix. tomllib says where it stopped reading; for most
    mistakes that is their line, but a value left open (an array, inline table or string
    without its end) reads on into the lines after it, and tomllib stops at the first that
    cannot go on with it (``tags = ["a",`` on line 32 stopped at line 33, column 1), or at
    the end of the file (no line at all). Then the error names the line that statement
    starts on, and says where tomllib stopped."""
    found = _TOML_AT.search(message)
    reason = message[: found.start()] if found else message
    if found is None:
        return ImportError_(path, None, f"invalid TOML: {reason}")
    lines = text.split("\n")
    stop = int(found.group(1)) if found.group(1) else None  # None: the end of the file
    start = _open_statement_start(lines, stop)
    where = f"line {stop}, column {found.group(2)}" if stop else "the end of the file"
    if start is None:
        spot = f"column {found.group(2)}" if stop else "at the end of the file"
        return ImportError_(path, stop, f"invalid TOML: {reason} ({spot})")
    return ImportError_(
        path,
        start,
        f"invalid TOML: {reason} at {where} (the statement that starts on line {start} "
        "runs on to there)",
    )


def _parses(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def _open_statement_start(lines: list[str], stop: int | None) -> int | None:
    """The line of the statement tomllib was still reading when it stopped at line ``stop``
    (None: the end of the file); None when the mistake is on line ``stop`` itself. The text
    before the statement parses (tomllib read it), the text cut inside it does not."""
    before = len(lines) if stop is None else stop - 1
    if stop is not None:
        if _parses("\n".join(lines[:before])):
            return None  # the statement that fails starts on the stop line
        if not _parses(lines[stop - 1]):
            return None  # the stop line is no statement of its own: the mistake is there
    tries = 0
    for first in range(before, 0, -1):  # the statement's first line, from the last one back
        if not lines[first - 1].strip() or lines[first - 1].lstrip().startswith("#"):
            continue  # a statement starts on a line with something on it
        tries += 1
        if tries > STATEMENT_TRIES:
            return None
        if _parses("\n".join(lines[: first - 1])):
            return first
    return None


def _line_of(text: str, pattern: str, default: int = 1) -> int:
    match = re.search(pattern, text, re.M)
    return text[: match.start()].count("\n") + 1 if match else default


def _tables(
    path: Path, text: str, data: dict[str, Any], name: str
) -> list[tuple[int, dict[str, Any]]]:
    """The ``[[name]]`` tables of a file, each with the line it starts on."""
    tables = data.get(name, [])
    if not isinstance(tables, list):
        raise ImportError_(path, 1, f"'{name}' must be an array of tables ([[{name}]])")
    starts = [m.start() for m in re.finditer(rf"^\[\[{name}\]\]", text, re.M)]
    return [
        (text[: starts[i]].count("\n") + 1 if i < len(starts) else 1, table)
        for i, table in enumerate(tables)
    ]


def _claim_id(
    path: Path, line: int, table: dict[str, Any], seen: dict[str, Path], what: str
) -> str:
    """The table's ``id``, checked for shape and for being unique within the deck."""
    found = _string(path, line, table, "id", required=True) or ""
    if not _KEY.match(found):
        raise ImportError_(path, line, f"{what} id {found!r} must match [a-z0-9._-]")
    if found in seen:
        raise ImportError_(path, line, f"{what} id {found} already used in {seen[found].name}")
    seen[found] = path
    return found


def _string(
    path: Path, line: int, table: dict[str, Any], name: str, *, required: bool
) -> str | None:
    value = table.get(name)
    if value is None:
        if required:
            raise ImportError_(path, line, f"missing field '{name}' (expected a string)")
        return None
    if not isinstance(value, str):
        raise ImportError_(path, line, f"field '{name}' must be a string")
    value = clean_text(value).strip()
    if required and not value:
        raise ImportError_(path, line, f"field '{name}' is empty")
    limit = MAX_BODY_CHARS if name in ("answer", "description") else MAX_TITLE_CHARS
    if len(value) > limit:  # the shipped deck is the project's own text: refuse, never cut
        raise ImportError_(
            path, line, f"field '{name}' is {len(value):,} characters (limit {limit:,})"
        )
    return value or None


def _strings(path: Path, line: int, table: dict[str, Any], name: str) -> list[str]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImportError_(path, line, f"field '{name}' must be a list of strings")
    cleaned = (clean_text(v).strip() for v in value)
    return [v for v in cleaned if v]


def parse_deck_dir(directory: Path, known_demos: frozenset[str] | None = None) -> ContentDeck:
    """Parse ``directory/deck.toml`` and every other ``*.toml`` in it (chapter files, sorted)."""
    if known_demos is None:
        from labdeck.demos.registry import DEMO_IDS

        known_demos = frozenset(DEMO_IDS)
    deck_file = directory / "deck.toml"
    meta, text = _load_toml(deck_file)
    key = _string(deck_file, _line_of(text, r"^key\s*="), meta, "key", required=True) or ""
    if not _KEY.match(key):
        raise ImportError_(
            deck_file, _line_of(text, r"^key\s*="), f"deck key {key!r} must match [a-z0-9-]"
        )
    name = _string(deck_file, _line_of(text, r"^name\s*="), meta, "name", required=True) or key
    position = meta.get("position", 0)
    if not isinstance(position, int):
        raise ImportError_(
            deck_file, _line_of(text, r"^position\s*="), "field 'position' must be an integer"
        )
    deck = ContentDeck(
        key=key,
        name=name,
        path=directory,
        description=_string(deck_file, 1, meta, "description", required=False) or "",
        position=position,
        aliases=_strings(deck_file, _line_of(text, r"^aliases\s*="), meta, "aliases"),
    )
    seen_codes: dict[str, Path] = {}
    seen_ids: dict[str, Path] = {}
    for path in sorted(p for p in directory.glob("*.toml") if p.name not in _NOT_CHAPTERS):
        data, text = _load_toml(path)
        head = data.get("chapter")
        if not isinstance(head, dict):
            raise ImportError_(path, 1, "missing [chapter] table (expected code and title)")
        line = _line_of(text, r"^\[chapter\]")
        code = _string(path, line, head, "code", required=True) or ""
        if code in seen_codes:
            raise ImportError_(
                path, line, f"chapter code {code} already used in {seen_codes[code].name}"
            )
        seen_codes[code] = path
        chapter = ContentChapter(
            code=code,
            title=_string(path, line, head, "title", required=True) or code,
            title_zh=_string(path, line, head, "title_zh", required=False),
            description=_string(path, line, head, "description", required=False) or "",
            path=path,
        )
        for line, table in _tables(path, text, data, "cards"):
            card_id = _claim_id(path, line, table, seen_ids, "card")
            key_points = _strings(path, line, table, "key_points")
            if not key_points:
                raise ImportError_(path, line, "field 'key_points' needs at least one entry")
            demos = _strings(path, line, table, "demos")
            unknown = [d for d in demos if d not in known_demos]
            if unknown:
                raise ImportError_(
                    path,
                    line,
                    f"unknown demo id {unknown[0]!r} (known: {', '.join(sorted(known_demos))})",
                )
            chapter.cards.append(
                ContentCard(
                    id=card_id,
                    prompt=_string(path, line, table, "prompt", required=True) or "",
                    prompt_zh=_string(path, line, table, "prompt_zh", required=False),
                    answer=_string(path, line, table, "answer", required=True) or "",
                    key_points=key_points,
                    tags=_strings(path, line, table, "tags"),
                    demos=demos,
                    outline=_string(path, line, table, "outline", required=False),
                    source_title=_string(path, line, table, "source_title", required=False),
                    line=line,
                )
            )
        chapter.drills = _parse_drills(path, text, data, seen_ids)
        deck.chapters.append(chapter)
    essays = {card.id for chapter in deck.chapters for card in chapter.cards}
    checks_file = directory / "note_checks.toml"
    if checks_file.exists():
        deck.note_checks = _parse_note_checks(checks_file, essays)
    for chapter in deck.chapters:
        for drill in chapter.drills:
            if drill.parent not in essays:
                raise ImportError_(
                    chapter.path,
                    drill.line,
                    f"drill parent {drill.parent!r} is not an essay card of deck {deck.key}",
                )
    return deck


def _parse_note_checks(path: Path, essays: set[str]) -> dict[str, dict[str, Any]]:
    data, text = _load_toml(path)
    out: dict[str, dict[str, Any]] = {}
    for line, table in _tables(path, text, data, "checks"):
        card = _string(path, line, table, "card", required=True) or ""
        if card not in essays:
            raise ImportError_(path, line, f"note check for unknown card {card!r}")
        if card in out:
            raise ImportError_(path, line, f"card {card} has two note checks")
        pattern = _string(path, line, table, "pattern", required=False)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ImportError_(
                    path, line, f"field 'pattern' is not a valid regex: {exc}"
                ) from None
        out[card] = {
            "pattern": pattern,
            "says": _string(path, line, table, "says", required=True),
            "correction": _string(path, line, table, "correction", required=True),
        }
    return out


def _parse_drills(
    path: Path, text: str, data: dict[str, Any], seen_ids: dict[str, Path]
) -> list[ContentDrill]:
    from labdeck.drills import DRILL_KINDS
    from labdeck.drills import cloze as cz

    out: list[ContentDrill] = []
    for line, table in _tables(path, text, data, "drills"):
        drill_id = _claim_id(path, line, table, seen_ids, "drill")
        parent = _string(path, line, table, "parent", required=True) or ""
        kind = _string(path, line, table, "type", required=True) or ""
        if kind not in DRILL_KINDS:
            raise ImportError_(
                path, line, f"drill type {kind!r} is not one of: {', '.join(DRILL_KINDS)}"
            )
        card = partial(
            ContentDrill,
            parent=parent,
            kind=kind,
            line=line,
            prompt_zh=_string(path, line, table, "prompt_zh", required=False),
            tags=_strings(path, line, table, "tags"),
        )
        if kind == "cloze":
            body = _string(path, line, table, "text", required=True) or ""
            found = cz.deletions(body)
            if not found:
                raise ImportError_(path, line, "field 'text' has no {{c1::…}} deletion")
            alternatives = table.get("alternatives", {})
            if not isinstance(alternatives, dict) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v)
                for v in alternatives.values()
            ):
                raise ImportError_(
                    path, line, "field 'alternatives' must be a table of string lists (c1 = [..])"
                )
            numbers = {f"c{d.number}" for d in found}
            unknown = sorted(set(alternatives) - numbers)
            if unknown:
                raise ImportError_(path, line, f"alternatives for {unknown[0]}: no such deletion")
            for deletion in found:
                if len(set(deletion.answers)) > 1:
                    raise ImportError_(
                        path,
                        line,
                        f"deletion c{deletion.number} has different answers; number them apart",
                    )
                name = f"c{deletion.number}"
                accepted = [deletion.answers[0]] + [
                    clean_text(a).strip() for a in alternatives.get(name, []) if a.strip()
                ]
                out.append(
                    card(
                        id=f"{drill_id}.{name}",
                        prompt=cz.front(body, deletion.number),
                        answer=deletion.answers[0],
                        drill={
                            "text": body,
                            "number": deletion.number,
                            "answers": accepted,
                            "hint": deletion.hint,
                            "note": drill_id,
                        },
                    )
                )
        elif kind == "choice":
            prompt = _string(path, line, table, "prompt", required=True) or ""
            options = _strings(path, line, table, "options")
            correct = _strings(path, line, table, "correct")
            if not 2 <= len(options) <= 6:
                raise ImportError_(path, line, "field 'options' needs 2 to 6 options")
            if len(set(options)) != len(options):
                raise ImportError_(path, line, "field 'options' has a duplicate option")
            if not correct or any(c not in options for c in correct):
                raise ImportError_(
                    path, line, "field 'correct' must list one or more of the options verbatim"
                )
            why = _string(path, line, table, "why", required=False)
            out.append(
                card(
                    id=drill_id,
                    prompt=prompt,
                    answer="; ".join(correct),
                    drill={"options": options, "correct": correct, "why": why},
                )
            )
        else:
            claim = _string(path, line, table, "claim", required=True) or ""
            verdict = table.get("verdict")
            if not isinstance(verdict, bool):
                raise ImportError_(path, line, "field 'verdict' must be true or false")
            why = _string(path, line, table, "why", required=True) or ""
            out.append(
                card(
                    id=drill_id,
                    prompt=claim,
                    answer=("True" if verdict else "False") + f" — {why}",
                    drill={"verdict": verdict, "why": why},
                )
            )
    return out


def find_deck_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/deck.toml"))
