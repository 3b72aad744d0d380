"""A line above the footer that notifications stay clear of.

Textual docks a screen's toasts one row above its bottom edge (over the footer's row only), so
at 80×24 a toast covered the key line under it ("1–5 tick · enter accept 3 …") and the next
intervals: the very lines a notification like "Tick key points with 1–5" points to. A
``BottomLine`` lifts the screen's toast rack above the topmost ``BottomLine`` shown, whenever
one changes size (a key line that wraps at 80 columns, intervals that appear after a grade).
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Static
from textual.widgets._toast import ToastRack

FOOTER_ROWS = 1


class BottomLine(Static):
    """A key or status line docked above the footer (by its screen's layout)."""

    def on_resize(self, _event: events.Resize) -> None:
        self.call_after_refresh(lift_toasts, self.screen)

    def on_show(self) -> None:
        self.call_after_refresh(lift_toasts, self.screen)


def lift_toasts(screen: Screen[object]) -> None:
    """Dock ``screen``'s toasts above its bottom lines (and the footer under them)."""
    if not screen.is_attached:
        return
    lines = [w for w in screen.query(BottomLine) if w.display and w.region.height]
    if not lines:
        return
    top = min(w.region.y for w in lines)
    rows = max(FOOTER_ROWS, screen.region.bottom - top)
    for rack in screen.query(ToastRack):
        if rack.styles.margin.bottom != rows:
            rack.styles.margin = (0, 0, rows, 0)
