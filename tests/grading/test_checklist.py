"""The documented mapping from key-point ticks to an SM-2 quality."""

from __future__ import annotations

import pytest

from labdeck.grading.checklist import Ticks, Verdict, checklist_rows, quality_from_ticks, verdict_of


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


def test_a_contradicted_point_cycles_to_missed_once_the_learner_toggles_it() -> None:
    """QA: toggling cycled ≠ → ✓ → ≠, so "missed, not contradicted" could not be recorded.
    Now ≠ → ✓ → ✗ → ✓; the overruled ≠ no longer caps the quality, and it is stored."""
    from labdeck.grading.checklist import Ticks, check_stored

    ticks = Ticks(["a", "b", "c", "d", "e"], ["covered"] * 4 + ["contradicted"])
    assert ticks.shown(4) == "contradicted" and ticks.quality() == 3  # capped
    ticks.toggle(5)
    assert ticks.shown(4) == "covered" and ticks.quality() == 5
    ticks.toggle(5)
    assert ticks.shown(4) == "missed"
    assert ticks.quality() == 4  # 4/5 covered, no contradiction left to cap it
    ticks.toggle(5)
    assert ticks.shown(4) == "covered"
    ticks.toggle(5)
    stored = ticks.stored()
    assert stored[4] == {"point": "e", "grader": "contradicted", "ticked": False, "overruled": True}
    assert "overruled" not in stored[0]  # rows as before where nothing was overruled
    again = Ticks.from_stored(check_stored(stored))
    assert again.shown(4) == "missed" and again.quality() == 4
    with pytest.raises(ValueError, match=r"checklist\[1\]\.overruled"):
        check_stored([{"point": "a", "grader": "covered", "ticked": True, "overruled": "yes"}])


def _five_points_three_found() -> Ticks:
    verdicts: list[Verdict] = ["covered", "covered", "covered", "missed", "missed"]
    return Ticks([f"p{i}" for i in range(5)], verdicts)


def test_ticking_more_never_lowers_a_sure_suggestion() -> None:
    """The walkthrough's case: 5 suggested from the score with 3 of 5 points found; ticking a
    fourth gave the table's 4 (more credit, a lower grade)."""
    ticks = _five_points_three_found()
    assert ticks.quality() == 3 and ticks.quality_from(5) == 5  # as the grader left them
    ticks.toggle(4)
    assert ticks.quality() == 4 and ticks.quality_from(5) == 5
    ticks.toggle(5)
    assert ticks.quality_from(5) == 5
    low = _five_points_three_found()
    low.toggle(4)
    assert low.quality_from(2) == 4  # above a low suggestion, the ticks lift it


def test_unticking_never_raises_a_suggestion_and_a_swap_follows_the_table() -> None:
    ticks = _five_points_three_found()
    ticks.toggle(1)
    assert ticks.quality() == 2 and ticks.quality_from(5) == 2
    assert ticks.quality_from(1) == 1  # fewer points than the grader found: never above it
    ticks.toggle(4)  # one off, another on: the learner's own account, by the table
    assert ticks.quality_from(5) == ticks.quality() == 3


def test_setting_aside_a_contradiction_counts_as_more_credit() -> None:
    ticks = Ticks(list("abcde"), ["covered"] * 4 + ["contradicted"])
    assert ticks.quality() == 3 and ticks.quality_from(3) == 3  # capped by the ≠
    ticks.toggle(5)
    ticks.toggle(5)  # ≠ → ✓ → ✗: "missed, not contradicted"
    assert ticks.quality() == 4 and ticks.quality_from(3) == 4


def test_without_a_suggestion_the_table_decides() -> None:
    ticks = _five_points_three_found()
    ticks.toggle(4)
    assert ticks.quality_from(None) == ticks.quality() == 4
