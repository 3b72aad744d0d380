"""The documented mapping from key-point ticks to an SM-2 quality."""

from __future__ import annotations

import pytest

from labdeck.grading.checklist import checklist_rows, quality_from_ticks, verdict_of


@pytest.mark.parametrize(
    ("ticks", "expected"),
    [
        ([True, True, True, True], 5),
        ([True, True, True, False], 4),
        ([True, True, False, False], 3),
        ([True, False, False, False], 2),
        ([True, False, False, False, False], 1),
        ([False, False, False], 1),
    ],
)
def test_share_of_ticked_points_sets_the_quality(ticks: list[bool], expected: int) -> None:
    assert quality_from_ticks(ticks) == expected


def test_blank_answer_with_nothing_ticked_is_zero() -> None:
    assert quality_from_ticks([False, False], blank=True) == 0


def test_a_point_left_contradicted_caps_the_quality_at_three() -> None:
    ticks = [True, True, True, True, True, True, True, False]
    assert quality_from_ticks(ticks) == 4
    flags = [False] * 7 + [True]
    assert quality_from_ticks(ticks, flags) == 3
    # ticking the contradicted point (the learner overrides the grader) lifts the cap
    assert quality_from_ticks([True] * 8, flags) == 5


def test_rows_are_numbered_from_one() -> None:
    rows = checklist_rows(
        [("a", verdict_of(True, False), "x"), ("b", verdict_of(False, True), None)]
    )
    assert [(r["n"], r["verdict"]) for r in rows] == [(1, "covered"), (2, "contradicted")]


def test_empty_or_mismatched_checklists_are_rejected() -> None:
    with pytest.raises(ValueError):
        quality_from_ticks([])
    with pytest.raises(ValueError):
        quality_from_ticks([True], [False, True])
