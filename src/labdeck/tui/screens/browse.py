"""Browse: every card in a table with fuzzy search and filters; the highlighted card's text,
schedule, review history and demos below; keys to suspend / unsuspend and to open a demo.

Reading the cards, their scheduling state and a card's history happens in thread workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from labdeck.store import Store
from labdeck.store.queries import (
    CardInfo,
    CardSchedule,
    DeckInfo,
    ReviewEntry,
    card_schedules,
    list_cards,
    list_decks,
    review_history,
    search_cards,
)
from labdeck.textfmt import math_as_text, readable_math
from labdeck.tui.literal import literal
from labdeck.tui.screens.base import LabdeckScreen
from labdeck.tui.widgets.literal import CardMarkdown, LiteralTable

STATES: tuple[tuple[str, str], ...] = (
    ("any state", "all"),
    ("due today", "due"),
    ("new", "new"),
    ("suspended", "suspended"),
    ("leech", "leech"),
)
STATE_ORDER = [value for _, value in STATES]


# ---------------------------------------------------------------- data (plain reads)


@dataclass
class CardRow:
    id: int
    key: str
    deck: str
    chapter: str
    prompt: str
    prompt_zh: str | None
    card: CardInfo  # for the fuzzy search and the detail pane
    schedule: CardSchedule = field(default_factory=CardSchedule)

    def state(self, today: date) -> str:
        return self.schedule.state(today)

    def matches(self, state: str, today: date) -> bool:
        if state == "due":
            return self.schedule.is_due(today)
        if state == "new":
            return self.schedule.is_new()
        if state == "suspended":
            return self.schedule.suspended
        if state == "leech":
            return self.schedule.leech
        return True


@dataclass
class CardDetail:
    row: CardRow
    info: CardInfo
    history: list[ReviewEntry] = field(default_factory=list)
    demos: list[tuple[str, str]] = field(default_factory=list)  # (id, title)


def load_rows(store: Store) -> list[CardRow]:
    """Every card (not retired) with its scheduling state, in deck / chapter / content order."""
    schedules = card_schedules(store)
    return [
        CardRow(
            card.id,
            card.key,
            card.deck,
            card.chapter,
            card.prompt,
            card.prompt_zh,
            card,
            schedules.get(card.id) or CardSchedule(),
        )
        for card in list_cards(store)
    ]


def filter_rows(
    rows: list[CardRow], scope: str, state: str, query: str, today: date
) -> list[CardRow]:
    """Scope ("", "deck:KEY" or "chapter:KEY:CODE"), state filter, then fuzzy search order."""
    out = rows
    if scope.startswith("deck:"):
        deck = scope[5:]
        out = [r for r in out if r.deck == deck]
    elif scope.startswith("chapter:"):
        _, deck, code = scope.split(":", 2)
        out = [r for r in out if r.deck == deck and r.chapter == code]
    out = [r for r in out if r.matches(state, today)]
    if query.strip():
        by_id = {r.id: r for r in out}
        found = search_cards([r.card for r in out], query, limit=len(out) or 1)
        out = [by_id[c.id] for c in found if c.id in by_id]
    return out


# ---------------------------------------------------------------- display helpers


def fit(value: str, width: int) -> str:
    """First line of ``value`` cut to ``width`` terminal cells (CJK counts double)."""
    value = " ".join(value.split())
    if cell_len(value) <= width:
        return value
    out = ""
    for ch in value:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def ease_text(permille: int) -> str:
    return f"{permille / 1000:.2f}"


def detail_markdown(detail: CardDetail, today: date) -> str:
    row, info, sched = detail.row, detail.info, detail.row.schedule
    lines = [f"### {row.key}", "", f"Deck `{row.deck}` · chapter `{row.chapter}`", ""]
    if info.kind != "essay":
        label = {"cloze": "cloze", "choice": "multiple choice", "truefalse": "true/false"}
        parent = f" · drills `{info.parent_key}`" if info.parent_key else ""
        lines += [f"**Type** {label.get(info.kind, info.kind)}{parent}", ""]
    lines += ["**Prompt**", "", readable_math(info.prompt), ""]
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
            if h.suggested is not None:
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


class BrowseScreen(LabdeckScreen):
    BINDINGS = [
        # priority: handled as the key arrives, before the keys typed after it are handed to
        # the table (check_action lets "/" through to the search box itself)
        Binding("slash", "search", "Search", priority=True),
        Binding("f", "cycle_state", "Filter"),
        Binding("s", "toggle_suspend", "Suspend/unsuspend"),
        Binding("d", "demo", "Demo"),
        Binding("enter", "detail", "Detail", show=False),
        Binding("escape", "back", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self.rows: list[CardRow] = []
        self.shown: list[CardRow] = []
        self.today: date | None = None
        self.detail: CardDetail | None = None
        self._prompt_width = 0
        # Filtering and the detail pane run in thread workers that cannot be stopped: each
        # result says what it was computed for, and a result for an older search (or a row no
        # longer highlighted) is dropped when it lands late.
        self._filter_generation = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="browse-filters"):
            yield Input(self.initial_query, placeholder="/ fuzzy search", id="browse-search")
            yield Select([("all decks", "")], value="", allow_blank=False, id="browse-scope")
            yield Select(STATES, value="all", allow_blank=False, id="browse-state")
        yield Static(id="browse-count")
        yield LiteralTable(id="browse-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="browse-detail"):
            yield CardMarkdown(id="browse-card")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Browse"
        self.sub_title = "cards"
        table = self.query_one("#browse-table", DataTable)
        self._columns()
        table.focus()
        self.load()

    def _columns(self) -> None:
        table = self.query_one("#browse-table", DataTable)
        table.clear(columns=True)
        width = max(20, (self.size.width or 120) - 66)
        self._prompt_width = width
        table.add_column("key", width=16, key="key")
        table.add_column("ch", width=4, key="ch")
        table.add_column("prompt", width=width, key="prompt")
        table.add_column("state", width=10, key="state")
        table.add_column("due", width=10, key="due")
        table.add_column("EF", width=4, key="ef")
        table.add_column("ivl", width=4, key="ivl")

    def on_resize(self) -> None:
        width = max(20, self.size.width - 66)
        if self.rows and width != self._prompt_width:
            cursor = self.query_one("#browse-table", DataTable).cursor_row
            self._columns()
            self._fill(keep=cursor)

    # ------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="browse-load")
    def load(self, select_id: int | None = None) -> None:
        services = self.services
        try:
            rows = load_rows(services.store)
            decks = list_decks(services.store)
            today = services.scheduler().today()
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"Could not load cards: {exc}", severity="error")
            return
        self.app.call_from_thread(self._loaded, rows, decks, today, select_id)

    def _loaded(
        self, rows: list[CardRow], decks: list[DeckInfo], today: date, select_id: int | None
    ) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        self.rows, self.today = rows, today
        scope = self.query_one("#browse-scope", Select)
        current = scope.value
        options: list[tuple[str | Text, str]] = [("all decks", "")]
        for deck in decks:
            options.append((literal(deck.name), f"deck:{deck.key}"))
            options += [
                (literal(f"  {c.code} {fit(c.title, 30)}"), f"chapter:{deck.key}:{c.code}")
                for c in deck.chapters
            ]
        with self.prevent(Select.Changed):
            scope.set_options(options)
            values = {v for _, v in options}
            scope.value = current if current in values else ""
        self.apply_filters(select_id)

    def apply_filters(self, select_id: int | None = None) -> None:
        if self.today is None:
            return
        scope = self.query_one("#browse-scope", Select).value
        state = self.query_one("#browse-state", Select).value
        query = self.query_one("#browse-search", Input).value
        self._filter_generation += 1
        self._filter(
            self.rows,
            scope if isinstance(scope, str) else "",
            state if isinstance(state, str) else "all",
            query,
            self.today,
            select_id,
            self._filter_generation,
        )

    @work(thread=True, exclusive=True, group="browse-filter")
    def _filter(
        self,
        rows: list[CardRow],
        scope: str,
        state: str,
        query: str,
        today: date,
        select_id: int | None,
        generation: int,
    ) -> None:
        shown = filter_rows(rows, scope, state, query, today)
        self.app.call_from_thread(self._show_rows, shown, select_id, generation)

    def _show_rows(self, shown: list[CardRow], select_id: int | None, generation: int) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        if generation != self._filter_generation:  # a newer search or filter is on its way
            return
        self.shown = shown
        keep = None
        if select_id is not None:
            keep = next((i for i, r in enumerate(shown) if r.id == select_id), None)
        self._fill(keep=keep if keep is not None else 0)
        total = len(self.rows)
        self.query_one("#browse-count", Static).update(
            Text(f"{len(shown)} of {total} cards", style="dim")
        )
        if not shown:
            self.detail = None
            self.query_one("#browse-card", CardMarkdown).update("*No card matches.*")

    def _fill(self, keep: int | None = 0) -> None:
        table = self.query_one("#browse-table", DataTable)
        table.clear()
        today = self.today or date.today()
        for row in self.shown:
            sched = row.schedule
            key = row.key.split(":", 1)[-1]
            due = "—" if sched.due is None else f"{sched.due:%Y-%m-%d}"
            state = row.state(today)
            style = {
                "due": "green",
                "new": "blue",
                "suspended": "yellow",
                "leech": "red",
                "leech·susp": "red",
            }.get(state, "")
            table.add_row(
                fit(key, 16),
                row.chapter,
                fit(math_as_text(row.prompt), self._prompt_width),
                Text(state, style=style),
                due,
                ease_text(sched.ease) if sched.due is not None else "—",
                str(sched.interval) if sched.due is not None else "—",
                key=str(row.id),
            )
        if self.shown and keep is not None:
            table.move_cursor(row=min(keep, len(self.shown) - 1), animate=False)
            self.show_detail(self.shown[min(keep, len(self.shown) - 1)])

    # ------------------------------------------------------------ detail

    @on(DataTable.RowHighlighted, "#browse-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        card_id = int(event.row_key.value)
        row = next((r for r in self.shown if r.id == card_id), None)
        if row is not None and (self.detail is None or self.detail.row is not row):
            self.show_detail(row)

    @work(thread=True, exclusive=True, group="browse-detail")
    def show_detail(self, row: CardRow) -> None:
        from labdeck.demos import registry

        try:
            history = review_history(self.services.store, row.id)
        except Exception as exc:
            self.app.call_from_thread(
                self.notify, f"Could not load history: {exc}", severity="error"
            )
            history = []
        demos = []
        for demo_id in row.card.demos:
            try:
                demos.append((demo_id, registry.get(demo_id).title))
            except KeyError:
                demos.append((demo_id, "(unknown demo)"))
        detail = CardDetail(row, row.card, history, demos)
        self.app.call_from_thread(self._show_detail, detail)

    def _show_detail(self, detail: CardDetail) -> None:
        if not self.is_attached:  # the screen was closed meanwhile
            return
        current = self._current()
        if current is None or current.id != detail.row.id:  # another row is highlighted now
            return
        self.detail = detail
        self.query_one("#browse-card", CardMarkdown).update(
            detail_markdown(detail, self.today or date.today())
        )
        self.query_one("#browse-detail").scroll_home(animate=False)

    # ------------------------------------------------------------ filters

    @on(Input.Changed, "#browse-search")
    def _search_changed(self) -> None:
        self.apply_filters()

    @on(Input.Submitted, "#browse-search")
    def _search_submitted(self) -> None:
        self.set_focus(self.query_one("#browse-table", DataTable))

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self.apply_filters()

    def action_search(self) -> None:
        # At once, not after a refresh (``Widget.focus``): the keys typed right after ``/``
        # are already queued and must reach the box, not the table (where ``s`` suspends).
        self.set_focus(self.query_one("#browse-search", Input))

    def action_cycle_state(self) -> None:
        select = self.query_one("#browse-state", Select)
        current = select.value if select.value in STATE_ORDER else "all"
        select.value = STATE_ORDER[(STATE_ORDER.index(current) + 1) % len(STATE_ORDER)]

    def action_detail(self) -> None:
        if self.query_one("#browse-table").has_focus:
            self.query_one("#browse-detail").focus()

    def action_back(self) -> None:
        if self.focused is not None and self.focused.id in ("browse-search", "browse-detail"):
            self.set_focus(self.query_one("#browse-table", DataTable))
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ card actions

    def _current(self) -> CardRow | None:
        table = self.query_one("#browse-table", DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def action_toggle_suspend(self) -> None:
        row = self._current()
        if row is None:
            return
        self._suspend(row, not row.schedule.suspended)

    @work(thread=True, exclusive=True, group="browse-suspend")
    def _suspend(self, row: CardRow, on: bool) -> None:
        try:
            self.services.scheduler().suspend(row.id, on)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"Could not change {row.key}: {exc}",
                                      severity="error")  # fmt: skip
            return
        verb = "Suspended" if on else "Unsuspended"
        self.app.call_from_thread(self.notify, f"{verb} {row.key}.", timeout=3)
        self.app.call_from_thread(self.load, row.id)

    def action_demo(self) -> None:
        row = self._current()
        if row is None:
            return
        if not row.card.demos:
            self.notify("This card has no linked demo.", timeout=2)
            return
        self.app.action_demos(row.card.demos[0], row.key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.focused is not None and isinstance(self.focused, Input)
        return not (typing and action in ("toggle_suspend", "demo", "cycle_state", "search"))
