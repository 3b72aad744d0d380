"""The numbered key-point checklist (review screen, exam report), rendered as literal text.

Each row: its number (the key that toggles it, 1–9), the mark it shows now (✓ covered, ✗ missed,
≠ contradicted), the point, and — when the learner's tick differs from the grader's verdict —
what the grader said. Under a point the grader matched, one line with the part of the answer
at fault or in support, cut to the width with an ellipsis (so a long span never pushes the
checklist off an 80×24 screen).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

from rich.console import Console
from rich.text import Text

from labdeck.grading.checklist import Ticks, Verdict
from labdeck.tui.literal import plain
from labdeck.tui.wrap import wrap

MARKS: dict[Verdict, tuple[str, str]] = {
    "covered": ("✓", "green"),
    "missed": ("✗", "red"),
    "contradicted": ("≠", "red"),
}
TOGGLE_KEYS = 9  # points 1–9 have a key; further points are shown, counted, not toggleable
INDENT = 5  # "NN ✓ ": a point's wrapped lines start under its text


@cache
def _measure() -> Console:
    """A console used only to wrap text into lines (never printed to)."""
    return Console(file=io.StringIO(), width=200, color_system=None, legacy_windows=False)


def checklist_text(
    ticks: Ticks, spans: Sequence[str | None] | None = None, width: int = 72
) -> Text:
    """The rows of ``ticks``; ``spans[i]`` is the part of the answer the grader matched to point
    i, shown on one line cut to ``width`` cells."""
    spans = list(spans or [])
    rows: list[Text] = []
    for i, point in enumerate(ticks.points):
        shown = ticks.shown(i)
        mark, style = MARKS[shown]
        number = f"{i + 1}" if i < TOGGLE_KEYS else "·"
        body = Text(plain(point))
        if ticks.ticked[i] != ticks.start[i] or ticks.overruled[i]:
            grader_mark = MARKS[ticks.verdicts[i]][0]
            body.append(f"  (you; grader {grader_mark})", style="dim italic")
        # Wrapped here, not by the widget, so a long point continues under its own text
        # (not under its number and mark).
        for j, part in enumerate(wrap(body, _measure(), max(width - INDENT, 12))):
            row = Text(" " * INDENT)
            if j == 0:
                row = Text.assemble((f"{number:>2} ", "bold"), (f"{mark} ", f"bold {style}"))
            row.append_text(part)
            rows.append(row)
        span = spans[i] if i < len(spans) else None
        verdict = ticks.verdicts[i]
        span = plain(span) if span else None  # the learner's typed text: no escapes
        if span and verdict != "missed":
            if verdict == "contradicted":
                line = Text(f"     ≠ your answer says the opposite: “{span}”", style="red")
            else:
                line = Text(f"     ↳ “{span}”", style="dim")
            line.truncate(max(width, 20), overflow="ellipsis")
            rows.append(line)
    return Text("\n").join(rows)


def bullet_text(points: Sequence[str], width: int = 72) -> Text:
    """Key points as bullets, each wrapped under its own text (not under the bullet), as the
    checklist wraps its rows: the reveal panel's points continued at the left edge."""
    rows: list[Text] = []
    for point in points:
        for j, part in enumerate(wrap(Text(plain(point)), _measure(), max(width - 3, 12))):
            row = Text(" • " if j == 0 else "   ")
            row.append_text(part)
            rows.append(row)
    return Text("\n").join(rows)


def toggle_range(ticks: Ticks) -> str:
    """The digits that toggle a point, e.g. ``1–6``."""
    last = min(len(ticks), TOGGLE_KEYS)
    return "1" if last == 1 else f"1–{last}"


def tick_with(ticks: Ticks) -> str:
    """How to tick, as a phrase: ``tick with 1–6``, or ``tick with 1`` for a single point
    ("1 tick to correct" read as one tick)."""
    return f"tick with {toggle_range(ticks)}"


def tick_keys_note(ticks: Ticks) -> str:
    """What a digit past the key points is told."""
    what = "the key point" if len(ticks) == 1 else "key points"
    return f"Tick {what} with {toggle_range(ticks)}"
