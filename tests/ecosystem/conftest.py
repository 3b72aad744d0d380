"""A small real deck for the Anki/CSV bridges: essays in two chapters, a two-deletion cloze,
a choice and a true/false drill, loaded into a real store in a temporary home."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labdeck.ingest.load import import_content
from labdeck.store import Store, open_store
from labdeck.store.models import Card

DECK = 'key = "mini"\nname = "Mini deck"\nposition = 9\n'
M1 = """[chapter]
code = "M1"
title = "Attention"

[[cards]]
id = "m1.1"
prompt = "Why scale the attention scores?"
answer = "To keep the softmax out of saturation: the dot products grow with d_k."
key_points = ["Scores grow with the key dimension.", "Scaling keeps gradients alive."]
tags = ["attention", "two words"]

[[cards]]
id = "m1.2"
prompt = "What is multi-head attention?"
answer = "Several heads attend in parallel; their outputs are concatenated."
key_points = ["Heads attend in parallel."]

[[drills]]
id = "m1.1.gap"
parent = "m1.1"
type = "cloze"
text = "Scores are divided by {{c1::√d_k}} so their variance stays near {{c2::1::a number}}."
alternatives = { c1 = ["sqrt(d_k)"] }
tags = ["attention"]

[[drills]]
id = "m1.2.concat"
parent = "m1.2"
type = "choice"
prompt = "What happens to the head outputs?"
options = ["They are concatenated and projected.", "They are averaged."]
correct = ["They are concatenated and projected."]
why = "MultiHead = Concat(heads) W_O."

[[drills]]
id = "m1.1.axis"
parent = "m1.1"
type = "truefalse"
claim = "The softmax is taken over the queries."
verdict = false
why = "It is taken over the keys."
"""
M2 = """[chapter]
code = "M2"
title = "Decoding"

[[cards]]
id = "m2.1"
prompt = "What is beam search?"
answer = "Keeping the k best partial sequences at every step."
key_points = ["It keeps k hypotheses."]
"""

DAY1 = datetime.fromisoformat("2026-03-10T10:00:00+00:00")
DAY2 = datetime.fromisoformat("2026-03-11T10:00:00+00:00")
DAY3 = datetime.fromisoformat("2026-03-12T10:00:00+00:00")


@pytest.fixture
def mini_store(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The mini deck in a fresh store; the shipped deck is not loaded."""
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", DAY1.isoformat())
    root = tmp_path / "content"
    deck = root / "mini"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text(DECK, encoding="utf-8")
    (deck / "M01.toml").write_text(M1, encoding="utf-8")
    (deck / "M02.toml").write_text(M2, encoding="utf-8")
    store = open_store(home)
    import_content(store, root, only=deck)
    with Session(store.engine) as session:
        card = session.exec(select(Card).where(Card.key == "mini:m1.1")).one()
        card.notes = "My note: the variance of q·k is d_k."
        session.add(card)
        session.commit()
    return store
