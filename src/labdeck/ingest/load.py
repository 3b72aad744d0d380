"""Upsert parsed documents into the store.

Cards are identified by stable keys; re-importing updates text in place and never touches
scheduling state or history. A learner's outline or Q&A document whose title is an alias of a
shipped deck (or whose chapter codes all belong to one) attaches its notes to the shipped cards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from labdeck import clock
from labdeck.ingest import matching
from labdeck.ingest.common import (
    ImportError_,
    ParsedChapter,
    ParsedDocument,
    ParsedItem,
    fold,
    one_line,
    read_document,
    slug,
)
from labdeck.ingest.deckfile import ContentDeck, ContentDrill, find_deck_dirs, parse_deck_dir
from labdeck.ingest.fingerprint import content_changed, content_fingerprint, record_fingerprint
from labdeck.ingest.prompts import EnglishTerms, outline_prompt
from labdeck.store import Store, overrides
from labdeck.store.models import Card, CardState, Chapter, Deck
from labdeck.textfmt import counted

TITLE_MATCH = 85  # fuzzy ratio for "same item title"
POSITION_MATCH = 50  # weaker title check when matching by position
PREVIEW_SIDE = 36  # characters of each side of a "question → card" preview line
EDITS_NAMED = 3  # card keys named in the "keeps your edit" line


@dataclass
class ImportReport:
    path: str
    kind: str
    deck: str
    chapters: int = 0
    items: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    attached: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    # cards whose notes came from another document: left as they are unless ``replace_notes``
    notes_kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "file:line: message", imported anyway
    # updated cards the learner had edited (Browse ``e``): the new imported text became the
    # edit's original, the edit stays in force (``overrides.route_import``)
    edits_kept: list[str] = field(default_factory=list)
    dry_run: bool = False
    # card key -> the question as the learner reads it (the document's own language), for
    # previews: a new or updated card's prompt; for attached notes, the heading -> the card.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.attached_changed)

    attached_changed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self, key: str) -> str:
        """What a preview shows for ``key``: the question, or the key when none is known."""
        return self.labels.get(key) or key

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        parts = [
            f"{verb} {self.path} ({self.kind}) into deck {self.deck!r}:",
            f"{counted(self.chapters, 'chapter')}, {counted(self.items, 'item')};",
            f"{len(self.created)} new, {len(self.updated)} updated, {self.unchanged} unchanged",
        ]
        if self.attached:
            parts[-1] += f"; notes attached to {len(self.attached)} cards of the deck"
        if self.mismatches:
            n = len(self.mismatches)
            verb = "would be" if self.dry_run else ("is" if n == 1 else "are")
            what = "a new card of its own" if n == 1 else "new cards of their own"
            parts[-1] += f"; {counted(n, 'item')} matched no card of the deck and {verb} {what}"
        if self.notes_kept:
            parts[-1] += (
                f"; {counted(len(self.notes_kept), 'card')} kept the notes of another document"
                " (--replace-notes replaces them)"
            )
        if self.removed:
            parts[-1] += f"; {len(self.removed)} no longer in the document"
        if self.retired:
            parts.append(f"({len(self.retired)} retired)")
        lines = [" ".join(parts)]
        if self.edits_kept:
            lines.append(f"  {self.edits_kept_line()}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def edits_kept_line(self) -> str:
        """Which updated cards show the learner's edit rather than the new text, and where to
        see or revert them."""
        n = len(self.edits_kept)
        keys = ", ".join(self.edits_kept[:EDITS_NAMED]) + (", …" if n > EDITS_NAMED else "")
        verb = "would keep" if self.dry_run else ("keeps" if n == 1 else "keep")
        return (
            f"{counted(n, 'updated card')} {verb} your {'edit' if n == 1 else 'edits'} "
            f"({keys}): Browse is:edited shows them; e there reverts to the new text"
        )


def detect_and_parse(path: Path) -> ParsedDocument:
    """Read and parse a learner document, choosing the format from its content."""
    from labdeck.ingest.outline import looks_like_headed_notes, looks_like_outline, parse_outline
    from labdeck.ingest.qa import looks_like_qa, parse_qa

    text = read_document(path)
    if looks_like_outline(text):
        return parse_outline(path, text)
    if looks_like_qa(text):
        return parse_qa(path, text)
    if looks_like_headed_notes(path, text):  # '## question' notes with no chapter codes (QA)
        return parse_outline(path, text, implicit_chapter=True)
    raise ImportError_(
        path,
        None,
        "unknown format: expected an exam outline ('# B1 Chapter' / '## item'), notes with "
        "'## question' headings, or an interview Q&A document ('1. Question' with '- Answer:' "
        "bullets)",
    )


# ---------------------------------------------------------------- helpers


def _ensure_state(session: Session, card: Card) -> None:
    if session.get(CardState, card.id) is None:
        assert card.id is not None  # flushed
        session.add(CardState(card_id=card.id))


def _set(obj: object, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert_card(
    session: Session, report: ImportReport, key: str, values: dict[str, Any], now: datetime
) -> Card:
    card = session.exec(select(Card).where(Card.key == key)).first()
    if "prompt" in values:
        report.labels[key] = one_line(values["prompt"])
    if card is None:
        card = Card(key=key, created_at=now, updated_at=now, **values)
        session.add(card)
        session.flush()
        _ensure_state(session, card)
        report.created.append(key)
        return card
    # the learner's edited fields keep their text; the import updates their original
    values, original_changed = overrides.route_import(session, card, {**values, "retired": False})
    if original_changed:
        report.edits_kept.append(key)
    if _set(card, values) or original_changed:
        card.updated_at = now
        report.updated.append(key)
    else:
        report.unchanged += 1
    return card


def _upsert_chapter(session: Session, deck: Deck, values: dict[str, Any]) -> Chapter:
    chapter = session.exec(
        select(Chapter).where(Chapter.deck_id == deck.id, Chapter.code == values["code"])
    ).first()
    if chapter is None:
        assert deck.id is not None  # flushed
        chapter = Chapter(deck_id=deck.id, **values)
        session.add(chapter)
        session.flush()
    else:
        _set(chapter, values)
    return chapter


# ---------------------------------------------------------------- learner documents


class UnknownDeck(ValueError):
    """``--into`` names no deck; the message lists the decks there are."""


def _named(deck: Deck, wanted: str) -> bool:
    """``wanted`` is the deck's key, name or one of its aliases (folded: width, case, script)."""
    folded = fold(wanted)
    return any(fold(name) == folded for name in (deck.key, deck.name, *deck.aliases) if name)


def find_deck(session: Session, name: str) -> Deck:
    """The deck called ``name`` (key, name or alias), or ``UnknownDeck``."""
    decks = session.exec(select(Deck).order_by(col(Deck.position), col(Deck.key))).all()
    for deck in decks:
        if _named(deck, name):
            return deck
    known = ", ".join(d.key for d in decks) or "none yet"
    raise UnknownDeck(f"--into {one_line(name)!r}: no such deck (decks: {known})")


def check_deck(store: Store, name: str) -> str:
    """The key of the deck ``name`` names (see ``find_deck``); raises ``UnknownDeck``."""
    with Session(store.engine) as session:
        return find_deck(session, name).key


def _linked_deck(session: Session, doc: ParsedDocument) -> Deck | None:
    decks = session.exec(select(Deck).where(Deck.source == "content")).all()
    for deck in decks:
        if any(fold(alias) == fold(doc.title) for alias in (deck.name, *deck.aliases)):
            return deck
    if doc.kind == "outline" and doc.chapters:
        for deck in decks:
            own = {
                c.code: c for c in session.exec(select(Chapter).where(Chapter.deck_id == deck.id))
            }
            if not all(c.code in own for c in doc.chapters):
                continue
            # Codes alone ("B1") are too weak a sign: most chapters must also be titled alike,
            # or a learner's own outline that numbers its chapters B1, B2 would file its notes
            # under the shipped exam's chapters.
            alike = sum(_same_chapter_title(c, own[c.code]) for c in doc.chapters)
            if 2 * alike >= len(doc.chapters):
                return deck
    return None


def _same_chapter_title(pch: ParsedChapter, chapter: Chapter) -> bool:
    wanted = fold(pch.title)
    titles = (chapter.title, chapter.title_zh)
    return any(t and fuzz.ratio(wanted, fold(t)) >= TITLE_MATCH for t in titles)


def _target_chapter(
    doc: ParsedDocument, pch: ParsedChapter, chapters: Sequence[Chapter]
) -> Chapter | None:
    """The deck's chapter a document chapter's notes go to: an outline's by code; a Q&A
    section by its title in either language (traditional or simplified), else by position."""
    if doc.kind == "outline":
        return next((c for c in chapters if c.code == pch.code), None)
    wanted = fold(pch.title)
    for chapter in chapters:
        if any(fold(t) == wanted for t in (chapter.title, chapter.title_zh) if t):
            return chapter
    return chapters[pch.position - 1] if pch.position <= len(chapters) else None


def _match_item(
    doc: ParsedDocument, item: ParsedItem, code: str, candidates: Sequence[Card], taken: set[int]
) -> Card | None:
    free = [c for c in candidates if c.id not in taken]
    if doc.kind == "qa":  # by number, checked against the words (``labdeck.ingest.matching``)
        found = matching.pick(
            item.title,
            str(item.number or item.position),
            [
                matching.Candidate(c.id, (c.source_title or "").strip(), (c.prompt, c.prompt_zh))
                for c in free
                if c.id is not None
            ],
        )
        return next((c for c in free if c.id == found), None)
    title = fold(item.title)
    best, best_score = None, 0.0
    for card in free:
        score = fuzz.ratio(title, fold(card.source_title or ""))
        if score > best_score:
            best, best_score = card, score
    if best is not None and best_score >= TITLE_MATCH:
        return best
    ref = f"{code}.{item.position}"
    by_position = next((c for c in free if c.outline_ref == ref), None)
    if by_position is not None:
        score = fuzz.ratio(title, fold(by_position.source_title or ""))
        if score >= POSITION_MATCH or not by_position.source_title:
            return by_position
    return None


def _side(text: str) -> str:
    """One side of a preview's "question → card" line: cut so that both sides show (a wrong
    match is seen at a glance)."""
    line = one_line(text)
    return line if len(line) <= PREVIEW_SIDE else line[: PREVIEW_SIDE - 1].rstrip() + "…"


def _notes_document(card: Card) -> str | None:
    """The document a card's notes were attached from (``notes_source`` is ``path:line``)."""
    if not card.notes_source:
        return None
    path, _, line = card.notes_source.rpartition(":")
    return path if path and line.isdigit() else card.notes_source


def _prompt(
    doc: ParsedDocument,
    chapter: Chapter,
    pch: ParsedChapter,
    item: ParsedItem,
    english: EnglishTerms | None,
) -> str:
    """An item's prompt: a Q&A question as written; an outline heading that is a bare term
    with its chapter's context (the deck's chapter, in English where the deck has it)."""
    if doc.kind != "outline":
        return item.title
    texts = list(dict.fromkeys(t for t in (chapter.description, pch.title, pch.description) if t))
    return outline_prompt(item.title, chapter.code, chapter.title, texts, chapter.title_zh, english)


def _own_item_values(
    doc: ParsedDocument,
    deck: Deck,
    chapter: Chapter,
    pch: ParsedChapter,
    item: ParsedItem,
    pos: int,
    english: EnglishTerms | None = None,
) -> dict[str, Any]:
    return {
        "deck_id": deck.id,
        "chapter_id": chapter.id,
        "position": pos,
        "prompt": _prompt(doc, chapter, pch, item, english),
        "answer": item.body,
        "outline_ref": f"{pch.code}.{item.position}",
        "source_title": item.title if doc.kind == "outline" else str(item.number or item.position),
        "source_path": str(doc.path.resolve()),
        "source_line": item.line,
    }


def _own_deck(session: Session, doc: ParsedDocument, source: str) -> Deck:
    """The document's own deck (created on first import), named by its title."""
    key = slug(doc.title)
    deck = session.exec(select(Deck).where(Deck.key == key)).first()
    if deck is None:
        count = len(session.exec(select(Deck.id)).all())
        deck = Deck(key=key, name=doc.title, source=doc.kind, position=100 + count)
        session.add(deck)
        session.flush()
    if deck.source != "content":
        _set(deck, {"name": doc.title, "source_path": source})
    return deck


def import_document(
    store: Store,
    doc: ParsedDocument,
    *,
    dry_run: bool = False,
    retire: bool = False,
    link: bool = True,
    into: str | None = None,
    english: EnglishTerms | None = None,
    replace_notes: bool = False,
) -> ImportReport:
    """Write one parsed document in one transaction (rolled back for a dry run).

    The document's notes attach to the cards of a deck: the one named by ``into`` (key, name
    or alias; ``UnknownDeck`` when there is none), else, with ``link``, the shipped deck whose
    title or chapter codes it shares. Otherwise, or for the items that match no card, it gets
    cards of its own; ``english`` finds the English term of a bare Chinese heading in its
    chapter's English text (``labdeck.ingest.prompts``). A card that already has notes from
    another document keeps them (``notes_kept``) unless ``replace_notes``.
    """
    now = clock.now()
    source = str(doc.path.resolve())
    with Session(store.engine, expire_on_commit=False) as session:
        if into is not None:
            linked: Deck | None = find_deck(session, into)
        else:
            linked = _linked_deck(session, doc) if link else None
        deck = linked if linked is not None else _own_deck(session, doc, source)
        report = ImportReport(
            path=one_line(str(doc.path)),
            kind=doc.kind,
            deck=deck.key,
            chapters=len(doc.chapters),
            items=doc.item_count,
            warnings=list(doc.warnings),
            dry_run=dry_run,
        )
        seen: set[str] = set()
        attached_ids: set[int] = set()
        deck_chapters = (
            session.exec(
                select(Chapter)
                .where(col(Chapter.deck_id) == deck.id)
                .order_by(col(Chapter.position))
            ).all()
            if linked
            else []
        )
        for pch in doc.chapters:
            target = _target_chapter(doc, pch, deck_chapters) if linked is not None else None
            if target is None:
                target = _upsert_chapter(
                    session,
                    deck,
                    {
                        "code": pch.code,
                        "title": pch.title,
                        "description": pch.description,
                        "position": pch.position + (1000 if linked else 0),
                    },
                )
            # Notes attach to the deck's essays from elsewhere (the shipped deck, another
            # document), never to drills or to this document's own cards.
            candidates = (
                session.exec(
                    select(Card).where(
                        Card.chapter_id == target.id,
                        col(Card.source_path).is_distinct_from(source),
                        Card.kind == "essay",
                        Card.retired == False,
                    )
                ).all()
                if linked
                else []
            )
            used_keys: set[str] = set()
            for item in pch.items:
                match = (
                    _match_item(doc, item, pch.code, candidates, attached_ids) if linked else None
                )
                if match is not None:
                    assert match.id is not None  # a stored card
                    attached_ids.add(match.id)
                    label = f"{_side(item.title)} → {_side(match.prompt)}"
                    report.labels[match.key] = label
                    other = _notes_document(match)
                    if match.notes and other not in (None, source) and not replace_notes:
                        report.notes_kept.append(match.key)
                        report.labels[f"kept {match.key}"] = (
                            f"{label} (notes from {Path(str(other)).name})"
                        )
                        continue
                    report.attached.append(match.key)
                    notes_values = {"notes": item.body, "notes_source": f"{source}:{item.line}"}
                    if _set(match, notes_values):
                        match.updated_at = now
                        report.attached_changed += 1
                    continue
                base = f"{deck.key}:{pch.code}:{slug(item.title)}"
                key, n = base, 2
                while key in used_keys:
                    key, n = f"{base}-{n}", n + 1
                used_keys.add(key)
                seen.add(key)
                if linked is not None:
                    report.mismatches.append(f"{pch.code}.{item.position} {item.title[:60]}")
                pos = item.position + (1000 if linked else 0)
                values = _own_item_values(doc, deck, target, pch, item, pos, english)
                _upsert_card(session, report, key, values, now)
        # cards this document created before but no longer contains
        for card in session.exec(
            select(Card).where(
                Card.source_path == source, Card.deck_id == deck.id, Card.retired == False
            )
        ).all():
            if card.key not in seen:
                report.removed.append(card.key)
                report.labels.setdefault(card.key, one_line(card.prompt))
                if retire:
                    card.retired = True
                    report.retired.append(card.key)
        noted = select(Card).where(
            col(Card.notes_source).like(f"{source}:%"), Card.deck_id == deck.id
        )
        for card in session.exec(noted).all():
            if card.id not in attached_ids:
                report.removed.append(f"notes of {card.key}")
                report.labels[f"notes of {card.key}"] = f"notes of {one_line(card.prompt)}"
                if retire:
                    card.notes, card.notes_source = None, None
                    report.retired.append(f"notes of {card.key}")
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


# ---------------------------------------------------------------- shipped content


def _import_content_deck(
    session: Session, parsed: ContentDeck, report: ImportReport, now: datetime
) -> None:
    deck = session.exec(select(Deck).where(Deck.key == parsed.key)).first()
    values: dict[str, Any] = {
        "name": parsed.name,
        "description": parsed.description,
        "position": parsed.position,
        "aliases": parsed.aliases,
        "source": "content",
        "source_path": None,
    }
    if deck is None:
        deck = Deck(key=parsed.key, **values)
        session.add(deck)
        session.flush()
    else:
        _set(deck, values)
    seen: set[str] = set()
    drill_parents: list[tuple[str, ContentDrill]] = []
    for cpos, pch in enumerate(parsed.chapters, start=1):
        chapter = _upsert_chapter(
            session,
            deck,
            {
                "code": pch.code,
                "title": pch.title,
                "title_zh": pch.title_zh,
                "description": pch.description,
                "position": cpos,
            },
        )
        for pos, card in enumerate(pch.cards, start=1):
            key = f"{parsed.key}:{card.id}"
            seen.add(key)
            _upsert_card(
                session,
                report,
                key,
                {
                    "deck_id": deck.id,
                    "chapter_id": chapter.id,
                    "position": pos,
                    "prompt": card.prompt,
                    "prompt_zh": card.prompt_zh,
                    "answer": card.answer,
                    "key_points": card.key_points,
                    "tags": card.tags,
                    "demos": card.demos,
                    "outline_ref": card.outline,
                    "source_title": card.source_title,
                    "source_path": "content",
                    "source_line": card.line,
                    "kind": "essay",
                    "parent_id": None,
                    "drill": None,
                    "note_check": parsed.note_checks.get(card.id),
                },
                now,
            )
        report.chapters += 1
        report.items += len(pch.cards)
        drill_parents.extend((f"{parsed.key}:{d.id}", d) for d in pch.drills)
    # A drill takes its parent's chapter and position, so it comes right after its essay
    # (new cards are ordered by position, then id).
    parents = {c.key: c for c in session.exec(select(Card).where(Card.deck_id == deck.id)).all()}
    for key, drill in drill_parents:
        seen.add(key)
        parent = parents[f"{parsed.key}:{drill.parent}"]
        _upsert_card(
            session,
            report,
            key,
            {
                "deck_id": deck.id,
                "chapter_id": parent.chapter_id,
                "position": parent.position,
                "prompt": drill.prompt,
                "prompt_zh": drill.prompt_zh,
                "answer": drill.answer,
                "key_points": [],
                "tags": drill.tags,
                "demos": [],
                "outline_ref": parent.outline_ref,
                "source_title": None,
                "source_path": "content",
                "source_line": drill.line,
                "kind": drill.kind,
                "parent_id": parent.id,
                "drill": drill.drill,
            },
            now,
        )
        report.items += 1
    for stale in session.exec(
        select(Card).where(
            Card.deck_id == deck.id, Card.source_path == "content", Card.retired == False
        )
    ).all():
        if stale.key not in seen:
            stale.retired = True
            report.removed.append(stale.key)
            report.retired.append(stale.key)


def import_content(
    store: Store,
    root: Path,
    *,
    dry_run: bool = False,
    errors: list[str] | None = None,
    only: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ImportReport]:
    """Load every deck folder under ``root``; each deck in its own transaction.

    With ``errors`` given, a deck that fails to parse is reported there and skipped;
    otherwise the error propagates. ``progress`` hears a line before each deck
    ("1/3: exam-b").
    """
    reports = []
    directories = [only] if only is not None else find_deck_dirs(root)
    for number, directory in enumerate(directories, 1):
        if progress is not None:
            progress(f"{number}/{len(directories)}: {one_line(directory.name)}")
        try:
            parsed = parse_deck_dir(directory)
        except ImportError_ as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        report = ImportReport(
            path=one_line(str(directory)),
            kind="content",
            deck=parsed.key,
            dry_run=dry_run,
        )
        with Session(store.engine, expire_on_commit=False) as session:
            _import_content_deck(session, parsed, report, clock.now())
            if dry_run:
                session.rollback()
            else:
                session.commit()
        reports.append(report)
    return reports


def sync_content(
    store: Store,
    root: Path | None = None,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[ImportReport], list[str]]:
    """Load the shipped deck when it changed since the last sync (fingerprint in ``meta``).

    Returns the reports and the errors of decks that failed to parse (those are skipped and
    retried next time, so a broken file never locks the learner out).
    """
    from labdeck import config

    root = root or config.content_dir()
    if not root.exists():
        return [], []
    if not force and not content_changed(store, root):
        return [], []
    fingerprint = content_fingerprint(root)
    errors: list[str] = []
    reports = import_content(store, root, errors=errors, progress=progress)
    if not errors:
        record_fingerprint(store, fingerprint)
    return reports, errors
