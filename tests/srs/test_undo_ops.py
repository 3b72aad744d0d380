"""Undo replays the newest operation of any kind: an answer, a suspend, a bury (issue 14).

Before the operation log, ``u`` after ``s`` or ``b`` undid the previous card's *answer* and left
the card suspended or buried. Real Scheduler over a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from labdeck.srs import undo
from labdeck.store import Store

from .conftest import START, key, make
from .test_cli import K1, K2, cli_home, js, run  # noqa: F401 (cli_home: a fixture)
from .test_scheduler import state_row


def state_id(store: Store, k: str) -> int:
    with sqlite3.connect(store.path) as conn:
        return int(conn.execute("SELECT id FROM card WHERE key = ?", (k,)).fetchone()[0])


def meta_log(store: Store) -> list[dict]:
    with sqlite3.connect(store.path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (undo.KEY,)).fetchone()
    return json.loads(row[0]) if row else []


def test_u_after_suspend_undoes_the_suspend(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=3)
    k1, k2 = key(a, "A1", 1), key(a, "A1", 2)
    sched.answer(k1, 4)
    after_answer = state_row(store, k1)
    sched.suspend(k2)
    assert state_row(store, k2)[6] == 1
    undone = sched.undo()
    assert undone is not None and (undone.op, undone.key) == ("suspend", k2)
    assert undone.log_id == 0 and undone.quality is None and not undone.suspended
    assert state_row(store, k2)[6] == 0  # the suspension is lifted
    assert state_row(store, k1) == after_answer  # the answer before it stands
    assert k2 in [e.key for e in sched.queue()]
    undone = sched.undo()  # now the answer
    assert undone is not None and (undone.op, undone.key, undone.quality) == ("answer", k1, 4)
    assert sched.undo() is None


def test_u_after_bury_undoes_the_bury(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=3)
    k1, k2 = key(a, "A1", 1), key(a, "A1", 2)
    sched.answer(k1, 2)
    assert sched.bury(k2) == START.date() + timedelta(days=1)
    assert k2 not in [e.key for e in sched.queue()]
    undone = sched.undo()
    assert undone is not None and (undone.op, undone.key) == ("bury", k2)
    assert state_row(store, k2)[8] is None
    assert k2 in [e.key for e in sched.queue()]
    with sqlite3.connect(store.path) as conn:  # the answer was not undone
        assert conn.execute("SELECT sum(undone) FROM review_log").fetchone() == (0,)


def test_answer_then_suspend_of_the_same_card_unwinds_in_order(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=3)
    k1 = key(a, "A1", 1)
    before = state_row(store, k1)
    sched.answer(k1, 5)
    answered = state_row(store, k1)
    sched.suspend(k1)
    sched.unsuspend(k1)
    sched.suspend(k1)
    ops = [(u.op, u.key) for u in (sched.undo(), sched.undo(), sched.undo()) if u]
    assert ops == [("suspend", k1), ("unsuspend", k1), ("suspend", k1)]
    assert state_row(store, k1) == answered
    undone = sched.undo()
    assert undone is not None and undone.op == "answer"
    assert state_row(store, k1)[:7] == before[:7]
    assert sched.undo() is None


def test_an_answer_after_a_suspend_is_undone_first(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=3)
    k1, k2 = key(a, "A1", 1), key(a, "A1", 2)
    sched.suspend(k1)
    sched.answer(k2, 4)
    assert [(u.op, u.key) for u in (sched.undo(), sched.undo())] == [
        ("answer", k2),
        ("suspend", k1),
    ]
    assert state_row(store, k1)[6] == 0


def test_no_op_is_not_recorded_and_the_log_is_bounded(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    k1 = key(a, "A1", 1)
    sched.unsuspend(k1)  # not suspended: nothing changes, nothing to undo
    assert meta_log(store) == [] and sched.undo() is None
    for _ in range(undo.KEEP):
        sched.suspend(k1)
        sched.unsuspend(k1)
    log = meta_log(store)
    assert len(log) == undo.KEEP and log[-1]["op"] == "unsuspend"
    assert log[-1]["cards"] == [
        {"card": state_id(store, k1), "key": k1, "before": {"suspended": True}}
    ]
    assert log[-1]["after"] == 0


@pytest.mark.usefixtures("cli_home")
def test_labdeck_undo_after_bury_says_what_it_undid(capsys) -> None:
    assert run(capsys, "answer", K1, "4")[0] == 0
    assert run(capsys, "bury", K2)[0] == 0
    code, out, _ = run(capsys, "undo")
    assert code == 0 and out.strip() == f"undid bury of {K2} (on 2026-03-02)"
    undone = js(capsys, "undo")  # then the answer
    assert (undone["op"], undone["key"], undone["quality"]) == ("answer", K1, 4)
    assert run(capsys, "undo")[0] == 1  # nothing left
