"""Mock exam screens: setup, sitting (countdown, autosave), report (override, apply), history.

Every screen takes the store and callables in ``__init__`` and calls the headless core in
``labdeck.exam``; nothing heavy is imported here. The grader is built by ``grader_factory``
inside a thread worker, and the database is written from thread workers so the UI never waits
on it.

Flow: ``ExamSetupScreen`` → (switch) ``ExamScreen`` → (switch, on submit or time up)
``ExamReportScreen``; ``ExamHistoryScreen`` lists past exams and reopens reports or resumes an
unfinished sitting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    LoadingIndicator,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from labdeck import clock as clock_mod
from labdeck.exam import ExamError
from labdeck.exam.report import ExamReport, QuestionReport, fmt_duration, fmt_score
from labdeck.exam.session import ExamSession
from labdeck.grading.checklist import Ticks, verdict_of
from labdeck.store import Store
from labdeck.tui.bindings import RATE_BINDINGS, RatingKeys
from labdeck.tui.literal import literal, plain
from labdeck.tui.widgets.checklist import checklist_text, toggle_range
from labdeck.tui.widgets.literal import CardMarkdown, LiteralTable

Clock = Callable[[], datetime]
GraderFactory = Callable[[], Any]
SchedulerFactory = Callable[[], Any]

ALL_DECKS = "*"


def _prompt_markdown(text: str) -> str:
    try:
        from labdeck.textfmt import readable_math
    except ImportError:  # pragma: no cover - textfmt is part of the core
        return text
    return readable_math(text)


@dataclass
class ExamContext:
    """What the exam screens share: the store and the injected callables."""

    store: Store
    grader_factory: GraderFactory | None = None
    scheduler_factory: SchedulerFactory | None = None
    clock: Clock = clock_mod.now
    export_dir: Path | None = None

    def grader(self) -> Any:
        if self.grader_factory is not None:
            return self.grader_factory()
        from labdeck.exam.commands import load_grader

        return load_grader(self.store)

    def scheduler(self) -> Any:
        if self.scheduler_factory is not None:
            return self.scheduler_factory()
        from labdeck.exam.grade import default_scheduler

        return default_scheduler(self.store, self.clock)

    def exports(self) -> Path:
        if self.export_dir is not None:
            return self.export_dir
        from labdeck import config

        return config.home_dir() / "exports"


def _context(
    store: Store,
    grader_factory: GraderFactory | None,
    scheduler_factory: SchedulerFactory | None,
    clock: Clock,
    export_dir: Path | None = None,
) -> ExamContext:
    return ExamContext(store, grader_factory, scheduler_factory, clock, export_dir)


class _OneExamScreen(Screen):
    """A screen about one exam, built from the app's exam context (``LabdeckApp``)."""

    @classmethod
    def from_context(cls, ctx: ExamContext, exam_id: int) -> Self:
        return cls(  # type: ignore[call-arg]  # subclasses take (store, exam_id, grader_factory)
            ctx.store,
            exam_id,
            ctx.grader_factory,
            scheduler_factory=ctx.scheduler_factory,
            clock=ctx.clock,
            export_dir=ctx.export_dir,
        )


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y / enter confirms, n / escape cancels."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $warning 60%; background: $surface;
    }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "y / enter: yes") -> None:
        super().__init__()
        self.question, self.detail, self.yes = question, detail, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.question, style="bold"))
            if self.detail:
                yield Static(literal(self.detail))
            yield Static(Text(f"{self.yes}   ·   n / esc: no"), id="confirm-keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


# ==================================================================== setup


class ExamSetupScreen(Screen):
    """Choose deck and chapters, number of questions, time, seed, weak-card bias; start."""

    DEFAULT_CSS = """
    ExamSetupScreen #setup-main { height: 1fr; padding: 0 1; }
    ExamSetupScreen #setup-scope { width: 3fr; min-width: 36; }
    ExamSetupScreen #setup-form { width: 2fr; min-width: 34; padding: 0 0 0 2; }
    ExamSetupScreen #setup-chapters { height: 1fr; border: round $primary 40%; }
    ExamSetupScreen Input { width: 100%; }
    ExamSetupScreen .setup-label { color: $text-muted; margin-top: 1; }
    ExamSetupScreen #setup-info { margin-top: 1; height: auto; }
    ExamSetupScreen #setup-keys { height: 1; padding: 0 1; color: $text-muted; }
    ExamSetupScreen #setup-start { margin-top: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "start", "Start exam", priority=True),
        Binding("ctrl+r", "resume", "Resume unfinished", priority=True),
        Binding("ctrl+o", "history", "History", priority=True),
        Binding("ctrl+a", "select_all", "All chapters", priority=True),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(
        self,
        store: Store,
        grader_factory: GraderFactory | None = None,
        *,
        scheduler_factory: SchedulerFactory | None = None,
        clock: Clock = clock_mod.now,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.ctx = _context(store, grader_factory, scheduler_factory, clock, export_dir)
        self.decks: list[Any] = []
        self.unfinished: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="setup-main"):
            with Vertical(id="setup-scope"):
                yield Label("Deck", classes="setup-label")
                yield Select(
                    [("All decks", ALL_DECKS)],
                    value=ALL_DECKS,
                    id="setup-deck",
                    allow_blank=False,
                    prompt="Deck",
                )
                yield Label("Chapters (space toggles · ctrl+a all)", classes="setup-label")
                yield SelectionList(id="setup-chapters")
            with VerticalScroll(id="setup-form"):
                yield Label("Questions", classes="setup-label")
                yield Input("10", id="setup-n", type="integer")
                yield Label("Seconds per question (0 = untimed)", classes="setup-label")
                yield Input("120", id="setup-per", type="integer")
                yield Label("Or total minutes (overrides the above)", classes="setup-label")
                yield Input("", id="setup-total", type="integer", placeholder="off")
                yield Label("Seed (blank = random)", classes="setup-label")
                yield Input("", id="setup-seed", type="integer", placeholder="random")
                yield Checkbox("Favour weak cards", id="setup-weak")
                yield Checkbox("Include self-graded cards (no reference)", id="setup-self")
                yield Button("Start (ctrl+s)", id="setup-start", variant="primary")
                yield Static(id="setup-info")
        yield Static(
            Text("ctrl+s start · ctrl+r resume unfinished · ctrl+o history · esc back"),
            id="setup-keys",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Mock exam"
        self.sub_title = "compose"
        self.load_decks()

    @work(thread=True, exclusive=True, group="exam-setup")
    def load_decks(self) -> None:
        from labdeck.exam.session import sitting_exams
        from labdeck.store.queries import list_decks

        decks = list_decks(self.ctx.store)
        unfinished = sitting_exams(self.ctx.store)
        self.app.call_from_thread(self._show_decks, decks, unfinished[0] if unfinished else None)

    def _show_decks(self, decks: list[Any], unfinished: int | None) -> None:
        self.decks, self.unfinished = decks, unfinished
        select = self.query_one("#setup-deck", Select)
        options = [(literal(f"{d.name} ({d.cards})"), d.key) for d in decks]
        options.append(("All decks", ALL_DECKS))
        select.set_options(options)
        if decks:
            select.value = decks[0].key
        self._fill_chapters(decks[0].key if decks else ALL_DECKS)
        self._info()
        self.query_one("#setup-chapters").focus()

    def _fill_chapters(self, deck_key: Any) -> None:
        chapters = self.query_one("#setup-chapters", SelectionList)
        chapters.clear_options()
        for deck in self.decks:
            if deck_key not in (ALL_DECKS, deck.key):
                continue
            for ch in deck.chapters:
                label = Text.assemble(
                    (f"{plain(ch.code):<4}", "bold"),
                    f" {plain(ch.title)}  ",
                    (f"({ch.cards})", "dim"),
                )
                chapters.add_option((label, ch.code, True))

    @on(Select.Changed, "#setup-deck")
    def _deck_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self._fill_chapters(event.value)

    def _info(self, extra: str = "") -> None:
        lines = []
        if self.unfinished is not None:
            lines.append(f"Unfinished exam {self.unfinished}: ctrl+r resumes it.")
        if extra:
            lines.append(extra)
        self.query_one("#setup-info", Static).update(literal("\n".join(lines)))

    def action_select_all(self) -> None:
        chapters = self.query_one("#setup-chapters", SelectionList)
        if len(chapters.selected) == chapters.option_count:
            chapters.deselect_all()
        else:
            chapters.select_all()

    def _int(self, widget_id: str, name: str, *, blank: int | None) -> int | None:
        raw = self.query_one(widget_id, Input).value.strip()
        if not raw:
            return blank
        try:
            value = int(raw)
        except ValueError:
            raise ExamError(f"{name} must be a whole number") from None
        if value < 0:
            raise ExamError(f"{name} cannot be negative")
        return value

    def spec(self) -> Any:
        from labdeck.exam.compose import ExamSpec

        deck = self.query_one("#setup-deck", Select).value
        chapters = [str(c) for c in self.query_one("#setup-chapters", SelectionList).selected]
        if not chapters:
            raise ExamError("choose at least one chapter")
        total = self._int("#setup-total", "Total minutes", blank=None)
        return ExamSpec(
            decks=[] if deck in (ALL_DECKS, Select.NULL) else [str(deck)],
            chapters=chapters,
            n=self._int("#setup-n", "Questions", blank=10) or 0,
            seed=self._int("#setup-seed", "Seed", blank=None),
            time_per_question_s=self._int("#setup-per", "Seconds per question", blank=120),
            total_time_s=None if total is None else total * 60,
            favour_weak=self.query_one("#setup-weak", Checkbox).value,
            include_self_graded=self.query_one("#setup-self", Checkbox).value,
        )

    @on(Button.Pressed, "#setup-start")
    def action_start(self) -> None:
        try:
            spec = self.spec()
        except ExamError as exc:
            self.notify(str(exc), severity="error")
            return
        self.create(spec)

    @work(thread=True, exclusive=True, group="exam-setup")
    def create(self, spec: Any) -> None:
        from labdeck.exam.compose import create_exam

        try:
            composed = create_exam(self.ctx.store, spec, now=self.ctx.clock)
        except ExamError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._open_exam, composed.exam_id)

    def _open_exam(self, exam_id: int) -> None:
        self.app.switch_screen(ExamScreen.from_context(self.ctx, exam_id))

    def action_resume(self) -> None:
        if self.unfinished is None:
            self.notify("No unfinished exam.", timeout=2)
            return
        self._open_exam(self.unfinished)

    def action_history(self) -> None:
        self.app.push_screen(ExamHistoryScreen.from_context(self.ctx))


# ==================================================================== sitting


class ExamScreen(_OneExamScreen):
    """One question at a time with a countdown; answers autosave as they are typed.

    Typed text never changes question. The navigation keys are priority bindings (ctrl+p must
    beat the command palette, and a key pressed right after ctrl+t must reach the submit
    dialog), so they run while keys typed just before them may still wait in the answer box's
    queue. Every move, submit, leave and time-up is therefore queued behind those keys
    (``_after_typing``) and copies the box into the sitting first.

    Autosave has no debounce window: every change starts a save, or marks one to follow the
    save in flight, so a kill loses at most the keys typed while one save was being written.
    """

    # The app's command palette (ctrl+p) should not shadow "previous question" here.
    BLOCK_COMMAND_PALETTE = True

    DEFAULT_CSS = """
    ExamScreen #exam-top { height: 1; padding: 0 1; }
    ExamScreen #exam-pos { width: 1fr; }
    ExamScreen #exam-clock { width: auto; text-style: bold; }
    ExamScreen #exam-clock.-low { color: $error; }
    ExamScreen #exam-strip { height: auto; padding: 0 1; }
    ExamScreen #exam-body { height: 1fr; padding: 0 1; }
    ExamScreen #exam-prompt { margin: 0 0 1 0; }
    ExamScreen #exam-answer { height: 1fr; min-height: 6; border: round $accent; }
    ExamScreen #exam-status { height: 1; padding: 0 1; color: $text-muted; }
    ExamScreen #exam-keys { height: 1; padding: 0 1; }
    ExamScreen #exam-submitting { height: 3; }
    """
    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("alt+right", "next", "Next", show=False, priority=True),
        Binding("ctrl+p", "previous", "Previous", priority=True),
        Binding("alt+left", "previous", "Previous", show=False, priority=True),
        Binding("ctrl+s", "skip", "Skip & mark", priority=True),
        Binding("ctrl+t", "submit", "Submit", priority=True),
        Binding("ctrl+z", "toggle_zh", "中/EN", show=False),
        Binding("escape", "leave", "Pause & leave", priority=True),
    ]

    def __init__(
        self,
        store: Store,
        exam_id: int,
        grader_factory: GraderFactory | None = None,
        *,
        scheduler_factory: SchedulerFactory | None = None,
        clock: Clock = clock_mod.now,
        tick_s: float = 0.5,
        checkpoint_every_s: float = 5.0,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.ctx = _context(store, grader_factory, scheduler_factory, clock, export_dir)
        self.exam_id = exam_id
        self.tick_s = tick_s
        self.checkpoint_every_s = checkpoint_every_s
        self.session: ExamSession | None = None
        self.show_zh = False
        self.finished = False
        self._time_up = False
        self._save_lock = threading.Lock()
        self._saving = False  # a save worker is running
        self._save_again = False  # something changed while it was writing
        self._last_checkpoint = time.monotonic()
        self.saves = 0  # completed autosaves (tests and the status line read it)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="exam-top"):
            yield Static(id="exam-pos")
            yield Static(id="exam-clock")
        yield Static(id="exam-strip")
        with VerticalScroll(id="exam-body"):
            yield CardMarkdown(id="exam-prompt")
            yield TextArea(id="exam-answer", soft_wrap=True, tab_behavior="focus")
        yield LoadingIndicator(id="exam-submitting")
        yield Static(id="exam-status")
        yield Static(
            Text.assemble(
                ("ctrl+n", "bold"),
                " / alt+→ next · ",
                ("ctrl+p", "bold"),
                " / alt+← previous · ",
                ("ctrl+s", "bold"),
                " skip & mark · ",
                ("ctrl+t", "bold"),
                " submit · ",
                ("esc", "bold"),
                " pause & leave",
            ),
            id="exam-keys",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Mock exam"
        self._area = self.query_one("#exam-answer", TextArea)
        self.query_one("#exam-submitting").display = False
        try:
            self.session = ExamSession(self.ctx.store, self.exam_id, clock=self.ctx.clock)
            if self.session.status != "sitting":
                self._to_report()
                return
            still_open = self.session.start()
        except ExamError as exc:
            self.notify(str(exc), severity="error")
            self.app.pop_screen()
            return
        self.sub_title = plain(f"exam {self.exam_id} · {self.session.scope_label}")
        if not still_open:
            self.notify("Time was already up: the exam has been submitted.")
            self._to_report()
            return
        self._show_question()
        self.set_interval(self.tick_s, self._tick)
        self._render_clock()

    def on_unmount(self) -> None:
        if self.session is not None and self.session.status == "sitting":
            self._sync_answer()
            self.session.pause()

    # ------------------------------------------------------------ rendering

    def _show_question(self) -> None:
        session = self.session
        if session is None:
            return
        q = session.current
        head = Text.assemble(
            (f"Question {q.position} of {session.n}", "bold"),
            plain(f" · {q.chapter} {q.chapter_title} · "),
            (plain(q.key), "dim"),
        )
        if q.self_graded:
            head.append(" · self-graded (no reference)", style="yellow")
        self.query_one("#exam-pos", Static).update(head)
        prompt = q.prompt_zh if self.show_zh and q.prompt_zh else q.prompt
        self.query_one("#exam-prompt", CardMarkdown).update(_prompt_markdown(prompt))
        area = self.query_one("#exam-answer", TextArea)
        if area.text != q.answer:
            area.load_text(q.answer)
        area.read_only = False
        area.focus()
        self.query_one("#exam-body").scroll_home(animate=False)
        self._render_strip()

    def _render_strip(self) -> None:
        session = self.session
        if session is None:
            return
        strip = Text()
        for i, q in enumerate(session.questions):
            if q.marked:
                label, style = f"{q.position}?", "bold yellow"
            elif q.answered:
                label, style = f"{q.position}✓", "green"
            else:
                label, style = f"{q.position}·", "dim"
            if i == session.index:
                style += " reverse"
            strip.append(f" {label} ", style=style)
        answered = session.answered_count()
        marked = sum(q.marked for q in session.questions)
        strip.append(f"   {answered}/{session.n} answered", style="dim")
        if marked:
            strip.append(f" · {marked} marked", style="yellow")
        self.query_one("#exam-strip", Static).update(strip)

    def _render_clock(self) -> None:
        session = self.session
        if session is None:
            return
        clock = self.query_one("#exam-clock", Static)
        remaining = session.remaining_s()
        if remaining is None:
            clock.update(Text(f"{fmt_duration(session.elapsed_s())} elapsed (untimed)"))
            return
        clock.update(Text(f"{fmt_duration(remaining)} left"))
        clock.set_class(remaining < 60, "-low")

    def _status(self, text: str) -> None:
        self.query_one("#exam-status", Static).update(literal(text))

    # ------------------------------------------------------------ clock and autosave

    def _tick(self) -> None:
        session = self.session
        if session is None or self.finished:
            return
        self._render_clock()
        if session.expired:
            if not self._time_up:
                self._time_up = True
                # keys the app has received but not yet handed to the box come first too
                self.app.call_later(self._after_typing, self._submit_on_time_up)
            return
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_every_s:
            self._last_checkpoint = time.monotonic()
            self.autosave()

    def _submit_on_time_up(self) -> None:
        if self.finished:
            return
        self.notify("Time is up: submitting what is there.", severity="warning")
        self._finish()

    @on(TextArea.Changed, "#exam-answer")
    def _answer_changed(self, event: TextArea.Changed) -> None:
        if self.session is None or self.finished or self.session.status != "sitting":
            return
        before = self.session.current.answered, self.session.current.marked
        self._sync_answer()
        if (self.session.current.answered, self.session.current.marked) != before:
            self._render_strip()
        self.autosave()

    def _sync_answer(self) -> None:
        """Copy the editor's text into the session (the editor always shows the current one)."""
        if self.session is None or self.session.status != "sitting":
            return
        self.session.set_answer(self._area.text)

    def _after_typing(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the answer box has handled every key already sent to it (its
        own message queue is first-in, first-out)."""
        if not self._area.call_later(callback):  # the box is gone: nothing is pending
            callback()

    def autosave(self) -> None:
        """Save now, or right after the save in flight: one save runs at a time and the newest
        state is always written by the one that follows."""
        with self._save_lock:
            if self._saving:
                self._save_again = True
                return
            self._saving = True
        self._save_worker()

    @work(thread=True, group="exam-autosave")
    def _save_worker(self) -> None:
        while True:
            self._save_once()
            with self._save_lock:
                if not self._save_again:
                    self._saving = False
                    return
                self._save_again = False

    def _save_once(self) -> None:
        session = self.session
        if session is None or session.status != "sitting":
            return
        try:
            session.save()
        except Exception as exc:  # keep the text in memory and say so; next save retries
            self.app.call_from_thread(self._status, f"autosave failed: {exc}")
            return
        self.saves += 1
        stamp = datetime.now().strftime("%H:%M:%S")
        self.app.call_from_thread(self._status, f"saved {stamp}")

    # ------------------------------------------------------------ actions

    def _move(self, step: Callable[[], Any]) -> None:
        self._after_typing(lambda: self._move_now(step))

    def _move_now(self, step: Callable[[], Any]) -> None:
        if self.session is None or self.finished or self.session.status != "sitting":
            return
        self._sync_answer()
        step()
        self._show_question()
        self.autosave()

    def action_next(self) -> None:
        self._after_typing(self._next_now)

    def _next_now(self) -> None:
        if self.session is not None and self.session.index == self.session.n - 1:
            self.notify("Last question: ctrl+t submits.", timeout=2)
            return
        self._move_now(lambda: self.session and self.session.next())

    def action_previous(self) -> None:
        self._move(lambda: self.session and self.session.previous())

    def action_skip(self) -> None:
        self._move(lambda: self.session and self.session.skip())

    def goto(self, index: int) -> None:
        self._move(lambda: self.session and self.session.goto(index))

    def action_toggle_zh(self) -> None:
        if self.session is not None and self.session.current.prompt_zh:
            self.show_zh = not self.show_zh
            self._show_question()

    def action_submit(self) -> None:
        """Ask at once (a key pressed right after ctrl+t answers the dialog); the submission
        itself waits for the keys typed before ctrl+t."""
        session = self.session
        if session is None or self.finished:
            return
        self._sync_answer()
        blank = session.n - session.answered_count()
        marked = sum(q.marked for q in session.questions)
        detail = f"{session.answered_count()}/{session.n} answered"
        if blank:
            detail += f", {blank} blank"
        if marked:
            detail += f", {marked} marked to revisit"
        remaining = session.remaining_s()
        if remaining is not None:
            detail += f"; {fmt_duration(remaining)} left"

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._after_typing(self._finish)

        self.app.push_screen(
            ConfirmScreen("Submit the exam for grading?", detail, "y / enter: submit"), done
        )

    def action_leave(self) -> None:
        self._after_typing(self._leave_now)

    def _leave_now(self) -> None:
        if not self.is_current:  # left already (escape pressed twice)
            return
        if self.session is None or self.finished:
            self.app.pop_screen()
            return
        self._sync_answer()
        self.session.pause()
        self.notify(f"Exam {self.exam_id} paused: resume it from Mock exam (ctrl+r).", timeout=4)
        self.app.pop_screen()

    def _finish(self) -> None:
        if self.finished:
            return
        self._sync_answer()  # the box's last characters go into the sitting before it closes
        self.finished = True
        self.query_one("#exam-answer", TextArea).read_only = True
        self.query_one("#exam-submitting").display = True
        self._status("submitting…")
        self._submit_worker()

    @work(thread=True, exclusive=True, group="exam-submit")
    def _submit_worker(self) -> None:
        assert self.session is not None
        self.session.submit()
        self.app.call_from_thread(self._to_report)

    def _to_report(self) -> None:
        app = self.app
        if self in app.screen_stack:
            while app.screen is not self:  # e.g. the submit dialog was open when time ran out
                app.pop_screen()
        app.switch_screen(ExamReportScreen.from_context(self.ctx, self.exam_id))


# ==================================================================== report

REPORT_KEYS = (
    "↑↓ question · 1–9 tick · enter record ticks · = 0–5 grade · x clear · a apply · "
    "m export · h history · esc back"
)


class ExamReportScreen(RatingKeys, _OneExamScreen):
    """Total, per-question verdicts with reference answers, per-chapter breakdown; apply to the
    schedule with ``a``, export Markdown with ``m``.

    Your own grade per question: ``1``–``9`` tick the answer's key points (the grader's verdicts
    are the starting state) and every tick stores the ticks with the quality they imply
    (``labdeck.grading.checklist``) as your grade; ``enter`` stores the grader's ticks as they
    are; ``=`` then ``0``–``5`` grades directly; ``x`` clears your grade and ticks. A question
    without a checklist (blank, self-graded) takes ``0``–``5`` directly.
    """

    DEFAULT_CSS = """
    ExamReportScreen #report-summary { height: auto; padding: 0 1; }
    ExamReportScreen #report-main { height: 1fr; }
    ExamReportScreen #report-left { width: 2fr; min-width: 40; }
    ExamReportScreen #report-questions { height: 2fr; border: round $primary 40%; }
    ExamReportScreen #report-chapters { height: 1fr; border: round $primary 40%; }
    ExamReportScreen #report-detail { width: 3fr; padding: 0 1; border: round $primary 20%; }
    ExamReportScreen .report-section { color: $text-muted; margin-top: 1; text-style: bold; }
    ExamReportScreen #report-loading { height: 3; }
    ExamReportScreen #report-keys { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        *RATE_BINDINGS,
        Binding("enter", "record_ticks", "Record ticks", priority=True),
        Binding("x", "rate(-1)", "Clear grade"),
        Binding("a", "apply", "Apply to schedule"),
        Binding("m", "export", "Export Markdown"),
        Binding("h", "history", "History"),
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(
        self,
        store: Store,
        exam_id: int,
        grader_factory: GraderFactory | None = None,
        *,
        scheduler_factory: SchedulerFactory | None = None,
        clock: Clock = clock_mod.now,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.ctx = _context(store, grader_factory, scheduler_factory, clock, export_dir)
        self.exam_id = exam_id
        self.report: ExamReport | None = None
        self.busy = True
        # the latest ticks per question position, written in order by ``_store_ticks``
        self.pending_ticks: dict[int, tuple[int, list[dict]]] = {}
        self._ticks_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="report-summary")
        yield LoadingIndicator(id="report-loading")
        with Horizontal(id="report-main"):
            with Vertical(id="report-left"):
                yield LiteralTable(id="report-questions", cursor_type="row", zebra_stripes=True)
                yield LiteralTable(id="report-chapters", cursor_type="none")
            with VerticalScroll(id="report-detail"):
                yield Static(id="detail-head")
                yield CardMarkdown(id="detail-prompt")
                yield Label("Your answer", classes="report-section")
                yield Static(id="detail-answer")
                yield Label("Key points", classes="report-section")
                yield Static(id="detail-points")
                yield Label("Reference answer", classes="report-section")
                yield CardMarkdown(id="detail-reference")
        yield Static(Text(REPORT_KEYS), id="report-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Exam report"
        self.sub_title = f"exam {self.exam_id}"
        questions = self.query_one("#report-questions", DataTable)
        questions.add_columns("#", "Ch.", "Verdict", "Quality", "Score", "Time")
        chapters = self.query_one("#report-chapters", DataTable)
        chapters.add_columns("Chapter", "Score", "Answered", "Mean q.", "Time")
        self._set_busy(True, "Loading the report…")
        self.load()

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self.busy = busy
        self.query_one("#report-loading").display = busy
        if message:
            self.query_one("#report-summary", Static).update(literal(message))

    @work(thread=True, exclusive=True, group="exam-report")
    def load(self) -> None:
        from labdeck.exam.grade import grade_exam
        from labdeck.exam.report import build_report

        try:
            report = build_report(self.ctx.store, self.exam_id)
            if report.status == "submitted":
                self.app.call_from_thread(
                    self._set_busy, True, f"Grading {report.answered} answers…"
                )
                grader = self.ctx.grader()
                report = grade_exam(self.ctx.store, self.exam_id, grader, now=self.ctx.clock)
        except Exception as exc:
            self.app.call_from_thread(self._failed, f"{exc}")
            return
        self.app.call_from_thread(self._show, report)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.query_one("#report-summary", Static).update(
            literal(f"Could not grade exam {self.exam_id}: {message}. Try again later.", "red")
        )

    def _show(self, report: ExamReport, keep_row: int | None = None) -> None:
        self.report = report
        self._set_busy(False)
        summary = Text()
        summary.append(f"Score {fmt_score(report.score)}", style="bold")
        summary.append(
            f"  ·  {report.passed}/{report.n} passed  ·  {report.answered}/{report.n} answered"
            f"  ·  time {fmt_duration(report.elapsed_s)}"
        )
        if report.time_limit_s:
            summary.append(f" of {fmt_duration(report.time_limit_s)}")
        if report.pending:
            summary.append(f"  ·  {report.pending} to grade yourself (0–5)", style="yellow")
        summary.append(
            "  ·  applied to schedule" if report.applied else "  ·  not applied (a)",
            style="green" if report.applied else "dim",
        )
        summary.append(f"\n{plain(report.scope_label)}", style="dim")
        if report.status == "sitting":
            summary.append("  (not submitted yet)", style="yellow")
        self.query_one("#report-summary", Static).update(summary)

        table = self.query_one("#report-questions", DataTable)
        row = keep_row if keep_row is not None else table.cursor_row
        table.clear()
        for q in report.questions:
            table.add_row(*self._question_cells(q), key=str(q.position))
        chapters = self.query_one("#report-chapters", DataTable)
        chapters.clear()
        for c in report.chapters:
            chapters.add_row(
                c.code,
                fmt_score(c.score),
                f"{c.answered}/{c.questions}",
                "–" if c.quality is None else f"{c.quality:.1f}",
                fmt_duration(c.time_s),
            )
        if report.questions:
            table.move_cursor(row=min(max(row, 0), len(report.questions) - 1))
            self._show_detail(table.cursor_row)
        table.focus()

    @staticmethod
    def _question_cells(q: QuestionReport) -> list[Any]:
        style = {True: "green", False: "red", None: "yellow"}[q.passed]
        quality = "–" if q.quality is None else str(q.quality)
        if q.override_quality is not None:
            quality += "*"
        return [
            str(q.position),
            q.chapter,
            Text(q.verdict, style=style),
            quality,
            fmt_score(q.score),
            fmt_duration(q.time_s),
        ]

    @on(DataTable.RowHighlighted, "#report-questions")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def selected(self) -> QuestionReport | None:
        if self.report is None or not self.report.questions:
            return None
        row = self.query_one("#report-questions", DataTable).cursor_row
        if not 0 <= row < len(self.report.questions):
            return None
        return self.report.questions[row]

    def _show_detail(self, row: int) -> None:
        if self.report is None or not 0 <= row < len(self.report.questions):
            return
        q = self.report.questions[row]
        head = Text.assemble(
            (plain(f"{q.position}. {q.chapter} {q.chapter_title}"), "bold"),
            "  ",
            (plain(q.key), "dim"),
        )
        head.append("\n")
        if q.quality is None:
            head.append("Not graded: press 0–5 to grade it yourself.", style="yellow")
        else:
            head.append(f"{q.verdict} · quality {q.quality}/5", style="bold")
            if q.override_quality is not None:
                suggested = "–" if q.auto_quality is None else str(q.auto_quality)
                head.append(f" (your grade; grader suggested {suggested})", style="dim")
            if q.auto_score is not None:
                head.append(f" · similarity score {q.auto_score:.2f}", style="dim")
        head.append(f" · {fmt_duration(q.time_s)}", style="dim")
        self.query_one("#detail-head", Static).update(head)
        self.query_one("#detail-prompt", CardMarkdown).update(_prompt_markdown(q.prompt))
        answer = literal(q.answer.strip()) if q.answered else Text("(blank)", style="dim italic")
        self.query_one("#detail-answer", Static).update(answer)
        self.query_one("#detail-points", Static).update(self._points_text(q))
        reference = q.reference or "_No reference answer: grade this one yourself._"
        self.query_one("#detail-reference", CardMarkdown).update(_prompt_markdown(reference))

    @staticmethod
    def ticks_of(q: QuestionReport) -> Ticks | None:
        """The question's checklist: the learner's stored ticks, else the grader's verdicts;
        None for a blank, self-graded or ungraded answer (0–5 grade it directly)."""
        if not q.answered or not q.key_points:
            return None
        if q.checklist:
            try:
                return Ticks.from_stored(q.checklist)  # type: ignore[arg-type]
            except ValueError:
                pass  # unreadable ticks: start again from the grader's verdicts
        points = [str(p.get("text", "")) for p in q.key_points]
        verdicts = [
            verdict_of(bool(p.get("covered")), bool(p.get("contradicted"))) for p in q.key_points
        ]
        return Ticks(points, verdicts)

    def _points_text(self, q: QuestionReport) -> Text:
        ticks = self.ticks_of(q)
        if ticks is None:
            points = Text()
            for kp in q.key_points_covered:
                points.append("✓ ", style="green")
                points.append(f"{plain(kp)}\n")
            for kp in q.key_points_missed:
                points.append("✗ ", style="red")
                points.append(f"{plain(kp)}\n")
            return points or Text("–", style="dim")
        points = Text()
        implied = ticks.quality()
        if q.checklist:
            points.append(f"your ticks imply {implied}: your grade\n", style="bold")
        else:
            points.append(
                f"the grader's ticks imply {implied} · {toggle_range(ticks)} tick · "
                "enter records\n",
                style="dim",
            )
        # room for the scroll bar (2), which may appear once the points are shown
        width = self.query_one("#report-detail").scrollable_content_region.width - 2
        spans = [p.get("span") for p in q.key_points]
        points.append_text(checklist_text(ticks, spans, width if width > 20 else 60))
        return points

    # ------------------------------------------------------------ actions

    def _gradable(self) -> QuestionReport | None:
        q = self.selected()
        if q is None or self.busy or self.report is None:
            return None
        if self.report.applied:
            self.notify("Already applied to the schedule: grades are final.", severity="warning")
            return None
        return q

    def action_digit(self, digit: int) -> None:
        q = self.selected()
        ticks = None if q is None else self.ticks_of(q)
        if self.take_prefix() or ticks is None:
            self._update_keys()
            if digit <= 5:
                self.action_rate(digit)
            else:
                self.notify("Grades run from 0 to 5.", timeout=2)
            return
        if self._gradable() is None or q is None:
            return
        if digit == 0 or not ticks.toggle(digit):
            self.notify(
                f"{toggle_range(ticks)} tick key points; = then 0–5 grades directly.", timeout=3
            )
            return
        self._record(q, ticks)

    def action_record_ticks(self) -> None:
        q = self._gradable()
        ticks = None if q is None else self.ticks_of(q)
        if q is None or ticks is None:
            return
        self._record(q, ticks)

    def _record(self, q: QuestionReport, ticks: Ticks) -> None:
        q.checklist = [dict(row) for row in ticks.stored()]  # shown at once; stored next
        self.query_one("#detail-points", Static).update(self._points_text(q))
        self.pending_ticks[q.position] = (ticks.quality(), [dict(r) for r in ticks.stored()])
        self._store_ticks(q.position)

    @work(thread=True, group="exam-ticks")
    def _store_ticks(self, position: int) -> None:
        from labdeck.exam.grade import override

        with self._ticks_lock:  # one write at a time, each of the latest ticks
            quality, stored = self.pending_ticks[position]
            try:
                report = override(self.ctx.store, self.exam_id, position, quality, checklist=stored)
            except ExamError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
                return
        self.app.call_from_thread(self._show, report, position - 1)

    def action_rate_prefix(self) -> None:
        self.rate_prefix_armed = True
        self._update_keys()

    def on_key(self, event: events.Key) -> None:
        # ``=`` waits for a digit; any other key cancels it (esc only cancels it).
        if not self.rate_prefix_armed or event.key == "equals_sign" or event.key.isdigit():
            return
        self.rate_prefix_armed = False
        self._update_keys()
        if event.key == "escape":
            event.stop()
            event.prevent_default()

    def _update_keys(self) -> None:
        keys = self.query_one("#report-keys", Static)
        if self.rate_prefix_armed:
            keys.update(Text("= … now 0–5 is your grade · any other key cancels", style="bold"))
        else:
            keys.update(Text(REPORT_KEYS))

    def action_rate(self, quality: int) -> None:
        q = self.selected()
        if q is None or self.busy or self.report is None:
            return
        if self.report.applied:
            self.notify("Already applied to the schedule: grades are final.", severity="warning")
            return
        self._override(q.position, None if quality < 0 else quality)

    @work(thread=True, exclusive=True, group="exam-report")
    def _override(self, position: int, quality: int | None) -> None:
        from labdeck.exam.grade import override

        row = position - 1
        try:
            report = override(self.ctx.store, self.exam_id, position, quality)
        except ExamError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, report, row)

    def action_apply(self) -> None:
        report = self.report
        if report is None or self.busy:
            return
        if report.applied:
            self.notify("This exam is already applied to the schedule.", timeout=2)
            return
        reviews = sum(1 for q in report.questions if q.answered and q.quality is not None)
        detail = (
            f"{reviews} answered card(s) get an SM-2 review with their final quality "
            "(logged as mode exam). Grades can't be changed afterwards."
        )
        if report.pending:
            detail += f" {report.pending} ungraded question(s) will be skipped."

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._set_busy(True)
                self._apply()

        self.app.push_screen(ConfirmScreen("Apply this exam to your schedule?", detail), done)

    @work(thread=True, exclusive=True, group="exam-report")
    def _apply(self) -> None:
        from labdeck.exam.grade import apply_to_schedule
        from labdeck.exam.report import build_report

        try:
            result = apply_to_schedule(
                self.ctx.store, self.exam_id, self.ctx.scheduler(), now=self.ctx.clock
            )
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"{exc}", severity="error")
            report = build_report(self.ctx.store, self.exam_id)
            self.app.call_from_thread(self._show, report)
            return
        report = build_report(self.ctx.store, self.exam_id)
        self.app.call_from_thread(self.notify, result.summary())
        self.app.call_from_thread(self._show, report)

    def action_export(self) -> None:
        if self.report is None:
            return
        folder = self.ctx.exports()
        target = folder / f"exam-{self.exam_id}.md"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(self.report.to_markdown(), encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot write {target}: {exc.strerror}", severity="error")
            return
        self.notify(f"Report written to {target}")

    def action_history(self) -> None:
        self.app.push_screen(ExamHistoryScreen.from_context(self.ctx))


# ==================================================================== history


class ExamHistoryScreen(Screen):
    """Past exams (date, scope, score, duration) and a trend plot of scores per chapter."""

    DEFAULT_CSS = """
    ExamHistoryScreen #history-table {
        height: auto; max-height: 45%; border: round $primary 40%;
    }
    ExamHistoryScreen #history-plot { height: 1fr; min-height: 12; }
    ExamHistoryScreen #history-empty { padding: 1 2; }
    ExamHistoryScreen #history-keys { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open report / resume"),
        Binding("n", "new", "New exam"),
        Binding("escape,q", "app.pop_screen", "Back"),
    ]
    MAX_SERIES = 6

    def __init__(
        self,
        store: Store,
        grader_factory: GraderFactory | None = None,
        *,
        scheduler_factory: SchedulerFactory | None = None,
        clock: Clock = clock_mod.now,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.ctx = _context(store, grader_factory, scheduler_factory, clock, export_dir)
        self.exams: list[Any] = []
        self.trends: dict[str, list[Any]] = {}

    @classmethod
    def from_context(cls, ctx: ExamContext) -> ExamHistoryScreen:
        return cls(
            ctx.store,
            ctx.grader_factory,
            scheduler_factory=ctx.scheduler_factory,
            clock=ctx.clock,
            export_dir=ctx.export_dir,
        )

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Header()
        yield LiteralTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="history-empty")
        yield PlotextPlot(id="history-plot")
        yield Static(
            Text(
                "↑↓ exam (plot shows its chapters) · enter open report / resume · n new · esc back"
            ),
            id="history-keys",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Exam history"
        table = self.query_one("#history-table", DataTable)
        table.add_columns("#", "Date", "Scope", "Status", "Score", "Q", "Time", "Applied")
        self.query_one("#history-empty").display = False
        self.load()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.exams:
            self.load()

    @work(thread=True, exclusive=True, group="exam-history")
    def load(self) -> None:
        from labdeck.exam.history import list_exams, score_trends

        exams = list_exams(self.ctx.store)
        trends = score_trends(self.ctx.store)
        self.app.call_from_thread(self._show, exams, trends)

    def _show(self, exams: list[Any], trends: dict[str, list[Any]]) -> None:
        self.exams, self.trends = exams, trends
        table = self.query_one("#history-table", DataTable)
        row = table.cursor_row
        table.clear()
        for e in exams:
            status_style = {"graded": "", "submitted": "yellow", "sitting": "cyan"}.get(e.status)
            table.add_row(
                str(e.exam_id),
                e.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                e.scope,
                Text(e.status, style=status_style or ""),
                fmt_score(e.score),
                str(e.questions),
                fmt_duration(e.elapsed_s),
                "yes" if e.applied else "",
                key=str(e.exam_id),
            )
        empty = self.query_one("#history-empty", Static)
        empty.display = not exams
        empty.update(Text("No exams yet: press n to compose one."))
        if exams:
            table.move_cursor(row=min(max(row, 0), len(exams) - 1))
        table.focus()
        self._plot()

    def selected(self) -> Any:
        if not self.exams:
            return None
        row = self.query_one("#history-table", DataTable).cursor_row
        return self.exams[row] if 0 <= row < len(self.exams) else None

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._plot()

    def series(self) -> dict[str, tuple[list[int], list[float]]]:
        """What the plot shows: total plus the highlighted exam's chapters (x = exam order)."""
        order = {p.exam_id: i + 1 for i, p in enumerate(self.trends.get("total", []))}
        chosen = self.selected()
        codes = list(chosen.chapters) if chosen is not None else []
        if not codes:  # e.g. an unfinished exam: the chapters seen most often
            codes = sorted(
                (c for c in self.trends if c != "total"), key=lambda c: -len(self.trends[c])
            )
        out: dict[str, tuple[list[int], list[float]]] = {}
        for name in ["total", *codes[: self.MAX_SERIES]]:
            points = [p for p in self.trends.get(name, []) if p.exam_id in order]
            if points:
                out[name] = (
                    [order[p.exam_id] for p in points],
                    [round(p.score * 100, 1) for p in points],
                )
        return out

    def _plot(self) -> None:
        from textual_plotext import PlotextPlot

        widget = self.query_one("#history-plot", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        series = self.series()
        plt.title("Score per exam (%)" if series else "No graded exams yet")
        plt.ylim(0, 100)
        for name, (xs, ys) in series.items():
            if len(xs) == 1:
                plt.scatter(xs, ys, label=plain(name))
            else:
                plt.plot(xs, ys, label=plain(name), marker="braille")
        total = self.trends.get("total", [])
        if total:
            ticks = list(range(1, len(total) + 1))
            labels = [p.created_at.astimezone().strftime("%m-%d") for p in total]
            step = max(1, len(ticks) // 8)
            plt.xticks(ticks[::step], labels[::step])
        plt.xlabel("exam")
        widget.refresh()

    def action_open(self) -> None:
        exam = self.selected()
        if exam is None:
            return
        if exam.status == "sitting":
            self.app.push_screen(ExamScreen.from_context(self.ctx, exam.exam_id))
        else:
            self.app.push_screen(ExamReportScreen.from_context(self.ctx, exam.exam_id))

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_new(self) -> None:
        self.app.push_screen(
            ExamSetupScreen(
                self.ctx.store,
                self.ctx.grader_factory,
                scheduler_factory=self.ctx.scheduler_factory,
                clock=self.ctx.clock,
                export_dir=self.ctx.export_dir,
            )
        )
