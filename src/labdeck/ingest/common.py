"""Shared pieces of the importers: reading files safely, cleaning text, stable keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Text cleaning lives below the store (textfmt); importers use it through here too.
from labdeck.ingest.paragraphs import unwrap_paragraphs
from labdeck.textfmt import clean_text as clean_text
from labdeck.textfmt import one_line as one_line
from labdeck.textfmt import to_simplified


class ImportError_(ValueError):
    """A document that cannot be imported. ``str()`` is a one-line message naming file:line.

    The path and message are cleaned (``one_line``): a message may quote the document's own
    text or a hostile file name, and it ends up on a terminal.
    """

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = one_line(str(path))
        self.line = line
        self.message = one_line(message)
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {self.message}")


ParseError = ImportError_


def read_document(path: Path) -> str:
    """Read a UTF-8 text file, refusing empty, binary and non-UTF-8 input with a clear message."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportError_(path, None, "no such file") from None
    except IsADirectoryError:
        raise ImportError_(path, None, "is a directory") from None
    except OSError as exc:
        raise ImportError_(path, None, f"cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise ImportError_(path, None, "file is empty")
    if b"\x00" in raw[:8192]:
        raise ImportError_(path, None, "binary file (contains NUL bytes), expected UTF-8 text")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportError_(path, line, "not valid UTF-8 text") from None
    return clean_text(text)  # every importer reads through here: nothing raw gets further


def slug(text: str, limit: int = 48) -> str:
    """A readable, stable key fragment: lowercase words joined by '-', CJK kept."""
    norm = unicodedata.normalize("NFKC", text).lower()
    norm = re.sub(r"[`*_$\\]", "", norm)
    parts = re.findall(r"[\w\u4e00-\u9fff]+", norm)
    value = "-".join(parts) or "item"
    if len(value) > limit:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
        value = value[: limit - 7].rstrip("-") + "~" + digest
    return value


def fold(text: str) -> str:
    """Normalise a title for comparison: width, case, script (traditional Chinese to
    simplified) and spacing folded."""
    norm = unicodedata.normalize("NFKC", to_simplified(text)).casefold()
    return re.sub(r"[\s*_`]+", "", norm)


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def images_as_references(text: str) -> str:
    """Images are kept as a reference to the file, not rendered."""
    return _IMAGE.sub(lambda m: f"[image: {m.group(1) or 'figure'} — {m.group(2)}]", text)


def tidy_block(lines: list[str]) -> str | None:
    """Join body lines, trim blank edges and common indentation, join each hard-wrapped
    paragraph into one line (``paragraphs``); None when nothing is left."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    indents = [len(x) - len(x.lstrip(" ")) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    body = "\n".join(x[cut:] if len(x) >= cut else x.lstrip(" ") for x in lines)
    body = unwrap_paragraphs(re.sub(r"\n{3,}", "\n\n", body))
    return clean_text(body).strip() or None


# Import limits (characters). The longest shipped reference answer is 1,352 characters and the
# longest answer in the learner's seed Q&A 1,368; a body (answer or notes) may be ~15x that, a
# title or question ~1.5x. Longer text is cut at a line or sentence end, marked, and reported
# as a warning naming file:line; the rest of the document imports normally.
MAX_BODY_CHARS = 20_000
MAX_TITLE_CHARS = 2_000
TRUNCATED_MARK = " [… truncated on import]"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (mark included) at a line, sentence or word
    end when one is near the limit."""
    if len(text) <= limit:
        return text
    room = limit - len(TRUNCATED_MARK)
    head = text[:room]
    for sep in ("\n", ". ", "。", " "):
        cut = head.rfind(sep)
        if cut >= room * 0.8:
            head = head[: cut + (1 if sep != "\n" else 0)]
            break
    return head.rstrip() + TRUNCATED_MARK


def within_limit(text: str, limit: int, where: str, what: str, warnings: list[str]) -> str:
    """``text`` cut to ``limit`` characters (see ``truncate``), with a warning when it was cut."""
    if len(text) <= limit:
        return text
    warnings.append(f"{where}: {what} of {len(text):,} characters cut to {limit:,} (import limit)")
    return truncate(text, limit)


def bound_items(doc: ParsedDocument) -> ParsedDocument:
    """Apply the import limits to every item of ``doc``, adding a warning for each cut."""
    where = one_line(str(doc.path))
    for chapter in doc.chapters:
        for item in chapter.items:
            here = f"{where}:{item.line}"
            item.title = within_limit(
                item.title, MAX_TITLE_CHARS, here, "question/title", doc.warnings
            )
            if item.body is not None:
                item.body = within_limit(
                    item.body, MAX_BODY_CHARS, here, "answer/notes", doc.warnings
                )
    return doc


@dataclass
class ParsedItem:
    title: str
    body: str | None
    line: int
    position: int
    number: int | None = None  # the question's own number (Q&A)


@dataclass
class ParsedChapter:
    code: str
    title: str
    description: str
    line: int
    position: int
    items: list[ParsedItem] = field(default_factory=list)


@dataclass
class ParsedDocument:
    path: Path
    kind: str  # outline | qa
    title: str
    chapters: list[ParsedChapter]
    warnings: list[str] = field(default_factory=list)  # "file:line: message", imported anyway

    @property
    def item_count(self) -> int:
        return sum(len(c.items) for c in self.chapters)
