"""Fixtures for the demo tests: CLI runners and cached in-process demo runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_helpers import child_env


@pytest.fixture
def cli(synced_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``labdeck --home HOME ARGS...`` in a subprocess and capture its output (a home
    whose shipped deck is loaded already: a demo does not need it loaded again, 1 s a test)."""
    home = synced_home

    def run(*args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "labdeck.cli", "--home", str(home), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(**env),
            stdin=subprocess.DEVNULL,
        )

    return run


@pytest.fixture
def cli_popen(synced_home: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``labdeck --home HOME ARGS...`` (its own session, so signals reach only it)."""
    home = synced_home
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "labdeck.cli", "--home", str(home), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=child_env(),
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:  # never leave a CLI (or its demo) behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()


_RUNS: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}


@pytest.fixture(scope="session")
def demo_run() -> Callable[..., tuple[Any, dict[str, Any]]]:
    """Run a demo in-process once per (id, overrides) for the whole session."""
    from labdeck.demos.run import run_inprocess

    def run(demo_id: str, preset: str | None = "quick", **overrides: Any):
        key = (demo_id, json.dumps([preset, overrides], sort_keys=True))
        if key not in _RUNS:
            _RUNS[key] = run_inprocess(demo_id, overrides, preset=preset, device="cpu", seed=0)
        return _RUNS[key]

    return run
