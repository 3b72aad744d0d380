"""Checkboxes that read on or off without colour.

Textual draws ``X`` in every checkbox and every selection-list row, ticked or not, and tells
them apart by colour alone: under ``NO_COLOR``, on a monochrome terminal or to a colour-blind
learner every box on the exam's compose form looked ticked (QA). These draw the mark only
when it is on.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED = Checkbox.BUTTON_INNER  # what Textual draws in every box
UNTICKED = " "


class MarkedCheckbox(Checkbox):
    def render(self) -> Content:
        self.BUTTON_INNER = TICKED if self.value else UNTICKED
        return super().render()


class MarkedSelectionList(SelectionList[Any]):
    """Also: the cursor stops at either end rather than wrapping round (↑ on the first
    chapter jumped to the last without a word; QA). The compose screen highlights the first
    row as it fills the list, so space toggles a row at once."""

    def action_cursor_up(self) -> None:
        if self.highlighted != 0:
            super().action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.highlighted is None or self.highlighted < self.option_count - 1:
            super().action_cursor_down()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        if option.value in self.selected:
            return strip
        segments = list(strip)
        if len(segments) < 2 or segments[1].text != TICKED:
            return strip  # not the row's button (a layout Textual changed)
        mark = segments[1]
        segments[1] = Segment(UNTICKED, mark.style, mark.control)
        return Strip(segments, strip.cell_length)
