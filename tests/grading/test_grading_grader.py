"""The grader with the real default model: results, empties, long and mixed answers, notes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labdeck.grading.grader import Grader, GradeResult, GradingInputError

REFERENCE = (
    "The attention scores are dot products of query and key vectors of dimension d_k. Their "
    "variance grows with d_k, so large scores push the softmax into saturation and the "
    "gradients vanish. Dividing by sqrt(d_k) brings the variance back to about 1 and keeps "
    "training stable."
)
KEY_POINTS = [
    "The dot product of q and k has variance proportional to d_k.",
    "Large scores saturate the softmax and make its gradients vanish.",
    "Dividing by sqrt(d_k) rescales the scores to unit variance and stabilises training.",
]
GOOD = (
    "Because q·k sums d_k products, its variance grows with d_k. Big logits make the softmax "
    "nearly one-hot and its gradients vanish, so we scale by 1/sqrt(d_k) to keep the variance "
    "near one and training stable."
)
WRONG = (
    "We multiply the scores by sqrt(d_k) so that the gradients get larger; the variance of the "
    "dot product decreases as d_k grows."
)


def test_result_shape_and_json(grader: Grader) -> None:
    result = grader.grade(REFERENCE, GOOD, KEY_POINTS)
    assert isinstance(result, GradeResult)
    assert 0.0 <= result.score <= 1.0
    assert result.quality in range(6)
    assert result.language == "en"
    assert result.model_id == "use-multilingual-v3"
    assert [k.text for k in result.key_points] == KEY_POINTS
    assert {k.text for k in result.covered} | {k.text for k in result.missed} == set(KEY_POINTS)
    for kp in result.covered:
        assert kp.span and kp.span in GOOD
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) >= {"score", "quality", "key_points", "language", "model_id", "covered"}
    with pytest.raises(AttributeError):
        result.score = 1.0  # type: ignore[misc]  # frozen


def test_good_answer_beats_wrong_answer_that_reuses_the_words(grader: Grader) -> None:
    good = grader.grade(REFERENCE, GOOD, KEY_POINTS)
    wrong = grader.grade(REFERENCE, WRONG, KEY_POINTS)
    assert good.quality >= 4
    assert wrong.quality <= 2
    assert good.score > wrong.score


def test_reference_graded_against_itself_is_five(grader: Grader) -> None:
    assert grader.grade(REFERENCE, REFERENCE, KEY_POINTS).quality == 5
    assert grader.grade(REFERENCE, REFERENCE).quality == 5  # derived key points


def test_each_key_point_alone_is_covered(grader: Grader) -> None:
    for i, kp in enumerate(KEY_POINTS):
        result = grader.grade(REFERENCE, kp, KEY_POINTS)
        assert result.key_points[i].covered
        assert result.key_points[i].span == kp


@pytest.mark.parametrize("blank", ["", "   ", "\n\t  \u3000", "???", "…", "—— ！"])
def test_empty_answer_is_zero_without_a_model_call(counting: Any, blank: str) -> None:
    grader = Grader(counting)
    result = grader.grade(REFERENCE, blank, KEY_POINTS)
    assert (result.quality, result.score, result.language) == (0, 0.0, "empty")
    assert result.covered == [] and len(result.missed) == len(KEY_POINTS)
    assert counting.calls == []


def test_grade_many_matches_grade_and_keeps_order(grader: Grader) -> None:
    items = [
        {"reference": REFERENCE, "answer": GOOD, "key_points": KEY_POINTS},
        {"reference": REFERENCE, "answer": "", "key_points": KEY_POINTS},
        {"reference": REFERENCE, "answer": WRONG, "key_points": KEY_POINTS},
    ]
    many = grader.grade_many(items)
    single = [grader.grade(i["reference"], i["answer"], i["key_points"]) for i in items]
    assert [r.quality for r in many] == [r.quality for r in single]
    assert [round(r.score, 6) for r in many] == [round(r.score, 6) for r in single]


def test_batched_encoding(counting: Any) -> None:
    grader = Grader(counting)
    grader.grade_many(
        [{"reference": REFERENCE, "answer": a, "key_points": KEY_POINTS} for a in (GOOD, WRONG)]
    )
    assert len(counting.calls) == 2  # one call for the reference side, one for all answers


def test_key_points_derived_when_the_card_has_none(grader: Grader) -> None:
    result = grader.grade(REFERENCE, GOOD)
    assert len(result.key_points) == 3
    assert result.key_points[0].text.startswith("The attention scores")


def test_key_points_without_reference(grader: Grader) -> None:
    result = grader.grade(None, KEY_POINTS[1], KEY_POINTS)
    assert result.key_points[1].covered


def test_nothing_to_grade_against(grader: Grader) -> None:
    with pytest.raises(GradingInputError):
        grader.grade(None, GOOD, [])
    with pytest.raises(GradingInputError):
        grader.grade("   ", GOOD)


def test_long_answer_is_chunked_not_truncated(counting: Any) -> None:
    grader = Grader(counting)
    filler = " ".join(
        f"Filler sentence number {i} talks about cooking pasta and the weather." for i in range(150)
    )
    tail = "Finally, dividing by sqrt(d_k) rescales the scores to unit variance."
    result = grader.grade(REFERENCE, f"{filler} {tail}", KEY_POINTS)
    encoded = counting.texts
    assert all(len(t.split()) <= 100 for t in encoded)  # no piece longer than a chunk
    assert any(tail in t for t in encoded)  # the end of the answer was embedded
    assert result.key_points[2].covered
    assert result.key_points[2].span is not None and "sqrt(d_k)" in result.key_points[2].span
    assert result.quality <= 3  # mostly unrelated text


def test_chinese_answers_against_english_reference(grader: Grader) -> None:
    simp = (
        "点积是 d_k 个乘积之和，方差随 d_k 增长；分数太大时 softmax 饱和、梯度消失，"
        "所以除以 sqrt(d_k)，让方差回到 1 左右，训练更稳定。"
    )
    trad = (
        "點積是 d_k 個乘積之和，方差隨 d_k 增長；分數太大時 softmax 飽和、梯度消失，"
        "所以除以 sqrt(d_k)，讓方差回到 1 左右，訓練更穩定。"
    )
    r_simp = grader.grade(REFERENCE, simp, KEY_POINTS)
    r_trad = grader.grade(REFERENCE, trad, KEY_POINTS)
    assert r_simp.language == "zh-Hans" and r_trad.language == "zh-Hant"
    assert r_simp.quality >= 4 and r_trad.quality >= 4
    assert abs(r_simp.score - r_trad.score) < 0.05


def test_mixed_language_answer(grader: Grader) -> None:
    mixed = (
        "点积的 variance 和 d_k 成正比，数值太大时 softmax 会 saturate，gradient 消失，"
        "所以除以 sqrt(d_k) 把 variance 拉回 1，training 更稳定。"
    )
    result = grader.grade(REFERENCE, mixed, KEY_POINTS)
    assert result.language == "mixed"
    assert result.quality >= 4
    unrelated = grader.grade(REFERENCE, "今天的 weather 很好，我们去 park 散步吧。", KEY_POINTS)
    assert unrelated.quality <= 1


def test_notes_are_a_second_reference_in_their_language(grader: Grader) -> None:
    notes = "缩放的作用：点积方差随 d_k 增大，softmax 饱和导致梯度消失；除以根号 d_k 使方差为 1。"
    answer = "点积方差随维度增大，softmax 会饱和、梯度消失，除以根号 d_k 让方差变成 1。"
    without = grader.grade(REFERENCE, answer, KEY_POINTS)
    with_notes = grader.grade(REFERENCE, answer, KEY_POINTS, notes=notes)
    assert with_notes.used_notes
    assert with_notes.score >= without.score
    # An English answer does not use Chinese notes.
    english = grader.grade(REFERENCE, GOOD, KEY_POINTS, notes=notes)
    assert not english.used_notes


def test_a_contradicted_key_point_is_missed_and_shows_the_contradicting_part(
    grader: Grader,
) -> None:
    reference = (
        "In a seq2seq model the encoder reads the source sentence and the decoder generates "
        "the translation one token at a time."
    )
    key_points = [
        "The encoder reads the source sentence.",
        "The decoder generates the translation token by token.",
    ]
    answer = "The decoder reads the source sentence. The encoder generates the translation."
    result = grader.grade(reference, answer, key_points)
    assert [k.contradicted for k in result.key_points] == [True, True]
    assert [k.covered for k in result.key_points] == [False, False]
    assert result.key_points[1].span == "The encoder generates the translation."
    assert result.quality <= 2
    assert result.to_dict()["key_points"][0]["contradicted"] is True
    right = grader.grade(
        reference,
        "The encoder reads the source; the decoder generates the translation token by token.",
        key_points,
    )
    assert not any(k.contradicted for k in right.key_points)
    assert right.quality >= 4


def test_a_correct_answer_naming_both_roles_is_not_read_as_a_swap(grader: Grader) -> None:
    """Shipped card b1.1 (seq2seq). "The encoder … compresses it into a context vector" matched
    the reference's decoder sentence a shade better than its encoder one, read as encoder and
    decoder swapped, and every clause counted as unsupported: three of five points covered,
    graded 1 and *sure* (QA). A clause now swaps roles only against every reference piece it
    matches about as well as its best."""
    import tomllib
    from pathlib import Path

    deck = Path(__file__).resolve().parents[2] / "content" / "exam-b" / "B01.toml"
    card = next(
        c for c in tomllib.loads(deck.read_text(encoding="utf-8"))["cards"] if c["id"] == "b1.1"
    )
    answer = (
        "The encoder RNN reads the input sequence and compresses it into a context vector. The "
        "decoder RNN starts from it and generates the output one token at a time, conditioned "
        "on the context."
    )
    result = grader.grade(card["answer"], answer, key_points=list(card["key_points"]))
    assert sum(kp.covered for kp in result.key_points) >= 3
    assert not any(kp.contradicted for kp in result.key_points)
    assert result.quality >= 3, (result.quality, result.sure, result.score)
    # the roles really swapped still count as a swap: no credit for it
    swapped = answer.replace("encoder", "@").replace("decoder", "encoder").replace("@", "decoder")
    wrong = grader.grade(card["answer"], swapped, key_points=list(card["key_points"]))
    assert wrong.quality < result.quality


def _b11() -> dict:
    import tomllib
    from pathlib import Path

    deck = Path(__file__).resolve().parents[2] / "content" / "exam-b" / "B01.toml"
    cards = tomllib.loads(deck.read_text(encoding="utf-8"))["cards"]
    return next(c for c in cards if c["id"] == "b1.1")


def test_a_point_stated_right_about_its_own_entity_is_not_contradicted(grader: Grader) -> None:
    """QA on card b1.1: the encoder sentence ("… compresses them into … a fixed context
    vector") matched the decoder point ("the decoder RNN generates output tokens …,
    conditioned on the context vector") best, and swapped roles against it: ≠, while the
    next sentence said the point about the decoder. The decoder sentence now answers for it;
    a sentence about the right entity that makes another claim does not (the swapped answer
    keeps its ≠)."""
    card = _b11()
    points = list(card["key_points"])
    decoder = next(i for i, p in enumerate(points) if "decoder RNN generates" in p)
    right = (
        "The encoder RNN reads the source tokens and compresses them into a final hidden state, "
        "a fixed context vector. The decoder RNN starts from that vector and generates the "
        "output one token at a time, feeding back its previous token."
    )
    result = grader.grade(card["answer"], right, key_points=points)
    assert not any(kp.contradicted for kp in result.key_points)
    assert result.key_points[decoder].covered
    assert (result.key_points[decoder].span or "").startswith("The decoder RNN")
    # a point covered anyway is shown with the sentence about its own role: the encoder
    # sentence ("… a fixed-length context vector") matched the decoder point best (README)
    readme = (
        "The encoder RNN reads the source tokens and compresses them into a fixed-length "
        "context vector, its final hidden state. The decoder RNN starts from it and generates "
        "the output one token at a time."
    )
    shown = grader.grade(card["answer"], readme, key_points=points).key_points[decoder]
    assert shown.covered and (shown.span or "").startswith("The decoder RNN"), shown.span
    swapped = (
        "The decoder RNN reads the source tokens and compresses them into a fixed context "
        "vector. The encoder RNN then generates the output tokens one at a time, conditioned "
        "on the context vector."
    )
    wrong = grader.grade(card["answer"], swapped, key_points=points)
    assert wrong.key_points[0].contradicted  # "the encoder compresses …": said of the decoder
