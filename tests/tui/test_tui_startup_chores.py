"""Start-up chores run once, at the app's first idle moment after the counts are shown (they
import SQLModel, which must not compete with a screen being drawn): a demo run that a killed
labdeck left ``running`` is marked interrupted."""

from __future__ import annotations

from sqlmodel import select
from tuihelpers import settle, wait_for

import labdeck.tui.app as app_module
from labdeck.demos import history
from labdeck.store.models import DemoRun
from labdeck.tui.screens.home import HomeScreen


def statuses(store) -> list[str]:
    with store.session() as s:
        return list(s.exec(select(DemoRun.status).order_by(DemoRun.id)).all())


async def test_home_marks_stale_demo_runs_once(make_app, services, monkeypatch) -> None:
    history.record_start(services.store, "attention", {}, pid=None)
    assert statuses(services.store) == ["running"]
    monkeypatch.setattr(app_module, "IDLE_S", 3600.0)  # keys keep coming: not idle
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert str(app.screen.query_one("#today").render()).strip()
        assert statuses(services.store) == ["running"]  # the counts came first, then…
        monkeypatch.setattr(app_module, "IDLE_S", 0.0)  # …an idle moment
        await wait_for(pilot, lambda: statuses(services.store) == ["interrupted"])
        await settle(pilot)
        # a run started after start-up is not the chore's business, even when home refreshes
        history.record_start(services.store, "attention", {}, pid=None)
        app.screen.refresh_data()
        await settle(pilot)
        assert statuses(services.store) == ["interrupted", "running"]
