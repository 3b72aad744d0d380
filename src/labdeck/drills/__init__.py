"""Drill cards (cloze, choice, true/false): their data, and exact grading.

Essay cards are graded by the embedding grader; drills never are. A drill card is a ``Card``
with ``kind`` set to one of ``DRILL_KINDS``, ``parent_id`` pointing at its essay card and the
type's own data in ``Card.drill`` (see ``labdeck.drills.cards`` for the shapes).
"""

from __future__ import annotations

ESSAY = "essay"
DRILL_KINDS = ("cloze", "choice", "truefalse")
KINDS = (ESSAY, *DRILL_KINDS)

__all__ = ["DRILL_KINDS", "ESSAY", "KINDS"]
