"""Review's key line says what the keys do where the focus is: after Esc has left the answer box
it no longer offers the box's keys ("space (empty box) reveal · esc leave box", as it did) but
the letters that now act, and it fits the one-line bar at 80 columns. Real app and store."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static
from tuihelpers import settle, wait_for

from labdeck.tui.screens.review import ReviewScreen


def key_line(screen: ReviewScreen) -> str:
    return str(screen.query_one("#review-keys", Static).render())


async def test_the_key_line_follows_the_focus_out_of_the_box_and_back(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        assert "esc leave box" in key_line(screen)

        await pilot.press("escape")  # out of the box: still answering
        await pilot.pause()
        assert screen.phase == "answering" and not screen._typing()
        line = key_line(screen)
        assert "leave box" not in line and "(empty box)" not in line, line
        assert line.startswith("w write · ctrl+s grade · space reveal"), line
        assert line.endswith("esc back"), line
        width = screen.query_one("#review-keys", Static).content_region.width
        assert cell_len(line) <= width, (line, width)

        await pilot.press("w")  # back into the box
        await pilot.pause()
        assert screen._typing()
        assert "esc leave box" in key_line(screen)


async def test_a_revealed_card_offers_no_enter_in_the_footer(make_app) -> None:
    """QA: after space (reveal) the footer showed "⏎ Accept / record", and enter only said
    "Pick a quality 0–5": there is nothing to accept until a quality is picked."""
    from textual.widgets._footer import FooterKey

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.phase == "answering")
        await pilot.press("escape", "space")
        await wait_for(pilot, lambda: screen.phase == "rating")
        await settle(pilot)
        shown = [k.description for k in screen.query(FooterKey) if k.display]
        assert "Accept / record" not in shown, shown
        assert "enter" not in app.active_bindings or not app.active_bindings["enter"].enabled
