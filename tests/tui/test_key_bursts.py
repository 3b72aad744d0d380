"""A key typed in the same burst as the one that opens a screen reaches the new screen: in tmux
`b` `q` left Browse open (the `q` came while the screen was being mounted, went to the screen,
and by the time it was looked up the search box had the focus from Textual's auto-focus, so the
table's binding was not in the chain and nothing took it). Real app and store."""

from __future__ import annotations

import pytest
from textual import events
from tuihelpers import wait_for

from labdeck.tui.screens.home import HomeScreen

OPENERS = [
    ("b", "b", "q"),
    ("b", "b", "escape"),
    ("t", "t", "q"),
    ("d", "d", "q"),
    ("question_mark", "?", "q"),
    ("i", "i", "escape"),
]


@pytest.mark.parametrize(("key", "character", "back"), OPENERS)
async def test_a_key_in_the_same_burst_as_the_opener_reaches_the_new_screen(
    make_app, key, character, back
):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        pushed = []
        push = app.push_screen

        def recording(screen, *args, **kwargs):
            pushed.append(screen)
            return push(screen, *args, **kwargs)

        app.push_screen = recording  # type: ignore[method-assign]
        # both keys posted before either is handled, as a terminal delivers a burst
        app.post_message(events.Key(key, character))
        app.post_message(events.Key(back, "q" if back == "q" else None))
        await wait_for(pilot, lambda: bool(pushed) and pushed[0].is_mounted)
        await wait_for(pilot, lambda: app.screen is home, timeout=30)
        assert len(app.screen_stack) == 1


async def test_a_search_typed_in_the_same_burst_as_b_lands_in_the_search_box(make_app):
    """`b` `/` then a query in one burst (tmux): the letters were lost, or acted on the table
    (`s` suspended a card), where they belong in the search box."""
    from textual.widgets import Input

    from labdeck.tui.screens.browse import BrowseScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: "store" in home.counts_sources)
        for key, char in [("b", "b"), ("slash", "/"), ("s", "s"), ("x", "x"), ("m", "m")]:
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: isinstance(app.screen, BrowseScreen))
        browse = app.screen
        box = browse.query_one("#browse-search", Input)
        await wait_for(pilot, lambda: box.value == "sxm", timeout=30)
        assert browse.focused is box
        from sqlalchemy import text

        with app.services.store.engine.connect() as conn:
            suspended = conn.execute(text("SELECT count(*) FROM card_state WHERE suspended = 1"))
            assert suspended.scalar() == 0  # the `s` typed, not a suspension
