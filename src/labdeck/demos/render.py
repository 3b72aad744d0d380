"""Terminal rendering of demo events for the CLI: progress bar, tables, plots, images, result.

Colour is used when the output is a terminal and ``NO_COLOR`` is unset (https://no-color.org);
otherwise everything is plain text: images and heatmaps use the shade ramp `` ░▒▓█`` (each cell
two characters wide), plots use distinct markers per series. Plots are drawn with plotext,
imported lazily; nothing heavy is imported at module level.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from labdeck.textfmt import clean_text

SHADES = " ░▒▓█"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")
_COLORS = ["cyan", "magenta", "green", "yellow", "red", "blue", "white"]
_ANSI_CODES = {"cyan": 36, "magenta": 35, "green": 32, "yellow": 33, "red": 31, "blue": 34}
_ANSI_CODES["white"] = 37
_MARKERS = ["•", "x", "+", "o", "*", "#", "="]


def color_allowed(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def clean(text: Any) -> str:
    """Text from a child is untrusted: drop escape sequences (CSI, OSC, DCS, 8-bit CSI) and
    control characters, C1 included, with the importers' own cleaner; a bare CR is dropped."""
    return clean_text(str(text).replace("\r\n", "\n").replace("\r", ""))


def fmt_value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == 0:
            return "0"
        if abs(v) >= 1e5 or abs(v) < 1e-3:
            return f"{v:.3e}"
        return f"{v:.4g}"
    return clean(v)


# ----------------------------------------------------------------------------- pieces


def progress_bar(step: int, total: int, width: int = 30) -> str:
    frac = 0.0 if total <= 0 else min(1.0, max(0.0, step / total))
    full = int(frac * width)
    level = int((frac * width - full) * (len(SHADES) - 1))
    part = SHADES[level] if full < width and level > 0 else ""
    return "█" * full + part + "·" * (width - full - len(part)) + f" {frac * 100:3.0f}%"


def table(
    title: str | None, columns: Sequence[Any], rows: Sequence[Sequence[Any]], max_cell: int = 48
) -> str:
    cols = [clean(c) for c in columns]
    body = [[fmt_value(c)[:max_cell] for c in row] for row in rows]
    n = max([len(cols)] + [len(r) for r in body]) if (cols or body) else 0
    cols += [""] * (n - len(cols))
    body = [r + [""] * (n - len(r)) for r in body]
    widths = [max([len(cols[i])] + [len(r[i]) for r in body]) for i in range(n)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [clean(title)] if title else []
    if any(cols):
        out.append(line(cols))
        out.append("  ".join("─" * w for w in widths))
    out += [line(r) for r in body]
    return "\n".join(out)


def _shade(v: float) -> str:
    return SHADES[min(len(SHADES) - 1, max(0, round(v * (len(SHADES) - 1))))] * 2


def _gray(v: float) -> str:
    level = 232 + min(23, max(0, round(v * 23)))
    return f"\x1b[48;5;{level}m  \x1b[0m"


def _norm(image: Sequence[Sequence[Any]], vmin: float, vmax: float) -> list[list[float]]:
    span = (vmax - vmin) or 1.0
    out = []
    for row in image:
        vals = []
        for v in row:
            x = float(v) if isinstance(v, (int, float)) and math.isfinite(v) else 0.0
            vals.append(min(1.0, max(0.0, (x - vmin) / span)))
        out.append(vals)
    return out


def image(
    img: Sequence[Sequence[Any]],
    color: bool,
    vmin: float = 0.0,
    vmax: float = 1.0,
    xlabels: Sequence[Any] | None = None,
    ylabels: Sequence[Any] | None = None,
) -> str:
    """One 2-D array as cells two characters wide; optional axis labels.

    Row labels are written out (up to 10 characters). A cell is two characters wide, too narrow
    for a word, so columns are numbered and a key line under the image names each column."""
    data = _norm(img, vmin, vmax)
    cell = _gray if color else _shade
    ylab = [clean(y)[:10] for y in ylabels] if ylabels else []
    pad = max((len(y) for y in ylab), default=0)
    lines = []
    xlab = [clean(x) for x in xlabels] if xlabels else []
    if xlab:
        head = "".join(str(i % 100).rjust(2) for i in range(len(xlab)))
        lines.append((" " * (pad + 1) if pad else "") + head.rstrip())
    for i, row in enumerate(data):
        prefix = (ylab[i] if i < len(ylab) else "").rjust(pad) + " " if pad else ""
        lines.append(prefix + "".join(cell(v) for v in row))
    if xlab:
        lines.append("columns: " + "  ".join(f"{i}={x[:12]}" for i, x in enumerate(xlab)))
    return "\n".join(lines)


def image_grid(
    grid: Sequence[Sequence[Sequence[Sequence[Any]]]],
    color: bool,
    labels: Sequence[Sequence[Any]] | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    gap: int = 2,
    width: int | None = None,
) -> str:
    """Rows of images side by side (e.g. 8x8 digits), optional caption under each; a row
    wider than ``width`` characters wraps onto further rows."""
    if width is not None:
        wrapped: list[Sequence[Sequence[Sequence[Any]]]] = []
        wrapped_labels: list[Sequence[Any]] = []
        for r, row in enumerate(grid):
            img_w = 2 * max((len(rw) for img in row for rw in img), default=1)
            per = max(1, (width + gap) // (img_w + gap))
            caps = list(labels[r]) if labels and r < len(labels) and labels[r] else []
            for start in range(0, max(len(row), 1), per):
                wrapped.append(row[start : start + per])
                wrapped_labels.append(caps[start : start + per])
        grid, labels = wrapped, wrapped_labels
    blocks = []
    for r, row in enumerate(grid):
        rendered = [image(img, color, vmin, vmax).split("\n") for img in row]
        if not rendered:
            continue
        widths = [2 * max((len(img_row) for img_row in img), default=0) for img in row]
        height = max(len(x) for x in rendered)
        lines = []
        for i in range(height):
            parts = []
            for block, w in zip(rendered, widths, strict=True):
                text = block[i] if i < len(block) else ""
                visible = len(_ANSI.sub("", text))
                parts.append(text + " " * (w - visible))
            lines.append((" " * gap).join(parts).rstrip())
        if labels and r < len(labels) and labels[r]:
            caps = [clean(c)[:w].center(w) for c, w in zip(labels[r], widths, strict=False)]
            lines.append((" " * gap).join(caps).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if any("\n" in b for b in blocks) else "\n".join(blocks)


def plot(series: Sequence[dict[str, Any]], color: bool, width: int, height: int = 15) -> str:
    """Line or scatter plot of one group of series with plotext (returned as a string)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    first = series[0]
    for i, s in enumerate(series):
        x, y = _finite_pairs(s.get("x") or [], s.get("y") or [])
        if not x:
            continue
        kw: dict[str, Any] = {}  # no plotext legend: it is drawn over the top of the data
        if color:
            kw["color"] = _COLORS[i % len(_COLORS)]
            kw["marker"] = "braille" if s.get("kind") != "scatter" else "dot"
        else:
            kw["marker"] = (
                _MARKERS[i % len(_MARKERS)]
                if s.get("kind") == "scatter" or len(series) > 1
                else "braille"
            )
        if s.get("kind") == "scatter":
            plt.scatter(x, y, **kw)
        else:
            plt.plot(x, y, **kw)
    if first.get("xlabel"):
        plt.xlabel(clean(first["xlabel"]))
    if first.get("ylabel"):
        plt.ylabel(clean(first["ylabel"]))
    out = plt.build()
    plt.clear_figure()
    if not color:
        out = _ANSI.sub("", out)
    text = "\n".join(line.rstrip() for line in out.split("\n")).rstrip("\n")
    return text + "\n" + legend(series, color)


def legend(series: Sequence[dict[str, Any]], color: bool) -> str:
    """The key of a plot, on its own line under it (never over the data)."""
    parts = []
    for i, s in enumerate(series):
        name = clean(s.get("name", ""))[:40]
        if color:
            code = _ANSI_CODES[_COLORS[i % len(_COLORS)]]
            parts.append(f"\x1b[{code}m■\x1b[0m {name}")
        else:
            plain = s.get("kind") == "scatter" or len(series) > 1
            parts.append(f"{_MARKERS[i % len(_MARKERS)] if plain else '⠿'} {name}")
    return "legend: " + "   ".join(parts)


def _finite_pairs(xs: Sequence[Any], ys: Sequence[Any]) -> tuple[list[float], list[float]]:
    px, py = [], []
    for a, b in zip(xs, ys, strict=False):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        if numbers and math.isfinite(a) and math.isfinite(b):
            px.append(float(a))
            py.append(float(b))
    return px, py


# ----------------------------------------------------------------------------- the renderer


class Renderer:
    """Turns a stream of events into terminal output; call ``close()`` at the end."""

    def __init__(
        self, out: TextIO | None = None, color: bool | None = None, width: int | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.color = color_allowed(self.out) if color is None else color
        isatty = getattr(self.out, "isatty", None)
        self.live = bool(isatty and isatty())  # redraw the progress line in place
        self.width = width or min(100, shutil.get_terminal_size((80, 24)).columns)
        self._pending: list[dict[str, Any]] = []
        self._progress_shown = False
        self._last_label: str | None = None
        self._last_metric: str = ""

    # -- helpers
    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _write(self, text: str) -> None:
        self._clear_progress()
        self.out.write(text + "\n")
        self.out.flush()

    def _clear_progress(self) -> None:
        if self._progress_shown and self.live:
            self.out.write("\r\x1b[K")
            self._progress_shown = False

    def _heading(self, title: str) -> str:
        return self._paint(clean(title), "1")

    # -- events
    def event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        if kind == "series":  # held until the next other event, then plotted by group
            self._pending.append(ev)
            return
        self._flush_plots()
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(ev)
        elif kind is not None:
            self._write(clean(f"[{kind}] {ev}"))

    def _on_progress(self, ev: dict[str, Any]) -> None:
        step, total = int(ev.get("step") or 0), int(ev.get("total") or 0)
        label = clean(ev.get("label") or "")
        if self.live:
            line = f"{label[:28]:<28} {progress_bar(step, total)} {step}/{total}"
            if self._last_metric:
                line += "  " + self._last_metric
            self.out.write("\r\x1b[K" + line[: self.width - 1])
            self.out.flush()
            self._progress_shown = True
        elif label != self._last_label:
            self._write(f"… {label}" if label else f"… {step}/{total}")
        self._last_label = label

    def _on_metric(self, ev: dict[str, Any]) -> None:
        self._last_metric = f"{clean(ev.get('name'))}={fmt_value(ev.get('value'))}"

    def _on_text(self, ev: dict[str, Any]) -> None:
        text = clean(ev.get("text", "")) if not ev.get("raw") else "│ " + clean(ev.get("text"))
        self._write(text)

    def _on_table(self, ev: dict[str, Any]) -> None:
        self._write("")
        self._write(
            table(
                self._heading(ev.get("title") or ""), ev.get("columns") or [], ev.get("rows") or []
            )
        )

    def _on_image(self, ev: dict[str, Any]) -> None:
        vmin = float(ev.get("vmin", 0.0) or 0.0)
        vmax = float(ev.get("vmax", 1.0) or 1.0)
        self._write("")
        self._write(self._heading(ev.get("title") or "image"))
        if ev.get("grid"):
            self._write(
                image_grid(ev["grid"], self.color, ev.get("labels"), vmin, vmax, width=self.width)
            )
        if ev.get("data"):
            self._write(
                image(ev["data"], self.color, vmin, vmax, ev.get("xlabels"), ev.get("ylabels"))
            )
        if not self.color:
            steps = len(SHADES) - 1
            legend = "  ".join(
                f"'{c * 2}'={vmin + (vmax - vmin) * i / steps:.2g}" for i, c in enumerate(SHADES)
            )
            self._write(f"(shades: {legend})")

    def _on_result(self, ev: dict[str, Any]) -> None:
        checks = ev.get("checks") or {}
        metrics = ev.get("metrics") or {}
        if metrics:
            self._write("")
            self._write(
                table(
                    self._heading("metrics"),
                    ["name", "value"],
                    [[k, fmt_value(v)] for k, v in metrics.items()],
                )
            )
        if checks:
            self._write("")
            self._write(self._heading("checks"))
            width = max(len(k) for k in checks)
            for name, c in checks.items():
                c = c if isinstance(c, dict) else {"passed": bool(c), "value": c}
                value = fmt_value(c.get("value"))
                if c.get("passed") is None and c.get("changed"):
                    self._write(f"{self._paint('~ note', '33')}  {clean(c['changed'])}")
                    continue
                ok = bool(c.get("passed"))
                mark = self._paint("✓ pass", "32") if ok else self._paint("✗ FAIL", "31;1")
                kind = "exact" if c.get("kind") == "exact" else "expect"
                target = clean(c.get("target", ""))
                self._write(
                    f"{mark}  {kind:<6}  {clean(name).ljust(width)}  {value}  (target {target})"
                )

    def _on_error(self, ev: dict[str, Any]) -> None:
        self._write(self._paint("error: ", "31;1") + clean(ev.get("message", "")))

    def _flush_plots(self) -> None:
        """Plot the held series: one plot per ``group`` (ungrouped series plot alone)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        groups: dict[Any, list[dict[str, Any]]] = {}
        for i, s in enumerate(pending):
            groups.setdefault(s.get("group", ("alone", i)), []).append(s)
        for group in groups.values():
            scatter = any(s.get("kind") == "scatter" for s in group)
            title = " / ".join(clean(s.get("name", "")) for s in group)
            try:
                text = plot(group, self.color, min(self.width, 72), 18 if scatter else 14)
            except Exception as exc:  # a plotting glitch must not end the run
                text = f"(plot unavailable: {type(exc).__name__}: {exc})"
            self._write("")
            self._write(self._heading(title))
            self._write(text)

    def close(self) -> None:
        self._flush_plots()
        self._clear_progress()
        self.out.flush()
