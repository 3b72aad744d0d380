"""A learner's first start of a study day: the last session's snapshot is for yesterday (not
shown), so the first counts must come from the store — and they are drawn before SQLAlchemy is
imported (read through ``Workspace.peek``, the same statements as the open store's), the store
opening after. In a fresh process: this test's own process imported SQLAlchemy long ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from labdeck.config import Settings
from labdeck.tui import home_view
from labdeck.workspace import Workspace

SRC = Path(__file__).resolve().parents[2] / "src"
TODAY = "2026-11-22T09:00+00:00"

CHILD = r"""
import asyncio, json, sys
from labdeck.tui.app import LabdeckApp, close_services
from labdeck.tui.screens.home import HomeScreen
from labdeck.tui.services import Services

shown = []  # each showing of counts: where from, and what was imported by then
_show_view = HomeScreen._show_view

def spy(self, view):
    _show_view(self, view)
    shown.append({
        "sources": list(self.counts_sources), "reads": list(getattr(self, "store_reads", ["?"])),
        "total": list(view.total), "day": view.day.isoformat(),
        "sqlalchemy": "sqlalchemy" in sys.modules,
        "label": str(self.query_one("#decks").root.label),
    })
    def drawn():  # the frame that shows these counts was drawn: what is imported now?
        shown[-1]["sqlalchemy_when_drawn"] = "sqlalchemy" in sys.modules
    self.call_after_refresh(drawn)

HomeScreen._show_view = spy

async def main():
    services = Services.open(None)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        for _ in range(600):
            await pilot.pause(0.02)
            if len(home.counts_sources) >= 2 and services.workspace.store_opened \
                    and not [w for w in app.workers if not w.is_finished]:
                break
        await pilot.pause()
        opened = home_view.read(services.scheduler())
    close_services(services)
    print("RESULT " + json.dumps({"shown": shown, "opened": list(opened.total),
                                  "opened_day": opened.day.isoformat()}))

from labdeck.tui import home_view
asyncio.run(main())
"""


def _run_child(home: Path, now: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "LABDECK_HOME": str(home),
        "LABDECK_NOW": now,
        "TZ": "UTC",
    }
    env.pop("LABDECK_NO_CONTENT", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=180
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert out.returncode == 0 and line is not None, out.stdout[-3000:] + out.stderr[-3000:]
    result: dict = json.loads(line[len("RESULT ") :])
    return result


def test_first_start_of_a_day_draws_the_stores_counts_before_sqlalchemy(
    synced_home: Path, monkeypatch
) -> None:
    monkeypatch.delenv("LABDECK_NO_CONTENT", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    # yesterday's session: some answers, then the snapshot its close wrote
    workspace = Workspace(synced_home, settings=Settings(), now=lambda: _at(TODAY, -1))
    scheduler = workspace.scheduler()
    for entry in scheduler.queue()[:6]:
        scheduler.answer(entry.key, 1)  # failed: due again today
    yesterday = home_view.read(scheduler)
    workspace.close()
    home_view.save(synced_home, yesterday, Settings())

    result = _run_child(synced_home, TODAY)
    first = result["shown"][0]
    assert first["sources"] == ["store"], result  # not yesterday's snapshot
    assert first["day"] == TODAY[:10] != yesterday.day.isoformat()
    assert first["total"] == result["opened"]  # the open store's counts for today, exactly
    assert first["total"] != list(yesterday.total)
    assert not first["sqlalchemy"] and not first["sqlalchemy_when_drawn"], result
    assert first["reads"] == ["direct"]  # read before the store was opened
    new, learn, due = first["total"]
    assert f"{new:>3} {learn:>3} {due:>3}" in first["label"]  # on screen, in the tree
    assert all(s["reads"][-1] == "direct" for s in result["shown"])  # read once, not twice


def _at(iso: str, days: int):
    from datetime import datetime

    return datetime.fromisoformat(iso) + timedelta(days=days)
