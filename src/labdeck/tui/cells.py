"""Text cut to a number of terminal cells (CJK characters take two)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, get_character_cell_size

if TYPE_CHECKING:
    from textual.widget import Widget


def fit(value: str, width: int) -> str:
    """First line of ``value`` cut to ``width`` terminal cells (CJK counts double), with an
    ellipsis where it was cut."""
    value = " ".join(value.split())
    if cell_len(value) <= width:
        return value
    used = 0  # one pass, each character measured once (it measured the growing prefix)
    for index, ch in enumerate(value):
        used += get_character_cell_size(ch)
        if used > width - 1:
            return value[:index] + "…"
    return value + "…"


def steady_width(widget: Widget) -> int:
    """The cells a scrolling widget's content has whether or not its vertical scroll bar is
    showing (its room is always kept): text cut or wrapped to it does not change when the
    bar comes or goes. 0 before the widget is laid out."""
    width = widget.scrollable_content_region.width
    if width <= 0:
        return 0
    if not widget.show_vertical_scrollbar:
        width -= widget.styles.scrollbar_size_vertical
    return max(width, 0)
