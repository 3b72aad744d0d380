"""Text cut to a number of terminal cells (CJK characters take two)."""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size


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
