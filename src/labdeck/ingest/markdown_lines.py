"""Line-level Markdown scanning shared by the importers: headings outside fenced code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labdeck.ingest.common import ImportError_

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:#+[ \t]*)?$")


@dataclass
class Line:
    number: int  # 1-based
    text: str
    in_code: bool
    heading_level: int = 0
    heading_text: str = ""


def scan(path: Path, text: str, start: int = 0) -> Iterator[Line]:
    """Yield lines from index ``start`` with heading info; fenced code blocks are never headings."""
    lines = text.split("\n")
    fence: str | None = None
    fence_line = 0
    for index in range(start, len(lines)):
        raw = lines[index]
        number = index + 1
        match = _FENCE.match(raw)
        if fence is None and match:
            fence, fence_line = match.group(1), number
            yield Line(number, raw, True)
            continue
        if fence is not None:
            marker = match.group(1) if match else ""
            closing = bool(marker) and marker[0] == fence[0] and len(marker) >= len(fence)
            if closing and not raw.strip()[len(marker) :].strip():
                fence = None
            yield Line(number, raw, True)
            continue
        heading = _HEADING.match(raw)
        if heading:
            yield Line(number, raw, False, len(heading.group(1)), heading.group(2).strip())
        else:
            yield Line(number, raw, False)
    if fence is not None:
        raise ImportError_(
            path, fence_line, f"code block opened here is never closed (expected {fence})"
        )


def front_matter(path: Path, text: str) -> tuple[dict[str, str], int]:
    """Parse a leading YAML front matter block (top-level ``key: value`` pairs only).

    Returns the pairs and the index of the first line after the block.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            pairs: dict[str, str] = {}
            for raw in lines[1:index]:
                m = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", raw)
                if m:
                    value = m.group(2).strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                        value = value[1:-1]
                    pairs[m.group(1).lower()] = value
            return pairs, index + 1
    raise ImportError_(
        path, 1, "front matter starts with '---' but is never closed (expected '---')"
    )
