"""The key-point checklist: the grader's verdict per point, the learner's ticks, and the one
documented mapping from ticks to an SM-2 quality.

Mapping (``quality_from_ticks``), with ``share`` = points ticked as covered / all points:

| share covered                    | quality |
|----------------------------------|---------|
| every point                      | 5       |
| ≥ 3/4                            | 4       |
| ≥ 1/2                            | 3       |
| ≥ 1/4                            | 2       |
| more than none                   | 1       |
| none (an attempt)                | 1       |
| none, and the answer was blank   | 0       |

A point still marked as contradicted (the answer states the opposite and the learner left it
so) counts as not covered and caps the quality at 3: a suggestion of 4 or 5 never stands next
to a contradiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

Verdict = Literal["covered", "missed", "contradicted"]
CONTRADICTION_CAP = 3


class ChecklistRow(TypedDict):
    n: int  # 1-based number: the key that toggles it in the review screen
    point: str
    verdict: Verdict  # the grader's verdict (the checklist's starting state)
    span: str | None


def verdict_of(covered: bool, contradicted: bool) -> Verdict:
    if contradicted:
        return "contradicted"
    return "covered" if covered else "missed"


def checklist_rows(points: Sequence[tuple[str, Verdict, str | None]]) -> list[ChecklistRow]:
    """Numbered rows from (point, verdict, span) triples, in the order given."""
    return [
        ChecklistRow(n=i, point=point, verdict=verdict, span=span)
        for i, (point, verdict, span) in enumerate(points, start=1)
    ]


def quality_from_ticks(
    covered: Sequence[bool],
    contradicted: Sequence[bool] | None = None,
    *,
    blank: bool = False,
) -> int:
    """The quality the learner's ticks imply (see the module table).

    ``covered[i]`` is the tick of point i; ``contradicted[i]`` is True where point i is still
    shown as contradicted (a ticked point is never contradicted).
    """
    total = len(covered)
    if total == 0:
        raise ValueError("a checklist needs at least one key point")
    flags = list(contradicted) if contradicted is not None else [False] * total
    if len(flags) != total:
        raise ValueError("covered and contradicted must have one entry per key point")
    ticked = sum(1 for c in covered if c)
    if ticked == 0:
        return 0 if blank else 1
    share = ticked / total
    if share >= 1.0:
        quality = 5
    elif share >= 0.75:
        quality = 4
    elif share >= 0.5:
        quality = 3
    elif share >= 0.25:
        quality = 2
    else:
        quality = 1
    if any(flag and not tick for flag, tick in zip(flags, covered, strict=True)):
        quality = min(quality, CONTRADICTION_CAP)
    return quality
