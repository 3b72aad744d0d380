"""A correction typed fast reaches the text as typed: backspace (or an arrow, end…) and the
letters after it in one read of the terminal (QA in tmux: "softmaz", then backspace and "x" in
one burst, left "softmaz" in the review and exam answer boxes; "End, backspace, backspace, 2, 5"
in a settings field changed nothing, or once saved 2). Real app, store and screens."""

from __future__ import annotations

from textual.widgets import Input, TextArea
from tuihelpers import burst, settle, wait_for

from labdeck.tui.screens.review import ReviewScreen
from labdeck.tui.screens.settings import SettingsScreen


async def test_backspace_and_a_letter_in_one_burst_in_the_review_answer(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        review = app.screen
        await wait_for(pilot, lambda: review.phase == "answering")
        box = review.query_one("#answer", TextArea)
        await pilot.press(*"softmaz")
        burst(app, "backspace", "x", "left", "left", "backspace", "t")
        await settle(pilot)
        assert box.text == "softtax"


async def test_end_backspaces_and_digits_in_one_burst_in_a_settings_field(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("comma")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await settle(pilot)
        field = app.screen.query_one("#set-new_per_day", Input)
        assert app.focused is field
        before = field.value
        burst(app, "home", "end", *["backspace"] * len(before), "2", "5")
        await settle(pilot)
        assert field.value == "25"


async def test_esc_from_settings_with_an_unsaved_change_asks_first(make_app, services) -> None:
    """QA: New cards per day changed to 408, then esc: the edit was dropped without a word."""
    from labdeck.tui.screens.confirm import ConfirmScreen
    from labdeck.tui.screens.home import HomeScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("comma")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await settle(pilot)
        await pilot.press("escape")  # nothing changed: straight back
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("comma")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await settle(pilot)
        field = app.screen.query_one("#set-new_per_day", Input)
        field.value = "408"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # stay, the edit still there
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert field.value == "408"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert services.settings.new_per_day != 408
