"""Terminal rendering: shade characters without colour, ANSI colour when allowed."""

from __future__ import annotations

import io

import pytest

from labdeck.demos import render

DIGIT = [  # an 8x8 "1", pixels in [0, 1]
    [0, 0, 0, 0.5, 1, 0, 0, 0],
    [0, 0, 0.5, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 0.25, 1, 1, 0.75, 0, 0],
    [0, 0, 1, 1, 1, 1, 0, 0],
]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_digit_in_shades_reads_without_colour() -> None:
    text = render.image(DIGIT, color=False)
    lines = text.split("\n")
    assert len(lines) == 8 and all(len(line) == 16 for line in lines)
    assert set(text) <= set(render.SHADES + "\n")
    assert lines[0] == "      ▒▒██      "
    assert lines[6] == "    ░░████▓▓    "
    assert lines[7] == "    ████████    "


def test_colour_image_uses_ansi_backgrounds_and_labels() -> None:
    text = render.image([[0.0, 1.0]], color=True, xlabels=["because", "cd"], ylabels=["row"])
    head, row, key = text.split("\n")
    assert head.split() == ["0", "1"]  # columns are numbered: a 2-character cell fits no word
    assert row.startswith("row ") and "\x1b[48;5;232m" in row and "\x1b[48;5;255m" in row
    assert key == "columns: 0=because  1=cd"  # whole words, not their first two letters


def test_grid_wraps_to_the_width() -> None:
    row = [DIGIT] * 8  # 8 digits of 16 characters + gaps: 142 characters on one line
    assert max(len(x) for x in render.image_grid([row], False).split("\n")) > 100
    wrapped = render.image_grid([row], False, labels=[list("abcdefgh")], width=80)
    lines = wrapped.split("\n")
    assert max(len(x) for x in lines) <= 80
    captions = [x.split() for x in lines if x.strip() and set(x.strip()) <= set("abcdefgh ")]
    assert captions == [list("abcd"), list("efgh")]


def test_plot_legend_is_under_the_plot_not_over_the_data() -> None:
    series = [
        {"name": "top series", "x": [0, 1, 2], "y": [5, 5, 5]},
        {"name": "bottom", "x": [0, 1, 2], "y": [0, 0, 0]},
    ]
    text = render.plot(series, color=False, width=60, height=10)
    body, last = text.rsplit("\n", 1)
    assert "top series" not in body and "bottom" not in body
    assert last == "legend: • top series   x bottom"


def test_heatmap_scale_and_grid_captions() -> None:
    attn = [[0.5, 0.0], [0.25, 0.25]]
    assert render.image(attn, False, vmax=0.5).split("\n") == ["██  ", "▒▒▒▒"]
    grid = render.image_grid([[DIGIT, DIGIT]], False, labels=[["a", "b"]])
    lines = grid.split("\n")
    assert len(lines) == 9 and lines[-1].split() == ["a", "b"]
    assert lines[7] == "    ████████          ████████"


def test_colour_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert render.color_allowed(Tty())
    assert not render.color_allowed(io.StringIO())  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert not render.color_allowed(Tty())


def test_untrusted_text_is_cleaned() -> None:
    assert render.clean("ok\x1b[31mred\x1b[0m\x07\x1b]0;title\x07!") == "okred!"


def test_progress_bar_and_table() -> None:
    assert render.progress_bar(0, 10, 10).startswith("··········")
    assert render.progress_bar(10, 10, 10) == "██████████ 100%"
    text = render.table("T", ["a", "bb"], [[1, 0.000012345], ["xyz", True]])
    assert text.split("\n") == ["T", "a    bb", "───  ─────────", "1    1.234e-05", "xyz  True"]


def test_renderer_plain_output_for_every_event_type() -> None:
    out = io.StringIO()
    r = render.Renderer(out, color=False, width=80)
    events = [
        {"type": "progress", "step": 0, "total": 3, "label": "training"},
        {"type": "metric", "name": "loss", "value": 1.5, "step": 1},
        {"type": "progress", "step": 3, "total": 3, "label": "training"},
        {"type": "series", "name": "train", "x": [1, 2, 3], "y": [3, 2, 1], "group": "loss"},
        {"type": "series", "name": "test", "x": [1, 3], "y": [3.5, 1.5], "group": "loss"},
        {"type": "series", "name": "pts", "x": [0, 1], "y": [1, 0], "kind": "scatter"},
        {"type": "table", "title": "numbers", "columns": ["k", "v"], "rows": [["a", 1]]},
        {"type": "image", "title": "digits", "grid": [[DIGIT, DIGIT]]},
        {"type": "image", "title": "heat", "data": [[0, 1]], "xlabels": ["x", "y"]},
        {"type": "text", "text": "raw \x1b[2Jline", "raw": True},
        {"type": "novel", "x": 1},
        {
            "type": "result",
            "metrics": {"loss": 0.25},
            "checks": {
                "good": {"passed": True, "value": 0.1, "target": "<= 1"},
                "bad": {"passed": False, "value": 3, "target": "<= 1"},
            },
            "seconds": 1.0,
        },
        {"type": "error", "message": "it broke"},
    ]
    for e in events:
        r.event(e)
    r.close()
    text = out.getvalue()
    assert "\x1b" not in text
    assert "… training" in text and text.count("… training") == 1
    assert "train / test" in text  # one plot for the group
    assert "pts" in text
    assert "numbers" in text and "digits" in text and "heat" in text
    assert "████████" in text
    assert "│ raw line" in text
    assert "[novel]" in text
    assert "✓ pass  expect  good" in text and "✗ FAIL  expect  bad" in text
    assert "error: it broke" in text


def test_renderer_live_progress_redraws_in_place() -> None:
    out = Tty()
    r = render.Renderer(out, color=True, width=80)
    r.event({"type": "progress", "step": 1, "total": 4, "label": "training"})
    r.event({"type": "metric", "name": "loss", "value": 2.0})
    r.event({"type": "progress", "step": 2, "total": 4, "label": "training"})
    r.event({"type": "text", "text": "done"})
    r.close()
    text = out.getvalue()
    assert text.count("\r\x1b[K") >= 3
    assert "loss=2" in text and " 50%" in text and text.endswith("done\n")


@pytest.mark.xdist_group("demo-runs")  # the vae run test_demo_quick_runs makes too
def test_rendering_real_demo_events(demo_run) -> None:
    pytest.importorskip("torch")
    col, _ = demo_run("vae")
    out = io.StringIO()
    r = render.Renderer(out, color=False, width=90)
    for event in col.events:
        r.event(event)
    r.close()
    text = out.getvalue()
    assert "samples from the prior z ~ N(0, I)" in text
    assert "train -ELBO / test -ELBO" in text
    assert "✓ pass  expect  test_neg_elbo" in text
