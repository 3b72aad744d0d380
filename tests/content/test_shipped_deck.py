"""Quality checks of the shipped deck in content/ (issue: the shipped deck)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labdeck.config import content_dir
from labdeck.demos.registry import DEMO_IDS
from labdeck.ingest.deckfile import find_deck_dirs, parse_deck_dir
from labdeck.ingest.load import detect_and_parse, import_document, sync_content
from labdeck.store import open_store
from labdeck.store.queries import list_cards

DECKS = {d.key: d for d in (parse_deck_dir(p) for p in find_deck_dirs(content_dir()))}


def all_cards():
    for deck in DECKS.values():
        for chapter in deck.chapters:
            for card in chapter.cards:
                yield deck, chapter, card


def syllabus_cards():
    """The cards of outline items and interview questions (comparison cards have no outline)."""
    for deck, chapter, card in all_cards():
        if not is_comparison(card):
            yield deck, chapter, card


def is_comparison(card) -> bool:
    return ".cmp-" in card.id


@pytest.mark.parametrize(
    ("seed", "deck"), [("outline-exam-B.md", "exam-b"), ("outline-exam-C.md", "exam-c")]
)
def test_every_outline_item_has_exactly_one_card(seeds: Path, seed: str, deck: str) -> None:
    doc = detect_and_parse(seeds / seed)
    refs = [c.outline for ch in DECKS[deck].chapters for c in ch.cards if not is_comparison(c)]
    expected = [f"{ch.code}.{item.position}" for ch in doc.chapters for item in ch.items]
    assert sorted(refs) == sorted(expected)
    titles = {c.outline: c.source_title for ch in DECKS[deck].chapters for c in ch.cards}
    for ch in doc.chapters:
        for item in ch.items:
            assert titles[f"{ch.code}.{item.position}"] == item.title


def test_every_interview_question_is_covered(seeds: Path) -> None:
    doc = detect_and_parse(seeds / "interview-qa-genai.md")
    refs = sorted(
        c.outline for ch in DECKS["interview"].chapters for c in ch.cards if not is_comparison(c)
    )
    expected = sorted(f"I{ch.position}.{i.number}" for ch in doc.chapters for i in ch.items)
    assert len(refs) == 62 and refs == expected


def test_cards_are_complete() -> None:
    for deck, chapter, card in all_cards():
        where = f"{deck.key}:{card.id}"
        assert card.prompt and card.prompt_zh and card.answer, where
        if is_comparison(card):
            assert not card.outline and "|---" in card.answer.replace(" ", ""), where
        else:
            assert card.outline and card.outline.startswith(chapter.code + "."), where
        assert 3 <= len(card.key_points) <= 7, where
        assert all(len(k.split()) >= 4 for k in card.key_points), where
        assert card.tags, where
        assert set(card.demos) <= DEMO_IDS, where
        words = len(re.findall(r"[A-Za-z0-9_']+", card.answer))
        # a card extended with a derivation carries a seventh key point and may run longer
        limit = 360 if len(card.key_points) == 7 else 230
        assert 50 <= words <= limit, (where, words)
    assert sum(1 for _ in syllabus_cards()) == 81 + 49 + 62
    assert sum(1 for _ in all_cards()) == 81 + 49 + 62 + 5  # five comparison tables


def test_demo_links_follow_the_syllabus() -> None:
    by_ref = {card.outline: card for _, _, card in syllabus_cards()}
    assert "attention" in by_ref["B2.1"].demos
    assert any("vae" in by_ref[f"C3.{i}"].demos for i in range(1, 7))
    assert any("ddim" in by_ref[f"C5.{i}"].demos for i in range(1, 6))
    assert any("ctc" in by_ref[f"C8.{i}"].demos for i in range(1, 6))


def _windows(text: str, size: int = 40):
    text = re.sub(r"\s+", " ", text)
    for start in range(0, max(0, len(text) - size + 1)):
        yield text[start : start + size]


def test_no_text_copied_from_the_seeds(seeds: Path) -> None:
    corpus = " ".join(
        re.sub(r"\s+", " ", p.read_text(encoding="utf-8")) for p in seeds.glob("*") if p.is_file()
    )
    copied = []
    for _, _, card in all_cards():
        fields = [card.prompt, card.prompt_zh or "", card.answer, *card.key_points]
        for text in fields:
            for window in _windows(text):
                if window in corpus:
                    copied.append((card.id, window))
                    break
    assert copied == []


def test_learner_notes_attach_without_duplicates(home: Path, seeds: Path) -> None:
    store = open_store(home)
    sync_content(store)
    before = {c.key for c in list_cards(store)}
    for name in ("outline-exam-B.md", "outline-exam-C.md", "interview-qa-genai.md"):
        for _ in range(2):  # re-importing stays idempotent
            report = import_document(store, detect_and_parse(seeds / name))
            assert report.created == [] and report.mismatches == []
    cards = list_cards(store)
    assert {c.key for c in cards} == before
    noted = {c.outline_ref: c for c in cards if c.notes}
    assert all(c.kind == "essay" for c in cards if c.notes)
    assert len(noted) == 81 - 13 + 49 + 62  # 13 outline-B items have no notes yet
    assert "编码器" in noted["B3.1"].notes


def test_unknown_outline_items_become_cards(home: Path, tmp_path: Path) -> None:
    store = open_store(home)
    sync_content(store)
    doc = tmp_path / "extra.md"
    doc.write_text(
        "---\ntitle: NLP-PreExamB\n---\n# B1 注意力机制\n\n## Seq2seq 基础\n\n我的笔记\n\n"
        "## 一个全新的条目\n\n新内容\n",
        encoding="utf-8",
    )
    report = import_document(store, detect_and_parse(doc))
    assert report.attached == ["exam-b:b1.1"]
    assert len(report.created) == 1 and report.mismatches
    again = import_document(store, detect_and_parse(doc))
    assert again.created == [] and again.unchanged == 1
