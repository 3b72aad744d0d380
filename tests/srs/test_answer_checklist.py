"""The learner's key-point ticks, the grader's confidence and verdict, stored with the review
row of ``Scheduler.answer`` (and ``labdeck answer --checklist``), in the same transaction."""

from __future__ import annotations

import json
import sqlite3

import pytest

from labdeck.cli import main
from labdeck.srs.scheduler import SrsError

from .conftest import key, make, outline

TICKS = [
    {"point": "Attention weights come from a softmax.", "grader": "covered", "ticked": True},
    {"point": "Scores are scaled by sqrt(d_k).", "grader": "missed", "ticked": True},
    {"point": "Keys and queries are compared.", "grader": "contradicted", "ticked": False},
]


def last_row(path) -> tuple:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT quality, confidence, sure, checklist FROM review_log ORDER BY id DESC LIMIT 1"
        ).fetchone()


def test_answer_stores_checklist_confidence_and_sure(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    sched.answer(key(a, "A1", 1), 3, confidence=0.42, sure=False, checklist=TICKS)
    quality, confidence, sure, checklist = last_row(store.path)
    assert (quality, confidence, sure) == (3, 0.42, 0)
    assert json.loads(checklist) == TICKS
    sched.answer(key(a, "A1", 2), 4)  # nothing graded: all three stay empty
    assert last_row(store.path)[1:] == (None, None, None)
    undone = sched.undo()
    assert undone is not None and last_row(store.path)[3] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.5}, "confidence must be between 0 and 1"),
        ({"confidence": float("nan")}, "confidence must be between 0 and 1"),
        ({"sure": 1}, "sure must be true or false"),
        ({"checklist": []}, "non-empty list"),
        ({"checklist": [{"point": "p", "grader": "maybe", "ticked": True}]}, "grader must be"),
        ({"checklist": [{"point": "p", "grader": "covered", "ticked": "yes"}]}, "ticked must"),
        ({"checklist": [{"point": " ", "grader": "covered", "ticked": True}]}, "point must"),
    ],
)
def test_bad_values_write_nothing(store, two_decks, clock, kwargs, message):
    a, _ = two_decks
    sched = make(store, clock)
    with pytest.raises(SrsError, match=message):
        sched.answer(key(a, "A1", 1), 3, **kwargs)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM review_log").fetchone() == (0,)


def test_cli_answer_takes_a_checklist(home, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    doc = tmp_path / "notes.md"
    doc.write_text(outline("Notes", {"N1": 2}), encoding="utf-8")
    assert main(["import", str(doc)]) == 0
    capsys.readouterr()
    card = "notes:N1:n1-item-1"
    assert main(["answer", card, "4", "--checklist", json.dumps(TICKS)]) == 0
    assert json.loads(last_row(home / "labdeck.db")[3]) == TICKS
    capsys.readouterr()
    assert main(["answer", card, "4", "--checklist", "[{oops"]) != 0
    err = capsys.readouterr().err
    assert "--checklist: not valid JSON" in err and len(err.strip().splitlines()) == 1
    assert main(["answer", card, "4", "--checklist", '[{"point": "p"}]']) != 0
    assert "checklist[1].grader" in capsys.readouterr().err


def test_cli_checklist_past_the_integer_digit_limit_is_one_json_error(
    home, monkeypatch, capsys, tmp_path
):
    """json.loads raises a plain ValueError (not JSONDecodeError) for an integer longer than
    Python's digit limit; it is reported like any other bad JSON, naming the option."""
    monkeypatch.setenv("LABDECK_NO_CONTENT", "1")
    monkeypatch.setenv("LABDECK_NOW", "2026-03-02T10:00")
    doc = tmp_path / "notes.md"
    doc.write_text(outline("Notes", {"N1": 2}), encoding="utf-8")
    assert main(["import", str(doc)]) == 0
    capsys.readouterr()
    huge = "[" + "9" * 5000 + "]"
    assert main(["answer", "notes:N1:n1-item-1", "4", "--checklist", huge]) != 0
    err = capsys.readouterr().err
    assert "--checklist: not valid JSON (" in err and "internal error" not in err
    assert "digits" in err and len(err.strip().splitlines()) == 1
    with sqlite3.connect(home / "labdeck.db") as conn:
        assert conn.execute("SELECT count(*) FROM review_log").fetchone() == (0,)
