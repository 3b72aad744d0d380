"""One way in for every import: what a path is, parsed whole before anything is written.

``labdeck import`` and the TUI's Import screen both call ``parse_source`` then
``import_source``, so they take the same formats and report the same ``file:line`` errors:

* a folder with a ``deck.toml``: a content deck (``labdeck.ingest.deckfile``);
* ``.apkg`` / ``.colpkg``: an Anki package (``labdeck.ingest.anki``);
* ``.csv`` / ``.tsv``: Anki-style text (``labdeck.ingest.csvfile``);
* anything else: an outline or interview Q&A document, told apart by its content
  (``labdeck.ingest.load.detect_and_parse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from labdeck.ingest.common import ImportError_, ParsedDocument

if TYPE_CHECKING:  # the parsers and the store load on first use: the TUI imports this module
    from labdeck.ingest.external import ExternalDeck
    from labdeck.ingest.load import ImportReport
    from labdeck.ingest.prompts import EnglishTerms
    from labdeck.store import Store

ANKI_SUFFIXES = (".apkg", ".colpkg")
CSV_SUFFIXES = (".csv", ".tsv")
FOREIGN_SUFFIXES = ANKI_SUFFIXES + CSV_SUFFIXES


@dataclass
class ParsedSource:
    """One parsed piece of a path: a content deck folder (parsed again as it is written, in
    its own transaction), a deck from another program, or a learner document."""

    kind: Literal["content", "foreign", "doc"]
    item: Path | ExternalDeck | ParsedDocument


def is_content_folder(path: Path) -> bool:
    return path.is_dir() and (path / "deck.toml").exists()


def parse_source(path: Path, rollover_hour: int = 4) -> list[ParsedSource]:
    """Parse ``path`` whole (``ImportError_`` naming ``file:line`` when it cannot be);
    ``rollover_hour`` places the study days of an Anki/CSV file's review history."""
    from labdeck.ingest.deckfile import parse_deck_dir
    from labdeck.ingest.load import detect_and_parse

    if is_content_folder(path):
        parse_deck_dir(path)  # validate before touching the database
        return [ParsedSource("content", path)]
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        from labdeck.ingest.csvfile import parse_csv

        return [ParsedSource("foreign", deck) for deck in parse_csv(path, rollover_hour)]
    if suffix in ANKI_SUFFIXES:
        from labdeck.ingest.anki import parse_anki_package

        decks = parse_anki_package(path, rollover_hour)
        if not decks:  # empty, or only notes of kinds labdeck cannot study
            raise ImportError_(path, None, "no cards: the package has none labdeck can import")
        return [ParsedSource("foreign", deck) for deck in decks]
    return [ParsedSource("doc", detect_and_parse(path))]


def import_source(
    store: Store,
    source: ParsedSource,
    *,
    dry_run: bool = False,
    retire: bool = False,
    link: bool = True,
    into: str | None = None,
    english: EnglishTerms | None = None,
    replace_notes: bool = False,
) -> list[ImportReport]:
    """Write one parsed source (rolled back for a dry run). The options after ``dry_run``
    are a learner document's (``import_document``); deck folders and Anki/CSV decks bring
    their own decks and ignore them."""
    from labdeck.ingest.load import import_content, import_document

    if source.kind == "content":
        assert isinstance(source.item, Path)
        return import_content(store, source.item.parent, dry_run=dry_run, only=source.item)
    if source.kind == "foreign":
        from labdeck.ingest.external import ExternalDeck, store_external

        assert isinstance(source.item, ExternalDeck)
        return [store_external(store, source.item, dry_run=dry_run)]
    assert isinstance(source.item, ParsedDocument)
    report = import_document(
        store,
        source.item,
        dry_run=dry_run,
        retire=retire,
        link=link,
        into=into,
        english=english,
        replace_notes=replace_notes,
    )
    return [report]
