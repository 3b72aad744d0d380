"""Card text (Markdown) drawn from pre-rendered, literal Rich Text, in one ``Static``.

Textual's ``Markdown`` widget mounts a widget per block on every update: on the review screen
that was most of the wait after grading (``stylesheet.apply`` and ``_refresh_layout`` for each
answer's reference and notes; issue 19.1) and of the wait for the next card (its prompt).
Here the Markdown is parsed once, off the UI thread if the caller likes (``render_card_text``
is pure), into ``CardBlocks``: a list of Rich ``Text`` blocks (paragraphs, headings, list
items with their bullets, quotes, code) and Rich tables. Only the line wrapping is left for
drawing time, so list items keep a hanging indent at any width. ``CardText.show`` puts a
rendered card in place: no widget is mounted or removed.

Untrusted text never becomes markup: every piece is a ``Text`` built from the parser's plain
strings (control sequences stripped by ``plain``); the parser is ``markdown_parser`` (no links,
images or HTML, which stay literal text). ``$…$`` math is shown as Unicode code spans
(``readable_math``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from markdown_it.token import Token

from labdeck.textfmt import readable_math
from labdeck.tui.literal import markdown_parser, plain
from labdeck.tui.wrap import wrap

CODE = Style(bold=True, color="cyan")
INLINE = {
    "strong_open": Style(bold=True),
    "em_open": Style(italic=True),
    "s_open": Style(strike=True),
}
CLOSING = {"strong_close", "em_close", "s_close"}
HEADING = {"h1": Style(bold=True, underline=True), "h2": Style(bold=True, underline=True)}
BULLETS = ("• ", "◦ ", "▪ ")
QUOTE = Text("▌ ", style="dim")


@dataclass
class Block:
    """One block: ``body`` (a Text, a Table, or None for a rule) after ``first`` on its first
    line and ``rest`` on the lines it wraps to (quote bars, a bullet or its indent)."""

    body: Text | Table | None
    first: Text = field(default_factory=Text)
    rest: Text = field(default_factory=Text)
    gap: bool = False  # a blank line before it
    cells: list[list[Text]] = field(default_factory=list)  # a table's cells, the header first


class CardBlocks:
    """A rendered card text: blocks wrapped to the width they are drawn at."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks

    @property
    def plain(self) -> str:
        """The text, unwrapped, one block a line (for tests and copying)."""
        lines = []
        for block in self.blocks:
            if isinstance(block.body, Text):
                lines.append(block.first.plain + block.body.plain)
            lines += [" | ".join(cell.plain for cell in row) for row in block.cells]
        return "\n".join(lines)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = 1
        for block in self.blocks:
            if isinstance(block.body, Text):
                longest = max(map(cell_len, block.body.plain.split("\n")), default=0)
                widest = max(widest, block.first.cell_len + longest)
        return Measurement(1, min(widest, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for n, block in enumerate(self.blocks):
            if block.gap and n:
                yield Segment.line()
            inner = max(1, width - block.first.cell_len)
            for i, line in enumerate(self._lines(console, options, block, inner)):
                yield from (block.first if i == 0 else block.rest).render(console)
                yield from line
                yield Segment.line()

    @staticmethod
    def _lines(
        console: Console, options: ConsoleOptions, block: Block, width: int
    ) -> Iterator[list[Segment]]:
        body = block.body
        if body is None:
            yield [Segment("─" * width, Style(dim=True))]
        elif isinstance(body, Text):
            for line in wrap(body, console, width, overflow="fold"):  # CJK line-break rule
                yield list(line.render(console))
        else:
            # without a height: given the widget's (Textual sets it), Rich pads the table
            # with blank lines to that height and what follows fell below the widget
            lines = console.render_lines(body, options.update(width=width, height=None), pad=False)
            if block.cells and _cuts(lines, block.cells):
                yield from _stacked(console, block.cells, width)  # as a table it cut words
            else:
                yield from lines


def _cuts(lines: list[list[Segment]], cells: list[list[Text]]) -> bool:
    """Whether a drawn table cut a cell short ("…" that no cell has: Rich's ellipsis)."""
    drawn = sum("".join(segment.text for segment in line).count("…") for line in lines)
    return drawn > sum(cell.plain.count("…") for row in cells for cell in row)


def _stacked(console: Console, cells: list[list[Text]], width: int) -> Iterator[list[Segment]]:
    """A table too wide for ``width`` (Rich would cut its cells to "a…", "P…") as one entry a
    row: the first cell as its title, then each other column as "header: cell" under it."""
    header, *rows = cells
    indent = Text("  ")
    for row in rows:
        title = row[0].copy() if row else Text()
        title.stylize("bold")
        for line in wrap(title, console, width, overflow="fold"):
            yield list(line.render(console))
        for name, cell in zip(header[1:], row[1:], strict=False):
            entry = Text.assemble((f"{name.plain}: ", "dim"), cell)
            for line in wrap(entry, console, max(1, width - 2), overflow="fold"):
                yield [*indent.render(console), *line.render(console)]


def render_card_text(source: str) -> CardBlocks:
    """``source`` (Markdown, untrusted) as blocks of literal Rich Text; pure, thread-safe."""
    return _Renderer().render(plain(readable_math(plain(source))))


def _inline(children: Iterable[Token]) -> Text:
    """An inline token's children as one literal Text (emphasis, code spans, breaks)."""
    text = Text()
    styles: list[Style] = []
    for child in children:
        kind = child.type
        if kind in INLINE:
            styles.append(INLINE[kind])
        elif kind in CLOSING:
            if styles:
                styles.pop()
        elif kind == "softbreak":
            text.append(" ")
        elif kind == "hardbreak":
            text.append("\n")
        elif kind == "code_inline":
            text.append(child.content, style=Style.combine([*styles, CODE]))
        else:  # text, and anything a rule left as text
            text.append(child.content, style=Style.combine(styles) if styles else "")
    return text


class _Renderer:
    """Walks markdown-it's token stream keeping the leads of open quotes and list items."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.leads: list[tuple[Text, Text]] = []  # per open container: (first line, rest)
        self.lists: list[list[int | None]] = []  # per open list: the next number, or None
        self.fresh_item = False  # the next block is an item's first: it carries the bullet
        self.list_gap = False  # the next block starts a top-level list: a blank line first

    def lead(self) -> tuple[Text, Text]:
        first, rest = Text(), Text()
        for i, (f, r) in enumerate(self.leads):
            innermost = i == len(self.leads) - 1
            first.append_text(f if innermost and self.fresh_item else r)
            rest.append_text(r)
        return first, rest

    def add(
        self,
        body: Text | Table | None,
        cells: list[list[Text]] | None = None,
    ) -> None:
        first, rest = self.lead()
        gap = self.list_gap or not self.lists  # list items follow each other closely
        self.blocks.append(Block(body, first, rest, gap=gap, cells=cells or []))
        self.fresh_item = self.list_gap = False

    def render(self, source: str) -> CardBlocks:
        tokens = markdown_parser().parse(source)
        i = 0
        while i < len(tokens):
            i = self.token(tokens, i)
        return CardBlocks(self.blocks)

    def token(self, tokens: list[Token], i: int) -> int:
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            text = _inline(tokens[i + 1].children or [])
            text.stylize(HEADING.get(token.tag, Style(bold=True)))
            self.add(text)
            return i + 3
        if kind == "paragraph_open":
            self.add(_inline(tokens[i + 1].children or []))
            return i + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrs.get("start", 1) if kind == "ordered_list_open" else None
            self.lists.append([int(start) if start is not None else None])
            self.list_gap = len(self.lists) == 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            counter = self.lists[-1]
            if counter[0] is None:
                mark = BULLETS[(len(self.lists) - 1) % len(BULLETS)]
            else:
                mark = f"{counter[0]}. "
                counter[0] += 1
            self.leads.append((Text(mark, style="bold"), Text(" " * len(mark))))
            self.fresh_item = True
        elif kind == "list_item_close":
            if self.fresh_item:  # an empty item still shows its bullet
                self.add(Text())
            self.leads.pop()
        elif kind == "blockquote_open":
            self.leads.append((QUOTE, QUOTE))
        elif kind == "blockquote_close":
            self.leads.pop()
        elif kind in ("fence", "code_block"):
            code = Text(token.content.rstrip("\n"), style=CODE, no_wrap=False)
            self.add(code)
        elif kind == "hr":
            self.add(None)
        elif kind == "table_open":
            return self.table(tokens, i)
        elif kind == "inline":  # stray inline content (a rule's leftovers): as a paragraph
            self.add(_inline(token.children or []))
        return i + 1

    def table(self, tokens: list[Token], i: int) -> int:
        """A GFM table as a Rich table (cells wrap within their columns)."""
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        row: list[Text] = []
        cells: list[list[Text]] = []
        header = True
        i += 1
        while tokens[i].type != "table_close":
            kind = tokens[i].type
            if kind in ("th_open", "td_open"):
                row.append(_inline(tokens[i + 1].children or []))
            elif kind == "tr_close":
                cells.append(row)
                if header:
                    for cell in row:
                        table.add_column(cell, header_style="bold")
                else:
                    table.add_row(*row[: len(table.columns)])
                row = []
            elif kind == "thead_close":
                header = False
            i += 1
        self.add(table, cells)
        return i + 1


@dataclass(frozen=True)
class RenderedText:
    """A card text ready to show: its Markdown source and its rendering."""

    source: str
    blocks: CardBlocks

    @classmethod
    def of(cls, source: str) -> RenderedText:
        return cls(source, render_card_text(source))


class CardText(Static):
    """Card text from a ``RenderedText``; ``source`` is the Markdown shown now."""

    DEFAULT_CSS = "CardText { width: 1fr; height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.source = ""
        self.rendered: RenderedText | None = None

    def show(self, rendered: RenderedText) -> None:
        self.source, self.rendered = rendered.source, rendered
        self.update(rendered.blocks)

    def show_markdown(self, source: str) -> None:
        """Render and show ``source`` now (for text not prepared ahead)."""
        self.show(RenderedText.of(source))
