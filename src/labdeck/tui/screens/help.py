"""Help: the keys of every screen (read from the screens' own bindings) and how grading works."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Markdown, Static

from labdeck.tui.widgets.steadyfooter import SteadyFooter

# (title, module, class) of every screen whose keys are listed, in the order a learner meets them.
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("Home", "labdeck.tui.screens.home", "HomeScreen"),
    ("Review", "labdeck.tui.screens.review", "ReviewScreen"),
    ("Mock exam", "labdeck.tui.screens.exam", "ExamSetupScreen"),
    ("Exam sitting", "labdeck.tui.screens.exam", "ExamScreen"),
    ("Exam report", "labdeck.tui.screens.exam", "ExamReportScreen"),
    ("Exam history", "labdeck.tui.screens.exam", "ExamHistoryScreen"),
    ("Browse", "labdeck.tui.screens.browse", "BrowseScreen"),
    ("Demos", "labdeck.tui.screens.demos", "DemosScreen"),
    ("Statistics", "labdeck.tui.screens.stats", "StatsScreen"),
    ("Import", "labdeck.tui.screens.importer", "ImportScreen"),
    ("Settings", "labdeck.tui.screens.settings", "SettingsScreen"),
)

KEY_NAMES = {
    "question_mark": "?",
    "comma": ",",
    "slash": "/",
    "escape": "esc",
    "space": "space",
    "enter": "enter",
    "full_stop": ".",
    "minus": "-",
    "plus": "+",
    "equals_sign": "=",
    "greater_than_sign": ">",
    "less_than_sign": "<",
    "pagedown": "pgdn",
    "pageup": "pgup",
}

GRADING = """\
## Browse: searching like Anki

Terms side by side must all match; `or` between terms matches either (`and` binds tighter);
`-` before a term leaves it out; `( )` group.

| term | matches |
|---|---|
| `softmax`, `"multi head"` | prompt, answer, key points or notes contain it (中文: 简体 and 繁體 match each other) |
| `deck:exam-b` | the deck's key, alias or name (`*` wildcard: `deck:exam*`, `deck:"Exam B*"`) |
| `chapter:B3` | the chapter code (`chapter:B*`) |
| `tag:attention` | a tag (`tag:atten*`) |
| `is:new` `is:due` `is:learn` `is:suspended` `is:leech` `is:buried` `is:edited` | the card's state (`is:learn`: re-drilled today, Home's "learn") |
| `type:essay` `type:cloze` `type:choice` `type:tf` | the card's kind |

`deck:exam-b tag:attention is:due`, `-is:suspended (beam or greedy)`. A query that cannot be
read says why on the line under the search box. `>` sorts by the next column (or click a
header), `<` reverses; `space` marks a row, `ctrl+a` marks every match; `s`, `N` (reset to new)
act on the marked rows; `e` edits a card's text (kept across re-imports; revert in the
editor); `u` undoes the last change, a bulk one in one step; `F5` reads the cards again
(after an import or a review in another terminal).

## How typed answers are graded

Your answer and the card's reference answer are turned into sentence embeddings by a
multilingual model that runs on this machine (no network). The **score** (0–1) is their
similarity, sharpened by how many of the card's **key points** your answer covers: each key
point is compared with every sentence you wrote, and a point counts as covered (✓) when one of
your sentences is close enough to it — the matching sentence is shown under the point. A point
your answer gets backwards (roles or opposites swapped) is marked ≠ with the sentence at fault.
You may answer in English or Chinese; traditional characters are converted first.

The grader reads words and phrases, not logic: a fluent answer that says something false in
the reference's own words can still score well. Treat the suggestion as a first guess.

The score becomes a **suggested quality**. Space on an empty answer box skips grading: the
reference is revealed and you rate yourself with `0`–`5`.

## The key-point checklist

A graded answer shows the key points numbered, each starting from the grader's verdict:
✓ covered, ✗ missed, ≠ contradicted (your answer says the opposite).

- **The grader is sure:** `enter` accepts its suggested quality — one key.
- **The grader is unsure:** the panel says *unsure — tick what you covered* and nothing is
  rated yet. Tick, then `enter`; or `enter` twice to keep the grader's ticks as they are.
- `1`–`9` tick / untick point n (one key per point you correct). From the first tick on,
  the quality on offer is the one your ticks imply, shown live (*ticks imply 3*), and `enter`
  records it.
- `=` then `0`–`5` rates directly, checklist or not. Where no checklist is shown (a revealed
  answer, a card without a reference) `0`–`5` rate directly.
- Keys pressed while the answer is being graded act as soon as the grade is shown. `esc`
  after grading goes back and keeps the answer: it returns, graded and ticked, when the
  card comes up again.

Your ticks, the final quality and the grader's confidence are stored with the review. In a
mock-exam report the same keys set your own grade per question: every tick stores the ticks
and the quality they imply, `enter` stores the grader's ticks, `x` clears your grade.

What the ticks imply (share of the points ticked as covered):

| ticked | quality |
|---|---|
| every point | 5 |
| ≥ 3/4 | 4 |
| ≥ 1/2 | 3 |
| ≥ 1/4 | 2 |
| fewer, or none | 1 |
| none, on a blank answer | 0 |

A point left marked ≠ (contradicted) caps the quality at 3. Next to a sure suggestion (or an
exam's own grade) your ticks move it: ticking more never gives less than it, unticking never
more; ticks that both add and remove points follow the table.

## SM-2 qualities

| key | quality | meaning | effect |
|---|---|---|---|
| `0` | blackout | no idea at all | n back to 0, 1 day, re-drilled today |
| `1` | wrong, familiar | wrong; remembered on seeing the answer | n back to 0, 1 day, re-drilled today |
| `2` | wrong, easy on sight | wrong; the answer seemed easy to recall | n back to 0, 1 day, re-drilled today |
| `3` | hard | right, with serious effort | interval grows, ease −0.14, re-drilled today |
| `4` | good | right after some hesitation | interval grows, ease unchanged |
| `5` | perfect | right and instant | interval grows, ease +0.10 |

Intervals: 1 day after the first success, 6 days after the second, then the previous interval
times the card's **E-Factor** (EF, starts at 2.5, never below 1.3), rounded up. After a passing
answer (q ≥ 3) EF changes by `0.1 − (5 − q)(0.08 + (5 − q)·0.02)`; a failed one (q < 3) restarts
the repetitions at a 1-day interval and keeps EF. Only the day's scheduled review moves the
schedule: a card answered below 4 comes back the same day as a **re-drill** until it scores 4,
and re-drills never change n, EF or the interval. A graduated card that fails counts a **lapse**;
after too many it becomes a **leech** and is suspended — rewrite it, then unsuspend it in Browse.
`u` undoes the last recorded answer (the review log keeps the row, marked undone), as Anki's
undo does; after grading, before rating, `w` edits the answer just graded instead.
"""


def _key(binding: Binding) -> str:
    keys = []
    for key in binding.key.split(","):
        key = key.strip()
        parts = [KEY_NAMES.get(p, p) for p in key.split("+")]
        keys.append("+".join(parts))
    return " / ".join(keys)


def _binding_rows(bindings: Sequence[BindingType]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    digits = [b for b in bindings if isinstance(b, Binding) and b.key in "0123456789"]
    for binding in bindings:
        if not isinstance(binding, Binding):
            binding = Binding(*binding)
        if binding in digits and len(digits) > 1:
            if "digits" not in seen:
                seen.add("digits")
                first, last = digits[0].key, digits[-1].key
                what = digits[0].description or "rate the answer (SM-2 quality)"
                rows.append((f"{first}–{last}", what))
            continue
        description = binding.tooltip or binding.description or binding.action.replace("_", " ")
        key = _key(binding)
        if key in seen:
            continue
        seen.add(key)
        rows.append((key, description))
    return rows


GLOBAL_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+q", "Quit"),
    ("ctrl+p", "Command palette"),
    ("ctrl+s", "Submit / go (grade, submit, start, save, import, run)"),
    ("f1", "Help"),
    ("tab", "Next field"),
    ("shift+tab", "Previous field"),
)


def screen_keys() -> list[tuple[str, list[tuple[str, str]]]]:
    """(screen title, [(key, what it does)]) for every screen that can be imported."""
    out = [("Everywhere", list(GLOBAL_KEYS))]
    for title, module_name, class_name in SCREENS:
        try:
            screen = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        rows = _binding_rows(screen.BINDINGS)
        if rows:
            out.append((title, rows))
    return out


KEY_WIDTH = 16


def keys_panel(title: str, rows: list[tuple[str, str]]) -> Group:
    """The screen's title over a key column and a description column: a description that
    wraps stays in its column, under its first line (never under the keys). The key column
    is as wide as its widest key (up to 16): Rich shared a narrow panel's width out and split
    "alt+right" over two lines at 100 columns."""
    widest = max((cell_len(key) for key, _ in rows), default=1)
    table = Table.grid(padding=(0, 1))
    table.add_column(
        justify="right",
        style="bold",
        min_width=min(widest, KEY_WIDTH),
        max_width=KEY_WIDTH,
        overflow="fold",
    )
    table.add_column(ratio=1, overflow="fold")
    for key, description in rows:
        table.add_row(Text(key), Text(description))
    return Group(Text(title, style="bold"), table, Text(""))


class HelpScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (140, "-xwide")]
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("g", "grading", "Grading & SM-2"),
        Binding("k", "keys", "Keys"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="help-body"):
            with Grid(id="help-keys"):
                for title, rows in screen_keys():
                    yield Static(keys_panel(title, rows), classes="help-panel")
            yield Markdown(GRADING, id="help-grading")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = "Help"
        self.sub_title = "keys, grading, SM-2"
        self.set_focus(self.query_one("#help-body"))  # at once: see BrowseScreen.on_mount

    def action_grading(self) -> None:
        self.query_one("#help-body").scroll_to_widget(self.query_one("#help-grading"), top=True)

    def action_keys(self) -> None:
        self.query_one("#help-body").scroll_home()
