"""Shared pieces of the importers: reading files safely, cleaning text, stable keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


class ImportError_(ValueError):
    """A document that cannot be imported. ``str()`` is a one-line message naming file:line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


ParseError = ImportError_

# ANSI CSI/OSC/other escape sequences, then any remaining C0/C1 control except \n and \t.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS/SOS/PM/APC
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Strip terminal control sequences and control characters (newline and tab survive)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


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
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    """Normalise a title for comparison: width, case and spacing folded."""
    norm = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s*_`]+", "", norm)


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def images_as_references(text: str) -> str:
    """Images are kept as a reference to the file, not rendered."""
    return _IMAGE.sub(lambda m: f"[image: {m.group(1) or 'figure'} — {m.group(2)}]", text)


def tidy_block(lines: list[str]) -> str | None:
    """Join body lines, trim blank edges and common indentation; None when nothing is left."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    indents = [len(x) - len(x.lstrip(" ")) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    body = "\n".join(x[cut:] if len(x) >= cut else x.lstrip(" ") for x in lines)
    body = re.sub(r"\n{3,}", "\n\n", body)
    return clean_text(body).strip() or None


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

    @property
    def item_count(self) -> int:
        return sum(len(c.items) for c in self.chapters)
