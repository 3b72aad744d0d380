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


def test_a_span_not_in_the_answer_is_left_as_it_is() -> None:
    assert as_written("something else", "not there") == "not there"
    assert as_written("text", None) is None
    assert as_written("text", "") == ""
