"""Hard-wrapped notes: a paragraph wrapped at ~80 columns is one paragraph, as Markdown reads
it. The grader reads a line break as a sentence end, so the key points derived from wrapped
notes stopped mid-clause ("Unlike BatchNorm it does not depend on" / "the batch.") and lost
a wrapped sentence's first words (QA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labdeck.grading.keypoints import derive_key_points
from labdeck.ingest.load import detect_and_parse
from labdeck.ingest.paragraphs import unwrap_paragraphs

WRAPPED = """---
title: Wrapped notes
---

# Q1 Regularisation

## What is dropout and why does it help?

Dropout randomly zeroes activations with probability p during training, which
prevents co-adaptation of units and acts like an ensemble. At test time the
activations are scaled (or inverted dropout scales at train time).

- it reduces overfitting on small datasets because no unit can rely on
  any single other unit being present
- it costs longer training

## Explain layer normalization

LayerNorm normalises each token's features to zero mean and unit variance,
then applies a learned gain and bias. Unlike BatchNorm it does not depend on
the batch.

## 什么是梯度裁剪？

梯度裁剪把梯度的范数限制在
一个阈值以内，防止梯度爆炸。
"""


def _items(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "wrapped.md"
    path.write_text(WRAPPED, encoding="utf-8")
    doc = detect_and_parse(path)
    return {item.title: item.body or "" for chapter in doc.chapters for item in chapter.items}


def test_a_wrapped_paragraph_and_list_item_import_as_one_line_each(tmp_path: Path) -> None:
    bodies = _items(tmp_path)
    dropout = bodies["What is dropout and why does it help?"].split("\n")
    assert dropout[0].startswith("Dropout randomly") and dropout[0].endswith("at train time).")
    assert "At test time the activations are scaled" in dropout[0]
    assert dropout[2] == (
        "- it reduces overfitting on small datasets because no unit can rely on any single "
        "other unit being present"
    )
    assert dropout[3] == "- it costs longer training"
    assert bodies["Explain layer normalization"].count("\n") == 0
    assert bodies["什么是梯度裁剪？"] == "梯度裁剪把梯度的范数限制在一个阈值以内，防止梯度爆炸。"


def test_key_points_derived_from_wrapped_notes_are_whole_sentences(tmp_path: Path) -> None:
    bodies = _items(tmp_path)
    points = derive_key_points(bodies["Explain layer normalization"])
    assert any("Unlike BatchNorm it does not depend on the batch" in p for p in points), points
    assert not any(p.startswith(("then ", "the batch")) for p in points), points
    points = derive_key_points(bodies["What is dropout and why does it help?"])
    assert any("At test time the activations are scaled" in p for p in points), points


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b\nc d", "a b c d"),
        ("one.  \ntwo", "one.  \ntwo"),  # a hard break stays
        ("line\\\nnext", "line\\\nnext"),
        ("para\n\nnext para", "para\n\nnext para"),
        ("text\n- item\n  more\n- other", "text\n- item more\n- other"),
        ("1. first\n2. second", "1. first\n2. second"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "| a | b |\n|---|---|\n| 1 | 2 |"),
        ("```\ncode one\ncode two\n```\nafter\nwrap", "```\ncode one\ncode two\n```\nafter wrap"),
        ("$$\na = b\nc = d\n$$\nx", "$$\na = b\nc = d\n$$\nx"),
        ("# Heading\ntext", "# Heading\ntext"),
        ("text\n> quote", "text\n> quote"),
        ("text\n![img](a.png)", "text\n![img](a.png)"),
        ("text\n---", "text\n---"),
        ("分布\n式训练", "分布式训练"),
        ("text:\n\n    x = 1\n    y = 2", "text:\n\n    x = 1\n    y = 2"),  # indented code
        ("中文\nEnglish", "中文 English"),
    ],
)
def test_unwrap_joins_only_what_markdown_joins(text: str, expected: str) -> None:
    assert unwrap_paragraphs(text) == expected
