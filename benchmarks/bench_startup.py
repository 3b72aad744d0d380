"""Start-up time of the TUI: process start to the home screen, median of 5 fresh processes.

Each run is a new ``python`` process that imports the app, opens the store (a prepared home, so
no first-run migration or content load is measured), runs the app headless at 120x36 and
records, relative to the moment the parent spawned it:

* ``mounted``     the HomeScreen is mounted (the first frame can be drawn);
* ``interactive`` the home screen's counts are on screen (its refresh worker finished);
* whether torch / sentence-transformers were imported by then (they must not be).

It asserts nothing; it prints the figures. Target: interactive <= 0.6 s.

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


def prepare(home: str) -> None:
    """First run: migrate and load the shipped deck, so the timed runs see a warm home."""
    env = dict(os.environ, LABDECK_HOME=home)
    subprocess.run(
        [sys.executable, "-c", "from labdeck.tui.services import Services; Services.open(None)"],
        env=env,
        check=True,
    )


def one_run(home: str) -> dict:
    env = dict(os.environ, LABDECK_HOME=home)
    env.pop("LABDECK_NOW", None)
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labdeck-bench-") as home:
        prepare(home)
        runs = [one_run(home) for _ in range(args.runs)]
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
    print("  target: interactive <= 0.600 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
