"""A key point's span as the learner wrote it.

The grader cuts answers into pieces after normalising them (NFKC width folding: "，" becomes
",", "ＡＩ" becomes "AI"; Markdown marks and spacing squeezed), so a span read back from a piece
is not the learner's text; and a clause glued to its short neighbour lost the comma between
them. ``as_written`` finds the span in the original answer, comparing the two with those
differences folded away, and returns the original characters; a span it cannot place is
returned as it is.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_IGNORED = frozenset("*_`#>")  # light Markdown the cleaner drops
# What the segmenter cuts clauses at and drops when it glues a short one to its neighbour with
# a space ("x,y" read back as "x y"; "，" and "：" are "," and ":" once width is folded)
_SEPARATORS = frozenset(",、:-—–")


@lru_cache(maxsize=16)  # one answer is searched once per key point
def _folded(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` with width folded and spaces and Markdown marks dropped, and for each of its
    characters the index in ``text`` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch):
            if (
                out.isspace()
                or out in _IGNORED
                or out in _SEPARATORS
                or unicodedata.category(out).startswith("C")
            ):
                continue
            chars.append(out.casefold())
            origin.append(i)
    return "".join(chars), tuple(origin)


def as_written(answer: str, span: str | None) -> str | None:
    """The part of ``answer`` that ``span`` (a normalised piece of it) was cut from."""
    if not span:
        return span
    wanted, _ = _folded(span)
    if not wanted:
        return span
    haystack, origin = _folded(answer)
    at = haystack.find(wanted)
    if at < 0:
        return span
    start, end = origin[at], origin[at + len(wanted) - 1] + 1
    return answer[start:end]
