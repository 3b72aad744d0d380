"""Browse draws its first rows at once and adds the rest of the page in batches (issue 15.13):
the batches end up in the table in order, a newer search's rows replace an older fill's for
good, and marks made before a row was added show on it. Real app and store (the shipped deck:
970 cards, so the first page is several batches long); the batches are made slower so that
the fill is still under way while the test acts (the Pilot waits for the app to be idle after
each key, which batches a few ms apart never let it be)."""

from __future__ import annotations

from textual.widgets import DataTable
from tuihelpers import settle, wait_for

import labdeck.tui.screens.browse as browse
from labdeck.store.browse_query import parse
from labdeck.tui.screens.browse import BrowseScreen, Search, find_rows, fit

SIZE = (120, 36)


async def _open(pilot) -> BrowseScreen:
    await settle(pilot)
    await pilot.press("b")
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: bool(screen.shown))
    return screen


def _slow_batches(monkeypatch) -> None:
    monkeypatch.setattr(browse, "MORE_ROWS", 300)
    monkeypatch.setattr(browse, "FILL_GAP_S", 0.3)


def _keys(table: DataTable) -> list[int]:
    return [int(str(key.value)) for key in table.rows]


async def test_the_first_rows_at_once_then_the_rest_in_order(make_app, monkeypatch):
    _slow_batches(monkeypatch)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#browse-table", DataTable)
        assert len(screen.shown) > browse.FIRST_ROWS + 300  # the deck is many batches long
        assert browse.FIRST_ROWS <= table.row_count < len(screen.shown)
        await wait_for(pilot, screen.rows_filled)
        assert _keys(table) == [r.id for r in screen.shown]


async def test_a_newer_search_stops_the_older_fill(make_app, monkeypatch):
    _slow_batches(monkeypatch)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#browse-table", DataTable)
        assert not screen.rows_filled()  # the whole deck's rows are still being added
        await pilot.press("slash", *"softmax")
        wanted = [r.id for r in find_rows(screen.services.store, Search(parse("softmax")),
                                          screen.today).rows]  # fmt: skip
        await wait_for(pilot, lambda: [r.id for r in screen.shown] == wanted)
        await wait_for(pilot, screen.rows_filled)
        await pilot.pause(0.3)  # the old fill's next batches would have landed by now
        assert _keys(table) == wanted


async def test_marks_made_before_a_row_was_added_show_on_it(make_app, monkeypatch):
    monkeypatch.setattr(browse, "MORE_ROWS", 2000)  # the rest in one batch…
    monkeypatch.setattr(browse, "FILL_GAP_S", 2.0)  # …well after the marks are made
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#browse-table", DataTable)
        await pilot.press("ctrl+a")  # every match, while most rows are still to come
        await wait_for(pilot, lambda: len(screen.marked) == len(screen.shown))
        assert not screen.rows_filled()
        await wait_for(pilot, screen.rows_filled)
        last = str(screen.shown[-1].id)
        assert str(table.get_cell(last, "mark")) == "●"
        assert all(str(table.get_cell(str(r.id), "mark")) == "●" for r in screen.shown)


def test_fit_cuts_at_the_cell_width_cjk_counting_double():
    assert fit("short", 10) == "short"
    assert fit("a  b\nc", 10) == "a b c"
    assert fit("abcdefghijkl", 6) == "abcde…"
    assert fit("词向量与注意力机制", 7) == "词向量…"  # 3 × 2 cells + the ellipsis
    assert fit("ab词向量", 5) == "ab词…"
