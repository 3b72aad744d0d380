"""Widgets for stored text: Markdown that cannot link or act, a table with literal cells."""

from __future__ import annotations

from typing import Any

from rich.text import TextType
from textual.await_complete import AwaitComplete
from textual.widgets import DataTable, Markdown
from textual.widgets.data_table import ColumnKey, RowKey

from labdeck.tui.literal import literal, markdown_parser, plain


class CardMarkdown(Markdown):
    """Markdown for card text: no links to open, no HTML, control sequences stripped."""

    def __init__(self, markdown: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("parser_factory", markdown_parser)
        kwargs.setdefault("open_links", False)
        super().__init__(None if markdown is None else plain(markdown), **kwargs)

    def update(self, markdown: str) -> AwaitComplete:
        return super().update(plain(markdown))

    def append(self, markdown: str) -> AwaitComplete:
        return super().append(plain(markdown))


def _cell(value: object) -> object:
    return literal(value) if isinstance(value, str) else value


class LiteralTable(DataTable[object]):
    """A DataTable whose ``str`` cells and column labels are literal text, not Rich markup."""

    def add_column(self, label: TextType, *args: Any, **kwargs: Any) -> ColumnKey:
        return super().add_column(literal(label), *args, **kwargs)

    def add_row(self, *cells: object, **kwargs: Any) -> RowKey:
        return super().add_row(*map(_cell, cells), **kwargs)

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: object,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, _cell(value), update_width=update_width)
