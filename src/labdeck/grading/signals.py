"""The signals the grader measures for one answer against one reference side.

Shared by the grader (which measures them) and the calibration (which maps them to a grade), so
neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Signals:
    """What the grader measured for one answer against one reference (see ``grader.py``)."""

    sim: float
    coverage: float
    precision: float
    terms: float | None
    length: float
    cross: float
    swaps: int
    negations: int
    derived: float = 0.0  # 1 when the key points were derived from the reference
    contradicted: int = 0  # key points the answer contradicts (caps the quality at 3)
    # The e5 pair probe's reading of answer and key points together (``e5probe.py``); 0 when
    # the grader runs without it (None). Weighted only by parameter sets that list "probe".
    probe: float | None = None
    # The pair reader's vector behind ``probe`` (kept for fitting the probe; never shown).
    pair: Any = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, float]:
        out = {
            "sim": self.sim,
            "coverage": self.coverage,
            "precision": self.precision,
            "length": self.length,
            "cross": self.cross,
            "swaps": float(self.swaps),
            "negations": float(self.negations),
            "derived": float(self.derived),
            "contradicted": float(self.contradicted),
        }
        if self.probe is not None:
            out["probe"] = self.probe
        if self.terms is not None:
            out["terms"] = self.terms
        return out


Sides: TypeAlias = list[Signals] | None
"""One answer's signals against each reference side (the best side wins); None: an empty
answer, graded 0 by rule."""
