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

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from labdeck import clock as clock_mod
from labdeck.exam.grade import AnsweringScheduler, GraderLike
from labdeck.store import Store
from labdeck.tui.literal import literal
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


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y / enter confirms, n / escape cancels. With ``enter_confirms``
    False only ``y`` confirms: for what cannot be undone, so that a stray Enter (the end of a
    typed line) never says yes."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $warning 60%; background: $surface;
    }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", priority=True),
        Binding("enter", "enter", "Yes", show=False, priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(
        self,
        question: str,
        detail: str | Callable[[], str] = "",
        yes: str | None = None,
        *,
        enter_confirms: bool = True,
    ) -> None:
        super().__init__()
        # a callable detail is read again every half second (a countdown in it keeps going)
        self.question, self.detail = question, detail
        self.enter_confirms = enter_confirms
        self.yes = yes or ("y / enter: yes" if enter_confirms else "y: yes")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.question, style="bold"))
            if self.detail:
                yield Static(literal(self._detail()), id="confirm-detail")
            yield Static(Text(f"{self.yes}   ·   n / esc: no"), id="confirm-keys")

    def _detail(self) -> str:
        return self.detail() if callable(self.detail) else self.detail

    def on_mount(self) -> None:
        if callable(self.detail):
            self.set_interval(0.5, self.refresh_detail)

    def refresh_detail(self) -> None:
        """Show the detail read again now (a no-op before it is mounted or once it has gone)."""
        if self.is_mounted and self.is_attached and callable(self.detail):
            self.query_one("#confirm-detail", Static).update(literal(self._detail()))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_enter(self) -> None:
        if self.enter_confirms:
            self.dismiss(True)
        else:
            self.notify("Press y to confirm, n or esc to cancel.", timeout=3)
