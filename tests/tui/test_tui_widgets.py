"""The display widgets on their own: shade images (colour and NO_COLOR), CJK alignment."""

from __future__ import annotations

from rich.cells import cell_len
from tuihelpers import settle

from labdeck.tui.widgets.shade import SHADES, grid_text, heatmap_text, normalise


def test_heatmap_without_colour_uses_shade_characters_and_aligns_cjk_labels():
    data = [[0.0, 1.0], [0.5, 0.25]]
    text = heatmap_text(data, color=False, xlabels=["注意", "力"], ylabels=["注意", "x"])
    lines = text.plain.splitlines()
    assert lines[1].endswith("  ██") and set(lines[2][-4:]) <= set(SHADES)
    assert cell_len(lines[1]) == cell_len(lines[2])  # double-width labels padded by cells
    assert "1 注意 · 2 力" in lines[-1]


def test_grid_in_colour_packs_two_pixel_rows_per_line():
    digit = [[1.0] * 8 for _ in range(8)]
    text = grid_text([[digit, digit]], color=True, labels=[["a", "b"]])
    lines = text.plain.splitlines()
    assert len(lines) == 4 + 1  # 8 pixel rows as 4 half-block lines, then the captions
    assert lines[0] == "▀" * 8 + " " + "▀" * 8


def test_grid_wraps_to_the_width_it_is_given():
    digit = [[1.0] * 8 for _ in range(8)]
    row = [digit] * 8
    assert max(len(x) for x in grid_text([row], color=False).plain.splitlines()) > 100
    text = grid_text([row], color=False, labels=[list("abcdefgh")], width=60)
    lines = text.plain.splitlines()
    assert max(len(x) for x in lines) <= 60
    captions = [x.split() for x in lines if x.strip() and set(x.strip()) <= set("abcdefgh ")]
    assert captions == [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]


def test_normalise_clips_and_scales():
    assert normalise([[0, 5, 10, float("nan")]], 0, 10) == [[0.0, 0.5, 1.0, 0.0]]


async def test_no_color_env_turns_colour_off(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        await pilot.press("t")  # plots still draw (in monochrome)
        await settle(pilot)
        assert app.screen.query_one("#chart-reviews").is_mounted


def test_a_long_key_point_wraps_under_its_own_text() -> None:
    """A wrapped key point continues under its text, not under its number and mark, and no
    line is wider than asked; English and Chinese alike."""
    from rich.cells import cell_len

    from labdeck.grading.checklist import Ticks
    from labdeck.tui.widgets.checklist import checklist_text

    long_en = "Attention weights are a softmax over the scaled dot products of the query and keys"
    long_zh = "注意力权重是查询与每个键的缩放点积经过归一化之后再与值加权求和得到的输出向量"
    ticks = Ticks([long_en, long_zh, "short"], ["covered", "missed", "missed"])
    lines = checklist_text(ticks, ["queries meet keys", None, None], width=40).plain.split("\n")
    assert lines[0].startswith(" 1 ✓ Attention")
    assert all(cell_len(line.rstrip()) <= 40 for line in lines)
    first_zh = next(i for i, line in enumerate(lines) if line.startswith(" 2 ✗"))
    assert lines[1].startswith("     ") and lines[1].strip()  # the English point goes on
    assert lines[first_zh + 1].startswith("     ") and lines[first_zh + 1].strip()[0] in long_zh
    assert lines[-1].startswith(" 3 ✗ short")


def test_the_review_heatmap_has_a_legend_from_none_to_the_busiest_day() -> None:
    """QA: the heatmap's shades said nothing of how many reviews they hold."""
    from datetime import date, timedelta

    from labdeck.tui.widgets.heatmap import COLOURS, heatmap_text

    today = date(2026, 12, 3)
    counts = {today: 12, today - timedelta(days=1): 3}
    for color in (True, False):
        lines = heatmap_text(counts, today, weeks=8, color=color).plain.splitlines()
        assert len(lines) == 8 and lines[0].startswith("Mon"), lines
        legend = lines[-1]
        assert legend.startswith("0 ") and legend.endswith("12/day"), legend
        assert len(legend) <= 20  # the narrow pane's room (8 weeks: "Mon " and 16 cells)
    styled = heatmap_text(counts, today, weeks=8)
    legend_styles = {str(span.style) for span in styled.spans if span.start >= len(styled) - 30}
    assert set(COLOURS) <= legend_styles  # every shade, none to the most
    # no reviews: no legend (the title says "No reviews in 8 weeks")
    assert heatmap_text({}, today, weeks=8, color=False).plain.count("/day") == 0
