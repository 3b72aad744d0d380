"""Demos: the registry with explanations and parameters; a run streams the child process's
events into a progress bar, a metrics table, plots, image grids, tables and text. Esc cancels
(the child's process group is killed). Finished runs are listed from the database.

The child runs via ``labdeck.demos.runner.DemoProcess``; a thread worker iterates its events and
posts each to the UI with ``to_ui``. Device and threads come from the settings.
While the screen is open a warm child (``runner.prewarm``: torch already imported) waits for the
next run, started when the screen opens and again after each run; closing the screen reaps it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from labdeck.demos import registry
from labdeck.demos.notice import card_key_points, notice_lines
from labdeck.demos.render import clean, fmt_value
from labdeck.tui.literal import literal
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.editors import TextField
from labdeck.tui.widgets.literal import LiteralTable
from labdeck.tui.widgets.plots import Chart
from labdeck.tui.widgets.shade import ShadeImage
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import Widget

    from labdeck.demos.runner import DemoProcess, Outcome
    from labdeck.store.models import DemoRun

DEFAULT_PRESET = "quick"
RUN_LIMIT = 30
NOTICE_SEEN = 4  # a finished run shows at least this much of "What to notice" (heading, text)
NAME_WIDTH = max(len(d.id) for d in registry.all_demos()) + 1  # "speculative ~8 s"


def prewarm_demo(threads: int) -> None:
    """Have a warm demo child (torch imported) wait for the next run; returns at once (a
    keeper thread starts it). For this screen, and for a screen showing a card with a demo."""
    from labdeck.demos.runner import prewarm

    with contextlib.suppress(Exception):  # no thread or process to spare: the run starts cold
        prewarm(threads=threads)


def _when(moment: datetime | None) -> str:
    return f"{moment:%m-%d %H:%M}" if moment else "—"


def metrics_line(metrics: dict[str, Any], limit: int = 3) -> str:
    parts = [f"{clean(k)}={fmt_value(v)}" for k, v in list(metrics.items())[:limit]]
    if len(metrics) > limit:
        parts.append("…")
    return ", ".join(parts)


class DemosScreen(LabdeckScreen):
    BINDINGS = [
        Binding("ctrl+s", "run", "Run", priority=True),
        Binding("r", "run", "Run", show=False),
        Binding("p", "toggle_preset", "Quick/full"),
        Binding("o", "edit_params", "Options"),
        Binding("escape", "cancel_or_back", "Cancel / back"),
        Binding("q", "back", "Back", show=False),
        Binding("l", "focus_list", "Demos", show=False),
        Binding("h", "focus_runs", "Runs"),
        Binding("c", "back_to_card", "Back to card"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (140, "-xwide")]

    def __init__(self, demo_id: str | None = None, card_key: str | None = None) -> None:
        super().__init__()
        self.demos = registry.all_demos()
        known = {d.id for d in self.demos}
        self.demo_id = demo_id if demo_id in known else self.demos[0].id
        self.requested = demo_id
        self.card_key = card_key
        self.preset = DEFAULT_PRESET
        self.proc: DemoProcess | None = None  # the running one
        self.running = False
        self.run_count = 0  # events of the current run go to the current output only
        self.following = True  # the output pane follows the run until the learner scrolls up
        self._follow_y = 0.0  # where the last follow-scroll left the pane
        self._charts: dict[str, tuple[Chart, dict[str, dict[str, Any]]]] = {}  # series events
        self._metric_rows: set[str] = set()
        self._runs: list[DemoRun] = []
        self._cancel_requested = False
        self.child_pid: int | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        # a grid: list | pane over runs (labdeck.tcss places them for the terminal's width)
        with Container(id="demos"):
            yield OptionList(
                *[Option(self._option(d), id=d.id) for d in self.demos], id="demo-list"
            )
            with Vertical(id="demo-pane"):
                with VerticalScroll(id="demo-main"):
                    yield Static(id="demo-title")
                    yield Static(id="demo-explanation")
                    yield Vertical(id="demo-params")
                    yield LiteralTable(id="demo-metrics", show_cursor=False)
                    yield Vertical(id="demo-output")
                # below the scrolling pane, so a run's progress is on screen at any size
                yield Static(id="demo-status")
                yield ProgressBar(total=None, show_eta=False, id="demo-progress")
            yield LiteralTable(id="demo-runs", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    @staticmethod
    def _option(demo: registry.Demo) -> Text:
        text = Text()
        text.append(f"{demo.id:<{NAME_WIDTH}}", style="bold")
        text.append(f"~{demo.seconds.get(DEFAULT_PRESET, 0):g} s", style="dim")
        return text

    async def on_mount(self) -> None:
        self.title = "Demos"
        self.sub_title = (
            f"from card {clean(self.card_key)} · c returns to it"
            if self.card_key
            else "runnable micro-demos"
        )
        runs = self.query_one("#demo-runs", DataTable)
        runs.add_columns("demo", "status", "metrics", "when")
        metrics = self.query_one("#demo-metrics", DataTable)
        metrics.add_column("metric", key="metric")
        metrics.add_column("value", key="value")
        metrics.add_column("step", key="step")
        self._hide_progress()
        self.query_one("#demo-metrics").display = False
        option_list = self.query_one("#demo-list", OptionList)
        option_list.highlighted = next(i for i, d in enumerate(self.demos) if d.id == self.demo_id)
        option_list.focus()
        if self.requested and self.requested != self.demo_id:
            self.notify(f"Unknown demo {self.requested!r}.", severity="warning")
        await self.show_demo(self.demo_id)
        self.load_runs()
        self._prewarm()

    def _prewarm(self) -> None:
        with contextlib.suppress(Exception):  # a settings error: the run then starts cold
            prewarm_demo(self.services.settings.demo_threads)

    def on_unmount(self) -> None:
        from labdeck.demos.runner import discard_warm

        if self.proc is not None:
            self.proc.cancel()
        discard_warm(wait=False)

    # ------------------------------------------------------------ choosing a demo

    @on(OptionList.OptionHighlighted, "#demo-list")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.demo_id and not self.running:
            await self.show_demo(event.option.id)

    @on(OptionList.OptionSelected, "#demo-list")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        if self.running:
            return
        if event.option.id and event.option.id != self.demo_id:
            await self.show_demo(event.option.id)
        await self.action_run()

    def _demo(self) -> registry.Demo:
        return registry.get(self.demo_id)

    async def show_demo(self, demo_id: str) -> None:
        self.demo_id = demo_id
        demo = self._demo()
        self.query_one("#demo-title", Static).update(
            Text.assemble((demo.title, "bold"), ("  " + demo.id, "dim"))
        )
        topics = ", ".join(demo.topics)
        explanation = Text(demo.explanation)
        explanation.append(f"\noutline: {topics}", style="dim")
        self.query_one("#demo-explanation", Static).update(explanation)
        await self._build_params(demo)
        await self._clear_output()
        settings = self.services.settings
        seconds = demo.seconds.get(self.preset, 0)
        self._status(
            Text.assemble(
                ("ctrl+s", "bold"),
                f" runs the {self.preset} preset (~{seconds:g} s on one core) on device ",
                (settings.demo_device, "bold"),
                f" with {settings.demo_threads} thread{'s' if settings.demo_threads != 1 else ''}"
                " · p switches quick/full · esc cancels a run",
            )
        )

    def action_edit_params(self) -> None:
        box = self.query_one("#demo-params", Vertical)
        box.display = not box.display
        if box.display:
            box.scroll_visible(animate=False)

    async def _build_params(self, demo: registry.Demo) -> None:
        box = self.query_one("#demo-params", Vertical)
        box.display = True
        await box.remove_children()
        values = demo.resolve(None, self.preset)
        rows = []
        for param in demo.params:
            row = Horizontal(classes="demo-param")
            row.compose_add_child(Label(literal(param.name)))
            field: Select[Any] | Input
            if param.choices is not None or param.type is bool:
                options = param.choices if param.choices is not None else (False, True)
                field = Select(
                    [(str(c), c) for c in options],
                    value=values[param.name],
                    allow_blank=False,
                    id=f"param-{param.name}",
                )
            else:
                field = TextField(
                    str(values[param.name]),
                    id=f"param-{param.name}",
                    type="integer" if param.type is int else "text",
                )
            row.compose_add_child(field)
            row.compose_add_child(
                Static(literal(f"{param.help} [{param.describe_bounds()}]"), classes="param-help")
            )
            rows.append(row)
        preset = Horizontal(classes="demo-param")
        preset.compose_add_child(Label("preset"))
        preset.compose_add_child(
            Select(
                [(p, p) for p in registry.PRESETS if p in demo.presets],
                value=self.preset,
                allow_blank=False,
                id="param-preset",
            )
        )
        preset.compose_add_child(
            Static("quick is shorter; full is the whole run", classes="param-help")
        )
        await box.mount_all([preset, *rows])

    def _overrides(self) -> dict[str, Any]:
        demo = self._demo()
        values: dict[str, Any] = {}
        for param in demo.params:
            try:
                widget = self.query_one(f"#param-{param.name}")
            except NoMatches:
                continue
            if isinstance(widget, Select):
                values[param.name] = widget.value
            elif isinstance(widget, Input):
                values[param.name] = widget.value.strip()
        return values

    @on(Select.Changed, "#param-preset")
    async def _preset_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.preset:
            self.preset = event.value
            demo = self._demo()
            values = demo.resolve(None, self.preset)
            for param in demo.params:
                widget = self.query_one(f"#param-{param.name}")
                if isinstance(widget, Input):
                    widget.value = str(values[param.name])
                elif isinstance(widget, Select):
                    widget.value = values[param.name]
            self.notify(f"Preset {self.preset}.", timeout=2)

    def action_toggle_preset(self) -> None:
        if self.running:
            return
        presets = [p for p in registry.PRESETS if p in self._demo().presets]
        nxt = presets[(presets.index(self.preset) + 1) % len(presets)]
        self.query_one("#param-preset", Select).value = nxt

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("param-"):
            await self.action_run()

    def action_focus_list(self) -> None:
        self.query_one("#demo-list").focus()

    def action_focus_runs(self) -> None:
        self.query_one("#demo-runs").focus()

    # ------------------------------------------------------------ running

    def _status(self, text: Text | str) -> None:
        self.query_one("#demo-status", Static).update(text)

    async def _clear_output(self) -> None:
        self._charts.clear()
        self._metric_rows.clear()
        await self.query_one("#demo-output", Vertical).remove_children()
        metrics = self.query_one("#demo-metrics", DataTable)
        metrics.clear()
        metrics.display = False
        self._hide_progress()

    async def action_run(self) -> None:
        if self.running:
            self.notify("A demo is already running (esc cancels it).", timeout=3)
            return
        demo = self._demo()
        overrides = self._overrides()
        try:
            params = demo.resolve(overrides, self.preset)
        except (registry.InvalidParameter, registry.UnknownDemo) as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        await self._clear_output()
        bar = self.query_one("#demo-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        # the run's output replaces the parameter form on screen (e shows the form again)
        self.query_one("#demo-params").display = False
        main = self.query_one("#demo-main", VerticalScroll)
        self.following = True
        self._follow_y = 0.0
        main.call_after_refresh(self._scroll_to_end, main)  # then follow the output
        settings = self.services.settings
        self.running = True
        self._cancel_requested = False
        self.run_count += 1
        self._status(
            Text.assemble(
                ("Running ", "bold"),
                (demo.id, "bold"),
                f" ({self.preset}) on {settings.demo_device}, {settings.demo_threads} thread(s)… ",
                ("esc cancels", "dim"),
            )
        )
        self.run_demo(demo, params, self.preset, settings.demo_device, settings.demo_threads)

    @work(thread=True, exclusive=True, group="demo-run")
    def run_demo(
        self, demo: registry.Demo, params: dict[str, Any], preset: str, device: str, threads: int
    ) -> None:
        from labdeck.demos import history
        from labdeck.demos.runner import DemoProcess

        services = self.services
        run_no = self.run_count
        run_id = None
        try:
            proc = DemoProcess(
                demo.id,
                params,
                device=device,
                threads=threads,
                preset=preset,
                timeout=registry.run_timeout(demo, preset),
            )
            store = services.store
        except Exception as exc:
            self.to_ui(self._failed_to_start, f"{type(exc).__name__}: {exc}")
            return
        self.proc = proc
        proc.start()  # from this worker thread, which lives until the run ends (lifeline)
        try:  # after the start, so the row carries the child's pid
            run_id = history.record_process_start(
                store, proc, card_key=self.card_key, now=services.now
            )
        except Exception as exc:
            proc.cancel()
            proc.wait()
            self.proc = None
            self.to_ui(self._failed_to_start, f"{type(exc).__name__}: {exc}")
            return
        if self._cancel_requested:
            proc.cancel()
        self.to_ui(self._started, proc.pid)
        for event in proc.events():
            if not self.to_ui(self._on_event, run_no, event):
                proc.cancel()
        outcome = proc.outcome
        self.proc = None
        if self.is_attached:
            self._prewarm()  # for the next run, now that this one no longer needs the CPU
        try:
            history.record_end(services.store, run_id, outcome, now=services.now)
        except Exception as exc:
            self.notify_from_worker(f"Could not record the run: {exc}", severity="warning")
        try:
            points = card_key_points(services.store, self.card_key)
        except Exception:  # the demo's own notes still help without the card's text
            points = []
        self.to_ui(self._finished, run_no, outcome, notice_lines(demo, self.card_key, points))

    def _failed_to_start(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.running = False
        self._stop_progress("failed")
        self._status(Text(f"Could not start the demo: {message}", style="bold red"))
        self.notify(message, severity="error")

    def _hide_progress(self) -> None:
        """No run's bar to show: hidden, and with a total so that it does not animate."""
        bar = self.query_one("#demo-progress", ProgressBar)
        bar.update(total=1, progress=0)
        bar.display = False

    def _stop_progress(self, status: str) -> None:
        """A run has ended: its bar stops animating. A finished run's bar is full; one that
        ended otherwise keeps the share it reached, or is hidden when it never knew its total
        (an indeterminate bar animates for as long as it has no total, shown or not)."""
        bar = self.query_one("#demo-progress", ProgressBar)
        known = bar.total is not None
        if status == "ok":
            total = bar.total if bar.total is not None else 1
            bar.update(total=total, progress=total)
        elif not known:
            bar.update(total=1, progress=0)
        bar.display = known or status == "ok"

    def _started(self, pid: int | None) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.child_pid = pid

    def action_back(self) -> None:
        """``q`` goes back, as on every screen; not while a demo runs (esc cancels it)."""
        if self.running:
            self.notify("A demo is running: esc cancels it.", timeout=3)
            return
        self.app.pop_screen()

    def action_cancel_or_back(self) -> None:
        if self.running:
            self._cancel_requested = True
            if self.proc is not None:
                self.proc.cancel()
            self._status(Text("Cancelling… the demo process group is being killed.", style="bold"))
            return
        if isinstance(self.focused, Input | Select):
            self.query_one("#demo-list").focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ events

    async def _on_event(self, run_no: int, event: dict[str, Any]) -> None:
        if run_no != self.run_count or not self.is_attached:
            return
        kind = event.get("type")
        handler = getattr(self, f"_ev_{kind}", None)
        if handler is not None:
            main = self.query_one("#demo-main", VerticalScroll)
            # Still following unless the learner scrolled up: above where the last
            # follow-scroll left the pane (output only grows during a run, so nothing else
            # moves it up; comparing with the end would take a follow-scroll that has not
            # run yet, or ran before the layout grew, for the learner scrolling away)
            if main.scroll_y < self._follow_y - 1:
                self.following = False
            try:
                await handler(event)
            except (NoMatches, TypeError, ValueError, KeyError) as exc:  # bad event: say so
                self.notify(f"Ignored a malformed {kind} event: {exc}", severity="warning")
            if self.following:
                main.call_after_refresh(self._scroll_to_end, main)

    def _scroll_to_end(self, main: VerticalScroll) -> None:
        if main.scroll_y < self._follow_y - 1:  # scrolled up while this scroll was queued
            self.following = False
        if self.following:
            main.scroll_end(animate=False, immediate=True)
            self._follow_y = max(self._follow_y, main.scroll_y)

    async def _ev_progress(self, event: dict[str, Any]) -> None:
        step, total = int(event.get("step") or 0), int(event.get("total") or 0)
        bar = self.query_one("#demo-progress", ProgressBar)
        if total > 0:
            bar.update(total=total, progress=min(step, total))
        label = clean(event.get("label") or "")
        if label:
            demo = self._demo()
            self._status(
                Text.assemble(
                    ("Running ", "bold"),
                    (demo.id, "bold"),
                    f": {label} ({step}/{total}) ",
                    ("esc cancels", "dim"),
                )
            )

    async def _ev_metric(self, event: dict[str, Any]) -> None:
        self._metric(str(event.get("name")), event.get("value"), event.get("step"))

    def _metric(self, name: str, value: Any, step: Any = None) -> None:
        table = self.query_one("#demo-metrics", DataTable)
        table.display = True
        name = clean(name)
        cells = (fmt_value(value), "" if step is None else str(step))
        if name in self._metric_rows:
            table.update_cell(name, "value", cells[0])
            table.update_cell(name, "step", cells[1])
        else:
            self._metric_rows.add(name)
            table.add_row(name, *cells, key=name)

    async def _ev_series(self, event: dict[str, Any]) -> None:
        name = clean(event.get("name") or "series")
        group = clean(event.get("group") or name)
        entry = self._charts.get(group)
        if entry is None:
            chart = Chart(group)
            await self.query_one("#demo-output", Vertical).mount(chart)
            entry = (chart, {})
            self._charts[group] = entry
        chart, series = entry
        series[name] = event
        first = next(iter(series.values()))
        chart.lines(
            [
                (n, list(s.get("x") or []), list(s.get("y") or []), s.get("kind") or "line")
                for n, s in series.items()
            ],
            xlabel=clean(first.get("xlabel") or ""),
            ylabel=clean(first.get("ylabel") or ""),
        )

    async def _ev_image(self, event: dict[str, Any]) -> None:
        image = ShadeImage(classes="demo-image")
        await self.query_one("#demo-output", Vertical).mount(image)
        image.show_event(event)

    async def _ev_table(self, event: dict[str, Any]) -> None:
        columns = [clean(c) for c in event.get("columns") or []]
        title = Static(
            Text(clean(event.get("title") or "table"), style="bold"), classes="demo-text"
        )
        table = LiteralTable(classes="demo-table", show_cursor=False, zebra_stripes=True)
        await self.query_one("#demo-output", Vertical).mount_all([title, table])
        table.add_columns(*columns)
        for row in event.get("rows") or []:
            cells = [fmt_value(v) for v in row][: len(columns)]
            table.add_row(*cells, *[""] * (len(columns) - len(cells)))

    async def _ev_text(self, event: dict[str, Any]) -> None:
        text = clean(event.get("text") or "")
        style = "dim" if event.get("raw") else ""
        await self.query_one("#demo-output", Vertical).mount(
            Static(Text(text, style=style), classes="demo-text")
        )

    async def _ev_result(self, event: dict[str, Any]) -> None:
        for name, value in (event.get("metrics") or {}).items():
            self._metric(str(name), value)
        checks = event.get("checks") or {}
        if checks:
            text = Text()
            text.append("Checks\n", style="bold")
            for name, check in checks.items():
                if isinstance(check, dict) and check.get("passed") is None and check.get("changed"):
                    text.append(" ~ ", style="bold yellow")
                    text.append(clean(check["changed"]) + "\n")
                    continue
                ok = isinstance(check, dict) and check.get("passed")
                text.append(" ✓ " if ok else " ✗ ", style="bold green" if ok else "bold red")
                text.append(clean(name))
                if isinstance(check, dict):
                    text.append(
                        f"  {fmt_value(check.get('value'))} (target {clean(check.get('target', ''))})",
                        style="dim",
                    )
                text.append("\n")
            await self.query_one("#demo-output", Vertical).mount(
                Static(text, classes="demo-text"), before=0
            )

    async def _ev_error(self, event: dict[str, Any]) -> None:
        message = clean(event.get("message") or "the demo reported an error")
        self.notify(message, severity="error", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # opened from Home or the palette: no card to go back to
        return not (action == "back_to_card" and not self.card_key)

    def action_back_to_card(self) -> None:
        if not self.card_key:
            self.notify("This run was not started from a card.", timeout=2)
        elif self.running:
            self.notify("A demo is running (esc cancels it first).", timeout=3)
        else:
            self.app.pop_screen()  # the card's screen (review or browse) is underneath

    async def _finished(
        self, run_no: int, outcome: Outcome | None, notice: list[str] | None = None
    ) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        if run_no != self.run_count:
            return
        self.running = False
        notice_box: Static | None = None
        if notice and getattr(outcome, "status", "") == "ok":
            text = Text(notice[0] + "\n", style="bold")
            for line in notice[1:]:
                text.append(clean(line) + "\n")
            if self.card_key:
                text.append("c returns to the card", style="dim")
            notice_box = Static(text, classes="demo-text", id="demo-notice")
            await self.query_one("#demo-output", Vertical).mount(notice_box, before=0)
        status = getattr(outcome, "status", "failed")
        message = clean(getattr(outcome, "message", ""))
        self._stop_progress(status)
        style = {"ok": "bold green", "cancelled": "bold yellow"}.get(status, "bold red")
        self._status(Text.assemble((f"{status}: ", style), message))
        severity: SeverityLevel = "information" if status in ("ok", "cancelled") else "error"
        self.notify(f"{self.demo_id}: {status} — {message}", severity=severity, timeout=5)
        main = self.query_one("#demo-main", VerticalScroll)
        if self.following:  # followed to the end: show the results from the top
            metrics = self.query_one("#demo-metrics")
            first = metrics if metrics.display else self.query_one("#demo-output")
            main.call_after_refresh(self._show_results, main, first, notice_box)
            self.following = False  # no follow-scroll still queued moves the results away
        self.load_runs()

    @staticmethod
    def _show_results(main: VerticalScroll, first: Widget, notice: Widget | None) -> None:
        """Open the pane at the results (the metrics). When that would leave the notice's
        heading and first lines below the pane (80x24: the heading on the last line, its text
        hidden), open it at the notice instead: it says what the numbers mean."""

        def top(widget: Widget) -> int:  # in the pane's scrolled content, laid out already
            return widget.region.y - main.scrollable_content_region.y + round(main.scroll_y)

        target = top(first)
        if notice is not None and notice.region.height:
            seen = min(NOTICE_SEEN, notice.region.height)
            if top(notice) + seen - target > main.scrollable_content_region.height:
                target = top(notice)
        main.scroll_to(y=target, animate=False, immediate=True)

    # ------------------------------------------------------------ history

    @work(thread=True, exclusive=True, group="demo-history")
    def load_runs(self) -> None:
        from labdeck.demos import history

        try:
            store = self.services.store
            history.mark_interrupted(store, now=self.services.now)
            runs = history.list_runs(store, limit=RUN_LIMIT)
        except Exception as exc:
            self.notify_from_worker(f"Could not read the run history: {exc}", severity="warning")
            return
        self.to_ui(self._show_runs, runs)

    def _show_runs(self, runs: list[DemoRun]) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self._runs = runs
        table = self.query_one("#demo-runs", DataTable)
        table.clear()
        styles = {"ok": "green", "cancelled": "yellow", "interrupted": "yellow", "running": "blue"}
        for run in runs:
            table.add_row(
                run.demo_id,
                Text(run.status, style=styles.get(run.status, "red")),
                metrics_line(run.metrics or {}, limit=1),
                _when(run.started_at),
                key=str(run.id),
            )
        table.border_title = f"runs ({len(runs)})"

    @on(DataTable.RowSelected, "#demo-runs")
    async def _run_selected(self, event: DataTable.RowSelected) -> None:
        if self.running or event.row_key.value is None:
            return
        run = next((r for r in self._runs if str(r.id) == event.row_key.value), None)
        if run is None:
            return
        await self._clear_output()
        self._status("")  # the last run's end ("cancelled: …") is not this run's (QA)
        params = ", ".join(f"{k}={fmt_value(v)}" for k, v in (run.params or {}).items())
        text = Text()
        text.append(f"Run #{run.id}: {run.demo_id} ", style="bold")
        text.append(f"{run.status}", style="green" if run.status == "ok" else "yellow")
        text.append(f"\nstarted {_when(run.started_at)}, device {clean(run.device)}, ")
        text.append(f"{run.threads} thread(s), seed {run.seed}")
        if run.card_key:
            text.append(f", from card {clean(run.card_key)}")
        text.append(f"\nparams: {params}\n", style="dim")
        if run.message:
            text.append(clean(run.message) + "\n")
        header = Static(text, classes="demo-text")
        output = self.query_one("#demo-output", Vertical)
        await self._ev_result({"checks": run.checks or {}})  # mounted first in the output
        # then, above the checks: the header and the run's metrics, in that order
        await output.mount(header, before=0)
        if run.metrics:
            table = LiteralTable(classes="demo-table", show_cursor=False, zebra_stripes=True)
            await output.mount(table, after=header)
            table.add_columns("metric", "value")
            for name, value in run.metrics.items():
                table.add_row(clean(str(name)), fmt_value(value))
        # open the past run at its header, wherever the pane was scrolled for the last one
        self.following = False
        main = self.query_one("#demo-main", VerticalScroll)
        main.call_after_refresh(main.scroll_to_widget, header, top=True, animate=False)
