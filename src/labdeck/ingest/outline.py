"""Exam-outline documents: ``# B2 Chapter`` / ``## item`` with the learner's notes under each item.

Rules (see the issue and tests/ingest): front matter ``title`` names the deck; text before
``<!-- more -->`` (or before the first chapter) is an intro and ignored; ``###`` and deeper
headings fold into their parent item's notes; headings in fenced code are text. Plain notes with
``## question`` headings and no chapter codes import too: the items before the first ``#``
heading form one chapter named after the document (``CH1``), and each uncoded ``#`` heading
starts another.
"""

from __future__ import annotations

import re
from pathlib import Path

from labdeck.ingest.common import (
    ImportError_,
    ParsedChapter,
    ParsedDocument,
    ParsedItem,
    bound_items,
    clean_text,
    images_as_references,
    tidy_block,
)
from labdeck.ingest.markdown_lines import front_matter, scan

_CHAPTER = re.compile(r"^([A-Za-z]{1,4}\d{1,3}(?:\.\d+)?)[\s.:：、-]+(.+)$")
MORE = "<!-- more -->"


def looks_like_outline(text: str) -> bool:
    return bool(re.search(r"^# +[A-Za-z]{1,4}\d{1,3}\b", text, re.M)) and bool(
        re.search(r"^## +\S", text, re.M)
    )


def looks_like_headed_notes(path: Path, text: str) -> bool:
    """Plain notes: ``## question`` headings outside code (an unclosed fence is reported
    by the parse, naming the file and line)."""
    try:
        return any(line.heading_level == 2 for line in scan(path, text, 0))
    except ImportError_:
        return True


def parse_outline(path: Path, text: str, *, implicit_chapter: bool = False) -> ParsedDocument:
    """``implicit_chapter``: the document has no coded chapters (``# B1 …``), only items, so
    the items before its first ``#`` heading form one chapter named after the document."""
    meta, start = front_matter(path, text)
    lines = text.split("\n")
    more = next((i for i in range(start, len(lines)) if lines[i].strip() == MORE), None)
    if more is not None:
        start = more + 1
    title = clean_text(meta.get("title", "")).strip() or clean_text(path.stem).strip() or "outline"

    chapters: list[ParsedChapter] = []
    chapter: ParsedChapter | None = None
    item: ParsedItem | None = None
    body: list[str] = []
    desc: list[str] = []

    def close_item() -> None:
        nonlocal item, body
        if item is not None:
            item.body = tidy_block(body)
            if item.body:
                item.body = images_as_references(item.body)
        item, body = None, []

    def close_description() -> None:
        if chapter is not None and not chapter.items:
            chapter.description = tidy_block(desc) or ""

    for line in scan(path, text, start):
        if line.heading_level == 1:
            close_item()
            close_description()
            match = _CHAPTER.match(line.heading_text)
            if match:
                code, name = match.group(1).upper(), match.group(2).strip()
            else:
                code, name = f"CH{len(chapters) + 1}", line.heading_text
            if any(c.code == code for c in chapters):
                raise ImportError_(path, line.number, f"chapter code {code} appears twice")
            chapter = ParsedChapter(code, clean_text(name), "", line.number, len(chapters) + 1)
            chapters.append(chapter)
            desc = []
        elif line.heading_level == 2:
            close_item()
            if chapter is None and implicit_chapter and line.heading_text:
                chapter = ParsedChapter("CH1", title, "", line.number, 1)
                chapters.append(chapter)
            if chapter is None:
                if not line.heading_text:
                    continue
                raise ImportError_(
                    path,
                    line.number,
                    f"item '{line.heading_text}' comes before any chapter "
                    "(expected a '# B1 Chapter title' heading first)",
                )
            close_description()
            if not line.heading_text:
                raise ImportError_(path, line.number, "empty item heading (expected '## Title')")
            item = ParsedItem(
                clean_text(line.heading_text), None, line.number, len(chapter.items) + 1
            )
            chapter.items.append(item)
        elif item is not None:
            body.append(line.text)
        elif chapter is not None:
            desc.append(line.text)
    close_item()
    close_description()
    if not chapters:
        raise ImportError_(path, None, "no chapters found (expected '# B1 Chapter title' headings)")
    return bound_items(ParsedDocument(path, "outline", title, chapters))
