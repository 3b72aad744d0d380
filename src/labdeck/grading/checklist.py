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
to a contradiction. Toggling a contradicted point overrules the grader's ≠ for good: it cycles
≠ → ✓ → ✗ → ✓, so the learner can say "missed, not contradicted".

Next to a grade the grader stands by (a sure review grade, an exam's auto grade), the ticks move
its suggestion rather than replace it (``Ticks.quality_from``): kept as the grader left them,
they give the suggestion; more points ticked never give less than it, fewer never more. The
suggestion comes from the whole answer's score, the table from the share ticked alone, and the
two can differ (5 suggested with 3 of 5 points found): ticking a fourth point must not lower
the grade to the table's 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NotRequired, TypedDict

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


# --- the learner's ticks ------------------------------------------------------------------------

VERDICTS: tuple[Verdict, ...] = ("covered", "missed", "contradicted")


class StoredTick(TypedDict):
    """One row of ``review_log.checklist`` / ``exam_question.checklist``."""

    point: str
    grader: Verdict  # the grader's verdict, the checklist's starting state
    ticked: bool  # the learner's tick: covered or not
    overruled: NotRequired[bool]  # the learner set aside the grader's ≠ (absent: False)


class Ticks:
    """The learner's ticks over a checklist, starting from the grader's verdicts.

    ``ticked[i]`` starts True where the grader found point i covered. A point the grader found
    contradicted counts as contradicted while it stays unticked (``quality_from_ticks``).
    """

    def __init__(
        self,
        points: Sequence[str],
        verdicts: Sequence[Verdict],
        ticked: Sequence[bool] | None = None,
        *,
        blank: bool = False,
        overruled: Sequence[bool] | None = None,
    ) -> None:
        if not points or len(points) != len(verdicts):
            raise ValueError("a checklist needs one verdict per key point, and at least one")
        self.points = list(points)
        self.verdicts = list(verdicts)
        self.start = [v == "covered" for v in self.verdicts]
        self.ticked = list(ticked) if ticked is not None else list(self.start)
        if len(self.ticked) != len(self.points):
            raise ValueError("one tick per key point")
        # the learner has toggled a contradicted point: the grader's ≠ no longer shows
        self.overruled = list(overruled) if overruled is not None else [False] * len(points)
        if len(self.overruled) != len(self.points):
            raise ValueError("one overruled flag per key point")
        self.blank = blank

    @classmethod
    def from_stored(cls, rows: Sequence[StoredTick], *, blank: bool = False) -> Ticks:
        rows = check_stored(rows)
        return cls(
            [r["point"] for r in rows],
            [r["grader"] for r in rows],
            [r["ticked"] for r in rows],
            blank=blank,
            overruled=[r.get("overruled", False) for r in rows],
        )

    def __len__(self) -> int:
        return len(self.points)

    def toggle(self, n: int) -> bool:
        """Flip point ``n`` (1-based); False when there is no such point."""
        if not 1 <= n <= len(self.points):
            return False
        self.ticked[n - 1] = not self.ticked[n - 1]
        if self.verdicts[n - 1] == "contradicted":
            self.overruled[n - 1] = True
        return True

    def _contradicted(self) -> list[bool]:
        """Where the grader's ≠ still stands (a contradicted point the learner never toggled)."""
        return [
            v == "contradicted" and not o
            for v, o in zip(self.verdicts, self.overruled, strict=True)
        ]

    @property
    def changed(self) -> bool:
        """The learner has ticks that differ from the grader's verdicts."""
        return self.ticked != self.start

    def shown(self, i: int) -> Verdict:
        """What point ``i`` (0-based) shows now: ✓ covered, ≠ contradicted, ✗ missed."""
        if self.ticked[i]:
            return "covered"
        return "contradicted" if self._contradicted()[i] else "missed"

    def quality(self) -> int:
        """The quality the ticks imply (the module's table)."""
        return quality_from_ticks(self.ticked, self._contradicted(), blank=self.blank)

    def quality_from(self, suggestion: int | None) -> int:
        """The quality the ticks give next to the grader's ``suggestion`` (see the module
        docstring); the table's alone when there is none."""
        implied = self.quality()
        if suggestion is None:
            return implied
        pairs = list(zip(self.start, self.ticked, strict=True))
        # more credit: a point ticked, or a ≠ set aside (as ✓ or as a plain miss)
        added = any(t and not s for s, t in pairs) or any(self.overruled)
        removed = any(s and not t for s, t in pairs)
        if not added and not removed:
            return suggestion
        if not removed:
            return max(implied, suggestion)
        if not added:
            return min(implied, suggestion)
        return implied

    def stored(self) -> list[StoredTick]:
        rows = []
        for p, v, t, o in zip(self.points, self.verdicts, self.ticked, self.overruled, strict=True):
            row = StoredTick(point=p, grader=v, ticked=t)
            if o:
                row["overruled"] = True
            rows.append(row)
        return rows


def check_stored(value: object) -> list[StoredTick]:
    """Validate a stored checklist (a list of ``StoredTick``); raises ValueError naming the
    field at fault."""
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("checklist must be a non-empty list of key points")
    rows: list[StoredTick] = []
    for i, row in enumerate(value, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"checklist[{i}] must be an object with point, grader, ticked")
        point, grader, ticked = row.get("point"), row.get("grader"), row.get("ticked")
        if not isinstance(point, str) or not point.strip():
            raise ValueError(f"checklist[{i}].point must be a non-empty string")
        if grader not in VERDICTS:
            raise ValueError(f"checklist[{i}].grader must be one of {', '.join(VERDICTS)}")
        if not isinstance(ticked, bool):
            raise ValueError(f"checklist[{i}].ticked must be true or false")
        overruled = row.get("overruled", False)
        if not isinstance(overruled, bool):
            raise ValueError(f"checklist[{i}].overruled must be true or false")
        stored = StoredTick(point=point, grader=grader, ticked=ticked)
        if overruled:
            stored["overruled"] = True
        rows.append(stored)
    return rows
