"""Start-up time of the TUI: process start to the home screen, median of 5 fresh processes.

Each run is a new ``python`` process that imports the app, opens the store (a prepared home, so
no first-run migration or content load is measured), runs the app headless at 120x36 and
records, relative to the moment the parent spawned it:

* ``mounted``     the HomeScreen is mounted (the first frame can be drawn);
* ``interactive`` the home screen's counts are on screen (its refresh worker finished);
* whether torch / sentence-transformers were imported by then (they must not be).

The floor is a hello-world Textual app timed the same way (its one Static stands for the
counts), run alternately with labdeck so both see the same machine load. It asserts nothing;
it prints the figures and the ratios (goals: first frame ≤ 1.5×, counts ≤ 2× the floor).

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import asyncio, json, sys, time
t_import = time.time()
from labdeck.tui.app import LabdeckApp
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services

async def main():
    t_open = time.time()
    services = Services.open(None)
    app = LabdeckApp(services)
    marks = {"imported": t_open, "opened": time.time()}
    async with app.run_test(size=(120, 36)) as pilot:
        while not (isinstance(app.screen, HomeScreen) and app.screen.is_mounted):
            await asyncio.sleep(0.002)
        marks["mounted"] = time.time()
        marks["torch_at_mount"] = "torch" in sys.modules
        today = app.screen.query_one("#today")
        while not str(today.render()).strip():
            await asyncio.sleep(0.02)  # coarse polling: a busy loop would starve the worker
        marks["interactive"] = time.time()
        marks["heavy_at_interactive"] = sorted(
            m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules
        )
    print("BENCH " + json.dumps(marks))

asyncio.run(main())
"""


HELLO = r"""
import asyncio, json, sys, time
t_import = time.time()
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello, world", id="today")

async def main():
    app = Hello()
    marks = {"imported": t_import, "opened": time.time()}
    async with app.run_test(size=(120, 36)) as pilot:
        while not app.screen.is_mounted:
            await asyncio.sleep(0.002)
        marks["mounted"] = time.time()
        marks["torch_at_mount"] = False
        today = app.screen.query_one("#today")
        while not str(today.render()).strip():
            await asyncio.sleep(0.02)
        marks["interactive"] = time.time()
        marks["heavy_at_interactive"] = []
    print("BENCH " + json.dumps(marks))

asyncio.run(main())
"""


def prepare(home: str) -> None:
    """First run: migrate and load the shipped deck, so the timed runs see a warm home."""
    env = dict(os.environ, LABDECK_HOME=home)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from labdeck.tui.services import Services; Services.open(None).store.close()",
        ],
        env=env,
        check=True,
    )


def one_run(home: str, child: str = CHILD) -> dict:
    env = dict(os.environ, LABDECK_HOME=home)
    env.pop("LABDECK_NOW", None)
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"benchmark child failed:\n{out.stdout}\n{out.stderr}")
    marks = json.loads(line[6:])
    return {
        "imported": marks["imported"] - start,
        "store_open": marks["opened"] - marks["imported"],
        "mounted": marks["mounted"] - start,
        "interactive": marks["interactive"] - start,
        "torch_at_mount": marks["torch_at_mount"],
        "heavy_at_interactive": marks["heavy_at_interactive"],
    }


def measure(home: str, runs: int) -> tuple[list[dict], list[dict]]:
    """(labdeck runs, hello-world runs), alternated; ``home`` must be prepared."""
    one_run(home, HELLO)  # warm the file cache for both
    one_run(home)
    app, hello = [], []
    for _ in range(runs):
        app.append(one_run(home))
        hello.append(one_run(home, HELLO))
    return app, hello


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-") as home:
        prepare(home)
        runs, hello = measure(home, args.runs)
    print(f"labdeck start-up, {args.runs} runs (seconds from process spawn):")
    for key in ("imported", "store_open", "mounted", "interactive"):
        values = [r[key] for r in runs]
        print(
            f"  {key:<12} median {statistics.median(values):.3f}  "
            f"min {min(values):.3f}  max {max(values):.3f}"
        )
    heavy = sorted({m for r in runs for m in r["heavy_at_interactive"]})
    print(
        f"  torch imported before the home screen mounted: {any(r['torch_at_mount'] for r in runs)}"
    )
    print(f"  heavy modules loaded by the time it was interactive: {heavy or 'none'}")
    for key, goal in (("mounted", 1.5), ("interactive", 2.0)):
        app, floor = median(runs, key), median(hello, key)
        print(
            f"  {key:<12} {app:.3f} s vs hello-world Textual {floor:.3f} s: "
            f"{app / floor:.2f}×  (goal ≤ {goal}×)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
