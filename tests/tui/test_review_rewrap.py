"""Issue 15.6: the answer box re-wraps whenever its width changes, so no character of a long
Chinese answer is cut at the right edge when the feedback panel appears (its scroll bar used to
narrow the box) or the terminal is resized. Real app, real store, real grader; the screen is
read as drawn."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from tuihelpers import screen_text, settle, wait_for

from labdeck.tui.screens.review import AnswerBox, ReviewScreen

SMALL = (80, 24)
# Three to four lines at 80 columns: wide characters meet the right edge on every line.
ANSWER_ZH = (
    "编码器RNN逐个读取源序列的词元，把整个输入压缩成一个固定长度的上下文向量，也就是最后的隐藏"
    "状态。解码器RNN从这个向量出发，一次生成一个输出词元，并把上一步的输出作为下一步的输入。"
    "注意力机制让解码器在每一步都能回看编码器的全部隐藏状态，缓解了信息瓶颈。"
)


def drawn_lines(app, widget) -> list[str]:
    """The rows of ``widget``'s content region as the screen draws them (wide characters
    whole; a character cut by the edge is not there)."""
    rows = screen_text(app).splitlines()
    region = widget.scrollable_content_region.intersection(app.screen.region)
    lines = []
    for y in range(region.y, region.bottom):
        x, kept = 0, []
        for char in rows[y]:
            width = cell_len(char)
            if x >= region.x and x + width <= region.right:
                kept.append(char)
            x += width
        lines.append("".join(kept).rstrip())
    return lines


async def open_review(pilot) -> ReviewScreen:
    """Home, then Enter: the review screen."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


@pytest.mark.parametrize("gutter", ["stable", "auto"])
async def test_a_long_chinese_answer_is_whole_after_the_feedback_appears(make_app, gutter) -> None:
    """``stable``: the screen as shipped (the scroll bar's room kept, so the feedback does not
    narrow the box); ``auto``: the scroll bar takes its room when the feedback appears, and the
    box must re-wrap to the narrower width."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        await wait_for(pilot, lambda: screen.phase == "answering")
        screen.query_one("#review-body").styles.scrollbar_gutter = gutter
        await settle(pilot)
        box = screen.query_one("#answer", AnswerBox)
        box.insert(ANSWER_ZH)
        await settle(pilot)
        assert "".join(drawn_lines(app, box)) == ANSWER_ZH  # whole while typing
        width_typing = box.content_region.width
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        await settle(pilot)
        if gutter == "auto":
            assert box.content_region.width < width_typing  # the scroll bar narrowed it
        body = screen.query_one("#review-body")
        body.scroll_home(animate=False)
        await settle(pilot)
        lines = drawn_lines(app, box)
        assert "".join(lines) == ANSWER_ZH, "\n".join(lines)
        assert len([line for line in lines if line]) >= 3  # it did wrap
        # Any later change of width (the terminal, here) re-wraps it too, one column at a time
        # so that a wide character lands on the edge.
        for width in (79, 78, 77):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            body.scroll_home(animate=False)
            await settle(pilot)
            assert box.content_region.width < width_typing
            lines = drawn_lines(app, box)
            assert "".join(lines) == ANSWER_ZH, (width, "\n".join(lines))


async def test_the_next_intervals_stay_in_view_while_the_feedback_scrolls(make_app) -> None:
    """At 80×24 a graded essay's checklist fills the body: the intervals of each rating are
    under the body (not at its end, below the fold), whole and on screen, wherever the body is
    scrolled."""
    from textual.widgets import Footer

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_review(pilot)
        await wait_for(pilot, lambda: screen.phase == "answering" and not screen.card.is_drill)
        screen.query_one("#answer", AnswerBox).insert(ANSWER_ZH)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        body = screen.query_one("#review-body")
        for scroll in (body.scroll_home, body.scroll_end):
            scroll(animate=False)
            await settle(pilot)
            intervals = screen.query_one("#intervals")
            region, footer = intervals.region, screen.query_one(Footer).region
            assert region.area > 0 and region.bottom <= footer.y
            shown = " ".join(screen_text(app).split())
            assert "Next: 0" in shown and "5 →" in shown  # ("0–3 →", "4–5 →": grouped)
