"""Interview Q&A documents: ``##``/``###`` sections, numbered questions, answer bullets.

A question is a numbered line at column 0 (``1. Q``, ``1. **Q**``, ``**1.** Q``, ``**4. Q**``),
any number of digits. Its answer is the text under the ``- Answer:`` / ``- 答案:`` / ``- 回答`` bullet up to a ``---``
separator or the next question. Inside an answer, a column-0 numbered line only starts a new
question when its own answer bullet follows it (in a document without answer bullets: when it
continues the numbering) or it follows a separator; indented lists never do. Numbering that
goes backwards within a section (``5.`` after ``7.``) is imported as written and reported as a
warning naming file:line.
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
    one_line,
    tidy_block,
)
from labdeck.ingest.markdown_lines import front_matter, scan

_QUESTION = re.compile(
    r"^(?:"
    r"\*\*(?P<a>\d+)[.)、]\*\*[ \t]*(?P<ta>.+)"  # **1.** Q
    r"|\*\*(?P<b>\d+)[.)、][ \t]+(?P<tb>.+)"  # **4. Q**
    r"|(?P<c>\d+)[.)、][ \t]+(?P<tc>.+)"  # 1. Q   /  1. **Q**
    r")$"
)
_ANSWER = re.compile(
    r"^[ \t]{0,3}[-*+][ \t]+(?:\*\*)?"
    r"(?:(?:answer(?![a-z])|答案|回答|解答)(?:\*\*)?[ \t]*(?:\*\*)?[:：]?"  # colon optional
    r"|(?:a|答)(?:\*\*)?[ \t]*(?:\*\*)?[:：])"  # short forms need the colon
    r"(?:\*\*)?[:：]?[ \t]*(?P<rest>.*)$",
    re.I,
)
_SEPARATOR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def _question(line: str) -> tuple[int, str] | None:
    match = _QUESTION.match(line.rstrip())
    if not match:
        return None
    number = int(match.group("a") or match.group("b") or match.group("c"))
    text = match.group("ta") or match.group("tb") or match.group("tc")
    text = re.sub(r"^\*+|\*+$", "", text.strip()).strip()
    text = re.sub(r"\*{2,}", "", text).strip()
    return (number, clean_text(text)) if text else None


def looks_like_qa(text: str) -> bool:
    questions = sum(1 for line in text.split("\n") if _question(line))
    answers = sum(1 for line in text.split("\n") if _ANSWER.match(line))
    return questions >= 1 and answers >= 1


def parse_qa(path: Path, text: str) -> ParsedDocument:
    meta, start = front_matter(path, text)
    title = clean_text(meta.get("title", "")).strip()
    stem = clean_text(path.stem).strip() or "document"
    chapters: list[ParsedChapter] = []
    warnings: list[str] = []
    chapter: ParsedChapter | None = None
    item: ParsedItem | None = None
    state = "none"  # none | question | answer | closed
    extra: list[str] = []  # lines between question and answer bullet
    body: list[str] = []

    def close_item() -> None:
        nonlocal item, body, extra, state
        if item is not None:
            answer = tidy_block(body) if state in ("answer", "closed") else None
            if answer is None:
                answer = tidy_block(extra)  # no answer bullet: the text under the question
            elif tidy_block(extra):
                item.title = f"{item.title}\n\n{tidy_block(extra)}"
            item.body = images_as_references(answer) if answer else None
        item, body, extra, state = None, [], [], "none"

    lines = text.split("\n")
    uses_bullets = any(_ANSWER.match(raw) for raw in lines)

    def answer_follows(index: int) -> bool:
        """An answer bullet comes after line ``index`` before the next question or heading."""
        for raw in lines[index + 1 :]:
            if _ANSWER.match(raw):
                return True
            if raw.startswith("#") or _question(raw) or _SEPARATOR.match(raw):
                return False
        return False

    for line in scan(path, text, start):
        if line.heading_level:
            close_item()
            if line.heading_level == 1:
                title = title or clean_text(line.heading_text)
                continue
            name = clean_text(line.heading_text)
            chapter = ParsedChapter(
                f"S{len(chapters) + 1}", name, "", line.number, len(chapters) + 1
            )
            chapters.append(chapter)
            continue
        if line.in_code:
            (body if state == "answer" else extra).append(line.text)
            continue
        question = _question(line.text)
        if question is not None:
            number, qtext = question
            last = item.number if item is not None else None
            continues = last is not None and number == last + 1
            starts = (
                item is None
                or state in ("closed", "question")
                or (uses_bullets and answer_follows(line.number - 1))  # its own answer bullet
                or (continues and not uses_bullets)
            )
            if starts:
                close_item()
                if chapter is None:
                    chapter = ParsedChapter("S1", title or stem, "", line.number, 1)
                    chapters.append(chapter)
                previous = chapter.items[-1].number if chapter.items else None
                if previous is not None and number <= previous:
                    warnings.append(
                        f"{one_line(str(path))}:{line.number}: question {number} follows question {previous} "
                        "(numbering goes backwards; imported as written)"
                    )
                item = ParsedItem(qtext, None, line.number, len(chapter.items) + 1, number)
                chapter.items.append(item)
                state = "question"
                continue
        if item is None:
            if chapter is not None and not chapter.items and clean_text(line.text).strip():
                chapter.description = (
                    chapter.description + "\n" + clean_text(line.text).strip()
                ).strip()
            continue
        if _SEPARATOR.match(line.text):
            state = "closed" if state == "answer" else state
            continue
        if state == "question":
            answer = _ANSWER.match(line.text)
            if answer:
                state = "answer"
                rest = answer.group("rest").strip()
                rest = re.sub(r"^\*+[:：]?\*+", "", rest).strip()
                if rest:
                    body.append(rest)
                continue
            extra.append(line.text)
        elif state == "answer":
            body.append(line.text)
    close_item()
    chapters = [c for c in chapters if c.items]
    for position, chapter in enumerate(chapters, start=1):
        chapter.position = position
        chapter.code = f"S{position}"
    if not chapters:
        raise ImportError_(path, None, "no numbered questions found (expected '1. Question')")
    return bound_items(ParsedDocument(path, "qa", title or stem, chapters, warnings))
