"""Browse snapshots at 80×24 and 160×45 (issue 15.10): sorted by prompt with the header arrow,
two rows marked; the in-place editor. Regenerate with ``--snapshot-update`` after reading the
text diff."""

from __future__ import annotations

from test_tui_snapshots import SIZES, shoot
from tuihelpers import settle, wait_for

from labdeck.tui.screens.card_edit import CardEditScreen


async def _browse(pilot, query: str) -> None:
    await pilot.press("b")
    await settle(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#browse-search").value = query
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


@SIZES
def test_browse_sorted_and_marked(snap_compare, make_app, size):
    async def steps(pilot):
        await _browse(pilot, "deck:exam-b tag:attention -type:cloze")
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        await settle(pilot)
        await pilot.press("space", "space")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_browse_edit_card(snap_compare, make_app, size):
    async def steps(pilot):
        await _browse(pilot, "deck:exam-b type:essay softmax")
        await pilot.press("e")
        await settle(pilot)

        def editing() -> bool:  # the editor is up, its prompt box focused (cursor drawn)
            screen = pilot.app.screen
            return (
                isinstance(screen, CardEditScreen)
                and screen.focused is not None
                and (screen.focused.id == "edit-prompt")
            )

        await wait_for(pilot, editing)

    shoot(snap_compare, make_app(), steps, size)
