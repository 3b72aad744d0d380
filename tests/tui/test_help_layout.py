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
    first = next(i for i, line in enumerate(lines) if "ctrl+s submit / go" in line)
    column = lines[first].index("submit / go")
    follow = lines[first + 1]
    assert follow[:column].strip() == "", f"wrapped under the keys: {follow!r}"
    assert follow[column:].strip().startswith(("start", "submit", "save", "import", "run"))
