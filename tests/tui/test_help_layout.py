"""Help at 80×24: a key's description that wraps stays in the description column (it used to
continue under the keys, so "shown), else rate 0–5" read as a key of its own)."""

from __future__ import annotations

from tuihelpers import screen_text, settle


async def test_wrapped_descriptions_keep_their_column_at_80x24(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        lines = screen_text(app).splitlines()
    first = next(i for i, line in enumerate(lines) if "ctrl+s Submit / go" in line)
    column = lines[first].index("Submit / go")
    follow = lines[first + 1]
    assert follow[:column].strip() == "", f"wrapped under the keys: {follow!r}"
    assert follow[column:].strip().startswith(("start", "submit", "save", "import", "run"))


async def test_every_key_is_whole_on_one_line_at_every_size(make_app) -> None:
    """At 100×32 "tab / shift+tab" was split over two lines (Rich gave the narrow panel's key
    column less than the key), and a description then broke mid-word."""
    import re

    from labdeck.tui.screens.help import screen_keys

    panels = screen_keys()
    for size in ((80, 24), (100, 32), (160, 45)):
        app = make_app()
        async with app.run_test(size=(size[0], 200)) as pilot:  # tall: every panel in view
            await settle(pilot)
            await pilot.press("question_mark")
            await settle(pilot)
            text = screen_text(app)
        for title, rows in panels:
            for key, description in rows:
                assert re.search(rf"(^|\s){re.escape(key)} ", text, re.M), (size, title, key)
                first_word = description.split()[0]
                assert re.search(rf"{re.escape(key)} {re.escape(first_word)}", text), (
                    size,
                    title,
                    key,
                    description,
                )
