"""The quality gate for the shipped drill cards (content/README.md, "Drill cards").

Every drill is answerable from its parent essay's reference (or its own ``why``), cloze
deletions are not stop words, a choice has one unambiguous key set, nothing is asked twice, and
every essay card has at least two drills.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labdeck.drills.grade import normalise
from labdeck.ingest.deckfile import ContentDeck, find_deck_dirs, parse_deck_dir

ROOT = Path(__file__).resolve().parents[2] / "content"
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")
STOP = {
    "a", "an", "the", "of", "to", "in", "on", "and", "or", "is", "are", "be", "it", "its", "as",
    "by", "for", "with", "this", "that", "not", "no", "yes", "one", "some", "all", "more",
    "less", "very", "than", "then", "from", "at", "can", "may", "do", "does", "has", "have",
    "的", "了", "是", "和", "在", "不", "也", "与", "或",
}  # fmt: skip
MULTIPLE = re.compile(r"all that apply|select all|choose all|which two|which three|多选", re.I)


def _decks() -> list[ContentDeck]:
    return [parse_deck_dir(d) for d in find_deck_dirs(ROOT)]


DECKS = _decks()


def _words(text: str) -> set[str]:
    return {
        w
        for w in _WORD.findall(text.casefold())
        if len(w) >= 3 or w.isdigit() or "\u4e00" <= w <= "\u9fff"
    }


def _coverage(target: str, reference: str) -> float:
    words = _words(re.sub(r"\([^)]*\)", " ", target)) or _words(target)  # glosses aside
    if not words:
        return 1.0  # a formula or symbol: checked by the normalised containment below
    return sum(1 for w in words if w in reference) / len(words)


def _drills():
    for deck in DECKS:
        essays = {c.id: c for ch in deck.chapters for c in ch.cards}
        for chapter in deck.chapters:
            for drill in chapter.drills:
                yield deck, essays[drill.parent], drill


def test_the_deck_has_drills_beside_every_essay() -> None:
    drills = list(_drills())
    assert len(drills) >= 400
    per_parent: dict[str, int] = {}
    for deck, parent, _drill in drills:
        per_parent[f"{deck.key}:{parent.id}"] = per_parent.get(f"{deck.key}:{parent.id}", 0) + 1
    short = [
        f"{deck.key}:{card.id}"
        for deck in DECKS
        for chapter in deck.chapters
        for card in chapter.cards
        if per_parent.get(f"{deck.key}:{card.id}", 0) < 2
    ]
    assert short == [], f"essay cards with fewer than two drills: {short}"


@pytest.mark.parametrize(
    ("deck", "parent", "drill"), list(_drills()), ids=lambda v: getattr(v, "id", "")
)
def test_each_drill_is_answerable_and_well_formed(deck, parent, drill) -> None:
    reference = " ".join([parent.answer, *parent.key_points, parent.prompt]).casefold()
    data = drill.drill
    if drill.kind == "cloze":
        answers = list(data["answers"])
        main = normalise(answers[0])
        assert main not in STOP and main.casefold() not in STOP, (
            f"stop-word deletion {answers[0]!r}"
        )
        assert len(main) >= 2 or main.isdigit() or not main.isalpha(), f"trivial {answers[0]!r}"
        derivable = max(_coverage(a, reference) for a in answers)
        if not _words(answers[0]):
            derivable = max(derivable, float(main in normalise(reference)))
        assert derivable >= 0.5, f"{drill.id}: {answers} not found in {parent.id}'s reference"
    elif drill.kind == "choice":
        options = list(data["options"])
        correct = list(data["correct"])
        assert len({normalise(o) for o in options}) == len(options), "duplicate options"
        assert correct and set(correct) <= set(options)
        assert len(correct) < len(options), "every option is correct"
        if len(correct) > 1:
            assert MULTIPLE.search(drill.prompt), "several keys but the prompt asks for one"
        why = data.get("why") or ""
        derivable = max(
            _coverage(" ".join(correct), reference),
            _coverage(" ".join(correct), why) if why else 0.0,
        )
        assert derivable >= 0.5, f"{drill.id}: the key is not in {parent.id}'s reference or why"
    else:
        assert len(_words(data["why"])) >= 3, f"{drill.id}: a true/false needs a real why"


def test_nothing_is_asked_twice() -> None:
    seen: dict[str, str] = {}
    for deck, _parent, drill in _drills():
        text = drill.drill.get("text") if drill.kind == "cloze" else drill.prompt
        key = f"{deck.key}:{normalise(text or '')}"
        if drill.kind == "cloze":
            key += f"#{drill.drill['number']}"
        assert key not in seen, f"{drill.id} repeats {seen.get(key)}"
        seen[key] = drill.id
