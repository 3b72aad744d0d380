"""How a demo run's end looks (QA at 80x24): the progress bar stops animating however the run
ends, and a finished run shows its "What to notice" heading with its first lines.

Real app, real SQLite store, a real vae run in a child process.
"""

from __future__ import annotations

from textual.widgets import ProgressBar, Static
from textual.widgets._progress_bar import Bar
from tuihelpers import screen_text, settle, wait_for

from labdeck.tui.screens.demos import NOTICE_SEEN, DemosScreen


async def _open_demos(app, pilot, demo_id: str) -> DemosScreen:
    await settle(pilot)
    app.action_demos(demo_id)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, DemosScreen) and screen.demo_id == demo_id
    return screen


def _assert_bar_still(screen: DemosScreen) -> None:
    """The bar is hidden or shows a share, and its animation timer is off either way."""
    bar = screen.query_one("#demo-progress", ProgressBar)
    assert not (bar.display and bar.total is None), "an indeterminate bar is still shown"
    assert bar.query_one(Bar).auto_refresh is None, "the bar still animates"


async def test_the_progress_bar_stops_when_a_run_is_cancelled(make_app, services) -> None:
    """vae, ctrl+s, esc: "cancelled: stopped after 2.2 s" above a bar still sweeping `--%`."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_demos(app, pilot, "vae")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.run_count == 1 and screen.child_pid is not None)
        if screen.running:  # at once, as in test_tui_screens: a late key could leave the screen
            await app.run_action("cancel_or_back", screen)
        await wait_for(pilot, lambda: not screen.running, timeout=60)
        await settle(pilot)
        status = str(screen.query_one("#demo-status", Static).render())
        assert status.startswith(("cancelled", "ok")), status  # ok only if it beat the cancel
        _assert_bar_still(screen)


async def test_a_finished_run_shows_what_to_notice_at_80x24(make_app, services) -> None:
    """The results pane ended with the "What to notice" heading on its last line, its text
    hidden below; now its heading and first lines are in the pane, and the bar is full."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_demos(app, pilot, "vae")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.run_count == 1 and not screen.running, timeout=120)
        await settle(pilot)
        await pilot.pause(0.2)
        status = str(screen.query_one("#demo-status", Static).render())
        assert status.startswith("ok"), status
        main = screen.query_one("#demo-main").scrollable_content_region
        notice = screen.query_one("#demo-notice", Static)
        seen = notice.region.intersection(main)
        assert seen.y == notice.region.y, "the notice's heading is not in the pane"
        assert seen.height >= NOTICE_SEEN, (seen, main)
        first_line = str(notice.render()).splitlines()[1][:30]
        assert first_line in screen_text(app)
        _assert_bar_still(screen)
        bar = screen.query_one("#demo-progress", ProgressBar)
        assert bar.display and bar.percentage == 1
