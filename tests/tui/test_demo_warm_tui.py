"""The Demos screen keeps a warm demo child (torch imported) for its next run: started when the
screen opens, used by the run, started again after it, reaped when the screen closes."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static
from tuihelpers import settle, wait_for

from labdeck.demos import runner
from labdeck.tui.screens.demos import DemosScreen
from labdeck.tui.screens.home import HomeScreen

SIZE = (120, 36)


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.slow  # a real run, and two warm children importing torch
async def test_the_demos_screen_runs_from_a_warm_child_and_reaps_it(make_app, services):
    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert runner._warm is None  # never at app start
            app.action_demos("attention")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DemosScreen)
            first = runner._warm
            assert first is not None
            await wait_for(pilot, lambda: first.pid is not None, timeout=30)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.run_count >= 1, timeout=30)
            await wait_for(pilot, lambda: not screen.running, timeout=120)
            await settle(pilot)
            status = str(screen.query_one("#demo-status", Static).render())
            assert status.startswith("ok"), status
            assert screen.child_pid == first.pid  # the run was the warm child
            second = runner._warm
            assert second is not None and second is not first  # ready for the next run
            await wait_for(pilot, lambda: second.pid is not None, timeout=30)
            pid = second.pid
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            assert runner._warm is None
            await wait_for(pilot, lambda: gone(pid), timeout=30)
    finally:
        runner.discard_warm()


@pytest.mark.slow  # a warm child importing torch
async def test_grading_a_card_with_a_demo_readies_a_warm_child(make_app, services):
    from labdeck.tui.screens.home import Scope
    from labdeck.tui.screens.review import ReviewScreen

    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.action_study(Scope("exam-b", "B2"))  # b2.1 first: it links `attention`
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            await wait_for(pilot, lambda: screen.phase == "answering")
            assert screen.card is not None and screen.card.demos == ["attention"]
            assert runner._warm is None  # showing the card alone starts nothing
            await pilot.press(*"attention weighs values")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
            # made ready once the rating frame is drawn (a worker): `r` would now run in a
            # child with torch imported. (Read at once, it could be a frame early under load.)
            await wait_for(pilot, lambda: runner._warm is not None, timeout=30)
            warm = runner._warm
            assert warm is not None
            await wait_for(pilot, lambda: warm.pid is not None, timeout=30)
    finally:
        runner.discard_warm()
