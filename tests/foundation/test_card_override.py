"""In-place edits (issue 15.10): migration 0007 up and down on a real file; an edit survives a
re-import of its source, which updates the original the learner can revert to; every reader
(review, Browse, exam grading, export) sees the edited text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from labdeck.config import Settings
from labdeck.export.rows import export_rows
from labdeck.ingest.load import detect_and_parse, import_document
from labdeck.srs.scheduler import Scheduler
from labdeck.store import db, open_store
from labdeck.store.overrides import read
from labdeck.store.queries import list_cards

DOC = """---
title: Edits
---

# A1 Chapter one

## Attention

Attention weighs values by query-key similarity.

## Softmax

Softmax turns scores into probabilities.
"""
KEY = "edits:A1:attention"


@pytest.fixture
def imported(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    store = open_store(home)
    path = home / "edits.md"
    path.write_text(DOC, encoding="utf-8")
    import_document(store, detect_and_parse(path))
    yield store, path
    store.close()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migration_0007_up_and_down_keeps_the_cards(imported) -> None:
    store, _path = imported
    assert store.revision() == db.head_revision() >= "0007"
    sched = Scheduler(store, Settings())
    assert sched.edit(KEY, "Edited", "Edited answer", ["k"])
    db.downgrade(store.path, store.engine, "0006")
    assert store.revision() == "0006"
    assert "card_override" not in tables(store.path)
    with sqlite3.connect(store.path) as conn:  # the cards (with the text in force) stay
        assert conn.execute("SELECT prompt FROM card WHERE key = ?", (KEY,)).fetchone() == (
            "Edited",
        )
    db.upgrade(store.path, store.engine)
    assert store.revision() == db.head_revision() and "card_override" in tables(store.path)
    with sqlite3.connect(store.path) as conn:  # foreign key with ON DELETE CASCADE
        fks = conn.execute("PRAGMA foreign_key_list(card_override)").fetchall()
    assert [(f[2], f[3], f[4], f[6]) for f in fks] == [("card", "card_id", "id", "CASCADE")]


def test_an_edit_survives_reimport_and_revert_gives_the_new_source(imported) -> None:
    store, path = imported
    sched = Scheduler(store, Settings())
    prompt = next(c for c in list_cards(store) if c.key == KEY).prompt  # kept as imported
    assert sched.edit(KEY, prompt, "My own answer.", ["similarity", "weights"])
    with store.engine.connect() as conn:
        edited = read(conn, sched.card_id(KEY))
    assert edited is not None
    path.write_text(DOC.replace("query-key similarity", "scaled dot products"), encoding="utf-8")
    report = import_document(store, detect_and_parse(path))
    assert report.updated == [KEY]  # the source changed…
    card = next(c for c in list_cards(store) if c.key == KEY)
    assert card.answer == "My own answer."  # …and the edit stays in force
    assert card.key_points == ["similarity", "weights"]
    with store.engine.connect() as conn:
        found = read(conn, sched.card_id(KEY))
    assert found is not None and found.fields == ["answer", "key_points"]
    assert found.original["answer"] == "Attention weighs values by scaled dot products."
    # the edit's time stays the learner's (QA: Browse's "Edited 06:00" read 06:01 after it)
    assert (found.created_at, found.updated_at) == (edited.created_at, edited.updated_at)
    again = import_document(store, detect_and_parse(path))
    assert again.updated == [] and again.unchanged == 2  # an unchanged source is unchanged
    assert sched.revert(KEY)
    card = next(c for c in list_cards(store) if c.key == KEY)
    assert card.answer == "Attention weighs values by scaled dot products."
    assert card.key_points == []


def test_every_reader_sees_the_edited_text(imported) -> None:
    store, _path = imported
    sched = Scheduler(store, Settings())
    assert sched.edit(KEY, "Edited prompt", "Edited answer", ["point one"])
    review = sched.card(KEY)  # what the review screen and the grader get
    assert (review.prompt, review.answer, review.key_points) == (
        "Edited prompt",
        "Edited answer",
        ["point one"],
    )
    browse = next(c for c in list_cards(store) if c.key == KEY)
    assert (browse.prompt, browse.answer) == ("Edited prompt", "Edited answer")
    exported = next(r.card for r in export_rows(store) if r.card.key == KEY)
    assert (exported.prompt, exported.answer, exported.key_points) == (
        "Edited prompt",
        "Edited answer",
        ["point one"],
    )
    entry = next(e for e in sched.queue() if e.key == KEY)  # the queue's own prompt
    assert entry.prompt == "Edited prompt"
