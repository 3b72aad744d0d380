"""Start-up chores run from the home screen's worker, once, after the counts are shown: a demo
run that a killed labdeck left ``running`` is marked interrupted (no thread of its own)."""

from __future__ import annotations

from sqlmodel import select
from tuihelpers import settle

from labdeck.demos import history
from labdeck.store.models import DemoRun
from labdeck.tui.screens.home import HomeScreen


def statuses(store) -> list[str]:
    with store.session() as s:
        return list(s.exec(select(DemoRun.status).order_by(DemoRun.id)).all())


async def test_home_marks_stale_demo_runs_once(make_app, services) -> None:
    history.record_start(services.store, "attention", {}, pid=None)
    assert statuses(services.store) == ["running"]
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert str(app.screen.query_one("#today").render()).strip()
        assert statuses(services.store) == ["interrupted"]
        # a run started after start-up is not the chore's business, even when home refreshes
        history.record_start(services.store, "attention", {}, pid=None)
        app.screen.refresh_data()
        await settle(pilot)
        assert statuses(services.store) == ["interrupted", "running"]
