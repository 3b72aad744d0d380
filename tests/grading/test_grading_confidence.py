"""Confidence and sure/unsure (issue 13 §1), the panel's consistency with the suggestion, and the
``grade --jsonl`` output (§4), through the real grader and the real multilingual model."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labdeck.cli import main
from labdeck.grading import abstain as A
from labdeck.grading import calibration as C
from labdeck.grading import fitting as F
from labdeck.grading.grader import STATE_MARGIN, Grader, GradeResult

# The dev and held-out sets are graded once per worker (grading/conftest.py); every test
# that reads them runs on the same worker (`--dist loadgroup`, pyproject.toml).
pytestmark = pytest.mark.xdist_group("dev-set")

REF = "Dividing by sqrt(d_k) keeps the dot products from saturating the softmax."
KPS = ["Large dot products saturate the softmax.", "Dividing by sqrt(d_k) rescales the scores."]

# Measured (docs/grading.md, 'Confidence'): leaving one writer out (5 writers), sure on 26 %
# (given key points) / 21 % (derived) with pass/fail accuracy 0.97 / 0.97 and MAE 0.43 / 0.39;
# on the held-out writer, as shipped, sure on 16 % / 16 %, accuracy 1.00 / 0.94, MAE 0.38 / 0.50.
FLOOR_SURE_SHARE = 0.12
FLOOR_SURE_ACC = 0.92
CEIL_SURE_MAE = 0.6


def test_clear_cases_are_sure_and_borderline_ones_are_not(grader: Grader) -> None:
    right = grader.grade(REF, REF, KPS)
    unrelated = grader.grade(REF, "The capital of France is Paris.", KPS)
    blank = grader.grade(REF, "  ", KPS)
    assert right.sure and right.quality >= 4
    assert unrelated.sure and unrelated.quality <= 1
    assert blank.sure and blank.confidence == 1.0 and blank.quality == 0
    # a one-word gist and a fluent wrong answer in the reference's words: the grader cannot tell
    for answer in ("Because the softmax.", "Dividing by d_k makes it faster."):
        result = grader.grade(REF, answer, KPS)
        assert not result.sure, answer
        assert result.confidence < right.confidence
    for result in (right, unrelated, blank):
        assert 0.0 <= result.confidence <= 1.0


def test_sure_is_confidence_over_the_shipped_threshold(grader: Grader) -> None:
    model = grader.params.confidence_model()
    assert model is not None and 0.5 < model.threshold < 1.0
    for answer in (REF, "Because the softmax.", "It is about attention.", "Paris."):
        result = grader.grade(REF, answer, KPS)
        assert result.sure == (result.confidence >= model.threshold)


def _panel_violations(result: GradeResult) -> list[str]:
    bad = []
    if result.quality >= 4 and any(k.contradicted for k in result.key_points):
        bad.append("quality >= 4 next to a contradicted key point")
    if any(k.covered and k.contradicted for k in result.key_points):
        bad.append("a key point shown both covered and contradicted")
    if any(k.contradicted and not k.span for k in result.key_points):
        bad.append("a contradicted key point without the span at fault")
    return bad


@pytest.mark.parametrize("condition", ["given", "derived"])
def test_the_panel_never_contradicts_the_suggestion_over_the_dev_set(
    dev_items: list[dict[str, Any]], dev_results: dict[str, list[GradeResult]], condition: str
) -> None:
    violations = [
        (item["id"], v)
        for item, result in zip(dev_items, dev_results[condition], strict=True)
        for v in _panel_violations(result)
    ]
    assert not violations, violations[:10]


def test_a_reference_never_contradicts_its_own_key_points(grader: Grader) -> None:
    """The lexical check misread some shipped cards' references as contradicting their own key
    points (b1.2: 'the decoder sees the source only through one fixed-length vector' against
    'attention computes a different context vector at every decoding step'); with the
    contradiction cap that turned the reference itself into a 3."""
    import tomllib

    chapter = Path(__file__).resolve().parents[2] / "content" / "exam-b" / "B01.toml"
    card = next(c for c in tomllib.loads(chapter.read_text("utf-8"))["cards"] if c["id"] == "b1.2")
    result = grader.grade(card["answer"], card["answer"], card["key_points"])
    assert not any(k.contradicted for k in result.key_points)
    assert result.quality == 5


def test_one_general_sentence_no_longer_covers_three_derived_points(
    grader: Grader, dev_items: list[dict[str, Any]]
) -> None:
    item = next(
        it
        for it in dev_items
        if it["answer"].startswith("VQ-VAE has a continuous Gaussian latent with a KL term")
    )
    result = grader.grade(item["reference"], item["answer"])
    span = "but the codebook is fixed and the encoder gets no gradient."
    sharing = [k for k in result.key_points if k.covered and k.span == span]
    assert len(sharing) <= 1, [k.text for k in sharing]


def test_points_sharing_a_span_each_state_it(
    grader: Grader, dev_results: dict[str, list[GradeResult]]
) -> None:
    """Where derived points still share a covering span, the span clears the cover threshold by
    STATE_MARGIN for each of them but the best (cosines recomputed with the real model, on the
    piece of the cleaned answer the grader measured: the span shown is in the learner's own
    characters and punctuation)."""
    threshold = grader.params.cover_threshold
    shared = []
    for result in dev_results["derived"]:
        by_span: dict[str, list[str]] = defaultdict(list)
        for k in result.key_points:
            if k.covered and k.piece:
                by_span[k.piece].append(k.text)
        shared += [(span, points) for span, points in by_span.items() if len(points) > 1]
    for span, points in shared:
        vecs = grader.embedder.encode([span, *points])
        sims = sorted((vecs[1:] @ vecs[0]).tolist(), reverse=True)
        assert all(s >= threshold + STATE_MARGIN - 1e-3 for s in sims[1:]), (span, points, sims)


@pytest.fixture(scope="module")
def writer_cv(grader: Grader, dev_both: tuple[F.EvalData, F.EvalData]) -> list[Any]:
    given, derived = dev_both
    return A.cross_validate_writers(grader.params, [given, derived], F.sources_of(given.items))


def test_leave_one_writer_out_abstention_holds(
    dev_both: tuple[F.EvalData, F.EvalData], writer_cv: list[Any]
) -> None:
    given, derived = dev_both
    cv = writer_cv
    for (q, conf, sure), data in zip(cv, (given, derived), strict=True):
        share, acc, mae = A.sure_figures(sure, q, data.labels)
        report = (share, acc, mae)
        assert share >= FLOOR_SURE_SHARE and acc >= FLOOR_SURE_ACC and mae <= CEIL_SURE_MAE, report
        rows = A.risk_coverage(conf, q, data.labels)
        # the most confident answers are graded better than all of them
        assert rows[-1][1] >= rows[0][1] + 0.1 and rows[-1][2] <= rows[0][2] - 0.2, rows


def test_held_out_abstention_holds(
    grader: Grader, holdout_both: tuple[F.EvalData, F.EvalData]
) -> None:
    for data in holdout_both:
        q, conf, sure = C.assess_many(grader.params, data.signals)
        share, acc, mae = A.sure_figures(sure, q, data.labels)
        report = (share, acc, mae)
        assert share >= FLOOR_SURE_SHARE and acc >= FLOOR_SURE_ACC and mae <= CEIL_SURE_MAE, report


@pytest.mark.xfail(
    reason="issue 13 target not reached: sure on >= 50 % with pass/fail accuracy >= 0.95; "
    "leaving one writer out the grader is sure on 24 % "
    "(docs/grading.md, 'Confidence')",
    strict=False,
)
def test_abstention_meets_the_issue_target(
    dev_both: tuple[F.EvalData, F.EvalData], writer_cv: list[Any]
) -> None:
    given = dev_both[0]
    q, _conf, sure = writer_cv[0]
    share, acc, mae = A.sure_figures(sure, q, given.labels)
    assert share >= 0.5 and acc >= 0.95 and mae <= 0.6


def test_choose_threshold_takes_the_widest_cut_that_reaches_the_target() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    ok = np.array([1, 1, 1, 1, 0, 1, 0], dtype=bool)
    assert A.choose_threshold(conf, ok, target=0.95) == 0.8
    assert A.choose_threshold(conf, ok, target=0.8) == 0.6
    # ties are never split
    tied = np.array([0.9, 0.9, 0.9, 0.5, 0.5])
    assert A.choose_threshold(tied, np.array([1, 1, 1, 1, 0], dtype=bool), target=0.95) == 0.9
    # none reaches the target: the most accurate cut
    assert A.choose_threshold(tied, np.array([1, 0, 0, 1, 1], dtype=bool), target=0.95) == 0.5
    rows = A.risk_coverage(conf, np.array([5, 5, 5, 5, 5, 0, 0]), np.array([5, 4, 5, 5, 0, 0, 5]))
    assert rows[0] == (1.0, pytest.approx(5 / 7), pytest.approx(11 / 7))
    assert rows[-1][1] == 1.0


def test_grade_prints_the_verdict(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--reference", REF, "--answer", REF]) == 0
    assert "· sure (confidence" in capsys.readouterr().out.splitlines()[0]
    assert main(["grade", "--reference", REF, "--answer", "Because the softmax."]) == 0
    assert "· unsure: tick the key points (confidence" in capsys.readouterr().out


def test_grade_jsonl_keeps_its_fields_and_adds_confidence_and_checklist(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"id": "a", "reference": REF, "key_points": KPS, "answer": REF},
        {"id": "b", "reference": REF, "answer": "Because the softmax."},
        {"reference": REF, "key_points": KPS, "answer": ""},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["grade", "--jsonl", str(src)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    old = {
        "score",
        "quality",
        "language",
        "reference_language",
        "model_id",
        "used_notes",
        "key_points",
        "covered",
        "missed",
        "signals",
    }
    assert [o.get("id") for o in out] == ["a", "b", None]
    for line, row in zip(out, rows, strict=True):
        assert old <= set(line), line.keys()
        assert isinstance(line["confidence"], float) and 0 <= line["confidence"] <= 1
        assert isinstance(line["sure"], bool)
        checklist = line["checklist"]
        assert [c["n"] for c in checklist] == list(range(1, len(line["key_points"]) + 1))
        for c, kp in zip(checklist, line["key_points"], strict=True):
            assert c["point"] == kp["text"]
            assert c["verdict"] == (
                "contradicted" if kp["contradicted"] else "covered" if kp["covered"] else "missed"
            )
        if row.get("key_points"):
            assert [c["point"] for c in checklist] == KPS
    assert out[0]["sure"] is True and out[1]["sure"] is False and out[2]["sure"] is True
