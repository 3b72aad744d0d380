"""Settings at 80×24 (issue 15.5): every row's field, option label, placeholder and help is
drawn whole, none cut by the row's height or width. The real app and screen."""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from tuihelpers import settle


async def test_every_settings_row_is_drawn_whole_at_80x24(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("comma")
        await settle(pilot)
        screen = app.screen
        for select in screen.query(Select):
            # the closed select shows its choice on one line, inside the 3-row field
            assert select.outer_size.height == 3, (select.id, select.outer_size)
            assert select.parent.outer_size.height >= 3
        model = screen.query_one("#set-grading_model", Input)
        assert len(model.placeholder) <= model.content_region.width, model.placeholder
        for help_text in screen.query(".settings-help").results(Static):
            needed = help_text.get_content_height(
                help_text.content_region.size, help_text.content_region.size, help_text.size.width
            )
            assert needed <= help_text.content_region.height, str(help_text.render())
