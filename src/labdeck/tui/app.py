"""The labdeck Textual app: a thin shell over the core (labdeck.srs, grading, demos, exam)."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from labdeck.textfmt import counted
from labdeck.tui.literal import plain
from labdeck.tui.screens.home import HomeScreen, Scope
from labdeck.tui.services import Services

# At most this many distinct errors are written to errors.log per session; a repeat of the
# error just logged is counted, not written again (a failing repaint must not fill the disk).
ERROR_LOG_LIMIT = 50
# The app counts as idle (the model may load) after this long without a key or a click.
IDLE_S = 1.5
IDLE_CHECK_S = 0.1
# A screen that asked for the model gets it after this long even while other workers run.
WANTED_WAIT_S = 2.0

_IMPORTS_FROZEN = False
_HEAP_SETTLED = False


def freeze_imports() -> None:
    """Once per process, as the app is built: ``gc.freeze()`` of what is there (the modules,
    their classes and functions, the settings: alive until the process ends). Else the first
    full collection, due around the first frame, scanned every object the imports made
    (measured at a load of 3): 23 ms of CPU just before the first frame of a start with the
    last session's counts, 36 ms just after a new day's, before its counts could be read.
    (Home's ``freeze_start_up_heap`` freezes again once start-up is over.)"""
    global _IMPORTS_FROZEN
    if not _IMPORTS_FROZEN:
        _IMPORTS_FROZEN = True
        gc.freeze()


def settle_heap() -> None:
    """After the idle warm-up (the model, its tokenizer's tables, the screens' modules): one
    full collection now, then ``gc.freeze()`` of what survives, so that no later full
    collection scans those objects again. Without it the next one fell inside a frame:
    36-44 ms of Browse's first frame after the model had loaded (gc callbacks, Dec 2).
    What is alive now and dies later stays frozen (never freed): one process's warm-up
    worth, bounded. Once per process."""
    global _HEAP_SETTLED
    if not _HEAP_SETTLED:
        gc.collect()
        gc.freeze()
        _HEAP_SETTLED = True


class LabdeckApp(App[None]):
    CSS_PATH = "labdeck.tcss"
    TITLE = "labdeck"
    # screens without their own get these classes (labdeck.tcss: the 80-column layout)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, services: Services, *, load_grader: bool = True) -> None:
        freeze_imports()
        super().__init__()
        self.services = services
        self._load_grader = load_grader
        self._last_error: str | None = None
        self._errors_logged = 0
        if services.settings.theme:
            self.theme = services.settings.theme

    def _handle_exception(self, error: Exception) -> None:
        """Nothing the learner does shows a traceback: a failed worker or handler becomes a
        notification and a line in ``errors.log``. (Tests keep Textual's strict behaviour.)"""
        if os.environ.get("PYTEST_CURRENT_TEST") or os.environ.get("LABDECK_DEBUG"):
            super()._handle_exception(error)
            return
        import traceback

        cause = getattr(error, "error", None) or error  # WorkerFailed wraps the real error
        signature = "".join(traceback.format_exception(cause))
        if signature == self._last_error or self._errors_logged >= ERROR_LOG_LIMIT:
            return  # the same failure again (e.g. on every repaint): said once already
        self._last_error = signature
        self._errors_logged += 1
        try:
            from labdeck.config import home_dir

            with (home_dir(self.services.home) / "errors.log").open("a", encoding="utf-8") as log:
                log.write(signature + "\n")
        except OSError:
            pass
        from labdeck.store.errors import classify, describe

        problem = classify(cause, self.services.store_path)
        self.notify(
            problem.message if problem else describe(cause),
            title="Something went wrong",
            severity="error",
            markup=False,
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is literal text: messages carry card text, file names and error
        messages, which must never be read as markup (``markup`` is accepted and ignored)."""
        super().notify(
            plain(message), title=plain(title), severity=severity, timeout=timeout, markup=False
        )

    def get_default_screen(self) -> Screen[Any]:
        """Home is the first screen itself, not pushed over Textual's blank default one: that
        costs a second screen's compose and styling, and the first frame it drew was thrown
        away inside the app's start-up batch (measured: 10-15 ms of CPU before the first
        frame). Nothing pops it: ``q`` on Home quits."""
        return HomeScreen()

    def on_mount(self) -> None:
        self._grader_requested = False
        self.warmed_up = False  # the idle warm-up (``_load_grader_and_tell``) is over
        self._chores_started = False
        self._grader_wanted, self._wanted_at = False, 0.0
        self._last_input = time.monotonic()
        # The model (1–2 s of CPU, holding the GIL) loads once the app is idle, or when a
        # review screen asks for it (ensure_grader_loading) as soon as that screen's card is
        # on screen — never while a screen is being drawn: Browse opened during the load took
        # 2–4 s instead of 0.3 s, a card's text 0.45 s instead of 0.15 s.
        self._idle_timer = self.set_interval(IDLE_CHECK_S, self._warm_up_when_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()
        if isinstance(event, events.Key):
            # A screen may take a key as it arrives, before the bindings and the focused
            # widget see it: Review, for keys typed in the same burst as ctrl+s (meant for the
            # rating, while the answer box still has the focus).
            route = getattr(self.screen, "route_key", None)
            if route is not None and route(event):
                return
        await super().on_event(event)

    def _warm_up_when_idle(self) -> None:
        """When no other worker is running (the home counts, a card, Browse's rows are in)
        and either a screen asked for the model or no key was pressed for ``IDLE_S``: first
        the start-up chores (``_startup_chores``), then the warm-up
        (``_load_grader_and_tell``)."""
        if self._chores_started and (not self._load_grader or self._grader_requested):
            self._idle_timer.stop()
            return
        waited = time.monotonic() - self._wanted_at if self._grader_wanted else 0.0
        busy = any(w.group != "grader" and not w.is_finished for w in self.workers)
        if busy and waited < WANTED_WAIT_S:  # a long-running worker does not hold it back
            return
        if not self._grader_wanted and time.monotonic() - self._last_input < IDLE_S:
            return
        if not self.screen_stack:  # the app is closing (a tick during shutdown)
            return
        home = self.screen
        if isinstance(home, HomeScreen) and "store" not in home.counts_sources:
            return  # the store is still being opened: it comes first
        if not self._chores_started:
            self._chores_started = True
            self.run_worker(self._startup_chores, thread=True, group="chores", exit_on_error=False)
            return  # a worker runs: the model waits for it
        self._idle_timer.stop()
        self._grader_requested = True
        self.run_worker(
            self._load_grader_and_tell, thread=True, group="grader", exit_on_error=False
        )

    def _startup_chores(self) -> None:
        """The start-up chores (``Services.startup_chores``: they import SQLModel and the ORM
        models, ~0.3 s holding the GIL, so they wait for an idle moment, not for the counts:
        Browse opened meanwhile took twice as long); then Browse's read-ahead again, which
        reads only if the chores wrote."""
        self.services.startup_chores()
        from labdeck.tui.screens.browse import read_ahead

        try:
            read_ahead(self.services)
        except Exception:  # Browse reads (and reports) for itself as it opens
            self.services.browse_ahead = None

    def ensure_grader_loading(self) -> None:
        """The model is needed (a review opened): load it in a background thread as soon as
        no other worker is running."""
        if not self._grader_wanted:
            self._grader_wanted, self._wanted_at = True, time.monotonic()

    def _load_grader_and_tell(self) -> None:
        """Load the model, then let the screens that show its status say it is ready."""
        try:
            import labdeck.tui.screens.browse
            import labdeck.tui.screens.review  # noqa: F401
            from labdeck.tui.css_warm import prime_default_css

            # their widgets' CSS parsed now, not in the frame that first shows them
            prime_default_css(self.stylesheet)
            self.services.wait_grader()
            settle_heap()
        except RuntimeError:
            pass  # the status line says it is unavailable
        finally:
            self.call_from_thread(self._grader_loaded)

    def _grader_loaded(self) -> None:
        self.warmed_up = True
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.grader_loaded()

    # ------------------------------------------------------------ navigation

    def action_study(self, scope: Scope | None = None) -> None:
        from labdeck.tui.screens.review import ReviewScreen

        self.push_screen(ReviewScreen(scope or Scope()))

    def action_browse(self) -> None:
        from labdeck.tui.screens.browse import BrowseScreen

        self.push_screen(BrowseScreen())

    def action_stats(self) -> None:
        from labdeck.tui.screens.stats import StatsScreen

        self.push_screen(StatsScreen())

    def action_demos(self, demo_id: str | None = None, card_key: str | None = None) -> None:
        from labdeck.tui.screens.demos import DemosScreen

        self.push_screen(DemosScreen(demo_id=demo_id, card_key=card_key))

    def action_import_file(self) -> None:
        from labdeck.tui.screens.importer import ImportScreen

        self.push_screen(ImportScreen())

    def action_settings(self) -> None:
        from labdeck.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        from labdeck.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_exam(self) -> None:
        from labdeck.tui.screens.exam import ExamContext, ExamSetupScreen

        self.push_screen(ExamSetupScreen(ExamContext.from_services(self.services)))

    def action_exam_history(self) -> None:
        from labdeck.tui.screens.exam import ExamContext, ExamHistoryScreen

        self.push_screen(ExamHistoryScreen(ExamContext.from_services(self.services)))

    async def action_quit(self) -> None:
        """Quit; an answer typed or graded on a review screen and not rated yet is kept for
        the next session (``tui.drafts``)."""
        for screen in self.screen_stack:
            keep = getattr(screen, "keep_draft", None)
            if keep is not None:
                keep()
        await super().action_quit()

    def action_command_palette(self) -> None:
        """The palette, except over a screen that has it off (a mock exam being sat: from it
        Browse would show the reference answers while the clock runs)."""
        reason = getattr(self.screen, "PALETTE_OFF", None)
        if reason:
            self.notify(reason, timeout=3)
            return
        super().action_command_palette()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        entries: list[tuple[str, str, Callable[[], object]]] = [
            ("Review: study all decks", "Start today's review of every deck", self.action_study),
            ("Mock exam", "Compose and sit a timed mock exam", self.action_exam),
            ("Exam history", "Past mock exams, trend, reports", self.action_exam_history),
            ("Demos", f"Run one of {len(_demo_ids())} micro-demos", self.action_demos),
            ("Browse cards", "Search and filter cards", self.action_browse),
            ("Statistics", "Reviews, forecast, retention, mastery", self.action_stats),
            ("Import a file", "Outline, Q&A, deck folder, Anki or CSV", self.action_import_file),
            ("Settings", "Limits, rollover hour, grading model, demos", self.action_settings),
            ("Help", "Keys and how grading works", self.action_help),
        ]
        for title, help_text, callback in entries:
            yield SystemCommand(title, help_text, callback)
        yield from self._screen_commands(screen, {title for title, _, _ in entries})
        for demo in _demo_ids():
            yield SystemCommand(
                f"Run demo: {demo}", f"Open the {demo} demo", partial(self.action_demos, demo)
            )

    def _screen_commands(self, screen: Screen[Any], taken: set[str]) -> Iterable[SystemCommand]:
        """The keys of the screen the palette was opened over (undo, suspend, sort…), each
        as a command named by its description, its key in the help line: the palette has
        every action a key has, where that action can run now."""
        if not screen.is_attached:
            return
        from textual.widgets import Input, TextArea  # only once the palette opens

        seen = set(taken)
        for active in screen.active_bindings.values():
            binding = active.binding
            title = binding.description
            if not active.enabled or not title or title in seen or active.node is self:
                continue
            if isinstance(active.node, TextArea | Input):  # its editing keys (QA: "Copy",
                continue  # "Cursor down select" and a text "Undo" crowded the palette)
            seen.add(title)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                title,
                f"{shown} · {binding.tooltip or 'on this screen'}",
                partial(self.run_action, binding.action, active.node),
            )


def _demo_ids() -> list[str]:
    try:
        from labdeck.demos.registry import DEMO_IDS
    except ImportError:  # pragma: no cover
        return []
    return sorted(DEMO_IDS)


def run_app(home: Path | None = None) -> int:
    """Open the store (migrating and loading the shipped deck), then run the app."""
    if not sys.stdout.isatty() and not os.environ.get("LABDECK_FORCE_TUI"):
        from labdeck.store.queries import list_decks

        services = Services.open(home)
        for deck in list_decks(services.store):
            counts = f"{counted(len(deck.chapters), 'chapter')}, {counted(deck.cards, 'card')}"
            print(plain(f"{deck.name}  [{deck.key}]  {counts}"))
        print("(not a terminal: run `labdeck` in a terminal to open the app)")
        return 0
    services = Services.open(home)
    try:
        LabdeckApp(services).run()
    finally:
        close_services(services)
    return 0


def close_services(services: Services) -> None:
    """End of a session: close the store (checkpointing the WAL before the CLI's os._exit),
    then leave the home screen's snapshot for the next start's first frame (``home_view``)."""
    from labdeck.tui import drafts, home_view

    view = None
    if services.workspace.store_opened:
        try:
            view = home_view.read(services.scheduler())
        except Exception:  # a busy or damaged store: the next start reads it, as without one
            view = None
    services.close()
    if view is not None:
        home_view.save(services.home, view, services.settings)
    drafts.save(services.home, services.drafts)  # unrated answers, for the next session
