"""Home: decks (expandable to chapters) with new / re-drill / due counts, today's progress."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.timer import Timer
from textual.widgets import Header, Static, Tree

from labdeck.clock import study_day
from labdeck.tui import home_view
from labdeck.tui.cells import fit, steady_width
from labdeck.tui.home_view import HomeView, Row
from labdeck.tui.literal import plain
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.heatmap import Heatmap
from labdeck.tui.widgets.steadyfooter import SteadyFooter


@dataclass(frozen=True)
class Scope:
    deck: str | None = None
    chapter: str | None = None
    # What the learner calls it (the deck's title), for the screens it opens; not part of
    # what the scope is.
    name: str | None = field(default=None, compare=False)

    def label(self) -> str:
        if self.name:
            return f"{self.deck} · {self.name}" if self.chapter else self.name
        if self.chapter:
            return f"{self.deck} · {self.chapter}"
        return self.deck or "all decks"


# Refreshes the store's opening waits for the footer's keys at most (they take 2-3).
FOOTER_WAITS = 8
# Seconds on a highlighted deck or chapter before its first card is rendered for Review.
PREFETCH_AFTER_S = 0.3
# Weeks of the review heatmap; a screen under 100 columns shows fewer (its ``-narrow`` CSS
# makes the pane 10 cells narrower), and the deck names get the room.
WEEKS, NARROW_WEEKS = 12, 8


def counts_text(new: int, learn: int, due: int) -> Text:
    text = Text()
    text.append(f"{new:>3}", style="bold blue" if new else "dim")
    text.append(" ")
    text.append(f"{learn:>3}", style="bold red" if learn else "dim")
    text.append(" ")
    text.append(f"{due:>3}", style="bold green" if due else "dim")
    return text


_FROZEN = False


def freeze_start_up_heap() -> None:
    """Once per process, when start-up is over (modules, SQLAlchemy's caches, the counts,
    Browse's read-ahead): ``gc.freeze()``, so that a full collection later scans only what
    came after. Else one of them, due after start-up's many objects, fell inside the next
    frame: ~0.1 s of Browse's first frame. (Only at start-up, before any screen was closed:
    a cycle frozen is never collected.)"""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


class HomeScreen(LabdeckScreen):
    _today_text = Text()  # the day's summary as last shown (exam lines are added under it)
    _counts_shown = False
    _room: int | None = None  # the room the tree's labels were last cut to (``_label_room``)
    _weeks = WEEKS  # the weeks the heatmap last showed
    _cursor_wanted: Scope | None = None  # the highlight to restore once its row is shown

    # Priority bindings: each key that opens a screen acts as the app takes it from the
    # terminal, before the next key of the same burst is looked at. As the tree's bindings
    # they acted only once the tree had the key, and the keys typed after them had already
    # been handed to the tree: `b` `/` `suspend` reached Browse's table (its `s` suspended a
    # card), `b` `q` was lost. (Home has no text box: no letter is the tree's.)
    BINDINGS = [
        Binding("enter", "study", "Study", priority=True, show=False),  # (as the tree's own was)
        Binding("e", "app.exam", "Exam", priority=True),
        Binding("d", "app.demos", "Demos", priority=True),
        Binding("b", "app.browse", "Browse", priority=True),
        Binding("t", "app.stats", "Stats", priority=True),
        Binding("i", "app.import_file", "Import", priority=True),
        Binding("comma", "app.settings", "Settings", priority=True),
        Binding("question_mark", "app.help", "Help", priority=True),
        Binding("q", "app.quit", "Quit", priority=True),
        # as a file tree: → opens a deck (then goes into it), ← closes it (or goes up)
        Binding("right", "expand", "Open deck", show=False),
        Binding("left", "collapse", "Close deck", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._size_classes()
        self.progress_shown: list[str] = []  # the progress lines shown, in order
        # where each showing of the counts came from, in order: "snapshot" (the last
        # session's, still valid: home_view), "store" (read by the worker). Set here, not in
        # ``on_mount``: the app's idle check reads it from its first tick, which can come
        # before the screen is mounted on a loaded machine.
        self.counts_sources: list[str] = []
        # how each "store" showing was read: "direct" (``Workspace.peek``, before the store
        # was opened and SQLAlchemy imported) or "opened" (through the open store)
        self.store_reads: list[str] = []
        self._prefetch_timer: Timer | None = None

    def _size_classes(self) -> None:
        """The app's breakpoint classes (``-wide``, ``-tall``…) for the terminal's size now,
        before the first frame. Textual sets them when the screen handles its first Resize,
        which comes after the first frame: that frame was drawn without them and the whole
        screen restyled and drawn again a moment later (~25 ms of CPU before the store's
        counts could be read). Textual's own rule (``Screen._on_resize``) keeps them right."""
        try:
            size = self.app.size
        except Exception:  # no active app (a screen built outside one): Textual sets them
            return
        self.update_classes(self._breakpoint_classes(size), update=False)

    def _breakpoint_classes(self, size: Size) -> dict[str, bool]:
        """Each breakpoint class and whether ``size`` has it (Textual's rule: the highest
        breakpoint the width, or the height, reaches)."""
        classes: dict[str, bool] = {}
        for dimension, breakpoints in (
            (size.width, self.HORIZONTAL_BREAKPOINTS or self.app.HORIZONTAL_BREAKPOINTS or []),
            (size.height, self.VERTICAL_BREAKPOINTS or self.app.VERTICAL_BREAKPOINTS or []),
        ):
            chosen = next(
                (n for at, n in sorted(breakpoints, reverse=True) if dimension >= at), None
            )
            classes.update({name: name == chosen for _, name in breakpoints})
        return classes

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="home"):
            with Vertical(id="decks-pane"):
                with Horizontal(id="decks-head"):
                    yield Static(
                        "Decks   [blue]new[/] [red]learn[/] [green]due[/]", id="decks-title"
                    )
                    # the footer has no room for enter at 80 columns: the keys of the tree
                    yield Static("⏎ study · → chapters", id="decks-keys")
                # a Text, not a str: Tree reads a str as Rich markup, whose first use imports
                # Rich's emoji table (~4 ms before the first frame)
                yield Tree(Text("All decks"), id="decks")
            with Vertical(id="today-pane"):
                yield Static(id="today", classes="panel")
                yield Static(self._heatmap_title(), id="heatmap-title", classes="subtitle")
                yield Heatmap(id="heatmap", classes="panel")
                yield Static(id="grader-status", classes="dim")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = "labdeck"
        self.sub_title = "study"
        tree = self.query_one("#decks", Tree)
        tree.show_root = True
        tree.auto_expand = False
        tree.root.data = Scope()  # Enter studies everything even before the counts arrive
        if not self.services.store_opened:
            services = self.services
            day = study_day(services.now(), services.settings.rollover_hour)
            snapshot = home_view.load(services.home, services.settings, day)
            if snapshot is not None:
                self._show_view(snapshot)
                self.counts_sources.append("snapshot")
            else:
                tree.root.set_label(Text("Opening your decks…", style="italic"))
        tree.focus()

    def on_screen_resume(self) -> None:
        # Being shown first resumes the screen too (that starts the first refresh). The store
        # is opened (SQLAlchemy imported, migrations checked) after the first frame is drawn
        # and the footer has its keys: a worker started before shares the GIL with that work
        # and delays it (the footer's keys came 0.3 s after the first frame, not 1-2 frames).
        self.call_after_refresh(self._refresh_after_footer)

    def _refresh_after_footer(self, tries: int = 0) -> None:
        """``refresh_data`` once the footer shows its keys (Textual's ``Footer`` composes
        them after the first refresh, when the focus has set the bindings), or after
        ``FOOTER_WAITS`` refreshes without them."""
        if tries < FOOTER_WAITS and not self.query_one(SteadyFooter).children:
            self.call_after_refresh(self._refresh_after_footer, tries + 1)
            return
        self.refresh_data()

    @work(thread=True, exclusive=True, group="home-refresh")
    def refresh_data(self) -> None:
        services = self.services
        view = None
        if not services.store_opened:
            # a day's first start: today's counts straight from the file when opening the
            # store would change nothing, drawn before SQLAlchemy is imported
            view = self._read_before_opening()
            if view is None:  # the first open may load the shipped deck: say so while it does
                services.progress = partial(self.to_ui, self._show_progress)
        try:
            scheduler = services.scheduler()
        except Exception as exc:  # busy or damaged database: say so, stay usable
            self.to_ui(self._store_failed, str(exc))
            return
        if view is None:
            # the decks' counts first (bounded by the limits alone), then the chapters' rows
            view = home_view.read(scheduler, chapters=False)
            self.to_ui(self._show, view)
            self.to_ui(self._show, home_view.read(scheduler, like=view))
        if scheduler.settings.exam_dates:  # FSRS's model of each card: only when asked for
            lines = [p.short() for p in scheduler.exam_projections()]
            self.to_ui(self._show_exams, lines)
        # Browse's module (its queries, DataTable, Select) while the learner reads the counts:
        # pressing `b` then costs the screen, not 0.1-0.2 s of imports; then what Browse reads
        # as it opens, so that its first frame has the rows (kept while the file is unchanged;
        # read again each time Home is back on screen). SQLModel is not needed for either: the
        # start-up chores, which import it, wait for an idle moment (app._warm_up_when_idle).
        from labdeck.tui.screens.browse import read_ahead

        try:
            read_ahead(services)
        except Exception:  # Browse reads (and reports) for itself as it opens
            services.browse_ahead = None
        freeze_start_up_heap()

        # Then Review's (TextArea, the card renderer; ~75 ms) and the first card of the
        # highlighted scope, rendered: Enter then costs the screen, not the imports. Not while
        # another screen is being opened (Browse, pressed before this worker got here): its
        # frames would wait for the import; Home's return runs this worker again.
        if not self.is_current:
            return
        import labdeck.tui.screens.review  # noqa: F401

        self.to_ui(self._prefetch_soon, 0.0)

    def _prefetch_soon(self, delay: float = PREFETCH_AFTER_S) -> None:
        """Render the highlighted scope's first card for Review once the highlight has stayed
        ``delay`` seconds (moving on restarts the wait)."""
        if "store" not in self.counts_sources:  # the store is opened by refresh_data first
            return
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
            self._prefetch_timer = None
        if delay <= 0:
            self._prefetch_now()
            return
        self._prefetch_timer = self.set_timer(delay, self._prefetch_now)

    def _prefetch_now(self) -> None:
        if not self.is_current:  # (not behind another screen: it has the CPU)
            return
        try:
            scope = self.selected_scope()
        except NoMatches:  # the app is closing: Home's widgets are gone
            return
        self.prefetch_card(scope)

    @work(thread=True, exclusive=True, group="home-prefetch")
    def prefetch_card(self, scope: Scope) -> None:
        from labdeck.tui.screens.review import prepare_first

        # (a busy store: Review reads it again, and says so, when it opens)
        with contextlib.suppress(Exception):
            prepare_first(self.services, scope)

    def _read_before_opening(self) -> HomeView | None:
        """Today's counts read through ``Workspace.peek`` (the store's own checks passed,
        nothing to migrate or sync) and shown, the decks' then the chapters' rows, each
        waiting for the frame that draws it: the store's opening (SQLAlchemy's import, ~0.25
        s holding the GIL) comes after. None (nothing shown) when the store must be opened
        first, or the read failed: the store's open then reads them, or says what is wrong."""
        workspace = self.services.workspace
        try:
            with workspace.peek() as conn:
                if conn is None:
                    return None
                day = workspace.today()
                view = home_view.read_on(conn, workspace.settings, day, chapters=False)
                self._show_and_wait(view, "direct")
                full = home_view.read_on(conn, workspace.settings, day, like=view)
        except Exception:  # a read that failed here fails (or succeeds) again in the store
            return None
        self._show_and_wait(full, "direct")
        return full

    def _show_and_wait(self, view: HomeView, read: str) -> None:
        """Show ``view`` (from the worker) and wait, at most a second, for its frame."""
        drawn = threading.Event()
        self.to_ui(self._show, view, read, drawn.set)
        drawn.wait(1.0)

    def _show_progress(self, message: str) -> None:
        """What opening the decks is doing, in the tree's place until the counts come."""
        self.progress_shown.append(message)
        if not self._counts_shown:
            tree = self.query_one("#decks", Tree)
            room = steady_width(tree) - 2  # (the root's "▶ ")
            label = fit(message, room) if room > 0 else message
            tree.root.set_label(Text(label, style="italic"))

    def _show(
        self, view: HomeView, read: str = "opened", drawn: Callable[[], None] | None = None
    ) -> None:
        """Counts read from the store (``read``: "opened", through the open store; "direct",
        through ``Workspace.peek`` before it opened): shown, then the grader may load;
        ``drawn`` is called once the frame showing them is."""
        self.counts_sources.append("store")
        self.store_reads.append(read)
        if drawn is not None:
            self.call_after_refresh(drawn)
        self.services.progress = None
        self._show_view(view)
        self._grader_status()
        for error in self.services.take_content_errors():
            self.notify(f"Shipped deck not loaded: {error}", severity="warning", timeout=10)

    def _show_view(self, view: HomeView) -> None:
        self._counts_shown = True
        tree = self.query_one("#decks", Tree)
        expanded = {n.data for n in tree.root.children if n.is_expanded}
        cursor = tree.cursor_node.data if tree.cursor_node else None
        if self._cursor_wanted is not None:  # a chapter not in the decks-only view before
            cursor, self._cursor_wanted = self._cursor_wanted, None
        tree.clear()
        self._view = view
        room = self._label_room()
        self._room = room
        for deck in (r for r in view.rows if r.chapter is None):
            scope = Scope(deck.deck, name=plain(deck.name))
            node = tree.root.add(self._label(deck, 1, room), data=scope, expand=scope in expanded)
            for chapter in (r for r in view.rows if r.deck == deck.deck and r.chapter is not None):
                where = Scope(
                    deck.deck, chapter.chapter, f"{plain(chapter.chapter)} {plain(chapter.name)}"
                )
                node.add_leaf(self._label(chapter, 2, room), data=where)
        tree.root.set_label(Text.assemble(counts_text(*view.total), "  All decks"))
        tree.root.data = Scope()
        tree.root.expand()
        if cursor is not None:
            decks = list(tree.root.children)
            nodes = [tree.root, *decks, *(leaf for deck in decks for leaf in deck.children)]
            for node in nodes:
                if node.data == cursor:
                    # The tree's lines (each node's line number) are built on demand: moved to
                    # before that, the cursor went to line -1 and then to "All decks".
                    tree._tree_lines  # noqa: B018 (builds them; Textual < 9)
                    tree.move_cursor(node)
                    break
            else:
                if not any(row.chapter is not None for row in view.rows):
                    self._cursor_wanted = cursor  # the decks first: its chapter comes next
        today_text = Text()
        today_text.append("Today\n", style="bold")
        today_text.append(f"answered {view.answered}")
        if view.answered and view.pass_rate is not None:
            today_text.append(f" · {view.pass_rate:.0%} with q ≥ 3")
        today_text.append(f"\nstreak {view.streak} day{'s' if view.streak != 1 else ''}")
        left = sum(view.total)
        today_text.append(
            f"\n{left} card{'s' if left != 1 else ''} waiting" if left else "\nall done"
        )
        self._today_text = today_text
        self.query_one("#today", Static).update(today_text)
        self._show_heatmap()

    def _heatmap_weeks(self) -> int:
        """Weeks the heatmap shows: fewer on a narrow screen, whose width goes to the names."""
        return NARROW_WEEKS if self.has_class("-narrow") else WEEKS

    def _heatmap_title(self) -> str:
        view = getattr(self, "_view", None)
        none = view is not None and not any(view.per_day.values())
        weeks = self._heatmap_weeks()  # (one line in the narrow pane: 22 cells)
        return f"No reviews in {weeks} weeks" if none else f"Reviews, last {weeks} weeks"

    def _show_heatmap(self) -> None:
        view = getattr(self, "_view", None)
        if view is None:
            return
        self._weeks = self._heatmap_weeks()
        self.query_one("#heatmap-title", Static).update(self._heatmap_title())
        self.query_one("#heatmap", Heatmap).show(view.per_day, view.day, self._weeks)

    def _label_room(self) -> int | None:
        """Cells a depth-0 label may take in the deck tree (None before it is laid out)."""
        width = steady_width(self.query_one("#decks", Tree))  # expanding may show the bar
        return width - 2 if width > 0 else None  # the node icon

    @staticmethod
    def _label(row: Row, depth: int, room: int | None) -> Text:
        """A deck's or chapter's tree label, its name cut with an ellipsis to fit ``room``
        (less 4 cells of guides per level): the full name is in the header when highlighted."""
        counts = counts_text(row.new, row.redrill, row.due)
        name = plain(row.name)
        code = f"{plain(row.chapter)} " if row.chapter is not None else ""
        if room is not None:
            name = fit(name, max(6, room - 4 * depth - counts.cell_len - 2 - cell_len(code)))
        return Text.assemble(counts, "  ", (code, "bold"), name)

    def on_resize(self, event: events.Resize) -> None:
        """A Resize to the size the screen is laid out and drawn at (with its classes) changes
        nothing: Textual's own handler is skipped, which lays the whole screen out and draws
        it again (it gets three such Resizes after its first frame, before the store's counts
        can be read); labels cut before the tree had a width are cut to it. Any other Resize:
        Textual's handler, then the labels are re-cut."""
        wanted = self._breakpoint_classes(event.size)
        if event.size == self.outer_size and all(
            self.has_class(name) == on for name, on in wanted.items()
        ):
            event.prevent_default()
            event.stop()
            self._recut_labels()  # labels cut before the tree had a width (from on_mount)
            return
        self.call_after_refresh(self._recut_labels)

    def _recut_labels(self) -> None:
        """Labels are cut to the tree's width: a new width re-cuts them (and a width across
        the narrow breakpoint re-draws the heatmap with its weeks)."""
        view = getattr(self, "_view", None)
        if view is not None and self._weeks != self._heatmap_weeks():
            self._show_heatmap()  # the screen crossed the narrow breakpoint
        room = self._label_room()
        if view is None or room == self._room:
            return
        self._room = room
        rows = {(r.deck, r.chapter): r for r in view.rows}
        tree = self.query_one("#decks", Tree)
        for node in tree.root.children:
            for each in (node, *node.children):
                scope = each.data
                row = rows.get((scope.deck, scope.chapter)) if scope is not None else None
                if row is not None:
                    each.set_label(self._label(row, 1 if each is node else 2, room))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Scope]) -> None:
        """The highlighted deck or chapter, named in full in the header."""
        data = event.node.data
        self.sub_title = data.name if data is not None and data.name else "study"
        self._prefetch_soon()

    def _show_exams(self, lines: list[str]) -> None:
        """Each exam date's projected recall under the day's summary (literal text)."""
        text = self._today_text.copy()
        for line in lines:
            text.append("\n" + plain(line), style="yellow")
        self.query_one("#today", Static).update(text)

    def _store_failed(self, message: str) -> None:
        self.query_one("#today", Static).update(
            Text(f"Cannot open the deck:\n{plain(message)}", "red")
        )
        self.notify(message, title="Database", severity="error", timeout=15)

    def grader_loaded(self) -> None:
        """The app says the model finished loading (or failed): say so now."""
        if self.is_attached:
            self._grader_status()

    def _grader_status(self) -> None:
        services = self.services
        if services.grader_error:
            status = f"grading model unavailable ({services.grader_error}): self-grade with 0-5"
        elif services.grader_ready:
            status = "grading model ready"
        else:
            status = "loading grading model…"
        self.query_one("#grader-status", Static).update(Text(status))

    def selected_scope(self) -> Scope:
        node = self.query_one("#decks", Tree).cursor_node
        return node.data if node is not None and node.data is not None else Scope()

    def action_study(self) -> None:
        self.app.action_study(self.selected_scope())

    def action_expand(self) -> None:
        tree = self.query_one("#decks", Tree)
        node = tree.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            tree.move_cursor(node.children[0])

    def action_collapse(self) -> None:
        tree = self.query_one("#decks", Tree)
        node = tree.cursor_node
        if node is None or node.is_root:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and not node.parent.is_root:
            tree.move_cursor(node.parent)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Scope]) -> None:
        event.stop()
        if event.node is not None and event.node.data is not None:
            self.app.action_study(event.node.data)
