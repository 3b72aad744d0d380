"""The command palette has every action a key has on the screen it is opened over (QA:
"review" found nothing, and undo or suspend were not there, though the README says every
action). Real app and store; the palette is typed into as a learner would."""

from __future__ import annotations

from textual.command import CommandPalette
from tuihelpers import card_state, settle, wait_for

from labdeck.tui.screens.browse import BrowseScreen


async def _palette(pilot, words: str) -> list[str]:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*words)
    await settle(pilot)
    from textual.command import CommandList

    options = pilot.app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_review_is_found_by_its_name(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        found = await _palette(pilot, "review")
        assert any("Review" in line for line in found), found


async def test_a_screens_keys_are_commands_and_run_there(make_app, services) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BrowseScreen))
        browse = app.screen
        await wait_for(pilot, lambda: bool(browse.shown))
        await settle(pilot)
        card = browse.shown[0]
        titles = [command.title for command in app.get_system_commands(browse)]
        assert {"Suspend", "Undo", "Edit"} <= set(titles), titles
        found = await _palette(pilot, "suspend")
        assert any("Suspend" in line for line in found), found
        await pilot.press("enter")
        await wait_for(pilot, lambda: card_state(services.store, card.id)["suspended"])


async def test_the_answer_boxs_editing_keys_are_not_palette_commands(make_app) -> None:
    """With the answer box focused the palette listed TextArea's "Copy", "Cursor down
    select" and a text "Undo" among the screen's commands (QA)."""
    from labdeck.tui.screens.review import ReviewScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        review = app.screen
        await wait_for(pilot, lambda: review.phase == "answering")
        from textual.widgets import TextArea

        assert isinstance(app.focused, TextArea)
        titles = {command.title for command in app.get_system_commands(review)}
        assert not titles & {"Copy", "Cut", "Paste", "Cursor down select", "Select all"}, titles
        assert "Grade answer" in titles, titles  # the screen's own keys stay
