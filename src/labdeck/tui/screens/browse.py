"""Browse: the cards an Anki-style search matches, in a table sortable by any column; the
highlighted card's text, schedule, review history, demos and edit below; keys to mark rows,
suspend / unsuspend / reset them in bulk, edit a card in place and undo.

The search (``labdeck.store.browse_query``) runs as SQL (``store.queries.browse_page``) in a
thread worker; so do the detail pane's reads and every write. Each result says what it was
computed for, and one that lands after a newer search (or for a row no longer highlighted) is
dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Header, Input, Select, Static

from labdeck.store import Store, overrides
from labdeck.store.browse_query import Field, Node, QueryError, both, parse
from labdeck.store.db import file_identity, settled_identity
from labdeck.store.overrides import LABELS, Override
from labdeck.store.queries import (
    KIND_LABELS,
    BrowsePage,
    BrowseRow,
    CardInfo,
    DeckInfo,
    ReviewEntry,
    browse_ids,
    browse_page,
    list_decks,
    review_history,
)
from labdeck.textfmt import math_as_text, readable_math
from labdeck.tui.cells import fit
from labdeck.tui.literal import literal
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.cardtext import CardText, RenderedText
from labdeck.tui.widgets.editors import TextField
from labdeck.tui.widgets.literal import LiteralTable
from labdeck.tui.widgets.steadyfooter import SteadyFooter

if TYPE_CHECKING:
    from labdeck.tui.services import Services

STATES: tuple[tuple[str, str], ...] = (
    ("any state", "all"),
    ("due today", "due"),
    ("learning today", "learn"),
    ("new", "new"),
    ("suspended", "suspended"),
    ("buried", "buried"),
    ("leech", "leech"),
    ("edited", "edited"),
)
STATE_ORDER = [value for _, value in STATES]

# (sort key, header, width; 0 = the prompt, which takes the rest) in table order
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("mark", "", 1),
    ("ch", "ch", 4),
    ("type", "type", 6),  # "essay*": an edited card (only essays are edited)
    ("prompt", "prompt", 0),
    ("state", "state", 10),
    ("due", "due", 10),
    ("ef", "EF", 4),
    ("ivl", "ivl", 4),
)
SORTABLE = [key for key, _, _ in COLUMNS if key != "mark"]
# Rows put in the table with its first frame: a screenful past the cursor (the terminal's
# height, which the table cannot exceed; at least FIRST_ROWS); the rest of the page follows
# in batches of MORE_ROWS, each FILL_GAP_S after the frame that laid out the one before
# (``screen_layout_refresh_signal``), so the first rows are drawn at once and keys are
# handled between batches. (The shipped deck's 970 rows at once held the screen 0.4 s;
# batches on a plain timer starved the frame on a loaded machine: ``call_after_refresh`` and
# the timer both ran before it.)
FIRST_ROWS = 24
READ_AHEAD_PROMPTS = 120  # prompts made one-line text by the read-ahead (a tall screenful)
MORE_ROWS = 200
FILL_GAP_S = 0.03
ARROW = 2  # " ▲": a sorted column is widened by it where its header would not fit it
TYPE_LABEL = KIND_LABELS  # the type column's words (SQL sorts the column by them)
STATE_STYLE = {
    "due": "green",
    "learn": "red",  # Home's colours: new blue, learn red, due green
    "new": "blue",
    "suspended": "yellow",
    "buried": "yellow",
    "leech": "red",
    "leech·susp": "red",
}

SEARCH_HELP = (
    'Search like Anki: words and "phrases" · deck:exam-b · chapter:B3 · tag:attention · '
    "is:new/due/learn/suspended/leech/buried/edited · type:essay/cloze/choice/tf · -negate · a or b"
)


# ---------------------------------------------------------------- data (plain reads)


@dataclass(frozen=True)
class Search:
    """What a page of rows was computed for."""

    node: Node
    sort: str = ""
    descending: bool = False


@dataclass(frozen=True)
class Pane:
    """What a detail read is for: a row of one fill of the table (``_fill_generation``)."""

    fill: int
    card_id: int


@dataclass
class CardDetail:
    row: BrowseRow
    info: CardInfo
    history: list[ReviewEntry] = field(default_factory=list)
    demos: list[tuple[str, str]] = field(default_factory=list)  # (id, title)
    override: Override | None = None


def scope_node(scope: str, state: str) -> Node:
    """The scope and state menus as search terms ("deck:KEY", "chapter:KEY:CODE"; a state)."""
    nodes: list[Node] = []
    if scope.startswith("deck:"):
        nodes.append(Field("deck", scope[5:]))
    elif scope.startswith("chapter:"):
        _, deck, code = scope.split(":", 2)
        nodes += [Field("deck", deck), Field("chapter", code)]
    if state in STATE_ORDER and state != "all":
        nodes.append(Field("is", state))
    return both(*nodes)


def find_rows(store: Store, search: Search, today: date, total: int | None = None) -> BrowsePage:
    """The page of rows for ``search`` (runs in a thread worker); ``total``, the live cards,
    when known from the page before."""
    return browse_page(
        store,
        search.node,
        today,
        sort=search.sort,
        descending=search.descending,
        total=total,
        learning=learning_today(store, today),
    )


def learning_today(store: Store, today: date) -> frozenset[int]:
    """Today's re-drills, as Home counts them under "learn" (``is:learn``, the state column)."""
    from labdeck.srs.queue import redrill_ids

    with store.engine.connect() as conn:
        return redrill_ids(conn, today)


def opening_search() -> Search:
    """What a Browse opened without a query searches first: every card, in content order
    (the box empty, the menus at "all decks" and "any state")."""
    return Search(both(parse(""), scope_node("", "all")))


def read_detail(services: Services, row: BrowseRow, today: date) -> tuple[CardDetail, RenderedText]:
    """The detail pane's reads for ``row`` and its rendering (runs in a thread worker)."""
    from labdeck.demos import registry

    store = services.store
    info = services.scheduler().card(row.id)  # the one reader of a card's content
    history = review_history(store, row.id)
    with store.engine.connect() as conn:
        override = overrides.read(conn, row.id)
    demos = []
    for demo_id in info.demos:
        try:
            demos.append((demo_id, registry.get(demo_id).title))
        except KeyError:
            demos.append((demo_id, "(unknown demo)"))
    detail = CardDetail(row, info, history, demos, override)
    return detail, RenderedText.of(detail_markdown(detail, today))


@dataclass(frozen=True)
class ReadAhead:
    """What Browse reads when it opens (the decks, the study day, the first page of
    ``opening_search`` and its first row's detail), read while Home was idle, with the
    database file's identity from before the reads: the next Browse shows it in its first
    frame while the file is unchanged (no write since, by this process or another) and the
    study day is the same; otherwise it reads afresh as it opens."""

    stamp: list[int]
    decks: list[DeckInfo]
    today: date
    page: BrowsePage
    detail: tuple[CardDetail, RenderedText] | None


def current_read_ahead(services: Services) -> ReadAhead | None:
    """The read-ahead, if it is still what Browse would read now (cheap: two ``stat`` calls
    and the clock; on the UI thread)."""
    ahead = services.browse_ahead
    if ahead is None or not services.workspace.store_opened:
        return None
    if file_identity(services.store.path) != ahead.stamp:
        return None  # something was written since (an answer, an edit, an import…)
    if services.scheduler().today() != ahead.today:
        return None  # the study day rolled over: due and state changed
    return ahead


def read_ahead(services: Services) -> None:
    """Read Browse's opening page into ``services.browse_ahead`` (in a thread worker, while
    Home is idle), unless the one there is still current. The identity is taken once the
    file's last change is a timestamp tick old (``settled_identity``; waiting that long at
    most once), so a change after the reads cannot share its tick; a change during the reads
    leaves no read-ahead."""
    if current_read_ahead(services) is not None:
        return
    services.browse_ahead = None
    store = services.store
    stamp, wait = settled_identity(store.path)
    if stamp is None and wait > 0:
        time.sleep(wait)
        stamp, _ = settled_identity(store.path)
    if stamp is None:
        return
    decks = list_decks(store)
    today = services.scheduler().today()
    page = find_rows(store, opening_search(), today)
    if file_identity(store.path) != stamp:
        return
    # the rows first (Browse can use them now), then the first row's detail with them
    services.browse_ahead = ahead = ReadAhead(stamp, decks, today, page, None)
    for row in page.rows[:READ_AHEAD_PROMPTS]:  # their math as text (cached), here, not in
        math_as_text(row.prompt)  # the first frame (pylatexenc's set-up included)
    if page.rows:
        detail = read_detail(services, page.rows[0], today)
        if file_identity(store.path) == stamp and services.browse_ahead is ahead:
            services.browse_ahead = replace(ahead, detail=detail)


# ---------------------------------------------------------------- display helpers


def column_widths(screen_width: int, sort: str) -> dict[str, int]:
    """Each column's width on a screen ``screen_width`` wide sorted by ``sort``: the sorted
    column widened where its header and arrow would not fit (``type ▲``, ``ivl ▲``), the
    prompt the rest (at least 16)."""
    widths = {}
    for key, label, width in COLUMNS:
        widths[key] = max(width, cell_len(label) + ARROW) if key == sort and width else width
    # each cell's padding (the prompt's too), a scrollbar, two to spare
    fixed = sum(w + 2 for w in widths.values()) + 2 + 2
    widths["prompt"] = max(16, screen_width - fixed)
    return widths


def scope_options(decks: list[DeckInfo]) -> list[tuple[str | Text, str]]:
    """The scope menu: all decks, then each deck and its chapters."""
    options: list[tuple[str | Text, str]] = [("all decks", "")]
    for deck in decks:
        options.append((literal(deck.name), f"deck:{deck.key}"))
        options += [
            (literal(f"  {c.code} {fit(c.title, 30)}"), f"chapter:{deck.key}:{c.code}")
            for c in deck.chapters
        ]
    return options


def ease_text(permille: int) -> str:
    return f"{permille / 1000:.2f}"


def _edited_line(override: Override) -> str:
    changed = ", ".join(LABELS[f] for f in override.fields)
    return f"**Edited** {override.updated_at[:16]} — {changed} (`e` edits or reverts)"


def _imported_lines(override: Override) -> list[str]:
    """What the edit replaced (after the card's own text: a short pane shows that first)."""
    lines = []
    for name in override.fields:
        before = override.original[name]
        if name == "key_points":
            shown = "\n".join(f"- {readable_math(p)}" for p in before) if before else "*none*"
        else:
            shown = readable_math(before) if before else "*none*"
        lines += [f"*Imported {LABELS[name]} (before your edit):*", "", shown, ""]
    return lines


def detail_heading(row: BrowseRow, loading: bool = False) -> str:
    """The detail's first line (the whole pane, with "loading…", while the rest is read)."""
    line = f"**{row.key}** · deck `{row.deck}` · chapter `{row.chapter}`"
    return line + "\n\n*loading…*" if loading else line


def detail_markdown(detail: CardDetail, today: date) -> str:
    row, info, sched = detail.row, detail.info, detail.row.schedule
    # the key, then the type or the edit each under it (hard line breaks: no blank lines, so
    # a short pane, 80x24, reaches the prompt)
    lines = [detail_heading(row)]
    if info.kind != "essay":
        label = {"cloze": "cloze", "choice": "multiple choice", "truefalse": "true/false"}
        parent = f" · drills `{info.parent_key}`" if info.parent_key else ""
        lines[0] += f"\\\n**Type** {label.get(info.kind, info.kind)}{parent}"
    if detail.override is not None:
        lines[0] += "\\\n" + _edited_line(detail.override)
    lines.append("")
    # the label's line break a hard one: the prompt starts on the next line, no blank between
    lines += ["**Prompt**\\", readable_math(info.prompt) or "*none*", ""]
    if info.kind == "choice" and info.drill:
        correct = set(info.drill.get("correct", []))
        lines += [
            f"- {'✓' if opt in correct else '·'} {readable_math(opt)}"
            for opt in info.drill.get("options", [])
        ]
        lines.append("")
    if info.drill and info.drill.get("why"):
        lines += [f"*Why:* {readable_math(info.drill['why'])}", ""]
    if info.prompt_zh:
        lines += ["**提示 (中文)**", "", readable_math(info.prompt_zh), ""]
    lines += ["**Reference**", "", readable_math(info.answer) if info.answer else "*none*", ""]
    if info.key_points:
        lines += ["**Key points**", ""]
        lines += [f"- {readable_math(p)}" for p in info.key_points]
        lines.append("")
    if detail.override is not None:
        lines += _imported_lines(detail.override)
    if info.notes:
        flag = info.note_flag
        lines += ["**My notes**", ""]
        lines += [f"> **Check your note:** {flag}", ""] if flag else []
        lines += [readable_math(info.notes), ""]
    due = "new (never answered)" if sched.due is None else f"{sched.due:%Y-%m-%d}"
    if sched.due is not None:
        delta = (sched.due - today).days
        due += (
            " (today)" if delta == 0 else f" (in {delta} d)" if delta > 0 else f" ({-delta} d ago)"
        )
    flags = [f for f, on in (("suspended", sched.suspended), ("leech", sched.leech)) if on]
    lines += [
        "**Schedule**",
        "",
        "| n | EF | interval | due | lapses | answers | flags |",
        "|---|---|---|---|---|---|---|",
        f"| {sched.repetitions} | {ease_text(sched.ease)} | {sched.interval} d | {due} | {sched.lapses} "
        f"| {sched.reviews} | {', '.join(flags) or '—'} |",
        "",
        "**Review history**",
        "",
    ]
    if detail.history:
        lines += ["| day | mode | q | score | interval |", "|---|---|---|---|---|"]
        for h in detail.history:
            score = f"{h.score:.2f}" if h.score is not None else "—"
            if h.sure is False:  # no quality was offered: the learner was asked to tick
                score += " (unsure)"
            elif h.suggested is not None:
                score += f" (suggested {h.suggested})"
            mode = f"~~{h.mode}~~ undone" if h.undone else h.mode
            lines.append(
                f"| {str(h.day)[:10]} | {mode} | {h.quality} | {score} "
                f"| {h.prev_interval} → {h.new_interval} d |"
            )
    else:
        lines.append("*not answered yet*")
    lines += ["", "**Demos**", ""]
    if detail.demos:
        lines += [f"- `{demo_id}` — {title}" for demo_id, title in detail.demos]
        lines += ["", "*d opens the first demo*"]
    else:
        lines.append("*none linked*")
    return "\n".join(lines)


# ---------------------------------------------------------------- the screen


class SearchBox(TextField):
    """The search box (its own keys act as they arrive: ``TextField``)."""


# the detail pane's top line: with the table focused, and with the pane focused
DETAIL_TITLES = {False: "enter reads the card", True: "↑↓ pgup pgdn scroll · esc back to the list"}


class BrowseTable(LiteralTable):
    """The cards' table. Enter opens the detail pane: DataTable's own enter (select the row)
    took the key before the screen's binding saw it, so enter did nothing. Bound here, not as
    a priority binding on the screen, so it keeps its place among the keys typed around it (a
    priority enter ran before the arrows queued ahead of it, which then scrolled the pane)."""

    BINDINGS = [Binding("enter", "screen.detail", "Detail", show=False)]


class BrowseScreen(LabdeckScreen):
    BINDINGS = [
        # priority: handled as the key arrives, before the keys typed after it are handed to
        # the table (check_action lets "/" through to the search box itself)
        Binding("slash", "search", "Search", priority=True),
        # the search cleared and focused as the key arrives (readline's kill-line): the box's
        # own ctrl+u ran after the keys typed behind it in one burst, and emptied them
        Binding("ctrl+u", "clear_search", "Clear search", show=False, priority=True),
        Binding("space", "mark", "Mark", tooltip="Mark / unmark the row"),
        Binding(
            "ctrl+a",
            "select_all",
            "Mark all",
            show=False,
            tooltip="Mark every match",
        ),
        Binding("s", "toggle_suspend", "Suspend", tooltip="Suspend / unsuspend"),
        Binding("N", "reset", "Reset", show=False, tooltip="Reset to new (asks)"),
        Binding("e", "edit", "Edit", tooltip="Edit the card / revert"),
        Binding("u", "undo", "Undo", tooltip="Undo the last change"),
        Binding(
            "greater_than_sign",
            "sort_next",
            "Sort",
            key_display=">",
            tooltip="Sort by the next column",
        ),
        Binding(
            "less_than_sign",
            "sort_reverse",
            "Reverse",
            key_display="<",
            show=False,
            tooltip="Reverse the sort",
        ),
        Binding("f", "cycle_state", "Filter", show=False, tooltip="Filter by state"),
        Binding("d", "demo", "Demo", show=False),
        Binding("f5", "refresh", "Refresh", show=False, tooltip="Read the cards again"),
        Binding("enter", "detail", "Detail", show=False),  # (the table's: ``BrowseTable``)
        Binding("escape", "back", "Back", tooltip="Clear marks / back"),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self.shown: list[BrowseRow] = []
        self.page: BrowsePage | None = None
        self.today: date | None = None
        self.detail: CardDetail | None = None
        self.marked: set[int] = set()
        self.sort, self.descending = "", False
        self.search: Search | None = None  # what is on screen (or on its way)
        self.error: str | None = None
        self._prompt_width = 0
        # the sort the header (and the rows in the table) show: (column, descending)
        self._header: tuple[str, bool] = ("", False)
        # Filtering and the detail pane run in thread workers that cannot be stopped: each
        # result says what it was computed for, and a result for an older search (or a row no
        # longer highlighted) is dropped when it lands late.
        self._filter_generation = 0
        self._fill_generation = 0  # a fill still adding rows stops when a newer one starts
        self._fill_next: tuple[int, int] | None = None  # (generation, first row) to add next
        self._pane: Pane | None = None  # what the detail pane shows or waits for
        self._resumed = False
        self.ahead: ReadAhead | None = None  # Home's read-ahead, from compose to on_mount

    def compose(self) -> ComposeResult:
        # what Home read ahead, while it is current (only for the opening search)
        self.ahead = ahead = None if self.initial_query else current_read_ahead(self.services)
        scopes = scope_options(ahead.decks) if ahead is not None else [("all decks", "")]
        yield Header(show_clock=False)
        with Horizontal(id="browse-filters"):
            yield SearchBox(
                self.initial_query,
                placeholder="/ search: words deck: chapter: tag: is: type: -not or",
                id="browse-search",
            )
            yield Select(scopes, value="", allow_blank=False, id="browse-scope")
            yield Select(STATES, value="all", allow_blank=False, id="browse-state")
        yield Static(id="browse-count")
        yield BrowseTable(id="browse-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="browse-detail") as detail:
            detail.border_title = DETAIL_TITLES[False]
            yield CardText(id="browse-card")
        yield SteadyFooter()  # Footer recomposed (and restyled) its keys on each focus change

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Shown the first time, the screen was styled as it mounted (the focus and the
        # breakpoint class restyle what they change): Textual's restyle of every widget on
        # resume would only repeat it (profiled: ~15% of the first frame's CPU). Later
        # resumes (after a dialog, say) restyle as Textual does.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._detail_title(event.widget.id == "browse-detail")

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "browse-detail":
            self._detail_title(False)

    def _detail_title(self, reading: bool) -> None:
        """The pane's top line says how to get in (enter) and out (esc): in, it grows, and
        with only its border's colour changing the learner did not see that enter did."""
        self.query_one("#browse-detail").border_title = DETAIL_TITLES[reading]

    def on_mount(self) -> None:
        self.title = "Browse"
        self.sub_title = "cards"
        self.query_one("#browse-search", Input).tooltip = SEARCH_HELP
        self._columns()
        # at once (``focus()`` waits a turn): a key in the same burst as `b` is looked up
        # with the table focused, not the search box Textual would auto-focus meanwhile
        self.set_focus(self.query_one("#browse-table", DataTable))
        self.screen_layout_refresh_signal.subscribe(self, self._laid_out)
        ahead, self.ahead = self.ahead, None
        if ahead is not None:  # the rows and the first detail go in the first frame
            self.today = ahead.today
            self.search = opening_search()
            self._filter_generation += 1
            self._show_rows(ahead.page, None, self._filter_generation, ahead.detail)
            return
        self.load(self._search_now())

    def _columns(self, sort: tuple[str, bool] | None = None) -> None:
        """The table's columns (the table emptied), the header arrow on ``sort``'s column
        (default: the sort the header shows now)."""
        self._header = column, descending = sort if sort is not None else self._header
        table = self.query_one("#browse-table", DataTable)
        table.clear(columns=True)
        widths = column_widths(self.size.width or 120, column)
        self._prompt_width = widths["prompt"]
        for key, label, _ in COLUMNS:
            if key == column:
                label = f"{label} {'▼' if descending else '▲'}"
            table.add_column(label, width=widths[key], key=key)

    def on_resize(self) -> None:
        width = column_widths(self.size.width, self._header[0])["prompt"]
        if self.shown and width != self._prompt_width:
            cursor = self.query_one("#browse-table", DataTable).cursor_row
            self._columns()
            self._fill(keep=cursor)

    # ------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="browse-load")
    def load(self, search: Search | None, select_id: int | None = None) -> None:
        """The decks (for the scope menu), the study day and, for ``search`` (what the box and
        menus said when the screen opened), the first page of rows: one trip to a thread."""
        services = self.services
        try:
            decks = list_decks(services.store)
            today = services.scheduler().today()
            page = find_rows(services.store, search, today) if search is not None else None
        except Exception as exc:
            self.notify_from_worker(f"Could not load cards: {exc}", severity="error")
            return
        self.to_ui(self._loaded, decks, today, select_id, search, page)

    def _loaded(
        self,
        decks: list[DeckInfo],
        today: date,
        select_id: int | None,
        search: Search | None = None,
        page: BrowsePage | None = None,
    ) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.today = today
        self.page = None  # the next page counts the live cards again
        scope = self.query_one("#browse-scope", Select)
        current = scope.value
        options = scope_options(decks)
        with self.prevent(Select.Changed):
            scope.set_options(options)
            values = {v for _, v in options}
            scope.value = current if current in values else ""
        if page is not None and search is not None and self._search_now() == search:
            # nothing was typed or chosen meanwhile: the page read with the decks is current
            self.search = search
            self._filter_generation += 1
            self._show_rows(page, select_id, self._filter_generation)
            return
        self.apply_filters(select_id)

    def _search_now(self) -> Search | None:
        """The search the box and menus say, or None (and the error line) when unreadable."""
        scope = self.query_one("#browse-scope", Select).value
        state = self.query_one("#browse-state", Select).value
        text = self.query_one("#browse-search", Input).value
        try:
            typed = parse(text)
        except QueryError as exc:
            self.error = str(exc)
            self._show_count()
            return None
        self.error = None
        menus = scope_node(scope if isinstance(scope, str) else "", str(state))
        return Search(both(typed, menus), self.sort, self.descending)

    def apply_filters(self, select_id: int | None = None) -> None:
        if self.today is None:
            return
        search = self._search_now()
        if search is None:
            return
        if self.search is None or search.node != self.search.node:
            self.marked.clear()  # marks belong to the search they were made in
        self.search = search
        self._filter_generation += 1
        total = self.page.total if self.page is not None else None
        self._filter(search, self.today, select_id, self._filter_generation, total)

    @work(thread=True, exclusive=True, group="browse-filter")
    def _filter(
        self,
        search: Search,
        today: date,
        select_id: int | None,
        generation: int,
        total: int | None,
    ) -> None:
        try:
            page = find_rows(self.services.store, search, today, total)
        except Exception as exc:
            self.notify_from_worker(f"Search failed: {exc}", severity="error")
            return
        self.to_ui(self._show_rows, page, select_id, generation)

    def _show_rows(
        self,
        page: BrowsePage,
        select_id: int | None,
        generation: int,
        detail: tuple[CardDetail, RenderedText] | None = None,
    ) -> None:
        """Show ``page``, the cursor on ``select_id``'s row (else the first); ``detail``, the
        first row's detail when it was read with the page."""
        if not self.is_attached:  # the screen was closed meanwhile
            return
        if generation != self._filter_generation:  # a newer search or filter is on its way
            return
        # the page answers ``self.search`` (the generation says so): its sort goes in the
        # header now, with its rows (the old rows and arrow stay until then)
        sort = (self.search.sort, self.search.descending) if self.search else self._header
        if sort != self._header:
            self._columns(sort)
        self.page, self.shown = page, page.rows
        keep = None
        if select_id is not None:
            keep = next((i for i, r in enumerate(self.shown) if r.id == select_id), None)
        self._fill(keep=keep if keep is not None else 0, detail=detail)
        self._show_count()
        if not self.shown:
            self.detail, self._pane = None, None
            self.query_one("#browse-card", CardText).show_markdown("*No card matches.*")

    def _show_count(self) -> None:
        line = Text()
        if self.error is not None:
            line.append("⚠ ", style="bold red")
            line.append(self.error, style="red")
        elif self.page is not None:
            page = self.page
            shown = f"first {len(page.rows)} of " if len(page.rows) < page.matching else ""
            line.append(f"{shown}{page.matching} of {page.total} cards", style="dim")
            if self.marked:
                line.append(f" · {len(self.marked)} marked", style="bold")
        self.query_one("#browse-count", Static).update(line)

    def _cells(self, row: BrowseRow, today: date) -> list[Any]:
        sched = row.schedule
        state = row.state(today)
        prompt = math_as_text(row.prompt)
        return [
            Text("●", style="bold magenta") if row.id in self.marked else "",
            row.chapter,
            TYPE_LABEL.get(row.kind, row.kind) + ("*" if row.edited else ""),
            fit(prompt, self._prompt_width),
            Text(state, style=STATE_STYLE.get(state, "")),
            "—" if sched.due is None else f"{sched.due:%Y-%m-%d}",
            ease_text(sched.ease) if sched.due is not None else "—",
            str(sched.interval) if sched.due is not None else "—",
        ]

    def _fill(
        self, keep: int | None = 0, detail: tuple[CardDetail, RenderedText] | None = None
    ) -> None:
        """Put ``self.shown`` in the table: the first rows (through the one to keep the
        cursor on) now, the rest a batch per frame (``_fill_more``); the cursor row's detail
        from ``detail`` when it is that row's, else read in a worker."""
        table = self.query_one("#browse-table", DataTable)
        table.clear()
        self._fill_generation += 1
        cursor = min(keep, len(self.shown) - 1) if self.shown and keep is not None else None
        first = (cursor or 0) + max(FIRST_ROWS, table.size.height, self.app.size.height) + 1
        self._add_rows(0, first)
        if cursor is not None:
            table.move_cursor(row=cursor, animate=False)
            self._follow_cursor(detail)
        self._fill_next = (self._fill_generation, first) if first < len(self.shown) else None

    def _add_rows(self, start: int, end: int) -> None:
        table = self.query_one("#browse-table", DataTable)
        today = self.today or date.today()
        for row in self.shown[start:end]:
            table.add_row(*self._cells(row, today), key=str(row.id))

    def _laid_out(self, _screen: object) -> None:
        """A frame laid out the rows added so far: the next batch (if any) a moment later."""
        if self._fill_next is not None:
            generation, start = self._fill_next
            self._fill_next = None
            self.set_timer(FILL_GAP_S, partial(self._fill_more, generation, start))

    def _fill_more(self, generation: int, start: int) -> None:
        """The next batch of rows, unless a newer fill replaced these rows meanwhile."""
        if not self.is_attached or generation != self._fill_generation:
            return
        end = start + MORE_ROWS
        self._add_rows(start, end)
        if end < len(self.shown):
            self._fill_next = (generation, end)  # after the frame that lays these out

    def rows_filled(self) -> bool:
        """Every row of the page is in the table (the last batch was added)."""
        table = self.query_one("#browse-table", DataTable)
        return table.row_count == len(self.shown)

    # ------------------------------------------------------------ detail

    # The pane follows the highlighted row of the table on screen, by construction: each
    # read is stamped with the fill of the table it was asked for and its row (``Pane``), and
    # is shown only while that is still the pane's stamp (the same table, the same row
    # highlighted). The highlight event is only a cue: the row comes from the table as it is
    # now (an event posted by an older table names a row of that table).

    @on(DataTable.RowHighlighted, "#browse-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._follow_cursor()

    def _follow_cursor(self, ready: tuple[CardDetail, RenderedText] | None = None) -> None:
        """Point the pane at the highlighted row: ``ready`` when it is that row's detail, else
        read in a worker; meanwhile the pane names the new card (never shows another's)."""
        row = self._current()
        if row is None:
            return
        stamp = Pane(self._fill_generation, row.id)
        if stamp == self._pane:
            return  # shown, or on its way
        self._pane = stamp
        if ready is not None and ready[0].row is row:
            self._show_detail(*ready, stamp)
            return
        if self.detail is None or self.detail.row.id != row.id:
            # another card: its heading now, the rest when read (the same card, re-read after
            # a change, stays as it is until then)
            self.detail = None
            self.query_one("#browse-card", CardText).show_markdown(detail_heading(row, True))
            self.query_one("#browse-detail").scroll_home(animate=False)
        self.show_detail(row, stamp)

    @work(thread=True, exclusive=True, group="browse-detail")
    def show_detail(self, row: BrowseRow, stamp: Pane) -> None:
        try:
            # rendered here too, off the UI thread: the pane only puts the blocks in place
            detail, shown = read_detail(self.services, row, self.today or date.today())
        except Exception as exc:
            self.notify_from_worker(f"Could not load {row.key}: {exc}",
                                      severity="error", markup=False)  # fmt: skip
            return
        self.to_ui(self._show_detail, detail, shown, stamp)

    def _show_detail(self, detail: CardDetail, shown: RenderedText, stamp: Pane) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        if stamp != self._pane or detail.row.id != stamp.card_id:
            return  # asked for another table or another row than the one highlighted now
        try:
            card = self.query_one("#browse-card", CardText)
        except NoMatches:  # closed as it opened (`b` esc in one burst): its widgets are gone
            return
        self.detail = detail
        card.show(shown)
        self.query_one("#browse-detail").scroll_home(animate=False)

    # ------------------------------------------------------------ filters and sorting

    @on(Input.Changed, "#browse-search")
    def _search_changed(self) -> None:
        self._search_edited()

    @on(Input.Submitted, "#browse-search")
    def _search_submitted(self) -> None:
        self.set_focus(self.query_one("#browse-table", DataTable))

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self._search_edited()

    def _search_edited(self) -> None:
        """The box or a menu changed: search again, unless it says what is shown (the menus
        and the box tell their first values as they mount)."""
        if self.search is not None and self._search_now() == self.search:
            self._show_count()  # (an error line goes when the box says what is shown again)
            return
        self.apply_filters()

    @on(DataTable.HeaderSelected, "#browse-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value or ""
        if key in SORTABLE:
            self._sort_by(key, not self.descending if key == self.sort else False)

    def _sort_by(self, column: str, descending: bool) -> None:
        """Search again in the new order, the highlighted card kept highlighted; the table
        keeps its rows (and its header its arrow) until the sorted page is there."""
        self.sort, self.descending = column, descending
        current = self._current()
        self.apply_filters(current.id if current else None)

    def action_sort_next(self) -> None:
        """Sort by the next column (content order → ch → type → prompt → … → content order)."""
        order = ["", *SORTABLE]
        self._sort_by(order[(order.index(self.sort) + 1) % len(order)], False)

    def action_sort_reverse(self) -> None:
        self._sort_by(self.sort, not self.descending)

    def action_search(self) -> None:
        # At once, not after a refresh (``Widget.focus``): the keys typed right after ``/``
        # are already queued and must reach the box, not the table (where ``s`` suspends).
        self.set_focus(self.query_one("#browse-search", Input))

    def action_clear_search(self) -> None:
        box = self.query_one("#browse-search", Input)
        box.value = ""
        self.set_focus(box)

    def action_cycle_state(self) -> None:
        select = self.query_one("#browse-state", Select)
        current = select.value if select.value in STATE_ORDER else "all"
        select.value = STATE_ORDER[(STATE_ORDER.index(current) + 1) % len(STATE_ORDER)]

    def action_refresh(self) -> None:
        """Read the decks and the rows again (an import or a review in another terminal),
        the cursor kept on its card; the search, sort and marks stay."""
        row = self._current()
        self.load(self._search_now(), select_id=row.id if row is not None else None)

    def action_detail(self) -> None:
        if self.query_one("#browse-table").has_focus:
            self.query_one("#browse-detail").focus()

    def action_back(self) -> None:
        if self.focused is not None and self.focused.id in ("browse-search", "browse-detail"):
            self.set_focus(self.query_one("#browse-table", DataTable))
            return
        if self.marked:  # the first esc clears the marks
            self._set_marks(set())
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ marks

    def _current(self) -> BrowseRow | None:
        table = self.query_one("#browse-table", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _set_marks(self, marked: set[int]) -> None:
        changed = self.marked ^ marked
        self.marked = marked
        table = self.query_one("#browse-table", DataTable)
        for row in self.shown:
            # a row not in the table yet (``_fill_more``) gets its mark when it is added
            if row.id in changed and str(row.id) in table.rows:
                mark = Text("●", style="bold magenta") if row.id in marked else ""
                table.update_cell(str(row.id), "mark", mark)
        self._show_count()

    def action_mark(self) -> None:
        row = self._current()
        if row is None:
            return
        self._set_marks(self.marked ^ {row.id})
        table = self.query_one("#browse-table", DataTable)
        if table.cursor_row < len(self.shown) - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_select_all(self) -> None:
        """Mark every card the search matches (all of them, not only the rows shown); again
        clears the marks."""
        if self.search is None or self.today is None or self.page is None:
            return
        if self.marked and len(self.marked) >= self.page.matching:
            self._set_marks(set())
            return
        self._mark_all(self.search, self.today)

    @work(thread=True, exclusive=True, group="browse-mark")
    def _mark_all(self, search: Search, today: date) -> None:
        store = self.services.store
        found = set(browse_ids(store, search.node, today, learning_today(store, today)))
        self.to_ui(self._marked_all, search, found)

    def _marked_all(self, search: Search, found: set[int]) -> None:
        if self.is_attached and self.search is not None and search.node == self.search.node:
            self._set_marks(found)

    # ------------------------------------------------------------ card actions

    def action_toggle_suspend(self) -> None:
        if self.marked:
            by_id = {r.id: r for r in self.shown}
            states = [by_id[i].schedule.suspended for i in self.marked if i in by_id]
            on = not (states and all(states))  # all shown marked rows suspended: unsuspend
            self._bulk("suspend" if on else "unsuspend", sorted(self.marked))
            return
        row = self._current()
        if row is not None:
            self._bulk("unsuspend" if row.schedule.suspended else "suspend", [row.id], row)

    def action_reset(self) -> None:
        from labdeck.tui.screens.confirm import ConfirmScreen

        ids = sorted(self.marked) if self.marked else []
        row = self._current()
        if not ids and row is not None:
            ids = [row.id]
        if not ids:
            return
        what = (
            f"{len(ids)} cards"
            if len(ids) > 1
            else (row.key if row and not self.marked else "1 card")
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._bulk("reset", ids, row if len(ids) == 1 and not self.marked else None)

        self.app.push_screen(
            ConfirmScreen(
                f"Reset {what} to new?",
                f"{'Its' if len(ids) == 1 else 'Their'} schedule starts over (n, EF, "
                "interval, due, lapses, leech); the review history stays. u undoes it.",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="browse-write")
    def _bulk(self, op: str, ids: list[int], row: BrowseRow | None = None) -> None:
        scheduler = self.services.scheduler()
        try:
            if op == "reset":
                n = scheduler.reset_many(ids)
            else:
                n = scheduler.suspend_many(ids, on=op == "suspend")
        except Exception as exc:
            self.notify_from_worker(f"Could not {op}: {exc}", severity="error")
            return
        verb = {"suspend": "Suspended", "unsuspend": "Unsuspended", "reset": "Reset"}[op]
        what = row.key if row is not None else f"{n} card{'s' if n != 1 else ''}"
        message = f"{verb} {what}." if n else f"Nothing to {op}."
        self.notify_from_worker(message, timeout=3, markup=False)
        current = self._current()
        self.to_ui(self.apply_filters, current.id if current else None)

    def action_undo(self) -> None:
        self._undo()

    @work(thread=True, exclusive=True, group="browse-write")
    def _undo(self) -> None:
        try:
            outcome = self.services.scheduler().undo()
        except Exception as exc:
            self.notify_from_worker(f"Could not undo: {exc}", severity="error")
            return
        if outcome is None:
            self.notify_from_worker("Nothing to undo.", timeout=2)
            return
        self.notify_from_worker(outcome.summary, timeout=3, markup=False)
        current = self._current()
        self.to_ui(self.apply_filters, current.id if current else None)

    def action_edit(self) -> None:
        row = self._current()
        if row is not None:
            self._open_editor(row)

    @work(thread=True, exclusive=True, group="browse-editor")
    def _open_editor(self, row: BrowseRow) -> None:
        """Read the card as it is now (not the detail pane's copy, which may be on its way)
        and open the editor on it."""
        try:
            info = self.services.scheduler().card(row.id)
            with self.services.store.engine.connect() as conn:
                edited = overrides.read(conn, row.id) is not None
        except Exception as exc:
            self.notify_from_worker(f"Could not open {row.key}: {exc}",
                                      severity="error", markup=False)  # fmt: skip
            return
        self.to_ui(self._show_editor, row, info, edited)

    def _show_editor(self, row: BrowseRow, info: CardInfo, edited: bool) -> None:
        from labdeck.tui.screens.card_edit import CardEditScreen, EditRequest

        if not self.is_attached or self.app.screen is not self:
            return
        if info.kind != "essay":
            self.notify(
                "Only essay cards are edited here: a drill's text and its answer key live in "
                "its deck file.",
                timeout=4,
            )
            return

        def done(request: EditRequest | None) -> None:
            if request is not None:
                self._store_edit(row, request)

        self.app.push_screen(CardEditScreen(info, edited), done)

    @work(thread=True, exclusive=True, group="browse-write")
    def _store_edit(self, row: BrowseRow, request: Any) -> None:
        scheduler = self.services.scheduler()
        try:
            if request.action == "revert":
                changed = scheduler.revert(row.id)
                message = f"Reverted {row.key} to its imported text." if changed else "Not edited."
            else:
                values = request.values
                changed = scheduler.edit(
                    row.id, values["prompt"], values["answer"], values["key_points"]
                )
                message = f"Edited {row.key} (u undoes)." if changed else "Nothing changed."
        except Exception as exc:
            self.notify_from_worker(f"Could not save: {exc}", severity="error",
                                      markup=False)  # fmt: skip
            return
        self.notify_from_worker(message, timeout=3, markup=False)
        self.to_ui(self.apply_filters, row.id)

    def action_demo(self) -> None:
        row, detail = self._current(), self.detail
        if row is None:
            return
        demos = detail.info.demos if detail is not None and detail.row.id == row.id else []
        if not demos:
            self.notify("This card has no linked demo.", timeout=2)
            return
        self.app.action_demos(demos[0], row.key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.focused is not None and isinstance(self.focused, Input)
        table_only = (
            "toggle_suspend",
            "demo",
            "cycle_state",
            "search",
            "mark",
            "select_all",
            "reset",
            "edit",
            "undo",
            "sort_next",
            "sort_reverse",
        )
        return not (typing and action in table_only)
