"""Enter runs the demo: on a parameter field and on the demo list (the handlers used to call
the async ``action_run`` without awaiting it, so the coroutine was dropped and nothing ran)."""

from __future__ import annotations

from textual.widgets import Input, OptionList
from tuihelpers import settle, wait_for

from labdeck.tui.screens.demos import DemosScreen

SIZE = (120, 36)


async def _run_then_cancel(pilot, screen: DemosScreen) -> None:
    await wait_for(pilot, lambda: screen.run_count >= 1, timeout=30)  # started (maybe done)
    if screen.running:  # cancel: the child is killed, the screen stays
        await pilot.press("escape")
    await wait_for(pilot, lambda: not screen.running, timeout=30)
    assert screen.run_count == 1


async def test_enter_in_a_parameter_field_runs_the_demo(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_demos("attention")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DemosScreen) and not screen.running
        screen.query_one("#param-d_model", Input).focus()
        await pilot.press("enter")
        await _run_then_cancel(pilot, screen)


async def test_enter_on_the_demo_list_runs_the_demo(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_demos("attention")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DemosScreen) and not screen.running
        demo_list = screen.query_one("#demo-list", OptionList)
        demo_list.focus()
        await settle(pilot)
        await pilot.press("enter")
        await _run_then_cancel(pilot, screen)
