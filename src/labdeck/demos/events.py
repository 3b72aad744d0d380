"""The JSON-lines event protocol between a demo child process and its parent.

One JSON object per line on the child's stdout, each with a ``"type"``:

* ``progress`` {step, total, label?}
* ``metric``   {name, value, step?}
* ``series``   {name, x, y, xlabel?, ylabel?, kind: "line"|"scatter", group?}
  (series sharing a ``group`` belong in one plot)
* ``table``    {title, columns, rows}
* ``text``     {text}
* ``image``    {title, data?: 2-D list in [0, 1], grid?: rows of 2-D images,
  labels?: rows of captions for the grid, xlabels?, ylabels?: axis tick labels for ``data``}
* ``result``   {metrics: {name: value}, checks: {name: {passed, value, target, kind, changed?}},
  seconds, cached?: whether a trained model came from the cache,
  device: the device actually used, e.g. "cpu" or "cuda:0" when "auto" was asked}
* ``error``    {message}

Standard library only: the parent imports this module too.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

EVENT_TYPES = frozenset(
    {"progress", "metric", "series", "table", "text", "image", "result", "error"}
)


def jsonable(value: Any) -> Any:
    """Make ``value`` strict-JSON safe: numpy/torch scalars to Python, NaN/inf to None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays/scalars, torch tensors
    if callable(tolist):
        return jsonable(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return jsonable(item())
    return str(value)


def encode(event: dict[str, Any]) -> str:
    return json.dumps(jsonable(event), allow_nan=False, ensure_ascii=False, separators=(",", ":"))


class Emitter:
    """Writes events as JSON lines. Progress is throttled so a fast loop cannot flood the pipe."""

    def __init__(
        self,
        write: Callable[[dict[str, Any]], None] | None = None,
        stream: TextIO | None = None,
        min_interval: float = 0.05,
    ) -> None:
        self._write = write
        self._stream = stream if stream is not None else (None if write else sys.stdout)
        self._min_interval = min_interval
        self._last_progress = -math.inf

    def emit(self, type: str, **fields: Any) -> None:
        event = {"type": type, **fields}
        if self._write is not None:
            self._write(json.loads(encode(event)))
        if self._stream is not None:
            self._stream.write(encode(event) + "\n")
            self._stream.flush()

    def progress(self, step: int, total: int, label: str | None = None) -> None:
        now = time.monotonic()
        if step not in (0, total) and now - self._last_progress < self._min_interval:
            return
        self._last_progress = now
        fields: dict[str, Any] = {"step": step, "total": total}
        if label:
            fields["label"] = label
        self.emit("progress", **fields)

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        fields: dict[str, Any] = {"name": name, "value": value}
        if step is not None:
            fields["step"] = step
        self.emit("metric", **fields)

    def series(
        self,
        name: str,
        x: Sequence[float],
        y: Sequence[float],
        xlabel: str | None = None,
        ylabel: str | None = None,
        kind: str = "line",
        group: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {"name": name, "x": list(x), "y": list(y), "kind": kind}
        for key, val in (("xlabel", xlabel), ("ylabel", ylabel), ("group", group)):
            if val is not None:
                fields[key] = val
        self.emit("series", **fields)

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        self.emit("table", title=title, columns=list(columns), rows=[list(r) for r in rows])

    def text(self, text: str) -> None:
        self.emit("text", text=text)

    def image(self, title: str, data: Any = None, grid: Any = None, **extra: Any) -> None:
        fields: dict[str, Any] = {"title": title}
        if data is not None:
            fields["data"] = data
        if grid is not None:
            fields["grid"] = grid
        fields.update({k: v for k, v in extra.items() if v is not None})
        self.emit("image", **fields)

    def result(
        self, metrics: dict[str, Any], checks: dict[str, Any], seconds: float, **extra: Any
    ) -> None:
        self.emit("result", metrics=metrics, checks=checks, seconds=round(seconds, 3), **extra)

    def error(self, message: str) -> None:
        self.emit("error", message=message)


class Collector(Emitter):
    """An emitter that keeps events in memory (in-process runs and tests)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        super().__init__(write=self.events.append, min_interval=0.0)

    def of_type(self, type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type]


# --- checks ----------------------------------------------------------------------------------
#
# A check is {"passed": bool, "value": ..., "target": "<= 1e-05", "kind": "exact"|"quality"}.
# Exactness checks (the mechanism equals a reference, a mask has zero influence) must hold for
# every parameter value. Quality expectations (a loss threshold, a saturation level) are
# calibrated at the presets' values; when the learner turns a knob away from them and the
# expectation no longer holds, that is the knob's effect, not a failure: ``settle`` turns the
# check into {"passed": None, "changed": "changed: ..."} and counts stay honest.

EXACT, QUALITY = "exact", "quality"


def _num(x: Any) -> Any:
    try:
        return float(x)
    except (TypeError, ValueError):
        return x


def at_most(value: Any, limit: float, kind: str = QUALITY) -> dict[str, Any]:
    v = _num(value)
    ok = isinstance(v, float) and math.isfinite(v) and v <= limit
    return {"passed": bool(ok), "value": v, "target": f"<= {limit:g}", "kind": kind}


def at_least(value: Any, limit: float, kind: str = QUALITY) -> dict[str, Any]:
    v = _num(value)
    ok = isinstance(v, float) and math.isfinite(v) and v >= limit
    return {"passed": bool(ok), "value": v, "target": f">= {limit:g}", "kind": kind}


def is_true(value: bool, target: str = "true", kind: str = QUALITY) -> dict[str, Any]:
    return {"passed": bool(value), "value": bool(value), "target": target, "kind": kind}


def exact(check: dict[str, Any]) -> dict[str, Any]:
    """Mark a check as an exactness check (must hold for every parameter value)."""
    return {**check, "kind": EXACT}


def kind_of(name: str, check: Any) -> str:
    """A check's kind. A check named ``exact_...`` is exact whatever its dict says (``at_most``
    and friends default to quality, and a name that promises exactness must never turn into a
    "changed" note); otherwise its declared kind, and quality when it declares none."""
    if str(name).startswith("exact_"):
        return EXACT
    if isinstance(check, dict) and check.get("kind") in (EXACT, QUALITY):
        return str(check["kind"])
    return QUALITY


def settle(checks: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """Checks as reported: with ``changed`` knobs ({name: value}), a missed quality
    expectation becomes the knob's effect ("changed: ...", passed None), never a failure."""
    out: dict[str, Any] = {}
    knobs = ", ".join(f"{k}={v}" for k, v in changed.items())
    for name, check in checks.items():
        c = dict(check) if isinstance(check, dict) else {"passed": bool(check), "value": check}
        c["kind"] = kind_of(name, check)
        if changed and c["kind"] == QUALITY and c.get("passed") is False:
            c["passed"] = None
            value = c.get("value")
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            c["changed"] = (
                f"changed: {name} = {shown} (expected {c.get('target', '?')} at the "
                f"preset's values) with {knobs}"
            )
        out[name] = c
    return out


def count_checks(checks: Any) -> tuple[int, int, int]:
    """(passed, failed, changed) over a result's checks."""
    if not isinstance(checks, dict):
        return 0, 0, 0
    passed = failed = changed = 0
    for c in checks.values():
        if isinstance(c, dict) and c.get("passed") is None and c.get("changed"):
            changed += 1
        elif isinstance(c, dict) and c.get("passed"):
            passed += 1
        else:
            failed += 1
    return passed, failed, changed


def exact_tolerance(checks: Any) -> tuple[int, float | None]:
    """(number of exactness checks, the loosest ``<= x`` limit among them): the tolerance a
    run's exactness was held to on its device (None when no exactness check has a limit)."""
    if not isinstance(checks, dict):
        return 0, None
    n, loosest = 0, None
    for name, c in checks.items():
        if kind_of(name, c) != EXACT:
            continue
        n += 1
        target = c.get("target") if isinstance(c, dict) else None
        if isinstance(target, str) and target.startswith("<= "):
            limit = _num(target[3:])
            if isinstance(limit, float) and (loosest is None or limit > loosest):
                loosest = limit
    return n, loosest
