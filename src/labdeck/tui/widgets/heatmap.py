"""A GitHub-style review heatmap of the last weeks, with shade characters as a fallback, and
a legend from none to the busiest day's reviews."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual.widgets import Static

SHADES = " ░▒▓█"
COLOURS = ["#2d333b", "#0e4429", "#006d32", "#26a641", "#39d353"]


def heatmap_text(counts: dict[date, int], today: date, weeks: int = 12, color: bool = True) -> Text:
    start = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    peak = max(counts.values(), default=0) or 1
    text = Text()
    for weekday, label in enumerate(["Mon", "   ", "Wed", "   ", "Fri", "   ", "Sun"]):
        text.append(f"{label} ", style="dim")
        for week in range(weeks):
            day = start + timedelta(days=7 * week + weekday)
            if day > today:
                text.append("  ")
                continue
            n = counts.get(day, 0)
            _cell(text, 0 if n == 0 else 1 + min(3, int(3 * n / peak)), color)
        text.append("\n")
    if max(counts.values(), default=0):  # the legend, in the line under Sun: what a shade holds
        text.append("0 ", style="dim")
        for level in range(len(COLOURS)):
            _cell(text, level, color)
        text.append(f"{'' if color else ' '}{peak}/day", style="dim")
    return text


def _cell(text: Text, level: int, color: bool) -> None:
    if color:
        text.append("■ ", style=COLOURS[level])
    else:
        text.append(SHADES[level] * 2 if level else "· ")


class Heatmap(Static):
    def show(self, counts: dict[date, int], today: date, weeks: int = 12) -> None:
        self.update(heatmap_text(counts, today, weeks, color=not self.app.no_color))
