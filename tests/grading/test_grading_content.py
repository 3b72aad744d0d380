"""The shipped deck and the grader agree: a card's own answer is a 5, and each key point,
given alone as the answer, is recognised as covered."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

CONTENT = Path(__file__).resolve().parents[2] / "content"

# One worker grades the whole deck for all of these: the session grader's cache then holds every
# reference-side vector after the first (split over two workers, each encoded them all).
pytestmark = pytest.mark.xdist_group("content-grading")


def _cards() -> list[tuple[str, dict[str, Any]]]:
    cards = []
    for path in sorted(CONTENT.glob("*/*.toml")):
        if path.name == "deck.toml":
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for card in data.get("cards", []):
            if (card.get("answer") or "").strip():
                cards.append((f"{path.parent.name}/{path.name}:{card.get('id')}", card))
    return cards


CARDS = _cards()


@pytest.fixture(scope="module")
def graded_self(grader: Any) -> list[Any]:
    items = [
        {"reference": c["answer"], "answer": c["answer"], "key_points": c.get("key_points")}
        for _, c in CARDS
    ]
    return grader.grade_many(items)


@pytest.mark.skipif(not CARDS, reason="no content cards yet")
def test_reference_answer_graded_against_itself_is_five(graded_self: list[Any]) -> None:
    bad = [
        (name, r.quality) for (name, _), r in zip(CARDS, graded_self, strict=True) if r.quality != 5
    ]
    assert bad == []


@pytest.mark.skipif(not CARDS, reason="no content cards yet")
def test_each_key_point_alone_is_covered(grader: Any, graded_self: list[Any]) -> None:
    items, where = [], []
    for name, card in CARDS:
        for i, kp in enumerate(card.get("key_points") or []):
            items.append(
                {"reference": card["answer"], "answer": kp, "key_points": card["key_points"]}
            )
            where.append((name, i))
    results = grader.grade_many(items)
    missed = [
        (name, i, round(r.key_points[i].similarity, 3))
        for (name, i), r in zip(where, results, strict=True)
        if not r.key_points[i].covered
    ]
    assert missed == []


def test_content_folder_is_where_expected() -> None:
    assert Path(CONTENT).name == "content"


@pytest.mark.skipif(not CARDS, reason="no content cards yet")
def test_reference_graded_against_itself_without_key_points(grader: Any) -> None:
    """With the key points left out they are derived from the reference; the reference then
    still grades 5 against itself and covers every derived key point."""
    results = grader.grade_many(
        [{"reference": c["answer"], "answer": c["answer"]} for _, c in CARDS]
    )
    bad = [
        (name, r.quality, [k.text for k in r.missed])
        for (name, _), r in zip(CARDS, results, strict=True)
        if r.quality != 5 or r.missed
    ]
    assert bad == []
    assert all(2 <= len(r.key_points) <= 8 for r in results)
