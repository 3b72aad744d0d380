"""Past mock exams (date, scope, score, duration) and a trend plot of scores per chapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from labdeck.exam.report import fmt_duration, fmt_score
from labdeck.tui.literal import plain
from labdeck.tui.screens.exam.common import ExamContext, ExamScreenBase
from labdeck.tui.screens.exam.report import ExamReportScreen
from labdeck.tui.screens.exam.setup import ExamSetupScreen
from labdeck.tui.screens.exam.sitting import ExamScreen
from labdeck.tui.widgets.bottomline import BottomLine
from labdeck.tui.widgets.literal import LiteralTable
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from labdeck.exam.history import ExamSummary, TrendPoint


class ExamHistoryScreen(ExamScreenBase):
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
        Binding("e", "new", "New exam"),
        Binding("escape,q", "app.pop_screen", "Back"),
    ]
    MAX_SERIES = 6

    def __init__(self, ctx: ExamContext) -> None:
        super().__init__(ctx)
        self.exams: list[ExamSummary] = []
        self.trends: dict[str, list[TrendPoint]] = {}

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        yield Header()
        yield LiteralTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="history-empty")
        yield PlotextPlot(id="history-plot")
        yield BottomLine(
            Text(
                "↑↓ exam (plot shows its chapters) · enter open report / resume · e new · esc back"
            ),
            id="history-keys",
        )
        yield SteadyFooter()

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
        self.to_ui(self._show, exams, trends)

    def _show(self, exams: list[ExamSummary], trends: dict[str, list[TrendPoint]]) -> None:
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
        empty.update(Text("No exams yet: press e to compose one."))
        if exams:
            table.move_cursor(row=min(max(row, 0), len(exams) - 1))
        table.focus()
        self.call_after_refresh(self._plot)  # once the table's new height has left the room

    def selected(self) -> ExamSummary | None:
        if not self.exams:
            return None
        row = self.query_one("#history-table", DataTable).cursor_row
        return self.exams[row] if 0 <= row < len(self.exams) else None

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._plot()

    def on_resize(self) -> None:
        if self.exams:
            self._plot()  # a taller or shorter plot has room for more or fewer chapters

    def series_limit(self) -> int:
        """How many chapters the plot draws beside the total: plotext puts the legend (one line
        a series) inside the plot, so a short plot (80×24) shows fewer than it would cover."""
        height = self.query_one("#history-plot").size.height
        if not height:  # not laid out yet
            return self.MAX_SERIES
        room = height - 5  # title, axis, tick labels and x label take the rest
        return max(1, min(self.MAX_SERIES, room // 3))  # the legend covers a third at most

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
        for name in ["total", *codes[: self.series_limit()]]:
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
            ticks: list[float] = list(range(1, len(total) + 1))
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
            self.app.push_screen(ExamScreen(self.ctx, exam.exam_id))
        else:
            self.app.push_screen(ExamReportScreen(self.ctx, exam.exam_id))

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_new(self) -> None:
        self.open_over_home(ExamSetupScreen(self.ctx))
