"""Warm demo children (``runner.prewarm``): a real run started from one gives the cold run's
events and result (floats to 1e-5; progress events are throttled by time, so compared by
step); settings that differ start cold; an unused one is reaped (discarded, idle, or its parent
killed -9), leaving no process and no directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_helpers import child_env

from labdeck.demos import runner
from labdeck.demos.lifeline import demo_process_alive


def until(condition: Callable[[], bool], limit: float = 30.0) -> bool:
    """Poll ``condition`` (a bound on waiting, not a timing assertion)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def started(warm: runner.WarmChild) -> int:
    assert until(lambda: warm.proc is not None), warm.error
    assert warm.pid is not None
    return warm.pid


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() if Path("/proc").is_dir() else True


@pytest.fixture(autouse=True)
def no_warm_left() -> Iterator[None]:
    yield
    runner.discard_warm()


def content(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a run shows, without its wall clock: no ``seconds``, and no progress events (the
    emitter drops the ones that come too soon after another, however the run started)."""
    return [
        {k: v for k, v in e.items() if k != "seconds"} for e in events if e["type"] != "progress"
    ]


def progress(events: list[dict[str, Any]]) -> list[tuple[tuple[int, int], str | None]]:
    return [((e["step"], e["total"]), e.get("label")) for e in events if e["type"] == "progress"]


def alike(a: Any, b: Any, path: str = "") -> None:
    """Equal structure, text, flags and integers; floats within 1e-5 relative. Any two
    processes may round a float's last bits differently (BLAS kernels take other paths at
    another memory alignment), warm or cold."""
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            alike(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            alike(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-5, abs=1e-6), path
    else:
        assert a == b, path


def attention_run() -> tuple[runner.DemoProcess, list[dict[str, Any]]]:
    proc = runner.DemoProcess("attention", device="cpu", seed=0, preset="quick", timeout=240)
    events = list(proc.events())
    assert proc.outcome is not None and proc.outcome.ok, proc.outcome
    return proc, events


@pytest.mark.slow  # two real runs
def test_a_warm_run_gives_the_cold_runs_events_and_result() -> None:
    cold, cold_events = attention_run()
    warm = runner.prewarm()
    pid = started(warm)
    hot, hot_events = attention_run()
    assert (cold.warm, hot.warm) == (False, True)
    assert hot.pid == pid  # the run is the warm child
    alike(content(hot_events), content(cold_events))
    assert len(content(hot_events)) > 3
    hot_steps, cold_steps = progress(hot_events), progress(cold_events)
    assert hot_steps[-1] == cold_steps[-1]  # the last step is never throttled
    labels = dict(cold_steps)
    assert all(labels.get(step, label) == label for step, label in hot_steps)
    alike(hot.outcome.checks, cold.outcome.checks)
    alike(hot.outcome.metrics, cold.outcome.metrics)
    assert until(lambda: gone(pid))  # reaped with its run, and its directory removed
    assert warm.workdir is not None and not Path(warm.workdir).exists()
    assert runner.prewarm() is not warm  # the next run gets a fresh one


def test_other_settings_start_cold_and_leave_the_warm_child_waiting() -> None:
    warm = runner.prewarm(threads=1)
    started(warm)
    proc = runner.DemoProcess("attention", device="cpu", preset="quick", threads=2, timeout=240)
    proc.start()
    assert not proc.warm and proc.pid != warm.pid
    proc.cancel()
    proc.wait()
    assert warm.waiting() and runner.prewarm(threads=1) is warm


def test_an_unused_warm_child_is_reaped() -> None:
    warm = runner.prewarm()
    pid = started(warm)
    assert demo_process_alive(pid)
    runner.discard_warm()
    assert gone(pid) and warm.proc is not None and warm.proc.returncode is not None
    assert warm.workdir is not None and not Path(warm.workdir).exists()

    idle = runner.prewarm(idle=0.2)  # nobody takes it: its keeper reaps it
    pid = started(idle)
    assert until(lambda: idle.proc is not None and idle.proc.returncode is not None)
    assert gone(pid) and idle.workdir is not None and not Path(idle.workdir).exists()


PARENT = """
import sys, time
from labdeck.demos import runner
warm = runner.prewarm()
while warm.proc is None:
    time.sleep(0.02)
print(warm.pid, flush=True)
time.sleep(120)
"""


def test_a_warm_child_dies_with_its_parent_killed_9() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert demo_process_alive(pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert until(lambda: not demo_process_alive(pid))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
