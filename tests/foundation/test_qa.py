"""Interview Q&A importer."""

from __future__ import annotations

from pathlib import Path

from labdeck.ingest.load import detect_and_parse


def test_seed_qa_counts(seeds: Path) -> None:
    doc = detect_and_parse(seeds / "interview-qa-genai.md")
    assert doc.kind == "qa"
    assert doc.title == "常見生成式 AI 面試問題"
    assert [len(c.items) for c in doc.chapters] == [12, 17, 12, 14, 7]
    assert doc.item_count == 62
    assert all(item.body for c in doc.chapters for item in c.items)
    assert doc.chapters[3].title == "嵌入"  # the ### sub-section is a chapter
    # numbering restarts per section and questions keep their own numbers
    assert [i.number for i in doc.chapters[1].items] == list(range(1, 18))
    first = doc.chapters[0].items[0]
    assert first.title == "生成模型和判別模型之間的區別是什麼？"
    assert "[image: 60_fig_8 — img/60_fig_8.png]" in first.body
    # an indented numbered list inside an answer is not a question
    metrics = doc.chapters[4].items[3]
    assert "困惑度" in metrics.body


MIXED = """# Interview

## Section one

1. **Plain bold question?**

- Answer:

    The answer.

    1. an indented list
    2. still the answer

---

**2.** Bold number question?

- 答案: inline answer start
  continues here

---

**3. Whole line bold?**

- 回答

    Third answer with ![fig](img/a.png) and [a link](https://example.org).

### Sub section

1. Question without answer bullet

Some text directly under it.

---

2. Another one

- Answer**:**

    Fine.
"""


def test_mixed_numbering_styles(tmp_path: Path) -> None:
    path = tmp_path / "qa.md"
    path.write_text(MIXED, encoding="utf-8")
    doc = detect_and_parse(path)
    assert [c.title for c in doc.chapters] == ["Section one", "Sub section"]
    one, two, three = doc.chapters[0].items
    assert one.title == "Plain bold question?"
    assert "1. an indented list" in one.body
    assert two.title == "Bold number question?"
    assert two.body.startswith("inline answer start")
    assert three.title == "Whole line bold?"
    assert "[image: fig — img/a.png]" in three.body
    assert "[a link](https://example.org)" in three.body
    sub = doc.chapters[1].items
    assert [i.title for i in sub] == ["Question without answer bullet", "Another one"]
    assert sub[0].body == "Some text directly under it."
    assert sub[1].body == "Fine."


def test_unindented_list_inside_answer_is_not_a_question(tmp_path: Path) -> None:
    text = "## S\n\n1. Q one\n\n- Answer:\n\n1. first step\n2. second step\n\n---\n\n2. Q two\n\n- Answer: b\n"
    path = tmp_path / "qa.md"
    path.write_text(text, encoding="utf-8")
    doc = detect_and_parse(path)
    items = doc.chapters[0].items
    assert [i.title for i in items] == ["Q one", "Q two"]
    assert "1. first step" in items[0].body


def test_continuous_numbering_and_answer_bullet_variants(tmp_path: Path) -> None:
    text = (
        "# Deck title\n\n## Part A\n\n1) First?\n\n- **Answer:** one\n\n"
        "2) Second?\n\n- A: two\n- a list item that belongs to the answer\n\n"
        "## Part B\n\n3. Third, numbering continues?\n\n- Answer\n\n    three\n\n"
        "4. Fourth?\n\n- answers vary is not an answer bullet\n\n- 答：四\n"
    )
    path = tmp_path / "qa.md"
    path.write_text(text, encoding="utf-8")
    doc = detect_and_parse(path)
    assert doc.title == "Deck title"
    assert [[i.title.splitlines()[0] for i in c.items] for c in doc.chapters] == [
        ["First?", "Second?"],
        ["Third, numbering continues?", "Fourth?"],
    ]
    first, second = doc.chapters[0].items
    assert first.body == "one"
    assert second.body.startswith("two") and "a list item" in second.body
    third, fourth = doc.chapters[1].items
    assert third.body == "three"
    assert fourth.body == "四"
    assert "answers vary" in fourth.title  # text between question and bullet stays with it
