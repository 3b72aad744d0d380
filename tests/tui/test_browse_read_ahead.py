"""Browse's opening page is read while Home is idle (``browse.read_ahead``): the first frame of
Browse has the rows and the first card's detail. It is used only while the database file is
unchanged and the study day the same: after an answer, an edit, a write by another process
or a new day, Browse reads afresh and never shows the page as it was."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from rich.text import Text
from tuihelpers import NOW, settle, wait_for

import labdeck.tui.screens.browse as browse
from labdeck.tui.screens.browse import BrowseScreen, current_read_ahead
from labdeck.tui.widgets.cardtext import CardText

SIZE = (120, 36)
STATE = 4  # the state column (browse.COLUMNS)
PROMPT = 3


def record_browse_frames(app) -> list[dict]:
    """What each frame drawn of Browse showed: its rows, its first row's cells and detail."""
    frames: list[dict] = []
    display = app._display

    def hooked(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is None or app._batch_count or not isinstance(screen, BrowseScreen):
            return
        table = screen.query_one("#browse-table")
        cells = (
            [str(c.plain if isinstance(c, Text) else c) for c in table.get_row_at(0)]
            if (table.row_count)
            else []
        )
        frames.append(
            {
                "rows": table.row_count,
                "first": cells,
                "detail": screen.query_one("#browse-card", CardText).source,
            }
        )

    app._display = hooked
    return frames


async def read_ahead_ready(pilot, services) -> None:
    await wait_for(pilot, lambda: current_read_ahead(services) is not None)
    await settle(pilot)


async def open_browse(pilot) -> BrowseScreen:
    await pilot.press("b")
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: bool(screen.shown) and screen.detail is not None)
    await settle(pilot)
    return screen


async def test_the_first_frame_has_the_rows_and_the_first_detail(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "store" in app.screen.counts_sources)
        await settle(pilot)
        await wait_for(pilot, lambda: services.browse_ahead is not None, timeout=5)
        frames = record_browse_frames(app)
        screen = await open_browse(pilot)
        first = screen.shown[0]
        assert frames[0]["rows"] >= SIZE[1]  # a screenful and more, in the first frame
        assert frames[0]["first"][PROMPT].startswith(first.prompt[:10])
        assert first.key in frames[0]["detail"]  # the detail pane too
        # the page read ahead is the one shown: the menus and the box telling their first
        # values as they mounted did not search again
        assert screen.page is services.browse_ahead.page


async def test_an_answer_after_the_read_ahead_shows_in_browse(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        first = services.browse_ahead.page.rows[0]
        assert first.schedule.due is None  # new when read ahead
        services.scheduler().answer(first.id, 5)  # as the review screen records it
        frames = record_browse_frames(app)
        screen = await open_browse(pilot)
        assert screen.shown[0].id == first.id
        assert screen.shown[0].schedule.reviews == 1
        shown = [f["first"][STATE] for f in frames if f["rows"]]
        assert shown and set(shown) == {"review"}, shown  # never the stale "new"
        assert "| 1 |" in screen.query_one("#browse-card", CardText).source  # one answer


async def test_an_edit_after_the_read_ahead_shows_in_browse(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        first = services.browse_ahead.page.rows[0]
        info = services.scheduler().card(first.id)
        services.scheduler().edit(first.id, "Edited since the read-ahead", info.answer, [])
        frames = record_browse_frames(app)
        screen = await open_browse(pilot)
        prompts = [f["first"][PROMPT] for f in frames if f["rows"]]
        assert prompts and all(p.startswith("Edited since") for p in prompts), prompts
        # (the pane names the card while its detail is read: never the text read ahead)
        details = [f["detail"] for f in frames if first.key in f["detail"]]
        read = [d for d in details if d != browse.detail_heading(screen.shown[0], True)]
        assert read and all("Edited since the read-ahead" in d for d in read)


async def test_a_write_by_another_process_shows_in_browse(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        first = services.browse_ahead.page.rows[0]
        # another labdeck (an import in another terminal) writes the file meanwhile
        conn = sqlite3.connect(services.store.path)
        with conn:
            conn.execute("UPDATE card SET prompt = 'Changed elsewhere' WHERE id = ?", (first.id,))
        conn.close()
        frames = record_browse_frames(app)
        await open_browse(pilot)
        prompts = [f["first"][PROMPT] for f in frames if f["rows"]]
        assert prompts and all(p.startswith("Changed elsewhere") for p in prompts), prompts


async def test_a_new_study_day_reads_afresh(make_services, make_app):
    clock = [NOW]
    services = make_services(now=lambda: clock[0])
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        assert services.browse_ahead.today == NOW.date()
        clock[0] = NOW + timedelta(days=1)  # the day rolled over while Home was open
        assert current_read_ahead(services) is None
        screen = await open_browse(pilot)
        assert screen.today == clock[0].date()


async def test_home_reads_ahead_again_after_browse_wrote(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        screen = await open_browse(pilot)
        first = screen.shown[0]
        await pilot.press("s")  # suspend the first card
        await wait_for(pilot, lambda: screen.shown and screen.shown[0].schedule.suspended)
        await pilot.press("escape")
        await read_ahead_ready(pilot, services)  # Home's refresh read it again
        assert services.browse_ahead.page.rows[0].id == first.id
        assert services.browse_ahead.page.rows[0].schedule.suspended
        frames = record_browse_frames(app)
        await open_browse(pilot)
        assert frames[0]["rows"] and frames[0]["first"][STATE] == "suspended"


async def test_typing_back_what_is_shown_clears_the_error_line(make_app, services):
    """The box telling a value that is the search on screen searches nothing again, and
    still takes the error line away."""
    from textual.widgets import Input, Static

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        screen = await open_browse(pilot)
        page = screen.page
        box = screen.query_one("#browse-search", Input)
        count = screen.query_one("#browse-count", Static)
        box.value = "deck:"
        await settle(pilot)
        assert "⚠" in str(count.render())
        box.value = ""  # what the table shows
        await settle(pilot)
        assert "⚠" not in str(count.render()) and "cards" in str(count.render())
        assert screen.page is page


async def test_without_a_read_ahead_browse_reads_as_it_opens(make_app, services):
    from textual.widgets import Select

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await read_ahead_ready(pilot, services)
        services.browse_ahead = None  # e.g. `b` pressed before Home's worker got to it
        frames = record_browse_frames(app)
        screen = await open_browse(pilot)
        assert frames[0]["rows"] == 0  # the first frame before the rows: read in a worker
        assert len(screen.shown) > 900 and screen.page is not None
        scope = screen.query_one("#browse-scope", Select)
        assert len(scope._options) > 3  # all decks, then the decks and their chapters
        scope.value = next(v for _, v in scope._options if str(v).startswith("deck:"))
        await wait_for(pilot, lambda: 0 < len(screen.shown) < 900)  # the menu filters
