"""Thin wrappers over textual-plotext: a chart is given plain data and draws it, nothing more.

plotext's output is read back with ``Text.from_ansi``, so an escape sequence in a title or label
would become a style or a hyperlink: every string is passed through ``plain`` first."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from textual.app import RenderResult
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from labdeck.tui.literal import plain

# Colours that read on both dark and light themes (plotext names).
PALETTE = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "gray")


def _cut(text: str, cells: int) -> str:
    """``text`` cut with … to ``cells`` cells (whole when it fits, or when no width is known)."""
    if cells <= 1 or cell_len(text) <= cells:
        return text
    while text and cell_len(text) > cells - 1:
        text = text[:-1]
    return text.rstrip() + "…"


class Chart(PlotextPlot):
    """A plot that keeps its data and redraws it at any size.

    ``bars`` and ``lines`` replace what is shown; an empty chart shows its title and a note.
    """

    DEFAULT_CSS = """
    Chart {
        height: 12;
        min-height: 8;
    }
    """

    def __init__(self, title: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.chart_title = title
        self._draw: Callable[[Plot], None] | None = None

    def render(self) -> RenderResult:
        # Rebuild the figure from the kept data on every render: plotext keeps layout state
        # between builds, so drawing once and re-rendering at another size is not repeatable.
        plt = self.plt
        plt.clear_figure()
        self._title(plt, self.chart_title)
        if self._draw is not None:
            self._draw(plt)
        return super().render()

    def _redraw(self) -> None:
        self.refresh()

    # the y axis' labels and tick ("100┤ "): plotext drops a title wider than the plot area
    AXIS_CELLS = 5

    def _room(self) -> int:
        """Cells over the plot area (a title or note wider than it is dropped by plotext)."""
        return self.size.width - 2 - self.AXIS_CELLS

    def _title(self, plt: Plot, title: str) -> None:
        """The title, cut with … to fit over the plot area (plotext drops a wider one)."""
        plt.title(_cut(plain(title), self._room()))

    def _note(
        self, plt: Plot, note: str, xs: Sequence[float], ylim: tuple[float, float] | None
    ) -> None:
        """An empty chart's note ("no answers yet") in the middle of its plot area, where it
        does not take the title's room (both on the title line cut one or the other)."""
        low, high = ylim if ylim is not None else (0, 1)
        if xs:
            middle = (min(xs) + max(xs)) / 2
        else:  # nothing drawn at all: an x range of its own, without ticks of no unit
            plt.xlim(0, 1)
            plt.xticks([])
            middle = 0.5
        plt.text(_cut(plain(note), self._room() - 2), middle, (low + high) / 2, alignment="center")

    @staticmethod
    def _empty_axis(plt: Plot, ylim: tuple[float, float] | None) -> None:
        """An empty chart's y axis: its own range when it has one (0–100 %), else 0 and 1
        (not 0.00, 0.25 … 1.00 of a unit that has no fractions)."""
        low, high = ylim if ylim is not None else (0, 1)
        plt.ylim(low, high)
        plt.yticks([low, high])

    @staticmethod
    def _range_yticks(plt: Plot, ylim: tuple[float, float]) -> None:
        """A fixed range (0–100 %) ticked in quarters: 0, 25, 50, 75, 100, not 16.7, 33.3…"""
        low, high = ylim
        plt.ylim(low, high)
        ticks = [low + (high - low) * i / 4 for i in range(5)]
        plt.yticks([int(t) if float(t).is_integer() else t for t in ticks])

    @staticmethod
    def _whole_yticks(plt: Plot, values: Sequence[float]) -> None:
        """Counts get whole-number ticks (not 0.17, 0.33… when the largest count is 1)."""
        top = math.ceil(max(values, default=0))
        step = max(1, math.ceil(top / 5))
        ticks: list[float] = list(range(0, max(top, 1) + step, step))
        if ticks[-2] >= max(top, 1):  # the top is a tick already
            ticks.pop()
        plt.ylim(0, ticks[-1])  # the last tick on the plot's top edge, not above it
        plt.yticks(ticks)

    def bars(
        self,
        labels: Sequence[str] | Sequence[float],
        values: Sequence[float],
        *,
        xlabel: str = "",
        ylabel: str = "",
        color: str = "cyan",
        empty: str = "no data yet",
        xticks: tuple[Sequence[float], Sequence[str]] | None = None,
        ylim: tuple[float, float] | None = None,
        counts: bool = False,
        shorter: Sequence[Sequence[str]] = (),
    ) -> None:
        """Vertical bars. String labels are placed at 1..n and thinned so none overlap
        (plotext would otherwise drop overlapping labels in a hash-dependent order); with
        ``shorter`` (other sets of labels, shortest last) the first set that fits whole is used
        before any label is dropped. ``counts``: the values are whole numbers, ticked as such."""
        given: list[str | float] = list(labels)  # copies: the caller may reuse its lists
        values = list(values)
        alternatives = [[plain(label) for label in names] for names in shorter]

        def draw(plt: Plot) -> None:
            named = any(isinstance(label, str) for label in given)
            positions = list(range(1, len(values) + 1))
            xs = positions if named else given
            if not values or not any(values):
                self._empty_axis(plt, ylim)
                self._note(plt, empty, [float(x) for x in xs], ylim)
            elif ylim is not None:
                self._range_yticks(plt, ylim)
            elif counts:
                self._whole_yticks(plt, values)
            if not values:
                return
            plt.bar(xs, values, color=color, width=0.6)
            if xticks is not None:
                plt.xticks(list(xticks[0]), [plain(t) for t in xticks[1]])
            elif named:
                room = max(8, self.size.width - 10) / len(given)
                for names in [[plain(label) for label in given], *alternatives]:
                    longest = max(cell_len(name) for name in names) + 1
                    step = max(1, math.ceil(longest / room))
                    if step == 1:
                        break
                plt.xticks(list[float](positions[::step]), names[::step])
            plt.xlabel(plain(xlabel))
            plt.ylabel(plain(ylabel))

        self._draw = draw
        self._redraw()

    def lines(
        self,
        series: Sequence[tuple[str, Sequence[float], Sequence[float], str]],
        *,
        xlabel: str = "",
        ylabel: str = "",
        xticks: tuple[Sequence[float], Sequence[str]] | None = None,
        ylim: tuple[float, float] | None = None,
        empty: str = "no data yet",
        counts: bool = False,
    ) -> None:
        """Each series is (name, x, y, kind) with kind "line" or "scatter"; ``counts``: the
        y values are whole numbers, ticked as such."""
        series = [(name, list(x), list(y), kind) for name, x, y, kind in series]

        def draw(plt: Plot) -> None:
            if not any(any(y) for _, _, y, _ in series):
                self._empty_axis(plt, ylim)
                self._note(plt, empty, [v for _, x, _, _ in series for v in x], ylim)
            elif counts:
                self._whole_yticks(plt, [v for _, _, y, _ in series for v in y])
            labelled = len(series) > 1
            for i, (name, x, y, kind) in enumerate(series):
                if not y:
                    continue
                colour = PALETTE[i % len(PALETTE)]
                label = plain(name) if labelled else None
                if kind == "scatter":
                    plt.scatter(x, y, label=label, color=colour, marker="dot")
                else:
                    plt.plot(x, y, label=label, color=colour, marker="hd")
            if xticks is not None:
                plt.xticks(list(xticks[0]), [plain(t) for t in xticks[1]])
            if ylim is not None:
                plt.ylim(*ylim)
            plt.xlabel(plain(xlabel))
            plt.ylabel(plain(ylabel))

        self._draw = draw
        self._redraw()
