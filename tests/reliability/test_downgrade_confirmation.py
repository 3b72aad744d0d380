"""Issue 12.11: ``db downgrade base`` drops every table, so it asks first and names the backup.

Before: it ran at once, from a script or a terminal alike. Now: on a terminal it asks (``--yes``
skips the question); without a terminal it refuses unless ``--yes``; afterwards it says which
backup holds the data, and that backup restores it.
"""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from labdeck.cli import main

KEY = "exam-b:b1.1"


def _tables(db_file: Path) -> set[str]:
    conn = sqlite3.connect(db_file)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {r[0] for r in rows if not r[0].startswith("sqlite_")}


def _on_terminal(home: Path, reply: str, *args: str) -> tuple[int, str]:
    """Run ``labdeck`` with a pseudo-terminal as stdin and type ``reply``."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "labdeck.cli", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "LABDECK_HOME": str(home)},
    )
    os.close(slave)
    os.write(master, reply.encode() + b"\n")
    out, _ = proc.communicate(timeout=120)
    os.close(master)
    return proc.returncode, out.decode()


@pytest.fixture
def used_home(synced_home: Path, capsys) -> Path:
    assert main(["answer", KEY, "4"]) == 0
    capsys.readouterr()
    return synced_home


def test_no_terminal_and_no_yes_refuses(used_home: Path) -> None:
    db_file = used_home / "labdeck.db"
    before = _tables(db_file)
    out = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "db", "downgrade", "base"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "LABDECK_HOME": str(used_home)},
        timeout=120,
    )
    assert out.returncode == 1
    assert "drops every table" in out.stderr and "--yes" in out.stderr
    assert _tables(db_file) == before and "review_log" in before


def test_terminal_no_keeps_everything(used_home: Path) -> None:
    db_file = used_home / "labdeck.db"
    before = _tables(db_file)
    code, out = _on_terminal(used_home, "n", "db", "downgrade", "base")
    assert code == 1 and "Continue? [y/N]" in out and "nothing changed" in out
    assert _tables(db_file) == before


def test_terminal_yes_downgrades_and_names_the_backup(used_home: Path, capsys) -> None:
    db_file = used_home / "labdeck.db"
    code, out = _on_terminal(used_home, "y", "db", "downgrade", "base")
    assert code == 0, out
    assert _tables(db_file) <= {"alembic_version"}
    saved = Path(re.search(r"the data before the downgrade is in (\S+)", out).group(1))
    assert saved.exists() and "labdeck db restore" in out
    assert main(["db", "restore", str(saved)]) == 0
    conn = sqlite3.connect(db_file)
    assert conn.execute("SELECT count(*) FROM review_log").fetchone()[0] == 1
    conn.close()


def test_yes_for_scripts_and_steps_down_to_base_count(used_home: Path, capsys) -> None:
    from labdeck.store import db

    steps = int(db.head_revision())  # as many steps as migrations reaches base: asks too
    assert main(["db", "downgrade", f"-{steps}"]) == 1
    assert "review_log" in _tables(used_home / "labdeck.db")
    assert main(["db", "downgrade", "base", "--yes"]) == 0
    assert "the data before the downgrade is in" in capsys.readouterr().out
    assert _tables(used_home / "labdeck.db") <= {"alembic_version"}


def test_partial_downgrade_needs_no_confirmation(used_home: Path, capsys) -> None:
    assert main(["db", "downgrade", "0004"]) == 0
    assert "review_log" in _tables(used_home / "labdeck.db")
