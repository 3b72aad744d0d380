"""The evaluation on the labelled sets: cross-validated figures on the development set and the
shipped grader's figures on the held-out set hold their measured level and beat plain cosine of
the same model, with the key points as given and with key points derived from the reference
(the shipped parameters are fitted on both conditions). The issue's targets are not met; the
xfail tests state the real figures (docs/grading.md, 'Limits')."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labdeck.grading import calibration as C
from labdeck.grading import fitting as F

# The dev and held-out sets are graded once per worker (grading/conftest.py); every test
# that reads them runs on the same worker (`--dist loadgroup`, pyproject.toml).
pytestmark = pytest.mark.xdist_group("dev-set")

# Issue 4's targets.
TARGET_RHO = 0.85
TARGET_RHO_PAIRING = 0.80
TARGET_ACC = 0.90
TARGET_MAE = 0.8
# What the grader reaches today (docs/grading.md), kept as regression floors a little below:
# cross-validated by question on the 700-item dev set (measured 0.73 / 0.76 / 0.75; en-en 0.67;
# the fifth writer's fluent-wrong-heavy set lowered every CV figure when it joined) ...
FLOOR_RHO = 0.71
FLOOR_RHO_PAIRING = 0.64
FLOOR_ACC = 0.74
FLOOR_MAE = 0.78
# ... with the key points left out (derived from the reference; measured 0.72 / 0.76 / 0.75,
# en-en 0.68) ...
FLOOR_DERIVED_RHO = 0.70
FLOOR_DERIVED_RHO_PAIRING = 0.61
FLOOR_DERIVED_ACC = 0.73
FLOOR_DERIVED_MAE = 0.79
# ... and as shipped on the held-out set (measured 0.71 / 0.70 / 0.88; derived 0.66 / 0.71 /
# 0.86), where plain cosine reaches 0.65 / 0.66 / 0.90.
FLOOR_HOLDOUT_RHO = 0.64
FLOOR_HOLDOUT_ACC = 0.62
FLOOR_HOLDOUT_MAE = 0.98


def assert_meets_targets(rows: list[tuple[str, dict, dict]], title: str) -> None:
    """Issue 4's targets: overall Spearman, pass/fail accuracy and MAE, Spearman per pairing."""
    report = F.format_table(title, rows)
    assert rows[0][1]["spearman"] >= TARGET_RHO, report
    assert rows[0][1]["accuracy"] >= TARGET_ACC, report
    assert rows[0][1]["mae"] <= TARGET_MAE, report
    for name, m, _ in rows[1:]:
        assert m["spearman"] >= TARGET_RHO_PAIRING, (name, report)


@pytest.fixture(scope="module")
def both(dev_both: tuple[F.EvalData, F.EvalData]) -> tuple[F.EvalData, F.EvalData]:
    return dev_both


@pytest.fixture(scope="module")
def data(both: tuple[F.EvalData, F.EvalData]) -> F.EvalData:
    return both[0]


@pytest.fixture(scope="module")
def cv_both(both: tuple[F.EvalData, F.EvalData]) -> tuple[np.ndarray, np.ndarray]:
    return F.cross_validate_both(both[0], both[1], C.FEATURES)


@pytest.fixture(scope="module")
def cv(data: F.EvalData, cv_both: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    cosine = F.cross_validate(data.baseline, data.labels, data.groups, C.BASELINE_FEATURES)
    return cv_both[0], cosine


@pytest.fixture(scope="module")
def holdout(holdout_both: tuple[F.EvalData, F.EvalData]) -> tuple[F.EvalData, F.EvalData]:
    return holdout_both


@pytest.mark.parametrize("which", ["dev", "holdout"])
def test_labelled_sets_are_big_and_balanced(
    which: str, dev_items: list[dict[str, Any]], holdout_items: list[dict[str, Any]]
) -> None:
    items = dev_items if which == "dev" else holdout_items
    assert len(items) >= (500 if which == "dev" else 100)
    fields = {"id", "source", "question", "reference", "key_points", "answer", "label", "pairing"}
    assert all(fields <= set(it) for it in items)
    assert len({it["id"] for it in items}) == len(items)
    pairings = {it["pairing"] for it in items}
    assert pairings == {"en-en", "en-zh", "zh-en", "zh-zh", "en-mixed"}
    for p in pairings:
        labels = {it["label"] for it in items if it["pairing"] == p}
        assert labels == set(range(6)), p


def test_held_out_set_shares_no_question_or_author_with_the_dev_set(
    dev_items: list[dict[str, Any]], holdout_items: list[dict[str, Any]]
) -> None:
    assert {it["question"] for it in dev_items}.isdisjoint(it["question"] for it in holdout_items)
    assert {it["source"] for it in dev_items}.isdisjoint(it["source"] for it in holdout_items)
    assert len({it["source"] for it in dev_items}) >= 3


def test_cross_validated_figures_hold_and_beat_plain_cosine(
    data: F.EvalData, cv: tuple[np.ndarray, np.ndarray]
) -> None:
    ours, cosine = cv
    rows = F.table_rows(data, ours, cosine)
    overall, base = rows[0][1], rows[0][2]
    report = F.format_table("cv", rows)
    assert overall["spearman"] >= FLOOR_RHO, report
    assert overall["accuracy"] >= FLOOR_ACC, report
    assert overall["mae"] <= FLOOR_MAE, report
    assert overall["mae"] <= TARGET_MAE, report
    for name, m, _ in rows[1:]:
        assert m["spearman"] >= FLOOR_RHO_PAIRING, (name, report)
    # clearly above plain cosine of the same model
    assert overall["spearman"] >= base["spearman"] + 0.1, report
    assert overall["accuracy"] >= base["accuracy"] + 0.04, report
    assert overall["mae"] <= base["mae"] - 0.2, report


def test_cross_validated_figures_hold_without_key_points(
    both: tuple[F.EvalData, F.EvalData], cv_both: tuple[np.ndarray, np.ndarray], cv: Any
) -> None:
    derived = both[1]
    assert derived is not both[0]
    assert all(s is None or s[0].derived == 1.0 for s in derived.signals)
    rows = F.table_rows(derived, cv_both[1], cv[1])
    overall = rows[0][1]
    report = F.format_table("cv, derived key points", rows)
    assert overall["spearman"] >= FLOOR_DERIVED_RHO, report
    assert overall["accuracy"] >= FLOOR_DERIVED_ACC, report
    assert overall["mae"] <= FLOOR_DERIVED_MAE, report
    for name, m, _ in rows[1:]:
        assert m["spearman"] >= FLOOR_DERIVED_RHO_PAIRING, (name, report)
    assert overall["spearman"] >= rows[0][2]["spearman"] + 0.1, report


@pytest.mark.xfail(
    reason="issue 4 targets not reached: CV by question Spearman 0.73 (en-en 0.66), pass/fail "
    "accuracy 0.77; MAE (0.75) is met; see docs/grading.md, 'Limits'",
    strict=False,
)
def test_cross_validated_figures_meet_the_issue_targets(
    data: F.EvalData, cv: tuple[np.ndarray, np.ndarray]
) -> None:
    ours, cosine = cv
    assert_meets_targets(F.table_rows(data, ours, cosine), "cv")


@pytest.mark.xfail(
    reason="issue 4 targets not reached without key points: CV by question Spearman 0.72 "
    "(en-en 0.68), pass/fail accuracy 0.76; MAE (0.75) is met; see docs/grading.md, 'Limits'",
    strict=False,
)
def test_cross_validated_figures_without_key_points_meet_the_issue_targets(
    both: tuple[F.EvalData, F.EvalData], cv_both: tuple[np.ndarray, np.ndarray], cv: Any
) -> None:
    assert_meets_targets(F.table_rows(both[1], cv_both[1], cv[1]), "cv, derived key points")


def _holdout_rows(grader: Any, data: F.EvalData) -> list[tuple[str, dict, dict]]:
    p = grader.params
    ours, _ = C.predict(p.weights, p.cutpoints, data.signals, p.features, C._pass_model(p))
    b = C.params_for(grader.model_id, baseline=True)
    cosine, _ = C.predict(b.weights, b.cutpoints, data.baseline, C.BASELINE_FEATURES)
    return F.table_rows(data, ours, cosine)


@pytest.mark.parametrize("condition", [0, 1], ids=["given", "derived"])
def test_held_out_figures_hold(
    grader: Any, holdout: tuple[F.EvalData, F.EvalData], condition: int
) -> None:
    rows = _holdout_rows(grader, holdout[condition])
    overall, base = rows[0][1], rows[0][2]
    report = F.format_table("held-out, as shipped", rows)
    assert overall["spearman"] >= FLOOR_HOLDOUT_RHO, report
    assert overall["accuracy"] >= FLOOR_HOLDOUT_ACC, report
    assert overall["mae"] <= FLOOR_HOLDOUT_MAE, report
    # on unseen authors and questions the grader ranks better than plain cosine, and its
    # pass/fail and absolute error are about the same (docs/grading.md, 'Limits')
    assert overall["spearman"] >= base["spearman"], report
    assert overall["mae"] <= base["mae"] + 0.05, report


@pytest.mark.xfail(
    reason="issue 4 targets not reached on the held-out set: Spearman 0.71, pass/fail accuracy "
    "0.71, MAE 0.87 as shipped (key points given); see docs/grading.md, 'Limits'",
    strict=False,
)
def test_held_out_figures_meet_the_issue_targets(
    grader: Any, holdout: tuple[F.EvalData, F.EvalData]
) -> None:
    assert_meets_targets(_holdout_rows(grader, holdout[0]), "held-out, as shipped")


def test_shipped_parameters_are_the_fit_on_both_key_point_conditions(
    both: tuple[F.EvalData, F.EvalData], grader: Any
) -> None:
    weights, cutpoints, pass_weights, pass_bias, ridge = F.fit_shipped(*both)
    assert ridge is None  # the USE grader has no pair probe
    np.testing.assert_allclose(grader.params.weights, weights, atol=0.05)
    np.testing.assert_allclose(grader.params.cutpoints, cutpoints, atol=0.05)
    assert grader.params.pass_weights is not None
    np.testing.assert_allclose(grader.params.pass_weights, pass_weights, atol=0.05)
    assert grader.params.pass_bias == pytest.approx(pass_bias, abs=0.05)


def test_pass_model_only_moves_the_two_three_boundary() -> None:
    p = C.params_for("use-multilingual-v3")
    assert p.pass_weights is not None
    x = np.zeros(len(p.features))
    fail = (tuple(0.0 for _ in p.features), -1.0)
    passed = (tuple(0.0 for _ in p.features), 1.0)
    assert [C.apply_pass(q, x, fail) for q in range(6)] == [0, 1, 2, 2, 2, 2]
    assert [C.apply_pass(q, x, passed) for q in range(6)] == [3, 3, 3, 3, 4, 5]
    assert [C.apply_pass(q, x, None) for q in range(6)] == list(range(6))


def test_score_and_quality_are_monotone_in_the_latent() -> None:
    p = C.params_for("use-multilingual-v3")
    z = np.linspace(-15, 15, 301)
    q, s = C.predict_z(p.weights, p.cutpoints, z)
    assert np.all(np.diff(q) >= 0) and np.all(np.diff(s) >= 0)
    assert q[0] == 0 and q[-1] == 5
    assert s.min() >= 0 and s.max() <= 1


def test_spearman_matches_scipy() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 6, 50), rng.integers(0, 6, 50)
    assert F.spearman(a, b) == pytest.approx(spearmanr(a, b)[0])
