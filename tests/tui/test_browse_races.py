"""Browse search is race-free and takes the keys typed right after ``/`` (issue 15.8).

Real app and store. The one thing controlled here is *when* a search worker's thread finishes:
``find_rows`` is wrapped so the search for "softmax" waits until the newer search's result is
on screen, which is the order fast typing produces on a busy machine.
"""

from __future__ import annotations

import threading

from sqlalchemy import text
from textual import events
from textual.widgets import DataTable, Input
from tuihelpers import settle, wait_for

import labdeck.tui.screens.browse as browse
from labdeck.store.browse_query import parse
from labdeck.tui.screens.browse import BrowseScreen, Search

SIZE = (120, 36)


def burst(pilot, *keys: str) -> None:
    """Queue every key on the app at once (one read of fast input): none is handled before the
    test next awaits."""
    for key in keys:
        char = {"slash": "/"}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        pilot.app.post_message(event)


def _suspended(store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM card_state WHERE suspended")).scalar())


def _detail_key(screen: BrowseScreen) -> str | None:
    return None if screen.detail is None else screen.detail.row.key


async def _open_browse(pilot) -> BrowseScreen:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: bool(screen.shown))
    return screen


async def test_letters_typed_right_after_slash_go_to_the_search_box(make_app, services):
    app = make_app()
    before = _suspended(services.store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_browse(pilot)
        assert screen.focused is screen.query_one("#browse-table", DataTable)
        burst(pilot, "slash", "s", "o", "f", "t")
        await settle(pilot)
        assert screen.query_one("#browse-search", Input).value == "soft"
        assert _suspended(services.store) == before  # `s` did not suspend the highlighted card
        burst(pilot, "slash", "x")  # in the box, "/" is a character
        await settle(pilot)
        assert screen.query_one("#browse-search", Input).value == "soft/x"


async def test_a_late_search_result_never_replaces_a_newer_one(make_app, monkeypatch):
    real = browse.find_rows
    release = threading.Event()
    held: list[str] = []

    def find_rows(store, search, today, total=None):
        out = real(store, search, today, total)
        if search.node == parse("softmax"):  # this search's thread finishes last
            held.append("softmax")
            release.wait(timeout=30)
        return out

    monkeypatch.setattr(browse, "find_rows", find_rows)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_browse(pilot)
        await pilot.press("slash", *"softmax")
        await wait_for(pilot, lambda: held == ["softmax"])
        await pilot.press(*" deck:exam-c")
        newer = Search(parse("softmax deck:exam-c"))
        wanted = [r.id for r in real(screen.services.store, newer, screen.today).rows]
        assert wanted
        await wait_for(pilot, lambda: [r.id for r in screen.shown] == wanted)
        await wait_for(pilot, lambda: _detail_key(screen) == screen.shown[0].key)
        release.set()  # the stale "softmax" result lands now
        await settle(pilot)
        assert [r.id for r in screen.shown] == wanted
        table = screen.query_one("#browse-table", DataTable)
        assert table.row_count == len(wanted)
        highlighted = screen.shown[table.cursor_row]
        assert _detail_key(screen) == highlighted.key


async def test_a_late_detail_never_replaces_the_highlighted_card(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_browse(pilot)
        first, second = screen.shown[0], screen.shown[1]
        await pilot.press("down")  # the second card's detail starts loading…
        await settle(pilot)
        await pilot.press("up")  # …and the first is highlighted again
        await settle(pilot)
        assert _detail_key(screen) == first.key
        # the second card's worker, finishing late, hands its result to the screen
        late = browse.Pane(screen._fill_generation, second.id)  # what it was asked for
        screen._show_detail(*browse.read_detail(screen.services, second, screen.today), late)
        await settle(pilot)
        assert _detail_key(screen) == first.key
        assert first.key in screen.query_one("#browse-card").source


async def test_a_query_typed_after_slash_and_ctrl_u_in_one_burst_is_kept(make_app, services):
    """QA (tmux, 3 of 3): `/`, ctrl+u and `chapter:B2 type:tf` sent at once left the box empty
    and the list unfiltered, and the ctrl+a `s` that followed suspended every card."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_browse(pilot)
        box = screen.query_one("#browse-search", Input)
        burst(pilot, "slash", "x", "y")
        await settle(pilot)
        assert box.value == "xy"
        await pilot.press("escape")  # back in the table, the search kept
        await settle(pilot)
        burst(pilot, "slash", "ctrl+u", *"deck:exam-b")
        await settle(pilot)
        assert box.value == "deck:exam-b"
