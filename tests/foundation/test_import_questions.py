"""Import like a learner expects: the preview lists questions, and an outline heading that is
a bare term becomes a prompt with its chapter's context (real files, real SQLite home)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck.cli import main
from labdeck.ingest.prompts import english_term, glosses, is_bare_term, outline_prompt
from labdeck.store import open_store
from labdeck.store.models import Card

OUTLINE = """---
title: Linguistics notes
---

# A1 语言结构 Linguistic structure

Covers morphology, syntax and word vectors (词向量).

## 语言结构

结构的笔记。

## 詞向量

繁体写的标题。

## Attention

Notes on attention.

## 什么是句法树？

一个问题。

## Explain why self-attention scales quadratically with length

An instruction.

# A2 Semantics

## 语义角色

没有英文。
"""

QA = """# 我的问题

## 基础

1. 什么是注意力？
- 答案: 加权求和。

2. How does dropout regularise a network?
- Answer: It drops units at random.
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def empty_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    return home


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "docs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the shape of a bare term


@pytest.mark.parametrize(
    "heading",
    ["语言结构", "词向量", "Attention", "Positional encoding", "KV cache", "DDPM（图模型、ELBO）"],
)
def test_topic_headings_are_bare_terms(heading: str) -> None:
    assert is_bare_term(heading)


@pytest.mark.parametrize(
    "heading",
    [
        "什么是词向量？",
        "为什么要缩放点积",
        "解释多头注意力",
        "What is attention",
        "How does BERT mask tokens",
        "Explain the bottleneck",
        "Attention is all you need",
        "Attention removes the bottleneck. It helps.",
        "A rather long heading that runs on with many words about one topic",
    ],
)
def test_questions_and_instructions_are_not_bare_terms(heading: str) -> None:
    assert not is_bare_term(heading)


def test_glosses_pair_terms_written_in_either_order() -> None:
    found = glosses("Covers word vectors (词向量) and 注意力机制（attention mechanism）.")
    assert found == {"词向量": "word vectors", "注意力机制": "attention mechanism"}


def test_english_term_comes_from_the_chapter_only() -> None:
    assert english_term("词向量", "Word representations", ["Dense word vectors (词向量)."])
    assert english_term("语义角色", "Semantics", ["Nothing paired here."]) is None
    assert english_term("Attention", "注意力", ["注意力（Attention）"]) is None  # English already
    assert (
        outline_prompt("语言结构", "A1", "Linguistic structure", [], "语言结构")
        == "A1 Linguistic structure › 语言结构 (Linguistic structure)"
    )
    assert outline_prompt("什么是语言结构？", "A1", "Linguistic structure", []) == (
        "什么是语言结构？"
    )


# ---------------------------------------------------------------- stored prompts


def test_bare_outline_headings_get_the_chapter_context(tmp_path: Path, empty_home, capsys) -> None:
    doc = write(tmp_path, "linguistics.md", OUTLINE)
    code, _, err = run(capsys, "import", str(doc))
    assert code == 0, err
    with Session(open_store(empty_home).engine) as session:
        cards = {c.source_title: c for c in session.exec(select(Card)).all()}
    context = "A1 语言结构 Linguistic structure › "
    assert cards["语言结构"].prompt == f"{context}语言结构 (Linguistic structure)"
    # traditional script matches the simplified gloss in the chapter description
    assert cards["詞向量"].prompt == f"{context}詞向量 (word vectors)"
    assert cards["Attention"].prompt == f"{context}Attention"
    assert cards["语义角色"].prompt == "A2 Semantics › 语义角色"
    # questions and instructions stay as written
    assert cards["什么是句法树？"].prompt == "什么是句法树？"
    explain = "Explain why self-attention scales quadratically with length"
    assert cards[explain].prompt == explain
    # matching and keys still use the heading itself
    assert all(c.key.startswith("linguistics-notes:A") for c in cards.values())


def test_unmatched_heading_in_a_shipped_chapter_uses_its_english_title(
    tmp_path: Path, home: Path, capsys
) -> None:
    doc = write(
        tmp_path,
        "b1.md",
        "---\ntitle: My B notes\n---\n\n# B1 注意力机制\n\n## 注意力机制\n\n笔记。\n\n"
        "## 软对齐\n\n笔记。\n",
    )
    code, out, err = run(capsys, "import", "--into", "exam-b", str(doc))
    assert code == 0, err
    with Session(open_store(home).engine) as session:
        own = {
            c.source_title: c.prompt
            for c in session.exec(select(Card).where(Card.source_path == str(doc.resolve())))
        }
    assert own == {
        "注意力机制": "B1 The attention mechanism › 注意力机制 (The attention mechanism)",
        "软对齐": "B1 The attention mechanism › 软对齐",
    }


# ---------------------------------------------------------------- previews list questions


def test_cli_dry_run_lists_questions_not_slugs(tmp_path: Path, empty_home, capsys) -> None:
    outline = write(tmp_path, "linguistics.md", OUTLINE)
    qa = write(tmp_path, "qa.md", QA)
    code, out, err = run(capsys, "import", "--dry-run", str(outline), str(qa))
    assert code == 0, err
    lines = out.splitlines()
    assert "  + A1 语言结构 Linguistic structure › 语言结构 (Linguistic structure)" in lines
    assert "  + 什么是句法树？" in lines
    assert "  + 什么是注意力？" in lines  # in the language it is written
    assert "  + How does dropout regularise a network?" in lines
    assert not any("linguistics-notes:" in line or "我的问题:" in line for line in lines)
    # a dry run wrote nothing
    with Session(open_store(empty_home).engine) as session:
        assert session.exec(select(Card)).first() is None


def test_json_report_carries_the_questions(tmp_path: Path, empty_home, capsys) -> None:
    qa = write(tmp_path, "qa.md", QA)
    code, out, _ = run(capsys, "import", "--json", str(qa))
    assert code == 0
    report = json.loads(out)[0]
    assert sorted(report["labels"][k] for k in report["created"]) == [
        "How does dropout regularise a network?",
        "什么是注意力？",
    ]


def test_preview_of_attached_notes_names_heading_and_card(seeds: Path, home: Path, capsys) -> None:
    code, out, err = run(capsys, "import", "--dry-run", str(seeds / "outline-exam-B.md"))
    assert code == 0, err
    attached = [line for line in out.splitlines() if line.startswith("  ✎ ")]
    assert len(attached) == 81
    assert attached[0].startswith("  ✎ Seq2seq 基础 → Describe the basic RNN encoder")
    assert not any("exam-b:b" in line for line in attached)


def test_csv_dry_run_lists_questions_too(tmp_path: Path, empty_home, capsys) -> None:
    csv = write(tmp_path, "words.csv", 'front,back\n"What is 2+2?",four\n词向量是什么？,向量\n')
    code, out, err = run(capsys, "import", "--dry-run", str(csv))
    assert code == 0, err
    assert out.splitlines()[1:] == ["  + What is 2+2?", "  + 词向量是什么？"]


ENGLISH_CHAPTER = """---
title: Ling
---

# A1 Linguistic structure

Morphology, syntax, word vectors and distributional semantics.

## 语言结构

## 词向量

## 注意力

# A2 注意力机制

## 多头注意力
"""


def test_english_term_named_by_the_chapter_text_with_the_grading_model(
    tmp_path: Path, empty_home, capsys
) -> None:
    """No gloss in the document: the English phrase of the chapter's title or description that
    a Chinese heading translates is found with the (real) multilingual grading model."""
    doc = write(tmp_path, "ling.md", ENGLISH_CHAPTER)
    code, out, err = run(capsys, "import", "--dry-run", str(doc))
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "  + A1 Linguistic structure › 语言结构 (Linguistic structure)",
        "  + A1 Linguistic structure › 词向量 (word vectors)",
        "  + A1 Linguistic structure › 注意力",  # the chapter does not name it: no term
        "  + A2 注意力机制 › 多头注意力",  # no English text in the chapter
    ]


def test_no_model_means_no_term_and_the_import_goes_on() -> None:
    from labdeck.ingest.prompts import EnglishTerms

    def unavailable():
        raise RuntimeError("grading model unavailable")

    finder = EnglishTerms(unavailable)
    prompt = outline_prompt("语言结构", "A1", "Linguistic structure", [], None, finder)
    assert prompt == "A1 Linguistic structure › 语言结构"


def test_candidate_phrases_skip_function_words() -> None:
    from labdeck.ingest.prompts import EnglishTerms

    phrases = EnglishTerms(lambda: None).phrases("The role of scaling, and word vectors.")
    assert "role of scaling" in phrases and "word vectors" in phrases
    assert not any(p.lower().startswith(("the ", "and ")) or p.endswith(" of") for p in phrases)
