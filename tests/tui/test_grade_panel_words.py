"""The review grade panel's words (QA, issue 15): a quality reads the same before and after a
grade, and a single key point is not told "1 tick to correct". Pure text from
``review.grade_text`` with the real grader's result."""

from __future__ import annotations

from labdeck.grading.checklist import Ticks
from labdeck.tui.screens.review import QUALITY_WORDS, grade_text

POINT = "Attention weights are a softmax over the scores."
ANSWER = "The weights come from a softmax over the scaled dot-product scores."


def test_rate_yourself_names_each_quality_as_the_grade_panel_does() -> None:
    shown = " ".join(grade_text([POINT], None, None, False, None, 200).plain.split())
    for quality, word in QUALITY_WORDS.items():
        assert f"{quality} {word}" in shown


def test_one_key_point_is_told_which_key_ticks_it(grader) -> None:
    result = grader.grade(POINT, ANSWER, [POINT])
    verdicts = ["covered" if k.covered else "missed" for k in result.key_points]
    ticks = Ticks([POINT], verdicts)
    shown = " ".join(grade_text([POINT], result, ticks, False, 4, 200).plain.split())
    assert "enter accepts 4 · tick with 1 to correct" in shown
    assert "1 tick" not in shown
    unrated = " ".join(grade_text([POINT], result, ticks, False, None, 200).plain.split())
    assert "Nothing rated yet: tick with 1, then enter" in unrated
    five = Ticks([POINT] * 5, ["missed"] * 5)
    shown = " ".join(grade_text([POINT] * 5, result, five, False, 2, 200).plain.split())
    assert "tick with 1–5 to correct" in shown
