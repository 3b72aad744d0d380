"""What the mock-exam screens share: their dependencies (``ExamContext``), one base class, the
yes/no dialog and the prompt renderer.

Every exam screen takes an :class:`ExamContext` (the store and the injected callables) and an
exam id where it is about one exam; the app builds the context from its services in one place
(:meth:`ExamContext.from_services`), and a screen opening another passes its own context on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from labdeck import clock as clock_mod
from labdeck.exam.grade import AnsweringScheduler, GraderLike
from labdeck.store import Store
from labdeck.tui.screens.base import WorkerCalls

if TYPE_CHECKING:
    from labdeck.tui.services import Services

Clock = Callable[[], datetime]
GraderFactory = Callable[[], GraderLike]
SchedulerFactory = Callable[[], AnsweringScheduler]

ALL_DECKS = "*"


def prompt_markdown(text: str) -> str:
    """A prompt or reference as the exam screens show it (maths made readable)."""
    from labdeck.textfmt import readable_math

    return readable_math(text)


@dataclass
class ExamContext:
    """What the exam screens need: the store and the injected callables."""

    store: Store
    grader_factory: GraderFactory | None = None
    scheduler_factory: SchedulerFactory | None = None
    clock: Clock = clock_mod.now
    export_dir: Path | None = None

    @classmethod
    def from_services(cls, services: Services) -> ExamContext:
        """The app's context: its store, its (shared, lazily loaded) grader, its scheduler."""
        return cls(
            services.store,
            grader_factory=services.wait_grader,
            scheduler_factory=services.scheduler,
            clock=services.now,
            export_dir=services.store.path.parent,
        )

    def grader(self) -> GraderLike:
        if self.grader_factory is not None:
            return self.grader_factory()
        from labdeck.workspace import Workspace  # the one place that builds graders

        grader: GraderLike = Workspace(store=self.store).grader()
        return grader

    def scheduler(self) -> AnsweringScheduler:
        if self.scheduler_factory is not None:
            return self.scheduler_factory()
        from labdeck.exam.grade import default_scheduler

        return default_scheduler(self.store, self.clock)

    def exports(self) -> Path:
        if self.export_dir is not None:
            return self.export_dir
        from labdeck import config

        return config.home_dir() / "exports"


class ExamScreenBase(WorkerCalls):
    """A mock-exam screen: built from an :class:`ExamContext`, which it passes on."""

    def __init__(self, ctx: ExamContext) -> None:
        super().__init__()
        self.ctx = ctx

    def open_over_home(self, screen: Screen[Any]) -> None:
        """Open ``screen`` over the first screen below that is not an exam's (Home): exam
        screens opened from one another (a report, its history, a new exam, its report…)
        no longer pile up, and esc from a new exam's report goes home, not back through
        every earlier one (QA)."""
        app = self.app
        stack = app.screen_stack
        above = 0
        while above < len(stack) - 1 and isinstance(stack[-1 - above], ExamScreenBase):
            above += 1
        for _ in range(above):
            app.pop_screen()
        app.push_screen(screen)

    def open_history(self) -> None:
        """The exam history: back to it when it is the screen below, else opened over this."""
        from labdeck.tui.screens.exam.history import ExamHistoryScreen

        stack = self.app.screen_stack
        if len(stack) > 1 and stack[-1] is self and isinstance(stack[-2], ExamHistoryScreen):
            self.app.pop_screen()
        else:
            self.app.push_screen(ExamHistoryScreen(self.ctx))


class OneExamScreen(ExamScreenBase):
    """A screen about one exam (the sitting, the report)."""

    def __init__(self, ctx: ExamContext, exam_id: int) -> None:
        super().__init__(ctx)
        self.exam_id = exam_id
