"""Greyscale images in the terminal: half-block cells in colour, shade characters without.

``data`` is a 2-D list of values in [0, 1] (an attention map, a digit); ``grid`` is rows of
such images (reconstructions, samples). Colour mode packs two pixel rows per text row with '▀'
(foreground = upper pixel, background = lower); NO_COLOR mode uses ' ░▒▓█', two characters per
pixel so that pixels stay square.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

SHADES = " ░▒▓█"
Image = Sequence[Sequence[float]]


def _clip(v: object) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    if x != x:
        return 0.0
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _grey(v: float) -> str:
    level = round(24 + 231 * v)
    return f"#{level:02x}{level:02x}{level:02x}"


def _shade(v: float) -> str:
    return SHADES[min(len(SHADES) - 1, int(v * len(SHADES)))] * 2


def _pad(text: str, width: int) -> str:
    """Pad to a display width (CJK characters count double)."""
    return text + " " * max(0, width - cell_len(text))


def _fit(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if cell_len(out + ch) > width:
            break
        out += ch
    return _pad(out, width)


def image_rows(image: Image, color: bool) -> list[Text]:
    """One image as lines of text."""
    pixels = [[_clip(v) for v in row] for row in image]
    lines: list[Text] = []
    if not pixels:
        return lines
    width = max(len(r) for r in pixels)
    pixels = [r + [0.0] * (width - len(r)) for r in pixels]
    if color:
        for top in range(0, len(pixels), 2):
            line = Text()
            upper = pixels[top]
            lower = pixels[top + 1] if top + 1 < len(pixels) else None
            for x in range(width):
                if lower is None:
                    line.append("▀", style=Style(color=_grey(upper[x])))
                else:
                    line.append("▀", style=Style(color=_grey(upper[x]), bgcolor=_grey(lower[x])))
            lines.append(line)
    else:
        for row in pixels:
            lines.append(Text("".join(_shade(v) for v in row)))
    return lines


def heatmap_text(
    data: Image,
    *,
    color: bool,
    xlabels: Sequence[str] | None = None,
    ylabels: Sequence[str] | None = None,
) -> Text:
    """A labelled matrix (e.g. attention weights): rows labelled, columns numbered and keyed.

    Each cell is two characters wide and one row tall, so row labels line up with rows.
    """
    rows = [[_clip(v) for v in row] for row in data]
    text = Text(no_wrap=True, overflow="crop")
    if not rows:
        return text
    ylabels = list(ylabels or [])
    label_w = min(14, max((cell_len(str(y)) for y in ylabels), default=0))
    width = max(len(r) for r in rows)
    if label_w:
        text.append(" " * (label_w + 1))
    for x in range(width):
        text.append(f"{x + 1:>2}"[-2:], style="dim")
    text.append("\n")
    for y, row in enumerate(rows):
        if label_w:
            name = str(ylabels[y]) if y < len(ylabels) else ""
            text.append(_fit(name, label_w) + " ", style="dim")
        for v in row:
            if color:
                text.append("  ", style=Style(bgcolor=_grey(v)))
            else:
                text.append(_shade(v))
        text.append("\n")
    if xlabels:
        keys = [f"{i + 1} {label}" for i, label in enumerate(xlabels)]
        text.append("columns: " + " · ".join(keys) + "\n", style="dim")
    return text


def grid_text(
    grid: Sequence[Sequence[Image]],
    *,
    color: bool,
    labels: Sequence[Sequence[str]] | None = None,
    width: int | None = None,
) -> Text:
    """Rows of small images side by side, each with an optional caption underneath; a row
    wider than ``width`` cells wraps onto further rows."""
    text = Text(no_wrap=True, overflow="crop")
    for r, images in enumerate(grid):
        rendered_all = [image_rows(img, color) for img in images]
        if not rendered_all:
            continue
        widths_all = [max((line.cell_len for line in img), default=0) for img in rendered_all]
        captions_all = list(labels[r]) if labels and r < len(labels) and labels[r] else []
        per = len(rendered_all)
        if width is not None:
            per = max(1, (width + 1) // (max(widths_all) + 1))
        for start in range(0, len(rendered_all), per):
            rendered = rendered_all[start : start + per]
            widths = widths_all[start : start + per]
            height = max(len(img) for img in rendered)
            for y in range(height):
                for i, img in enumerate(rendered):
                    if i:
                        text.append(" ")
                    if y < len(img):
                        text.append_text(img[y])
                        text.append(" " * (widths[i] - img[y].cell_len))
                    else:
                        text.append(" " * widths[i])
                text.append("\n")
            captions = captions_all[start : start + per]
            if captions:
                line = " ".join(
                    _fit(str(c), widths[i]) for i, c in enumerate(captions) if i < len(widths)
                )
                text.append(line.rstrip() + "\n", style="dim")
    return text


def normalise(image: Image, vmin: float = 0.0, vmax: float = 1.0) -> list[list[float]]:
    span = (vmax - vmin) or 1.0
    return [[_clip((_num(v) - vmin) / span) for v in row] for row in image]


def _num(v: object) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return x if x == x and abs(x) != float("inf") else 0.0


class ShadeImage(Static):
    """Shows one ``image`` event: a labelled matrix (``data``) or a grid of images."""

    DEFAULT_CSS = """
    ShadeImage {
        height: auto;
        width: 1fr;
        padding: 0 1;
    }
    """

    _event: dict[str, Any] | None = None

    def show_event(self, event: dict[str, Any]) -> None:
        self._event = event
        self._draw()

    def on_resize(self) -> None:
        if self._event is not None:
            self._draw()

    def _draw(self) -> None:
        from labdeck.demos.render import clean

        event = self._event or {}
        width = (self.content_size.width or max(20, self.app.size.width - 40)) - 1

        color = not self.app.no_color
        vmin, vmax = _num(event.get("vmin", 0.0)), _num(event.get("vmax", 1.0))
        if vmax <= vmin:
            vmin, vmax = 0.0, 1.0
        text = Text(no_wrap=True, overflow="crop")
        text.append(clean(event.get("title", "image")) + "\n", style="bold")
        if event.get("grid"):
            grid = [[normalise(img, vmin, vmax) for img in row] for row in event["grid"]]
            labels = [[clean(c) for c in row] for row in event.get("labels") or []]
            text.append_text(grid_text(grid, color=color, labels=labels or None, width=width))
        if event.get("data"):
            text.append_text(
                heatmap_text(
                    normalise(event["data"], vmin, vmax),
                    color=color,
                    xlabels=[clean(x) for x in event.get("xlabels") or []] or None,
                    ylabels=[clean(y) for y in event.get("ylabels") or []] or None,
                )
            )
        if not color:
            text.append("shades: ' '=low  '░░' '▒▒' '▓▓'  '██'=high\n", style="dim")
        self.update(text)
