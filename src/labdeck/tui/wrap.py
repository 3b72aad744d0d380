"""Rich's word wrap with the CJK line-breaking rule (kinsoku) added.

Rich breaks a run of Chinese anywhere, so a line could start with "，" or "。" and end with
"（". ``wrap`` takes Rich's own break offsets (``rich._wrap.divide_line``, as ``Text.wrap``
does) and moves a break that would start a line with closing punctuation, or end one with an
opening bracket, back before the character it must stay with; the rest of the paragraph is
then wrapped again from there. Lines without such a break cost one look at each break.
"""

from __future__ import annotations

from rich._wrap import divide_line
from rich.console import Console
from rich.containers import Lines
from rich.text import Text

# Never at the start of a line: closing punctuation (full width, then ASCII).
NO_LINE_START = frozenset("，。、；：！？）」』】〉》〕］｝”’…‥·・ー～%,.;:!?)]}")
# Never at the end of a line: opening brackets and quotes.
NO_LINE_END = frozenset("（「『【〈《〔［｛“‘([{")


def _bad(text: str, at: int) -> bool:
    """A break before ``text[at]`` that the rule forbids (after a space is always fine)."""
    before = text[at - 1]
    return (text[at] in NO_LINE_START and not before.isspace()) or before in NO_LINE_END


def _in_word(text: str, at: int) -> bool:
    """A break inside a Latin word or number."""
    a, b = text[at - 1], text[at]
    return a.isascii() and a.isalnum() and b.isascii() and b.isalnum()


def breaks(text: str, width: int, fold: bool = True) -> list[int]:
    """Rich's break offsets for one paragraph, moved so no line starts with closing
    punctuation or ends with an opening bracket (where the line has room to move it)."""
    offsets = divide_line(text, width, fold=fold)
    if not any(_bad(text, at) for at in offsets):
        return offsets
    out: list[int] = []
    pending = offsets
    while pending:
        at = pending[0]
        low = (out[-1] if out else 0) + 1  # a line keeps at least one character
        moved = at
        # back over the punctuation and what it stays with (a whole Latin word too)
        while moved > low and (_bad(text, moved) or (moved != at and _in_word(text, moved))):
            moved -= 1
        if moved == at or _bad(text, moved) or _in_word(text, moved):  # fine, or no room: as Rich
            out.append(at)
            pending = pending[1:]
            continue
        out.append(moved)
        pending = [moved + rest for rest in divide_line(text[moved:], width, fold=fold)]
    return out


def wrap(text: Text, console: Console, width: int, *, overflow: str | None = None) -> Lines:
    """``text.wrap(console, width, overflow=…)`` with ``breaks`` for the line ends."""
    if text.no_wrap or overflow == "ignore":
        return text.wrap(console, width, overflow=overflow)  # type: ignore[arg-type]
    wrap_overflow = overflow or text.overflow or "fold"
    lines = Lines()
    for line in text.split(allow_blank=True):
        if "\t" in line:
            line.expand_tabs(8)
        new_lines = line.divide(breaks(str(line), width, fold=wrap_overflow == "fold"))
        for part in new_lines:
            part.rstrip_end(width)
        justify = text.justify or "default"
        new_lines.justify(console, width, justify=justify, overflow=wrap_overflow)  # type: ignore[arg-type]
        for part in new_lines:
            part.truncate(width, overflow=wrap_overflow)  # type: ignore[arg-type]
        lines.extend(new_lines)
    return lines
