"""Sitting a mock exam: one question at a time, a countdown, answers autosaved as typed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Header, LoadingIndicator, Static, TextArea

from labdeck.exam import ExamError
from labdeck.exam.report import fmt_duration
from labdeck.exam.session import ExamSession
from labdeck.tui.cells import fit
from labdeck.tui.literal import literal, plain
from labdeck.tui.screens.confirm import ConfirmScreen
from labdeck.tui.screens.exam.common import (
    ExamContext,
    OneExamScreen,
    prompt_markdown,
)
from labdeck.tui.widgets.bottomline import BottomLine
from labdeck.tui.widgets.editors import TextEditor
from labdeck.tui.widgets.literal import CardMarkdown
from labdeck.tui.widgets.steadyfooter import SteadyFooter


def question_line(lead: str, chapter: str, title: str, key: str, note: str, width: int) -> Text:
    """The position line ("Question 2 of 3 · B8 Embedding Models… · exam-b:b8.2") in ``width``
    cells: the chapter title is cut first (with …), then the note dropped, so that the position
    and the card key stay whole."""

    def build(title: str, note: str) -> Text:
        text = Text.assemble((lead, "bold"), plain(f" · {chapter}{title}".rstrip() + " · "))
        text.append(plain(key), style="dim")
        if note:
            text.append(f" · {note}", style="yellow")
        return text

    title = plain(title)
    for shown in (note, "") if note else ("",):
        text = build(title, shown)
        over = text.cell_len - width
        if width <= 0 or over <= 0:
            return text
        room = cell_len(title) - over
        text = build(fit(title, room) if room > 0 else "", shown)
        if text.cell_len <= width:
            return text
    text.truncate(width, overflow="ellipsis")
    return text


class QuestionLine(Widget):
    """The sitting's position line, fitted to its width on every render (a resize too)."""

    DEFAULT_CSS = "QuestionLine { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts = ("", "", "", "", "")

    def show(self, lead: str, chapter: str, title: str, key: str, note: str = "") -> None:
        self._parts = (lead, chapter, title, key, note)
        self.refresh()

    def render(self) -> Text:
        return question_line(*self._parts, width=self.size.width)


class ExamScreen(OneExamScreen):
    """One question at a time with a countdown; answers autosave as they are typed.

    Typed text never changes question. The navigation keys are priority bindings (they must
    beat the answer box's own keys, and a key pressed right after ctrl+s must reach the submit
    dialog), so they run while keys typed just before them may still wait in the answer box's
    queue. Every move, submit, leave and time-up is therefore queued behind those keys
    (``_after_typing``) and copies the box into the sitting first.

    Autosave has no debounce window: every change starts a save, or marks one to follow the
    save in flight, so a kill loses at most the keys typed while one save was being written.
    """

    DEFAULT_CSS = """
    ExamScreen #exam-top { height: 1; padding: 0 1; }
    ExamScreen #exam-pos { width: 1fr; }
    ExamScreen #exam-clock { width: auto; margin: 0 0 0 2; text-style: bold; }
    ExamScreen #exam-clock.-low { color: $error; }
    ExamScreen #exam-strip { height: auto; padding: 0 1; }
    ExamScreen #exam-body { height: 1fr; padding: 0 1; }
    ExamScreen #exam-prompt { margin: 0 0 1 0; }
    ExamScreen #exam-answer { height: 1fr; min-height: 6; border: round $accent; }
    ExamScreen #exam-status { height: 1; padding: 0 1; color: $text-muted; }
    ExamScreen #exam-keys { height: 1; padding: 0 1; }
    ExamScreen #exam-submitting { height: 3; }
    """
    # the app's palette would open Browse, with every reference answer, while the clock runs
    PALETTE_OFF = "The command palette is off during a mock exam: esc pauses it."
    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("alt+right", "next", "Next", show=False, priority=True),
        Binding("ctrl+b", "previous", "Previous", priority=True),
        Binding("alt+left", "previous", "Previous", show=False, priority=True),
        Binding("ctrl+g", "skip", "Skip & mark", priority=True),
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("ctrl+t", "submit", "Submit", show=False, priority=True),
        Binding("f2", "toggle_zh", "中/EN"),
        Binding("escape", "leave", "Pause", tooltip="Pause and leave", priority=True),
    ]

    def __init__(
        self,
        ctx: ExamContext,
        exam_id: int,
        *,
        tick_s: float = 0.5,
        checkpoint_every_s: float = 5.0,
    ) -> None:
        super().__init__(ctx, exam_id)
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
            yield QuestionLine(id="exam-pos")
            yield Static(id="exam-clock")
        yield Static(id="exam-strip")
        with VerticalScroll(id="exam-body"):
            yield CardMarkdown(id="exam-prompt")
            yield TextEditor(id="exam-answer", soft_wrap=True, tab_behavior="focus")
        yield LoadingIndicator(id="exam-submitting")
        yield Static(id="exam-status")
        yield BottomLine(
            Text.assemble(
                ("ctrl+n", "bold"),
                " / alt+→ next · ",
                ("ctrl+b", "bold"),
                " / alt+← previous · ",
                ("ctrl+g", "bold"),
                " skip & mark · ",
                ("ctrl+s", "bold"),
                " / ctrl+t submit · ",
                ("esc", "bold"),
                " pause & leave",
            ),
            id="exam-keys",
        )
        yield SteadyFooter()

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
        self.query_one("#exam-pos", QuestionLine).show(
            f"Question {q.position} of {session.n}",
            f"{q.chapter} ",
            q.chapter_title,
            q.key,
            "self-graded (no reference)" if q.self_graded else "",
        )
        prompt = q.prompt_zh if self.show_zh and q.prompt_zh else q.prompt
        self.query_one("#exam-prompt", CardMarkdown).update(prompt_markdown(prompt))
        area = self.query_one("#exam-answer", TextArea)
        if area.text != q.answer:
            area.load_text(q.answer)
            # typing on, as after a move back or a resume, continues the answer, not its start
            area.move_cursor(area.document.end)
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
            self.to_ui(self._status, f"autosave failed: {exc}")
            return
        self.saves += 1
        stamp = self.ctx.clock().astimezone().strftime("%H:%M:%S")
        self.to_ui(self._status, f"saved {stamp}")

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
            self.notify("Last question: ctrl+s submits.", timeout=2)
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
        """Ask at once (a key pressed right after ctrl+s answers the dialog); the submission
        itself waits for the keys typed before ctrl+s."""
        session = self.session
        if session is None or self.finished:
            return
        self._sync_answer()

        def detail() -> str:
            # Read again while the dialog is open: the clock keeps running, and the keys typed
            # in the same burst as ctrl+s reach the box (and the counts) after it opened.
            answered = session.answered_count()
            marked = sum(q.marked for q in session.questions)
            counts = f"{answered}/{session.n} answered"
            if answered < session.n:
                counts += f", {session.n - answered} blank"
            if marked:
                counts += f", {marked} marked to revisit"
            remaining = session.remaining_s()
            return counts if remaining is None else f"{counts}; {fmt_duration(remaining)} left"

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._after_typing(self._finish)

        dialog = ConfirmScreen("Submit the exam for grading?", detail, "y / enter: submit")
        self.app.push_screen(dialog, done)
        # once the box has the burst's keys; on the dialog's own queue, so after its mount
        self._after_typing(lambda: dialog.call_later(dialog.refresh_detail))

    def action_leave(self) -> None:
        self._after_typing(self._leave_now)

    def _leave_now(self) -> None:
        if not self.is_current:  # left already (escape pressed twice)
            return
        if self.session is None:
            self.app.pop_screen()
            return
        if self.finished:  # being submitted (the time ran out): the report replaces it soon
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
        if not self.to_ui(self._to_report):
            # the learner went elsewhere as it was submitted (a palette command): say where
            # the report is rather than open it over whatever they went to
            self.notify_from_worker(
                f"Exam {self.exam_id} is submitted: open it from the exam history (h in Mock"
                " exam) for its report.",
                timeout=6,
            )

    def _to_report(self) -> None:
        app = self.app
        from labdeck.tui.screens.exam.report import ExamReportScreen

        report = ExamReportScreen(self.ctx, self.exam_id, after_time_up=self._time_up)
        while app.screen is not self:  # e.g. the submit dialog was open when time ran out
            app.pop_screen()
        app.switch_screen(report)
