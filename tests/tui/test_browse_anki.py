"""Browse like Anki (issue 15.10): the search syntax, sorting by any column, marks with bulk
suspend / unsuspend / reset undone in one step, and an in-place edit that survives re-import,
shows as edited, reverts and undoes. Real app, real store with the shipped deck."""

from __future__ import annotations

from rich.text import Text
from sqlalchemy import text
from textual.widgets import DataTable, Input, Static, TextArea
from textual.widgets.data_table import ColumnKey
from tuihelpers import card_state, screen_text, settle, wait_for

from labdeck.ingest.load import sync_content
from labdeck.store.browse_query import parse
from labdeck.store.queries import browse_page
from labdeck.tui.screens.browse import BrowseScreen
from labdeck.tui.screens.card_edit import CardEditScreen

SIZE = (120, 36)


async def _open(pilot) -> BrowseScreen:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BrowseScreen)
    await wait_for(pilot, lambda: bool(screen.shown))
    return screen


async def _search(pilot, screen: BrowseScreen, query: str) -> None:
    await pilot.press("slash")
    screen.query_one("#browse-search", Input).value = query
    await settle(pilot)
    await pilot.press("enter")  # back to the table
    await settle(pilot)


def _count_line(screen: BrowseScreen) -> str:
    return str(screen.query_one("#browse-count", Static).render())


def _labels(screen: BrowseScreen) -> list[str]:
    table = screen.query_one("#browse-table", DataTable)
    return [str(c.label) for c in table.columns.values()]


async def test_query_syntax_filters_and_a_bad_query_is_one_line(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        total = len(screen.shown)
        assert total > 900 and "key" not in _labels(screen)  # no key column
        await _search(pilot, screen, "deck:exam-b tag:attention type:essay")
        shown = screen.shown
        assert 0 < len(shown) < total
        for row in shown:
            info = services.scheduler().card(row.id)
            assert row.deck == "exam-b" and "attention" in info.tags and info.kind == "essay"
        assert f"{len(shown)} of {total} cards" in _count_line(screen)
        await _search(pilot, screen, "deck:exam-b -tag:attention is:new or type:tf")
        assert len(screen.shown) > len(shown)
        before = [r.id for r in screen.shown]
        await _search(pilot, screen, "deck:exam-b foo:bar")
        assert "unknown search field 'foo:'" in _count_line(screen)
        assert [r.id for r in screen.shown] == before  # the last good result stays
        await _search(pilot, screen, "")
        assert len(screen.shown) == total and "⚠" not in _count_line(screen)


async def test_sort_by_any_column_with_the_arrow_in_the_header(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _search(pilot, screen, "deck:exam-c")
        content_order = [r.id for r in screen.shown]
        await pilot.press("greater_than_sign")  # ch
        await settle(pilot)
        assert screen.sort == "ch" and "ch ▲" in _labels(screen)
        await pilot.press("greater_than_sign", "greater_than_sign")  # type, prompt
        await settle(pilot)
        assert screen.sort == "prompt" and "prompt ▲" in _labels(screen)
        prompts = [r.prompt.casefold() for r in screen.shown]
        assert prompts == sorted(prompts)
        await pilot.press("less_than_sign")
        await settle(pilot)
        assert "prompt ▼" in _labels(screen)
        assert [r.prompt.casefold() for r in screen.shown] == sorted(prompts, reverse=True)
        # a click on a header sorts by it
        table = screen.query_one("#browse-table", DataTable)
        table.post_message(DataTable.HeaderSelected(table, ColumnKey("due"), 5, Text("due")))
        await settle(pilot)
        assert screen.sort == "due" and "due ▲" in _labels(screen)
        while screen.sort:
            await pilot.press("greater_than_sign")
            await settle(pilot)
        assert [r.id for r in screen.shown] == content_order


async def test_bulk_suspend_and_reset_are_one_undo_step(make_app, services):
    scheduler = services.scheduler()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _search(pilot, screen, "deck:exam-c type:tf")
        ids = [r.id for r in screen.shown]
        assert len(ids) > 3
        await pilot.press("space", "space")  # mark two rows
        await settle(pilot)
        assert screen.marked == set(ids[:2]) and "2 marked" in _count_line(screen)
        await pilot.press("s")
        await settle(pilot)
        assert [card_state(services.store, i)["suspended"] for i in ids[:3]] == [1, 1, 0]
        await pilot.press("u")
        await settle(pilot)
        assert [card_state(services.store, i)["suspended"] for i in ids[:3]] == [0, 0, 0]
        await pilot.press("ctrl+a")  # every card the search matches
        await settle(pilot)
        assert screen.marked == set(ids)
        await pilot.press("s")
        await settle(pilot)
        assert all(card_state(services.store, i)["suspended"] for i in ids)
        await pilot.press("s")  # all marked are suspended: s unsuspends them
        await settle(pilot)
        assert not any(card_state(services.store, i)["suspended"] for i in ids)
        await pilot.press("u")  # undoes the unsuspend of all of them…
        await settle(pilot)
        assert all(card_state(services.store, i)["suspended"] for i in ids)
        await pilot.press("u")  # …then the suspend
        await settle(pilot)
        assert not any(card_state(services.store, i)["suspended"] for i in ids)
        # reset to new, confirmed; the review log stays
        await pilot.press("escape")  # clears the marks
        assert not screen.marked
        first = screen._current()  # the highlighted card (the marks moved the cursor down)
        assert first is not None and first.id == ids[2]
        scheduler.answer(first.id, 5)
        answered = card_state(services.store, first.id)
        assert answered["due"] is not None
        await pilot.press("N")
        await settle(pilot)
        from labdeck.tui.screens.confirm import ConfirmScreen

        assert isinstance(pilot.app.screen, ConfirmScreen)  # one card: "Its schedule" (QA)
        assert "Its schedule starts over" in screen_text(pilot.app)
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert card_state(services.store, first.id) == answered
        await pilot.press("N")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        reset = card_state(services.store, first.id)
        assert (reset["due"], reset["repetitions"], reset["interval"]) == (None, 0, 0)
        with services.store.engine.connect() as conn:
            logged = conn.execute(
                text("SELECT count(*) FROM review_log WHERE card_id = :c AND undone = 0"),
                {"c": first.id},
            ).scalar()
        assert logged == 1
        await pilot.press("u")
        await settle(pilot)
        assert card_state(services.store, first.id) == answered


async def test_edit_in_place_survives_reimport_reverts_and_undoes(make_app, services):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _search(pilot, screen, "deck:exam-b type:essay softmax")
        row = screen.shown[0]
        original = services.scheduler().card(row.id)
        await wait_for(pilot, lambda: screen.detail is not None and screen.detail.row.id == row.id)
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CardEditScreen)
        modal.query_one("#edit-prompt", TextArea).text = "My own prompt [b]not markup[/b]"
        modal.query_one("#edit-points", TextArea).text = "first point\n\nsecond point\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        card = services.scheduler().card(row.id)
        assert card.prompt == "My own prompt [b]not markup[/b]"
        assert card.key_points == ["first point", "second point"]
        assert card.answer == original.answer
        await wait_for(pilot, lambda: screen.detail is not None and screen.detail.override)
        source = screen.query_one("#browse-card").source
        assert "**Edited**" in source and "prompt, key points" in source
        assert original.prompt.splitlines()[0][:20] in source  # the imported text is shown
        assert screen.shown[0].edited and "essay*" in str(
            screen.query_one("#browse-table", DataTable).get_row_at(0)[2]
        )
        # is:edited finds it; a re-import of the shipped deck keeps the edit in force
        assert [
            r.id for r in browse_page(services.store, parse("is:edited"), screen.today).rows
        ] == [row.id]
        sync_content(services.store, force=True)
        assert services.scheduler().card(row.id).prompt == "My own prompt [b]not markup[/b]"
        # u undoes the edit
        await pilot.press("u")
        await settle(pilot)
        assert services.scheduler().card(row.id).prompt == original.prompt
        await pilot.press("u")  # nothing left to undo
        await settle(pilot)
        # edit again, then revert from the editor
        await wait_for(pilot, lambda: screen.detail is not None and screen.detail.row.id == row.id)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#edit-answer", TextArea).text = "A shorter answer."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert services.scheduler().card(row.id).answer == "A shorter answer."
        await wait_for(pilot, lambda: screen.detail is not None and screen.detail.override)
        await pilot.press("e")
        await settle(pilot)
        await pilot.click("#edit-revert")
        await settle(pilot)
        assert services.scheduler().card(row.id).answer == original.answer
        await pilot.press("u")  # undoes the revert
        await settle(pilot)
        assert services.scheduler().card(row.id).answer == "A shorter answer."
