"""``store.db.settled_identity``: a database file's identity is trusted only once its last
change is a timestamp tick old (50 ms where the stamps have fractions of a second, 1 s where
they are whole seconds), so that a later change cannot share the tick and look like none."""

from __future__ import annotations

import os
import sqlite3
import time

from labdeck.store.db import file_identity, settled_identity


def _db(tmp_path):
    path = tmp_path / "labdeck.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


def test_a_fresh_change_waits_at_most_a_fine_tick_and_a_write_changes_the_identity(tmp_path):
    path = _db(tmp_path)
    stamp, wait = settled_identity(path)  # just written: this file system stamps in ns
    assert (stamp is None and 0 < wait <= 0.05) or (stamp == file_identity(path) and not wait)
    before = file_identity(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    assert file_identity(path) != before


def test_the_wait_is_a_tick_fine_or_whole_seconds(tmp_path):
    path = _db(tmp_path)
    future = (time.time_ns() // 1_000_000_000 + 10) * 1_000_000_000  # a whole second ahead
    os.utime(path, ns=(future, future))
    whole, wait_whole = settled_identity(path)
    os.utime(path, ns=(future + 1, future + 1))  # the same moment, with a fraction
    fine, wait_fine = settled_identity(path)
    assert whole is None and fine is None
    assert 0.9 < wait_whole - wait_fine < 0.951  # 1 s against 50 ms past the same change
