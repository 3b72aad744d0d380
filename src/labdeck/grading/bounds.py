"""How much text the grader embeds: a cap per text, so a huge paste cannot hang grading.

Grading cost grows with the number of clauses and sentences (each is embedded and compared):
a 1 MB answer took 56 s and 1.95 GB, a 1 MB reference over 10 minutes. Each text the grader
reads (answer, reference, notes) is cut to at most ``MAX_GRADED_CHARS`` characters before
anything else happens: the first 40 %, the last 40 % and evenly spaced samples of the middle
(20 %), each cut at sentence ends where there are some. Key points are capped in number and
length. What was cut is reported in the result (``GradeResult.capped``).

Limits from measurement: the longest shipped reference answer is 1,352 characters (the learner's
seed Q&A: 1,368; the grading data sets: 1,021), so 6,000 is over 4x the longest real reference.
Shipped cards have at most 6 key points, the longest 129 characters: caps 24 and 600 (4x).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_GRADED_CHARS = 6_000
MAX_KEY_POINTS = 24
MAX_KEY_POINT_CHARS = 600
HEAD_SHARE = TAIL_SHARE = 0.4
SAMPLES = 4  # evenly spaced windows from the middle, sharing the remaining 20 %

_SENTENCE_END = re.compile(r"(?<=[.!?;。！？；])\s+|\n+")


@dataclass(frozen=True)
class InputCap:
    """One text the grader cut: which, how long it was, how much was graded."""

    field: str  # answer | reference | notes | key_points | key_point
    chars: int  # characters given (key_points: how many; key_point: the longest one)
    kept: int  # characters graded (key_points: how many)
    limit: int

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "chars": self.chars, "kept": self.kept, "limit": self.limit}

    def describe(self) -> str:
        if self.field == "key_points":
            return f"{self.chars} key points given; graded the first {self.kept} (cap {self.limit})"
        if self.field == "key_point":
            return f"a key point is {self.chars:,} characters; graded its first {self.kept:,}"
        return (
            f"the {self.field} is {self.chars:,} characters; graded {self.kept:,} of them "
            f"(its start, {SAMPLES} samples of the middle and its end; cap {self.limit:,})"
        )


def _head(text: str, size: int) -> str:
    """At most ``size`` characters from the start, ending at a sentence end when one is in the
    second half of the window (else at a space, else hard)."""
    window = text[:size]
    if len(text) <= size:
        return window
    ends = [m.start() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= size // 2:
        return window[: ends[-1]]
    space = window.rfind(" ")
    return window[:space] if space >= size // 2 else window


def _tail(text: str, size: int) -> str:
    """At most ``size`` characters from the end, starting at a sentence start when possible."""
    window = text[-size:] if size else ""
    if len(text) <= size:
        return window
    match = _SENTENCE_END.search(window)
    if match and match.end() <= size // 2:
        return window[match.end() :]
    space = window.find(" ")
    return window[space + 1 :] if 0 <= space <= size // 2 else window


def bound_text(text: str, field: str, limit: int = MAX_GRADED_CHARS) -> tuple[str, InputCap | None]:
    """``text`` itself when it fits, else its start, middle samples and end (under ``limit``)."""
    if len(text) <= limit:
        return text, None
    head_size, tail_size = int(limit * HEAD_SHARE), int(limit * TAIL_SHARE)
    sample_size = (limit - head_size - tail_size) // SAMPLES
    middle = text[head_size:-tail_size]
    pieces = [_head(text, head_size)]
    step = len(middle) / SAMPLES
    for k in range(SAMPLES):
        start = int(k * step + (step - sample_size) / 2)
        window = middle[max(start, 0) :]
        # start the sample after a sentence end when one is near, then keep whole sentences
        match = _SENTENCE_END.search(window[: sample_size // 2])
        if match:
            window = window[match.end() :]
        pieces.append(_head(window, sample_size))
    pieces.append(_tail(text, tail_size))
    kept = "\n".join(p.strip() for p in pieces if p.strip())
    return kept, InputCap(field, len(text), len(kept), limit)


def bound_key_points(points: list[str]) -> tuple[list[str], list[InputCap]]:
    """At most ``MAX_KEY_POINTS`` key points, each at most ``MAX_KEY_POINT_CHARS`` long."""
    caps = []
    if len(points) > MAX_KEY_POINTS:
        caps.append(InputCap("key_points", len(points), MAX_KEY_POINTS, MAX_KEY_POINTS))
    points = points[:MAX_KEY_POINTS]
    longest = max((len(p) for p in points), default=0)
    if longest > MAX_KEY_POINT_CHARS:
        kept = max(len(_head(p, MAX_KEY_POINT_CHARS)) for p in points)
        caps.append(InputCap("key_point", longest, kept, MAX_KEY_POINT_CHARS))
    return [_head(p, MAX_KEY_POINT_CHARS) for p in points], caps
