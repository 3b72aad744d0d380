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
        _CACHE[key] = (events, proc.outcome)
    return _CACHE[key]


def exact_checks(outcome: Outcome) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in outcome.checks.items() if k.startswith("exact_")}


def failed(checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in checks.items() if not v["passed"]}


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
