"""Mock exams: compose a paper, sit it (autosave, timing), grade it, report, history.

A headless core shared by the CLI (``labdeck exam …``) and the TUI screens
(``labdeck.tui.screens.exam``). Nothing here imports textual or the embedding model at module
level; grading takes a ``Grader`` built by the caller.
"""

from __future__ import annotations


class ExamError(ValueError):
    """A problem with an exam worth telling the learner in one line.

    The message is cleaned (``ingest.common.one_line``): it may quote an answers file's name
    or a card key read from it, and it ends up on a terminal.
    """

    def __init__(self, message: str) -> None:
        from labdeck.textfmt import one_line

        super().__init__(one_line(str(message)))


__all__ = ["ExamError"]
