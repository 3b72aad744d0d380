"""A small content deck with drill cards, loaded through the real content importer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labdeck.ingest.load import import_content
from labdeck.store import Store, open_store

DECK = """key = "t"
name = "Test deck"
"""

CHAPTER = """[chapter]
code = "A1"
title = "Attention"

[[cards]]
id = "a1.1"
prompt = "Why are attention scores divided by the square root of d_k?"
answer = "The dot product of q and k has variance d_k; dividing by √d_k brings it back to 1."
key_points = ["q·k has variance d_k", "dividing by √d_k restores unit variance"]

[[cards]]
id = "a1.2"
prompt = "What is multi-head attention?"
answer = "Several heads attend in parallel; their outputs are concatenated and projected by W_O."
key_points = ["heads run in parallel", "outputs are concatenated and projected"]

[[drills]]
id = "a1.1.scale"
parent = "a1.1"
type = "cloze"
text = "Scores are divided by {{c1::√d_k::a function of d_k}} so that their variance stays near {{c2::1}}."
alternatives = { c1 = ["根号 d_k"] }

[[drills]]
id = "a1.1.axis"
parent = "a1.1"
type = "truefalse"
claim = "The attention softmax is taken over the queries for each key."
verdict = false
why = "It is taken over the keys: each query's weights sum to 1."

[[drills]]
id = "a1.2.concat"
parent = "a1.2"
type = "choice"
prompt = "What happens to the outputs of the heads?"
options = ["They are concatenated and projected by W_O.", "They are averaged.", "Only the best head is kept."]
correct = ["They are concatenated and projected by W_O."]
why = "MultiHead = Concat(head_1..head_h) W_O."
"""


def write_deck(root: Path, chapter: str = CHAPTER) -> Path:
    deck = root / "content" / "t"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.toml").write_text(DECK, encoding="utf-8")
    (deck / "A01.toml").write_text(chapter, encoding="utf-8")
    return deck


@pytest.fixture
def drill_store(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.delenv("LABDECK_NOW", raising=False)
    store = open_store(home)
    deck = write_deck(home)
    import_content(store, deck.parent, only=deck)
    yield store
    store.close()
