"""Bulk suspend / unsuspend / reset and in-place edits are undo steps (issue 15.10, issue 14).

One ``u`` undoes a whole bulk operation; an edit and a revert are operations ``u`` undoes; a
reset keeps the review log. Real Scheduler over a real SQLite store."""

from __future__ import annotations

import json
import sqlite3

import pytest

from labdeck.srs import undo
from labdeck.store import overrides
from labdeck.store.overrides import EditError

from .conftest import key, make
from .test_scheduler import state_row


def card_text(store, k: str) -> tuple:
    with sqlite3.connect(store.path) as conn:
        prompt, answer, points = conn.execute(
            "SELECT prompt, answer, key_points FROM card WHERE key = ?", (k,)
        ).fetchone()
        found = conn.execute(
            "SELECT o.original FROM card_override o JOIN card c ON c.id = o.card_id "
            "WHERE c.key = ?",
            (k,),
        ).fetchone()
    return prompt, answer, json.loads(points), None if found is None else json.loads(found[0])


def test_bulk_suspend_is_one_undo_step(store, two_decks, clock):
    a, b = two_decks
    sched = make(store, clock)
    ks = [key(a, "A1", i) for i in (1, 2, 3)] + [key(b, "B1", 1)]
    ids = [sched.card_id(k) for k in ks]
    sched.suspend(ks[0])  # already suspended: not part of the bulk change
    assert sched.suspend_many(ids) == 3
    assert all(state_row(store, k)[6] == 1 for k in ks)
    undone = sched.undo()
    assert undone is not None and (undone.op, undone.cards) == ("suspend", 3)
    assert undone.summary == "Undid suspend of 3 cards."
    assert state_row(store, ks[0])[6] == 1  # the earlier single suspend is its own step
    assert [state_row(store, k)[6] for k in ks[1:]] == [0, 0, 0]
    assert sched.undo().key == ks[0]
    assert state_row(store, ks[0])[6] == 0
    assert sched.undo() is None


def test_bulk_unsuspend_and_reset_keep_history_and_undo(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock, new_per_day=10)
    ks = [key(a, "A1", i) for i in (1, 2)]
    ids = [sched.card_id(k) for k in ks]
    sched.answer(ks[0], 5)
    clock.next_day()
    sched.answer(ks[0], 2)  # a lapse
    sched.answer(ks[1], 4)
    answered = [state_row(store, k) for k in ks]
    assert answered[0][4] == 1 and answered[0][3] is not None  # lapses, due
    assert sched.reset_many(ids) == 2
    for k in ks:
        reps, ease, interval, due, lapses, leech, _susp, reviews, buried = state_row(store, k)
        assert (reps, ease, interval, due, lapses, leech, buried) == (0, 2500, 0, None, 0, 0, None)
    assert state_row(store, ks[0])[7] == answered[0][7]  # the answer count stays
    assert k in [e.key for e in sched.queue()]  # new again
    with sqlite3.connect(store.path) as conn:  # the review log is kept
        assert conn.execute("SELECT count(*) FROM review_log WHERE undone = 0").fetchone() == (3,)
    undone = sched.undo()
    assert undone is not None and (undone.op, undone.cards) == ("reset", 2)
    assert [state_row(store, k) for k in ks] == answered
    sched.suspend_many(ids)
    assert sched.suspend_many(ids, on=False) == 2
    assert sched.undo().op == "unsuspend"
    assert [state_row(store, k)[6] for k in ks] == [1, 1]


def test_edit_and_revert_are_undo_steps(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    imported = card_text(store, k)
    assert imported[3] is None
    assert sched.edit(k, "  Edited prompt\x1b[31m ", "", "one\n\n two \n")
    prompt, answer, points, original = card_text(store, k)
    assert (prompt, answer, points) == ("Edited prompt", None, ["one", "two"])
    assert original == {"prompt": imported[0], "answer": imported[1], "key_points": imported[2]}
    assert not sched.edit(k, "Edited prompt", None, ["one", "two"])  # nothing changed
    # editing the answer back to the imported text leaves it un-overridden
    assert sched.edit(k, "Edited again", imported[1], ["one", "two"])
    assert set(card_text(store, k)[3]) == {"prompt", "key_points"}
    undone = sched.undo()
    assert undone is not None and (undone.op, undone.key) == ("edit", k)
    assert card_text(store, k)[:3] == ("Edited prompt", None, ["one", "two"])
    assert sched.revert(k)
    assert card_text(store, k) == imported
    assert not sched.revert(k)  # not edited any more
    assert sched.undo().op == "revert"
    assert card_text(store, k)[0] == "Edited prompt"
    assert sched.undo().op == "edit"
    assert card_text(store, k) == imported
    assert sched.undo() is None


def test_a_bad_edit_names_the_field_and_writes_nothing(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    before = card_text(store, k)
    with pytest.raises(EditError, match=r"^prompt: a card needs a prompt"):
        sched.edit(k, " \x07 ", "x", [])
    with pytest.raises(EditError, match=r"^answer: too long"):
        sched.edit(k, "p", "x" * (overrides.MAX_FIELD + 1), [])
    assert card_text(store, k) == before
    assert sched.undo() is None


def test_an_old_single_card_log_entry_still_undoes(store, two_decks, clock):
    a, _ = two_decks
    sched = make(store, clock)
    k = key(a, "A1", 1)
    sched.suspend(k)
    cid = sched.card_id(k)
    old = [{"op": "suspend", "card": cid, "key": k, "field": "suspended", "before": False,
            "day": "2026-03-02", "after": 0}]  # fmt: skip
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(old), undo.KEY))
    assert sched.undo().key == k
    assert state_row(store, k)[6] == 0
