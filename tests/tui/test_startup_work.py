"""What a fresh `labdeck` process does before Home's first frame (a real process on a real
home: the work measured by ``benchmarks/bench_startup.py``).

* the objects the imports made are frozen for the garbage collector when the app is built
  (``app.freeze_imports``): the first full collection, due a moment after the first frame,
  scanned all of them (36 ms of CPU at a load of 3) before a new day's counts could be read;
* nothing is imported for a job the first frame does not have: ``tomllib`` without a settings
  file to read, Rich's emoji table (a ``str`` label is read as Rich markup by ``Tree``);
  ``textfmt.CJK_RE`` is compiled on first use (~1-3 ms), not as ``textfmt`` is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

CHILD = r"""
import asyncio, gc, json, sys
from labdeck.tui.app import LabdeckApp
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services

first = {}
_display = LabdeckApp._display

def hooked(self, screen, renderable):
    _display(self, screen, renderable)
    if renderable is None or self._batch_count or first:
        return
    first.update(
        home=isinstance(self.screen, HomeScreen),
        frozen=gc.get_freeze_count(),
        imported=sorted(m for m in ("tomllib", "rich._emoji_codes") if m in sys.modules),
        cjk_compiled="CJK_RE" in vars(sys.modules["labdeck.textfmt"]),
        label=str(self.screen.query_one("#decks").root.label),
    )

LabdeckApp._display = hooked

async def main():
    app = LabdeckApp(Services.open(None), load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(600):
            if "store" in app.screen.counts_sources:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
    app.services.close()
    print("RESULT " + json.dumps(first))

asyncio.run(main())
"""


def _first_frame(home: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC), "LABDECK_HOME": str(home), "TZ": "UTC"}
    env.pop("LABDECK_NO_CONTENT", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=180
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert out.returncode == 0 and line is not None, out.stdout[-3000:] + out.stderr[-3000:]
    result: dict = json.loads(line[len("RESULT ") :])
    return result


def test_the_first_frame_finds_the_imports_frozen_and_nothing_extra_imported(
    synced_home: Path, monkeypatch
) -> None:
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    first = _first_frame(synced_home)
    assert first["home"], first
    assert first["frozen"] > 10_000, first  # the modules' objects (~100k), not a handful
    assert first["imported"] == [], first
    assert not first["cjk_compiled"], first
    assert "Opening your decks" in first["label"]  # a day's first start, no snapshot


def test_a_settings_file_is_still_read(synced_home: Path, monkeypatch) -> None:
    """``tomllib`` is imported when there is a file to read (``config.load_settings``)."""
    from labdeck.config import config_path, load_settings

    monkeypatch.setenv("LABDECK_HOME", str(synced_home))
    config_path(synced_home).write_text("new_per_day = 7\n", encoding="utf-8")
    assert load_settings(synced_home).new_per_day == 7
