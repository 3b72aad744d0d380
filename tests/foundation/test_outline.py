"""Exam-outline importer: structure of real and tricky documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from labdeck.ingest.common import ImportError_, read_document
from labdeck.ingest.load import detect_and_parse
from labdeck.ingest.outline import parse_outline


def parse(tmp_path: Path, text: str, name: str = "doc.md", newline: str = "\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return detect_and_parse(path)


def test_seed_outline_b_counts(seeds: Path) -> None:
    doc = parse_outline(seeds / "outline-exam-B.md", read_document(seeds / "outline-exam-B.md"))
    assert doc.title == "NLP-PreExamB"
    assert len(doc.chapters) == 14
    assert doc.item_count == 81
    assert [c.code for c in doc.chapters] == [f"B{i}" for i in range(1, 15)]
    b3 = doc.chapters[2]
    # ### sub-items fold into their parent item
    transformer = b3.items[0]
    assert "### 编码器" in (transformer.body or "")
    assert "### 解码器" in (transformer.body or "")
    # B12-B14 items mostly have no notes: flagged as having no reference
    empty = [i.title for c in doc.chapters[11:] for i in c.items if i.body is None]
    assert len(empty) == 13
    assert doc.chapters[13].items[1].body == "- 网络\n- 艺术\n- 专业等"


def test_seed_outline_c_counts(seeds: Path) -> None:
    doc = detect_and_parse(seeds / "outline-exam-C.md")
    assert doc.kind == "outline"
    assert (len(doc.chapters), doc.item_count) == (8, 49)
    assert doc.chapters[0].description.startswith("通过未标注的数据")
    assert all(item.body for c in doc.chapters for item in c.items)


TRICKY = """---
title: "My Outline"
tags: [a, b]
---

An intro line that is ignored.

<!-- more -->

# A1 First chapter

A description paragraph.

## Item with code

```python
# not a heading
## not an item either
x = 1
```

After the code.

## Item with table

| a | b |
|---|---|
| 1 | 2 |

> a quote with $\\sqrt{d_k}$

### Sub item

- nested
  - list

## Empty item

# A2 Second chapter

## Only item
Text.
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_tricky_outline(tmp_path: Path, newline: str) -> None:
    doc = parse(tmp_path, TRICKY, newline=newline)
    assert doc.title == "My Outline"
    assert [c.code for c in doc.chapters] == ["A1", "A2"]
    first = doc.chapters[0]
    assert first.description == "A description paragraph."
    assert [i.title for i in first.items] == ["Item with code", "Item with table", "Empty item"]
    code_item, table_item, empty = first.items
    assert "# not a heading" in code_item.body and "## not an item either" in code_item.body
    assert "| 1 | 2 |" in table_item.body
    assert "$\\sqrt{d_k}$" in table_item.body
    assert "### Sub item" in table_item.body and "  - list" in table_item.body
    assert empty.body is None
    assert "\r" not in code_item.body


def test_outline_without_more_marker(tmp_path: Path) -> None:
    doc = parse(tmp_path, "# B1 Title\n\n## Item\n\nnotes\n")
    assert doc.title == "doc"
    assert doc.chapters[0].items[0].body == "notes"


def test_control_sequences_are_stripped(tmp_path: Path) -> None:
    doc = parse(
        tmp_path, "# B1 T\n\n## It\x1b[31mem\n\nred \x1b[1mbold\x1b[0m\x07 text\x1b]0;title\x07\n"
    )
    item = doc.chapters[0].items[0]
    assert item.title == "Item"
    assert item.body == "red bold text"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("## Item before chapter\n\n# B1 Chapter\n## ok\n", 1, "before any chapter"),
        ("# B1 Chapter\n## ok\n```\n# B2 x\n", 3, "never closed"),
        ("---\ntitle: x\n# B1 Chapter\n## ok\n", 1, "front matter"),
        ("# B1 A\n## x\n# B1 Again\n## y\n", 3, "appears twice"),
    ],
)
def test_malformed_outline_names_line(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportError_) as info:
        detect_and_parse(path)
    assert info.value.line == line
    assert expected in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("# B1 caf\u00e9\n## x\n".encode("latin-1"), "UTF-8"),
        (b"just some prose\nwithout structure\n", "unknown format"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "file.md"
    path.write_bytes(content)
    with pytest.raises(ImportError_) as info:
        detect_and_parse(path)
    assert expected in str(info.value)


def test_plain_notes_with_question_headings_import_as_one_chapter(tmp_path: Path) -> None:
    """A Markdown file of '## question' headings and answers, with no '# B1 Chapter', was
    refused as an unknown format (QA)."""
    doc = parse(
        tmp_path,
        "intro before the first question\n\n## What is dropout?\n\nRandom zeroing.\n\n"
        "```\n## not a heading\n```\n\n## 什么是梯度裁剪？\n\n限制梯度范数。\n",
        name="my notes.md",
    )
    assert doc.kind == "outline" and doc.title == "my notes"
    assert [(c.code, c.title) for c in doc.chapters] == [("CH1", "my notes")]
    assert [i.title for i in doc.chapters[0].items] == ["What is dropout?", "什么是梯度裁剪？"]
    assert doc.chapters[0].items[0].body == "Random zeroing.\n\n```\n## not a heading\n```"
    titled = parse(
        tmp_path, "---\ntitle: ML notes\n---\n\n## Q one\n\nA.\n\n# Part two\n\n## Q two\n\nB.\n"
    )
    assert [(c.code, c.title) for c in titled.chapters] == [
        ("CH1", "ML notes"),
        ("CH2", "Part two"),
    ]
    # an outline with chapter codes still names an item before its first chapter
    with pytest.raises(ImportError_, match="comes before any chapter"):
        parse(tmp_path, "## early\n\ntext\n\n# B1 Chapter\n\n## Item\n\nbody\n")
