"""Helpers shared by the demo tests (imported as a top-level module, like exam_helpers)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"


_CACHES: list[str] = []


@atexit.register
def _remove_caches() -> None:
    for path in _CACHES:
        shutil.rmtree(path, ignore_errors=True)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run in a test. Each gets an empty trained-model cache of its own:
    a demo the session already trained in-process would otherwise load its model and finish at
    once, and tests that interrupt a run while it trains would race it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    _CACHES.append(tempfile.mkdtemp(prefix="labdeck-test-cli-cache-"))
    env["LABDECK_CACHE"] = _CACHES[-1]
    env.update(extra)
    return env


def read_until(stream: Any, predicate: Callable[[dict[str, Any]], bool], limit: float = 60) -> dict:
    """Read JSON lines from ``stream`` until one satisfies ``predicate``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError("stream ended before the expected event")
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if predicate(event):
            return event
    raise AssertionError("expected event did not arrive in time")


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def wait_gone(pid: int, limit: float = 10.0) -> bool:
    """True once ``pid`` no longer exists (or is a zombie awaiting its reaper)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
