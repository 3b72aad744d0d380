"""`kill -9` at random moments never loses a confirmed answer nor damages the file.

A real process opens the store through ``open_store`` (integrity check, migrations), answers
cards in a loop through the real ``Scheduler``, closes and reopens the store every few answers
(so kills also land in open, check and checkpoint) and prints each answer's review-log id once
``answer`` has returned. The test kills it with SIGKILL after a random delay, restarts it, and
at the end every printed id must be in the review log and ``PRAGMA integrity_check`` ok.

The process is forked from the test (imports already warm), so each kill costs its random delay
and a fork; what runs in it is exactly the code a ``labdeck answer`` runs after its imports.
80 kills land in every phase (open, check, answer, checkpoint) many times over: the delays span
the child's start-up and several answers.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest

from labdeck.cli import main

KILLS = 80
MAX_DELAY_S = 0.12  # child start-up (open, check) is ~20-40 ms, then an answer every few ms
REOPEN_EVERY = 7
NOW = datetime(2026, 3, 2, 10, 0, 0)


def _answer_forever(home: Path, keys: list[str], write_fd: int, seed: int) -> None:
    """The child: answer until killed. Never returns (``os._exit``)."""
    try:
        from labdeck.config import Settings
        from labdeck.srs.scheduler import Scheduler
        from labdeck.store import open_store

        rng = random.Random(seed)
        while True:
            store = open_store(home)
            sched = Scheduler(store, Settings(), now=lambda: NOW)
            for _ in range(REOPEN_EVERY):
                outcome = sched.answer(rng.choice(keys), rng.randint(0, 5))
                os.write(write_fd, f"{outcome.log_id}\n".encode())
            store.close()  # checkpoint: kills land here too
    except BaseException as exc:  # report, so the parent can fail with the reason
        os.write(write_fd, f"ERR {type(exc).__name__}: {exc}\n".encode())
        os._exit(3)
    os._exit(0)


def _drain(fd: int) -> bytes:
    chunks = []
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_random_kill_9_loses_no_confirmed_answer(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0  # opens the synced home, then closes (checkpoints) the store
    capsys.readouterr()
    db_file = home / "labdeck.db"
    conn = sqlite3.connect(db_file)
    keys = [row[0] for row in conn.execute("SELECT key FROM card ORDER BY id LIMIT 12")]
    conn.close()
    assert len(keys) == 12

    # On a loaded machine a child may need longer than MAX_DELAY_S to open the store and
    # answer at all: time one child to its first confirmed answer and scale the delays to it,
    # so kills still fall before, during and after answers.
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _answer_forever(home, keys, write_fd, seed=-1)
    os.close(write_fd)
    begun = time.monotonic()
    ready, _, _ = select.select([read_fd], [], [], 60)
    first_answer = time.monotonic() - begun
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    probe = _drain(read_fd).decode().splitlines()
    os.close(read_fd)
    assert ready and probe and not probe[0].startswith("ERR"), probe
    max_delay = max(MAX_DELAY_S, 3 * first_answer)
    confirmed: set[int] = {int(line) for line in probe if line.isdigit()}

    rng = random.Random(20261201)
    killed_alive = 0
    started = time.monotonic()
    for attempt in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_fd)
            _answer_forever(home, keys, write_fd, seed=attempt)
        os.close(write_fd)
        delay = rng.uniform(0.0, max_delay)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        lines = _drain(read_fd).decode().splitlines()
        os.close(read_fd)
        errors = [line for line in lines if line.startswith("ERR")]
        assert not errors, f"attempt {attempt}: {errors}"
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed_alive += 1
        answered = {int(line) for line in lines if line.isdigit()}
        if not answered and delay > 2 * first_answer:  # the machine got slower since the probe
            max_delay = min(max_delay * 1.25, 20 * max(MAX_DELAY_S, first_answer))
        confirmed.update(answered)
    elapsed = time.monotonic() - started

    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        logged = {row[0] for row in conn.execute("SELECT id FROM review_log")}
    finally:
        conn.close()
    lost = confirmed - logged
    print(
        f"kill loop: {killed_alive} kills of a live process, {len(confirmed)} confirmed answers, "
        f"{len(logged)} logged, {len(lost)} lost, {elapsed:.1f} s "
        f"(first answer after {first_answer * 1000:.0f} ms, delays up to {max_delay * 1000:.0f} ms)"
    )
    assert killed_alive == KILLS  # every child was alive (answering) when it was killed
    # answers really happened between the kills (a half: on a loaded machine, CI, the children
    # slowed after the probe and 64 answers came in 80 kills; the delays now grow when a child
    # dies before its first answer)
    assert len(confirmed) >= KILLS // 2
    assert not lost, f"confirmed answers missing from the review log: {sorted(lost)[:10]}"
