"""Browse under load (issue 15.8 and 15.10, the tmux walkthrough's leftovers): every column
sorts both ways with its arrow in sight, the type column by the word it shows; a sort keeps the
rows (and the highlighted card) on screen until the sorted page is there; a search or detail
read that finishes late never shows; the pane names the highlighted card while its detail is
read; 80x24 shows more rows; enter opens the detail pane.

Real app, real store with the shipped deck. Where a test needs a read to finish late, it holds
that read *inside SQLite*: the statement's connection gets a progress handler that blocks its
thread mid-query (``SqliteHold``), as a busy machine does; nothing is mocked away."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from sqlalchemy import event
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey
from tuihelpers import burst, settle, wait_for

from labdeck.store.browse_query import parse
from labdeck.tui.screens.browse import (
    COLUMNS,
    SORTABLE,
    BrowseScreen,
    Search,
    find_rows,
)
from labdeck.tui.widgets.cardtext import CardText

SIZE = (120, 36)


class SqliteHold:
    """Hold the first statement ``matches(statement, params)`` picks inside SQLite until
    ``release()``: its connection's progress handler blocks the thread running it."""

    def __init__(self, engine: Any, matches: Callable[[str, Any], bool]) -> None:
        self.engine, self.matches = engine, matches
        self.armed = True
        self.held, self.go = threading.Event(), threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, _cursor, statement, params, _context, _many) -> None:
        if not (self.armed and self.matches(statement, params)):
            return
        self.armed = False

        def handler() -> int:
            self.held.set()
            self.go.wait(timeout=30)
            return 0  # go on

        conn.connection.dbapi_connection.set_progress_handler(handler, 1)

    def _after(self, conn, _cursor, _statement, _params, _context, _many) -> None:
        conn.connection.dbapi_connection.set_progress_handler(None, 0)

    def release(self) -> None:
        self.go.set()

    def close(self) -> None:
        self.go.set()
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


async def _open(pilot) -> BrowseScreen:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: bool(screen.shown) and screen.detail is not None)
    return screen


async def _search(pilot, screen: BrowseScreen, query: str) -> None:
    await pilot.press("slash")
    screen.query_one("#browse-search", Input).value = query
    await settle(pilot)
    await pilot.press("enter")  # back to the table
    await settle(pilot)


def _header(screen: BrowseScreen) -> dict[str, str]:
    table = screen.query_one("#browse-table", DataTable)
    return {str(k.value): str(c.label) for k, c in table.columns.items()}


def _cell(screen: BrowseScreen, column: str, row: Any) -> str:
    assert screen.today is not None
    index = [key for key, _, _ in COLUMNS].index(column)
    cell = screen._cells(row, screen.today)[index]
    return cell.plain if isinstance(cell, Text) else str(cell)


def _highlighted(screen: BrowseScreen) -> int | None:
    row = screen._current()
    return None if row is None else row.id


def _pane(screen: BrowseScreen) -> str:
    return screen.query_one("#browse-card", CardText).source


async def test_every_column_sorts_both_ways_with_its_arrow_in_sight(make_app):
    """QA: no arrow on type and ivl (cut by the column's width); type sorted by its kind
    (choice, cloze, essay, truefalse) where the column says choice, cloze, essay, tf."""
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _search(pilot, screen, "deck:exam-c")
        table = screen.query_one("#browse-table", DataTable)
        for column in SORTABLE:
            for descending in (False, True):
                screen._sort_by(column, descending)
                await settle(pilot)
                label = _header(screen)[column]
                assert label.endswith("▼" if descending else "▲"), (column, label)
                width = table.columns[ColumnKey(column)].width
                assert width >= cell_len(label), (column, label, width)  # the arrow is seen
                assert table.row_count and screen.shown
        # the type column in the order of its words: choice < cloze < essay < tf
        for descending in (False, True):
            screen._sort_by("type", descending)
            await settle(pilot)
            words = [_cell(screen, "type", r).rstrip("*") for r in screen.shown]
            assert len(set(words)) > 2
            assert words == sorted(words, reverse=descending), descending
        # cards never answered ("—") after the answered ones, as due does
        scheduler = screen.services.scheduler()
        answered = screen.shown[5]
        scheduler.answer(answered.id, 5)
        for column in ("due", "ef", "ivl"):
            screen._sort_by(column, False)
            await settle(pilot)
            cells = [_cell(screen, column, r) for r in screen.shown]
            assert cells[0] != "—" and set(cells[1:]) == {"—"}, column


async def test_a_sort_keeps_the_rows_and_the_highlighted_card_until_the_sorted_page(make_app):
    """QA: the table was empty while a sort ran (the columns were rebuilt at once), and a
    second sort pressed meanwhile lost the highlighted card (there was no row to keep)."""
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _search(pilot, screen, "deck:exam-c")
        await pilot.press("down", "down", "down")
        await settle(pilot)
        card = _highlighted(screen)
        before = [r.id for r in screen.shown]
        table = screen.query_one("#browse-table", DataTable)
        hold = SqliteHold(
            screen.services.store.engine,
            lambda sql, _: "ORDER BY d.position, d.key, ch.position, d.position" in sql,
        )  # the "ch" sort's page
        try:
            await pilot.press("greater_than_sign")  # sort by ch: held in SQLite
            await wait_for(pilot, hold.held.is_set)
            await pilot.pause()
            assert table.row_count > 0 and [r.id for r in screen.shown] == before
            assert _highlighted(screen) == card
            assert "▲" not in "".join(_header(screen).values())  # the arrow with its rows
            await pilot.press("greater_than_sign")  # sort by type meanwhile
            await wait_for(pilot, lambda: screen._header == ("type", False))
            assert _highlighted(screen) == card  # the card the learner had highlighted
            hold.release()  # the "ch" page lands now, after the newer "type" page
            await settle(pilot)
            assert screen._header == ("type", False) and "type ▲" in _header(screen).values()
            words = [_cell(screen, "type", r).rstrip("*") for r in screen.shown]
            assert words == sorted(words)
            assert _highlighted(screen) == card
            assert screen.detail is not None and screen.detail.row.id == card
        finally:
            hold.close()


async def test_a_search_held_in_sqlite_never_replaces_the_newer_one(make_app):
    """Fast search edits on a loaded machine: "softmax" is still being read (held inside
    SQLite) when "softmax deck:exam-c" is typed and shown; the late page is dropped, and the
    table and the detail pane stay with the newer search."""
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        store = screen.services.store

        def softmax_only(_sql: str, params: Any) -> bool:
            values = params.values() if isinstance(params, dict) else params or ()
            return "%softmax%" in values

        hold = SqliteHold(store.engine, softmax_only)
        try:
            box = screen.query_one("#browse-search", Input)
            await pilot.press("slash")
            box.value = "softmax"
            await wait_for(pilot, hold.held.is_set)
            box.value = "softmax deck:exam-c"
            newer = Search(parse("softmax deck:exam-c"))
            wanted = [r.id for r in find_rows(store, newer, screen.today).rows]
            assert wanted
            await wait_for(pilot, lambda: [r.id for r in screen.shown] == wanted)
            await wait_for(pilot, lambda: screen.detail is not None)
            hold.release()  # the stale "softmax" page lands now
            await settle(pilot)
            assert [r.id for r in screen.shown] == wanted
            table = screen.query_one("#browse-table", DataTable)
            assert table.row_count == len(wanted)
            highlighted = screen.shown[table.cursor_row]
            assert screen.detail is not None and screen.detail.row.id == highlighted.id
            assert highlighted.key in _pane(screen)
        finally:
            hold.close()


async def test_the_pane_never_shows_another_card_while_the_highlighted_ones_is_read(make_app):
    """QA: the detail pane showed one card while another was highlighted. With the new card's
    read held in SQLite, the pane names the highlighted card at once (not the previous card's
    text), and the previous card's late read, or a read for an older table, never shows."""
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        first, second = screen.shown[0], screen.shown[1]
        assert first.key in _pane(screen)

        def history_of_second(sql: str, params: Any) -> bool:
            return "FROM review_log" in sql and second.id in tuple(params or ())

        hold = SqliteHold(screen.services.store.engine, history_of_second)
        try:
            await pilot.press("down")
            await wait_for(pilot, hold.held.is_set)
            await pilot.pause()
            assert _highlighted(screen) == second.id
            assert f"**{second.key}**" in _pane(screen)  # (a key starts with the other's)
            assert f"**{first.key}**" not in _pane(screen)
            assert screen.detail is None  # nothing of the first card to act on (d, e…)
            hold.release()
            await settle(pilot)
            assert screen.detail is not None and screen.detail.row.id == second.id
            assert "Prompt" in _pane(screen)
        finally:
            hold.close()


async def test_80x24_shows_more_rows_and_enter_opens_the_detail(make_app):
    """QA at 80x24: 9 card rows (the search box and menus 3 lines high, the pane 2/5 of the
    rest). Now one line of filters and a 5-line pane: 13 rows, the card's key and the start
    of its prompt below them; enter gives the pane most of the screen, esc gives it back."""
    async with make_app().run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#browse-table", DataTable)
        pane = screen.query_one("#browse-detail")
        assert screen.query_one("#browse-search", Input).region.height == 1
        assert table.region.height - 1 >= 13  # card rows under the header
        assert pane.region.height >= 5
        await pilot.press("down", "down", "enter")  # in one burst: enter after the arrows
        await settle(pilot)
        assert screen.focused is pane
        assert screen.detail is not None and screen.detail.row.id == screen.shown[2].id
        assert pane.region.height >= 12 and table.region.height >= 5
        assert pane.scroll_y == 0  # the arrows moved the cursor, not the pane
        await pilot.press("escape")
        await settle(pilot)
        assert screen.focused is table and table.region.height - 1 >= 13


@pytest.mark.parametrize("size", [SIZE, (100, 32)])
async def test_enter_opens_the_detail_pane_at_any_size(make_app, size):
    """The screen's enter binding never ran: the table's own enter (select) took the key.
    QA at 100x32: enter focused the pane but only its top line's colour changed, so it
    looked as if enter did nothing. The pane grows, and its top line says how in and out."""
    async with make_app().run_test(size=size) as pilot:
        screen = await _open(pilot)
        pane = screen.query_one("#browse-detail")
        before = pane.region.height
        assert "enter" in str(pane.border_title)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.focused is pane
        assert pane.region.height > before * 1.5, (before, pane.region.height)
        assert "esc" in str(pane.border_title)
        await pilot.press("escape")
        await settle(pilot)
        assert pane.region.height == before and "enter" in str(pane.border_title)


async def test_fast_edits_in_the_search_box_keep_their_order(make_app):
    """tmux: backspace and a letter in one read left the letter typed and the character
    before it kept ("abc" + backspace + "r" gave "abc"): the box's own keys (backspace, the
    arrows, home…) ran as bindings once the key had bubbled up to the app, after the letters
    queued behind them were already typed."""
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        box = screen.query_one("#browse-search", Input)
        burst(pilot.app, "slash", *"softmaz", "backspace", "x")
        await settle(pilot)
        assert box.value == "softmax"
        burst(pilot.app, "home", *"deck:exam-b ", "end", "backspace", "backspace", *"ax")
        await settle(pilot)
        assert box.value == "deck:exam-b softmax"
        assert [r.id for r in screen.shown] == [
            r.id
            for r in find_rows(screen.services.store, Search(parse(box.value)), screen.today).rows
        ]


async def test_every_cell_fits_its_column_at_80_columns_the_edited_mark_too(make_app):
    """tmux: an edited card's type read "essay", its "*" cut by the 5-cell column (only
    essays are edited, so the mark was never seen)."""
    async with make_app().run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        row = screen.shown[0]
        info = screen.services.scheduler().card(row.id)
        screen.services.scheduler().edit(row.id, info.prompt + " (mine)", info.answer, [])
        screen.apply_filters(row.id)
        await settle(pilot)
        table = screen.query_one("#browse-table", DataTable)
        edited = next(r for r in screen.shown if r.id == row.id)
        assert edited.edited and _cell(screen, "type", edited) == "essay*"
        for key, _, _ in COLUMNS:
            width = table.columns[ColumnKey(key)].width
            for shown in screen.shown[:50]:
                assert cell_len(_cell(screen, key, shown)) <= width, (key, shown.key)
