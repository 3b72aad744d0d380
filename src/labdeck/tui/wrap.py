"""Rich's word wrap with CJK line breaking added: a break between any two CJK characters, and
the CJK rule on punctuation (kinsoku).

Rich breaks only at spaces, so a run of Chinese is one "word": after "Answer: " the whole run
moved to the next line, leaving the rest of the first line empty. ``divide_line`` is Rich's
greedy fill (``rich._wrap.divide_line``) with each CJK character a word of its own, as Unicode's
line breaking (UAX #14) allows a break before and after an ideograph. ``breaks`` then moves a
break that would start a line with closing punctuation, or end one with an opening bracket,
back before the character it must stay with; the lines after it are wrapped again from there.
A paragraph without such a break costs one look at each break.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich._loop import loop_last
from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.containers import Lines
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

# Never at the start of a line: closing punctuation (full width, then ASCII).
NO_LINE_START = frozenset("，。、；：！？）」』】〉》〕］｝”’…‥·・ー～%,.;:!?)]}")
# Never at the end of a line: opening brackets and quotes.
NO_LINE_END = frozenset("（「『【〈《〔［｛“‘([{")

# Characters a line may break before or after, even with no space: CJK ideographs, kana, hangul,
# CJK and full-width punctuation and forms.
_CJK = "\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
_OPEN = re.escape("".join(sorted(NO_LINE_END)))
_CLOSE = re.escape("".join(sorted(NO_LINE_START)))
# A word: one CJK character or a run of other non-spaces, with the opening brackets before it
# and the closing punctuation after it (which a break must not part from it), then spaces.
_WORD = re.compile(rf"\s*[{_OPEN}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSE}]*\s*")


def _words(text: str) -> Iterator[tuple[int, str]]:
    """Rich's words (a word and the spaces after it), each CJK character a word of its own
    (with the punctuation it stays with)."""
    match = _WORD.match(text)
    while match is not None:
        yield match.start(), match.group(0)
        match = _WORD.match(text, match.end())


def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
    """Offsets to break ``text`` at so each line fits ``width`` cells: Rich's greedy fill
    (a word that fits goes on the line, one longer than a line is folded when ``fold``)."""
    offsets: list[int] = []
    used = 0
    for start, word in _words(text):
        length = cell_len(word.rstrip())
        if width - used >= length:
            used += cell_len(word)
        elif length > width:
            if fold:
                at = start
                for last, piece in loop_last(chop_cells(word, width)):
                    if at:
                        offsets.append(at)
                    if last:
                        used = cell_len(piece)
                    else:
                        at += len(piece)
            else:
                if start:
                    offsets.append(start)
                used = cell_len(word)
        elif used and start:
            offsets.append(start)
            used = cell_len(word)
    return offsets


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
    # Line by line from here: Rich's next break from where the line starts, read in a window
    # of two lines and a bit (a line holds at most ``width`` characters of one cell or more,
    # and a word that crosses its end is still longer than a line in the window, so folded
    # as Rich folds it): a moved break costs one short look, not a new wrap of the rest.
    window = 2 * width + 2
    out: list[int] = []
    start = 0
    while True:
        following = divide_line(text[start : start + window], width, fold=fold)
        if not following:
            if start + window < len(text):  # zero-width characters: the rest as Rich has it
                out += [start + at for at in divide_line(text[start:], width, fold=fold)]
            return out
        at = start + following[0]
        # back over the punctuation and what it stays with (a whole Latin word too)
        moved = at
        while moved > start + 1 and (_bad(text, moved) or (moved != at and _in_word(text, moved))):
            moved -= 1
        if moved != at and not _bad(text, moved) and not _in_word(text, moved):
            at = moved  # else a line of punctuation only, or no room: as Rich has it
        out.append(at)
        start = at


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


class Wrapped:
    """A ``Text`` that a ``Static`` draws with ``wrap`` (CJK breaks, kinsoku) in place of Rich's
    own word wrap; ``str()`` is its plain text."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text.plain

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in wrap(self.text, console, options.max_width):
            yield from line.render(console)
            yield Segment.line()
