"""Mock exams: compose a paper, sit it (autosave, timing), grade it, report, history.

A headless core shared by the CLI (``labdeck exam …``) and the TUI screens
(``labdeck.tui.screens.exam``). Nothing here imports textual or the embedding model at module
level; grading takes a ``Grader`` built by the caller.
"""

from __future__ import annotations


class ExamError(ValueError):
    """A problem with an exam worth telling the learner in one line."""


__all__ = ["ExamError"]
