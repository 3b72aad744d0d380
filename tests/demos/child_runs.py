"""Run a demo through the real child runner (``DemoProcess``) once per (id, preset, params).

Shared by the per-demo tests of the newer demos; imported as a top-level module."""

from __future__ import annotations

import json
from typing import Any

from labdeck.demos.runner import DemoProcess, Outcome

_CACHE: dict[str, tuple[list[dict[str, Any]], Outcome]] = {}


def child_run(
    demo_id: str, preset: str | None = "quick", **params: Any
) -> tuple[list[dict[str, Any]], Outcome]:
    """Events and outcome of one seeded CPU run in a child process (cached per session)."""
    key = json.dumps([demo_id, preset, params], sort_keys=True)
    if key not in _CACHE:
        proc = DemoProcess(demo_id, params, device="cpu", seed=0, preset=preset, timeout=240)
        events = list(proc.events())
        assert proc.outcome is not None
        assert proc.outcome.ok, (proc.outcome.message, proc.outcome.stderr_tail)
        named = {k: c["kind"] for k, c in proc.outcome.checks.items() if k.startswith("exact_")}
        assert all(kind == "exact" for kind in named.values()), named
        _CACHE[key] = (events, proc.outcome)
    return _CACHE[key]


def exact_checks(outcome: Outcome) -> dict[str, dict[str, Any]]:
    """The exactness checks of a run (by kind; a check named ``exact_...`` must be one)."""
    return {k: v for k, v in outcome.checks.items() if v["kind"] == "exact"}


def failed(checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Real failures: an exactness check that did not hold, or a quality expectation missed at
    the preset's values. A quality expectation that a changed knob moved (``passed`` None and a
    "changed: ..." note, see ``events.settle``) is the knob's effect, not a failure."""
    return {k: v for k, v in checks.items() if v["passed"] is not True and not _moved(v)}


def changed(checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Quality expectations that a changed knob moved."""
    return {k: v for k, v in checks.items() if _moved(v)}


def _moved(check: dict[str, Any]) -> bool:
    return (
        check.get("kind") == "quality"
        and check["passed"] is None
        and str(check.get("changed", "")).startswith("changed: ")
    )


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
