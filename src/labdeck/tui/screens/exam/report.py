"""An exam's report: total, per-question verdicts and references, per-chapter breakdown; your
own grades (key-point ticks or 0–5); apply to the schedule; export Markdown."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Label, LoadingIndicator, Static

from labdeck.exam import ExamError
from labdeck.exam.report import ExamReport, QuestionReport, fmt_duration, fmt_score
from labdeck.grading.checklist import Ticks, verdict_of
from labdeck.tui.bindings import RATE_BINDINGS, RatingKeys
from labdeck.tui.cells import steady_width
from labdeck.tui.literal import literal, plain
from labdeck.tui.screens.confirm import ConfirmScreen
from labdeck.tui.screens.exam.common import (
    ExamContext,
    OneExamScreen,
    prompt_markdown,
)
from labdeck.tui.widgets.bottomline import BottomLine
from labdeck.tui.widgets.checklist import checklist_text, tick_keys_note, tick_with
from labdeck.tui.widgets.literal import CardMarkdown, LiteralTable
from labdeck.tui.widgets.steadyfooter import SteadyFooter

# once applied the grades are final: the key line offers only what still acts
APPLIED_KEYS = (
    "↑↓ question · pgup/pgdn detail · m export · h history · esc back · applied: grades are final"
)
REPORT_KEYS = (
    "↑↓ question · pgup/pgdn detail · 1–9 tick (saved) · enter record ticks · = 0–5 grade · "
    "x clear · "
    "a apply · m export · h history · esc back"
)


class ExamReportScreen(RatingKeys, OneExamScreen):
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
    ExamReportScreen #report-left { width: 2fr; min-width: 44; }
    ExamReportScreen #report-questions { height: 2fr; border: round $primary 40%; }
    ExamReportScreen #report-chapters { height: 1fr; border: round $primary 40%; }
    ExamReportScreen #report-detail { width: 3fr; padding: 0 1; border: round $primary 20%; }
    ExamReportScreen .report-section { color: $text-muted; margin-top: 1; text-style: bold; }
    ExamReportScreen #report-loading { height: 3; }
    ExamReportScreen #report-keys { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        *RATE_BINDINGS,
        Binding("enter", "record_ticks", "Record", tooltip="Record the ticks", priority=True),
        Binding("x", "rate(-1)", "Clear", tooltip="Clear your grade"),
        Binding("a", "apply", "Apply", tooltip="Apply the grades to the schedule"),
        Binding("m", "export", "Export", tooltip="Export the report as Markdown"),
        Binding("h", "history", "History"),
        Binding("escape,q", "back", "Back"),
        # the detail pane scrolls while the question list keeps the focus (↑↓ and the digits
        # stay the list's): it scrolled only once Tab, Tab had focused it
        Binding(
            "pagedown",
            "scroll_detail(1)",
            "Detail ↓",
            key_display="pgdn",
            show=False,
            priority=True,
        ),
        Binding("pageup", "scroll_detail(-1)", "Detail ↑", show=False, priority=True),
    ]

    # after a time-up the learner was still typing: keys are ignored until they pause this long
    TYPING_PAUSE_S = 1.0

    def __init__(self, ctx: ExamContext, exam_id: int, *, after_time_up: bool = False) -> None:
        super().__init__(ctx, exam_id)
        # the sitting ended mid-typing: the keys that follow were meant for the answer box, and
        # here they would tick points, grade or apply the exam. None once keys act again.
        self._typing_since: float | None = time.monotonic() if after_time_up else None
        self.report: ExamReport | None = None
        self.busy = True
        # the latest ticks per question position, written in order by ``_store_ticks``
        self.pending_ticks: dict[int, tuple[int, list[dict[str, Any]]]] = {}
        self._ticks_lock = threading.Lock()
        self._detail_row = -1  # the question the detail pane shows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="report-summary")
        yield LoadingIndicator(id="report-loading")
        with Horizontal(id="report-main"):
            with Vertical(id="report-left"):
                yield LiteralTable(id="report-questions", cursor_type="row", zebra_stripes=True)
                # read-only: Tab goes from the question list straight to the detail pane
                chapters = LiteralTable(id="report-chapters", cursor_type="none")
                chapters.can_focus = False
                yield chapters
            with VerticalScroll(id="report-detail"):
                yield Static(id="detail-head")
                yield CardMarkdown(id="detail-prompt")
                yield Label("Your answer", classes="report-section")
                yield Static(id="detail-answer")
                yield Label("Key points", classes="report-section", id="detail-points-heading")
                yield Static(id="detail-points")
                yield Label("Reference answer", classes="report-section")
                yield CardMarkdown(id="detail-reference")
        yield BottomLine(Text(REPORT_KEYS), id="report-keys")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = "Exam report"
        self.sub_title = f"exam {self.exam_id}"
        questions = self.query_one("#report-questions", DataTable)
        # short headers: every column fits the left pane at 80 columns
        questions.add_columns("#", "Ch.", "Verdict", "Q", "Score", "Time")
        chapters = self.query_one("#report-chapters", DataTable)
        chapters.add_columns("Ch.", "Score", "Done", "Avg q", "Time")
        self._set_busy(True, "Loading the report…")
        if self._typing_since is not None:
            self._update_keys()
            self._guard_timer = self.set_interval(0.2, self._check_typing_pause)
        self.load()

    # once applied the grades are final: the footer shows these keys dimmed (digits, not
    # shown there, still say why with a notification)
    FINAL_ACTIONS = frozenset({"record_ticks", "rate", "rate_prefix", "apply"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.typing_guarded():
            return None
        if action in self.FINAL_ACTIONS and self.report_applied():
            return None
        return True

    def typing_guarded(self) -> bool:
        """True while keys typed across the time-up are still arriving: they are ignored (the
        key line says so) until the learner pauses for ``TYPING_PAUSE_S``."""
        since = self._typing_since
        return since is not None and time.monotonic() - since < self.TYPING_PAUSE_S

    def _check_typing_pause(self) -> None:
        if self._typing_since is not None and not self.typing_guarded():
            self._typing_since = None
            self._guard_timer.stop()
            self._update_keys()
            self.refresh_bindings()

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
                self.to_ui(self._set_busy, True, f"Grading {report.answered} answers…")
                grader = self.ctx.grader()
                report = grade_exam(self.ctx.store, self.exam_id, grader, now=self.ctx.clock)
        except Exception as exc:
            self.to_ui(self._failed, f"{exc}")
            return
        self.to_ui(self._show, report)

    def on_screen_resume(self) -> None:
        """Back on top (from the history, or a second report of this exam opened there): the
        exam may have been applied or re-graded meanwhile, so the report is read again. It
        said "not applied (a)" after the other report applied it, and offered to apply it."""
        if self.report is not None and not self.busy:
            self.reload()

    @work(thread=True, exclusive=True, group="exam-report")
    def reload(self) -> None:
        from labdeck.exam.report import build_report

        try:
            report = build_report(self.ctx.store, self.exam_id)
        except Exception as exc:
            self.to_ui(self._failed, f"{exc}")
            return
        self.to_ui(self._show, report)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.query_one("#report-summary", Static).update(
            literal(f"Could not grade exam {self.exam_id}: {message}. Try again later.", "red")
        )

    def _show(self, report: ExamReport, keep_row: int | None = None) -> None:
        self.report = report
        if self._typing_since is not None:  # the pause counts from when keys could act
            self._typing_since = time.monotonic()
        self.refresh_bindings()  # applied or not: which keys the footer offers
        self._update_keys()  # and the key line
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
        if event.cursor_row != self._detail_row:  # another question: read it from the top
            self._detail_row = event.cursor_row
            self.query_one("#report-detail").scroll_home(animate=False)
        self._show_detail(event.cursor_row)

    def on_resize(self) -> None:
        # the checklist is wrapped to the detail pane's width: wrapped again at the new one,
        # once the pane has it (QA: resized 80 → 160 it stayed wrapped at ~30 columns)
        if self.report is not None:
            self.call_after_refresh(self._rewrap_points)

    def _rewrap_points(self) -> None:
        q = self.selected()
        if q is not None:
            self.query_one("#detail-points", Static).update(self._points_text(q))

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
            whose = "your grade" if q.override_quality is not None else "grader's quality"
            head.append(f"{q.verdict} · {whose} {q.quality}/5", style="bold")
            if q.override_quality is not None:
                suggested = "–" if q.auto_quality is None else str(q.auto_quality)
                head.append(f" (grader suggested {suggested})", style="dim")
            if q.auto_score is not None and q.drill is None:  # a drill is graded exactly
                head.append(f" · similarity score {q.auto_score:.2f}", style="dim")
        head.append(f" · {fmt_duration(q.time_s)}", style="dim")
        if q.unsure and q.override_quality is None and not self.report_applied():
            head.append(
                "\nthe grader is unsure of this one: check the ticks or grade it 0–5",
                style="yellow",
            )
        drill = q.drill or {}
        if drill.get("verdict") == "unread":  # typed, but not letters / a verdict
            head.append("\nNot read as an answer: ", style="bold yellow")
            head.append(
                plain(f"this question takes {drill.get('expected_form', 'a short reply')}.")
            )
        self.query_one("#detail-head", Static).update(head)
        self.query_one("#detail-prompt", CardMarkdown).update(prompt_markdown(q.prompt))
        answer = literal(q.answer.strip()) if q.answered else Text("(blank)", style="dim italic")
        self.query_one("#detail-answer", Static).update(answer)
        self.query_one("#detail-points", Static).update(self._points_text(q))
        reference = q.reference or "_No reference answer: grade this one yourself._"
        self.query_one("#detail-reference", CardMarkdown).update(prompt_markdown(reference))

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
        implied = ticks.quality_from(q.auto_quality)
        if self.report_applied():
            points.append("applied to the schedule: the grades are final\n", style="dim")
        elif q.checklist:
            points.append(f"your ticks imply {implied}: your grade, saved\n", style="bold")
        else:
            points.append(
                f"enter records the grader's {implied} with these ticks · {tick_with(ticks)} to "
                "correct: each tick is saved as your grade\n",
                style="dim",
            )
        # the scroll bar's room kept whether it shows or not: the same wrap every time
        width = steady_width(self.query_one("#report-detail"))
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
            self.notify(f"{tick_keys_note(ticks)}; = then 0–5 grades directly.", timeout=3)
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
        points = self.query_one("#detail-points", Static)
        points.update(self._points_text(q))
        # the ticks being changed are in view, wherever the pane was (at 80×24 they start
        # below the prompt and the answer)
        detail = self.query_one("#report-detail")
        heading = self.query_one("#detail-points-heading", Label)
        detail.call_after_refresh(detail.scroll_to_widget, heading, top=True, animate=False)
        quality = ticks.quality_from(q.auto_quality)
        self.pending_ticks[q.position] = (quality, [dict(r) for r in ticks.stored()])
        self._store_ticks(q.position)

    @work(thread=True, group="exam-ticks")
    def _store_ticks(self, position: int) -> None:
        from labdeck.exam.grade import override

        with self._ticks_lock:  # one write at a time, each of the latest ticks
            quality, stored = self.pending_ticks[position]
            try:
                report = override(self.ctx.store, self.exam_id, position, quality, checklist=stored)
            except ExamError as exc:
                self.notify_from_worker(str(exc), severity="error", markup=False)
                return
        self.to_ui(self._show, report, position - 1)

    def action_rate_prefix(self) -> None:
        self.rate_prefix_armed = True
        self._update_keys()

    def on_key(self, event: events.Key) -> None:
        if self.typing_guarded():
            self._typing_since = time.monotonic()  # still typing: the pause starts again
            event.stop()
            event.prevent_default()
            return
        # ``=`` waits for a digit; any other key cancels it (esc only cancels it).
        if not self.rate_prefix_armed or event.key == "equals_sign" or event.key.isdigit():
            return
        self.rate_prefix_armed = False
        self._update_keys()
        if event.key == "escape":
            event.stop()
            event.prevent_default()

    def report_applied(self) -> bool:
        """Applied to the schedule: the grades are final (keys, key line and detail say so)."""
        return self.report is not None and self.report.applied

    def _update_keys(self) -> None:
        keys = self.query_one("#report-keys", Static)
        if self._typing_since is not None:
            keys.update(
                Text("Time was up: keys are ignored until you stop typing for a moment", "bold")
            )
        elif self.rate_prefix_armed:
            keys.update(Text("= … now 0–5 is your grade · any other key cancels", style="bold"))
        elif self.report_applied():
            keys.update(Text(APPLIED_KEYS))
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
            self.notify_from_worker(str(exc), severity="error")
            return
        self.to_ui(self._show, report, row)

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

        self.app.push_screen(
            ConfirmScreen(
                "Apply this exam to your schedule?", detail, "y: apply", enter_confirms=False
            ),
            done,
        )

    @work(thread=True, exclusive=True, group="exam-report")
    def _apply(self) -> None:
        from labdeck.exam.grade import apply_to_schedule
        from labdeck.exam.report import build_report

        try:
            result = apply_to_schedule(
                self.ctx.store, self.exam_id, self.ctx.scheduler(), now=self.ctx.clock
            )
        except Exception as exc:
            self.notify_from_worker(f"{exc}", severity="error")
            report = build_report(self.ctx.store, self.exam_id)
            self.to_ui(self._show, report)
            return
        report = build_report(self.ctx.store, self.exam_id)
        self.notify_from_worker(result.summary())
        self.to_ui(self._show, report)

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

    def action_scroll_detail(self, pages: int) -> None:
        detail = self.query_one("#report-detail", VerticalScroll)
        if pages > 0:
            detail.scroll_page_down(animate=False)
        else:
            detail.scroll_page_up(animate=False)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_history(self) -> None:
        self.open_history()
