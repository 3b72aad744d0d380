"""Key-point spans are shown in the learner's own characters (QA: the checklist's quote of a
Chinese answer turned its full-width punctuation into ASCII, "资讯瓶颈,长句子")."""

from __future__ import annotations

from typing import Any

from labdeck.grading.spans import as_written

TRADITIONAL = "因為資訊瓶頸，長句子的效果會變差；編碼器把整句壓成一個固定長度的向量。"


def test_a_graded_chinese_answers_spans_keep_its_punctuation(grader: Any) -> None:
    result = grader.grade(
        reference="编码器把整句压缩成一个固定长度的向量，这是信息瓶颈，长句子效果变差。",
        answer=TRADITIONAL,
        key_points=["编码器把整句压缩成固定长度向量", "这是信息瓶颈，长句子效果变差"],
    )
    spans = [k.span for k in result.key_points if k.span]
    assert spans, "the answer covers both points"
    for span in spans:
        assert span in TRADITIONAL, f"{span!r} is not the learner's text"
    assert any("，" in span for span in spans)


def test_width_spacing_and_markdown_are_folded_to_find_the_span() -> None:
    answer = "**Attention** uses a  ｓｏｆｔｍａｘ\nover scores."
    assert as_written(answer, "Attention uses a softmax over scores.") == answer[2:]
    assert as_written("甲，乙", "甲,乙") == "甲，乙"


def test_a_clause_glued_to_its_neighbour_is_shown_with_its_comma() -> None:
    """QA: the quote read "x y" where the learner wrote "x,y": the segmenter cuts at commas and
    colons and glues a short clause to the next with a space, and the span was not found."""
    from labdeck.grading import segment

    for answer in (
        "Keys, values and queries are all projections of x,y pairs: the inputs.",
        "先算分数，再做 softmax：得到权重，最后、加权求和值向量。",
        "It is cheap -- one pass — and exact, i.e. no sampling.",
    ):
        pieces = segment.answer_segments(answer)
        assert any(" " in p and p not in answer for p in pieces), pieces  # the QA's case
        for piece in pieces:
            shown = as_written(answer, piece)
            assert shown is not None and shown in answer, (piece, shown)


def test_a_span_not_in_the_answer_is_left_as_it_is() -> None:
    assert as_written("something else", "not there") == "not there"
    assert as_written("text", None) is None
    assert as_written("text", "") == ""


def test_key_points_are_shown_as_their_author_wrote_them(grader: Any) -> None:
    """A key point "softmax 得到的权重（非负、和为1）" was shown "softmax 得到的权重(非负、和为1)":
    the text the grader matches (width folded) was the text the learner saw."""
    written = ["softmax 得到的权重（非负、和为1）", "对 **值向量** 加权求和"]
    result = grader.grade(
        reference="注意力权重由 softmax 得到（非负、和为1），再对值向量加权求和。",
        answer="权重非负而且和为1，然后加权求和值向量",
        key_points=written,
    )
    assert [k.text for k in result.key_points] == [written[0], "对 值向量 加权求和"]
    assert sum(k.covered for k in result.key_points) >= 1  # matching still works


def test_derived_key_points_are_shown_in_the_references_characters(grader: Any) -> None:
    reference = "注意力权重由 softmax 得到（非负、和为1）。再对值向量加权求和。"
    result = grader.grade(reference=reference, answer="权重非负且和为1")
    assert result.key_points and all(k.text in reference for k in result.key_points)
    assert any("（非负、和为1）" in k.text for k in result.key_points)
    blank = grader.grade(reference=reference, answer="")
    assert [k.text for k in blank.key_points] == [k.text for k in result.key_points]


def test_key_points_keep_width_and_lose_only_control_characters(grader: Any) -> None:
    """The grader compares key points cleaned (full width folded); the result shows them as
    written, control characters stripped only (issue 15: "（非负、和为1）" came back as ASCII)."""
    written = ["Softmax 的输出（非负、和为1）是概率分布", "温度：\x1b[31m越低越尖锐\x1b[0m！"]
    result = grader.grade(
        reference="Softmax 的输出非负、和为1，是概率分布；温度越低分布越尖锐。",
        answer="softmax 输出（非负、和为１），是一个概率分布。温度越低越尖锐！",
        key_points=written,
    )
    assert [k.text for k in result.key_points] == [
        "Softmax 的输出（非负、和为1）是概率分布",
        "温度：越低越尖锐！",
    ]
    spans = [k.span for k in result.key_points if k.span]
    assert spans and all("（" in s or "！" in s for s in spans), spans  # the learner's typing


def test_derived_key_points_keep_the_references_characters(grader: Any) -> None:
    reference = "Softmax 的输出（非负、和为1）构成概率分布。温度越低，分布越尖锐；温度越高越平坦。"
    result = grader.grade(reference=reference, answer="输出是概率分布，温度低则尖锐。")
    texts = [k.text for k in result.key_points]
    assert texts and all(t in reference for t in texts), texts
    assert any("（" in t for t in texts), texts


def test_a_blank_answer_still_shows_the_key_points_as_written(grader: Any) -> None:
    result = grader.grade(reference="x", answer="", key_points=["ＡＩ（人工智能）"])
    assert [k.text for k in result.key_points] == ["ＡＩ（人工智能）"]
