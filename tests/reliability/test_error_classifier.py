"""Issue 12.10: one classifier (by SQLite result code and errno, never message text) gives each
store or file-system failure one clean line and exit status — no "internal error", no SQL dump.

Read-only and disk-full cases run in a private mount namespace (``unshare``) on a real
read-only bind mount / a tiny tmpfs; permission cases run unprivileged (``unshare -U`` when
the tests run as root). They skip where ``unshare`` is not allowed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from labdeck.cli import _report, main
from labdeck.config import content_dir
from labdeck.store import errors, open_store

KEY = "exam-b:b1.1"


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "LABDECK_HOME": str(home)}


def _labdeck(home: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "labdeck.cli", *args],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=120,
    )


def _one_clean_line(out: subprocess.CompletedProcess, status: int = 2) -> str:
    err = out.stderr.strip()
    assert out.returncode == status, err
    assert len(err.splitlines()) == 1, err
    assert "internal error" not in err and "Traceback" not in err and "[SQL:" not in err
    return err


def _reviews(db_file: Path) -> int:
    conn = sqlite3.connect(db_file)
    try:
        return conn.execute("SELECT count(*) FROM review_log").fetchone()[0]
    finally:
        conn.close()


def _works(*cmd: str) -> bool:
    try:
        return subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


UNPRIVILEGED = ("unshare", "-U") if os.geteuid() == 0 else ()
needs_unprivileged = pytest.mark.skipif(
    os.geteuid() == 0 and not _works("unshare", "-U"), reason="root, and unshare -U not allowed"
)
needs_mount_ns = pytest.mark.skipif(
    not _works("unshare", "-rm"), reason="unshare -rm (private mount namespace) not allowed"
)


def _in_mount_ns(script: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["unshare", "-rm", "bash", "-c", script],
        capture_output=True,
        text=True,
        env={**_env(home), "PY": sys.executable},
        timeout=300,
    )


# ---------------------------------------------------------------- by code, not by text


def test_message_text_does_not_decide(tmp_path: Path, capsys) -> None:
    db_file = tmp_path / "x.db"
    conn = sqlite3.connect(db_file)
    conn.execute("CREATE TABLE malformed_busy (k TEXT UNIQUE)")
    conn.execute("INSERT INTO malformed_busy VALUES ('locked')")
    with pytest.raises(sqlite3.IntegrityError) as dup:
        conn.execute("INSERT INTO malformed_busy VALUES ('locked')")
    with pytest.raises(sqlite3.OperationalError) as missing:
        conn.execute("SELECT * FROM database_is_locked")
    conn.close()
    # Words like "locked", "busy" and "malformed" in a message mean nothing: these are bugs.
    assert errors.classify(dup.value, db_file) is None
    assert errors.classify(missing.value, db_file) is None

    engine = create_engine(f"sqlite:///{db_file}")
    with pytest.raises(Exception) as wrapped, engine.connect() as sa_conn:
        sa_conn.exec_driver_sql("SELECT * FROM database_is_locked")
    engine.dispose()
    assert "[SQL:" in str(wrapped.value)
    assert _report(wrapped.value) == 70
    err = capsys.readouterr().err
    assert "internal error: OperationalError: no such table" in err
    assert "[SQL:" not in err and "busy" not in err


def test_real_codes_and_errnos(tmp_path: Path) -> None:
    db_file = tmp_path / "small.db"
    conn = sqlite3.connect(db_file)
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.close()
    problem = errors.classify(full.value, db_file)
    assert problem is not None and problem.message.startswith("disk full while writing")
    assert "free some space" in problem.message and "is kept" in problem.message

    # a real ENOSPC from the kernel
    with pytest.raises(OSError) as nospace, open("/dev/full", "w") as handle:
        handle.write("x")
    assert errors.classify(nospace.value).message.startswith("disk full")

    holder = sqlite3.connect(db_file)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(db_file, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as busy:
        other.execute("SELECT * FROM t")
    other.close()
    holder.rollback()
    holder.close()
    assert errors.classify(busy.value, db_file).message.startswith("database is busy")


# ---------------------------------------------------------------- through the CLI


def test_busy_answer_is_one_line(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0
    holder = sqlite3.connect(home / "labdeck.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = _labdeck(home, "answer", KEY, "4")
    finally:
        holder.rollback()
        holder.close()
    assert "database is busy" in _one_clean_line(out)


def test_damage_is_reported_once_not_nested(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0
    db_file = home / "labdeck.db"
    with db_file.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * 8192)
    out = _labdeck(home, "due")
    err = _one_clean_line(out)
    assert err.count("is damaged") == 1 and "labdeck db restore" in err


def test_newer_schema_says_upgrade(home: Path) -> None:
    open_store(home).close()
    conn = sqlite3.connect(home / "labdeck.db")
    conn.execute("UPDATE alembic_version SET version_num = 'f00d'")
    conn.commit()
    conn.close()
    err = _one_clean_line(_labdeck(home, "answer", KEY, "4"))
    assert "made by a newer labdeck (revision f00d); upgrade labdeck" in err
    assert not list(home.glob("*.bak"))


def test_home_is_a_file_and_control_characters_are_stripped(tmp_path: Path) -> None:
    odd = tmp_path / "home\x1b[31m\x07"
    odd.write_text("not a folder")
    err = _one_clean_line(_labdeck(tmp_path, "--home", str(odd), "due"))
    assert "is a file, not a directory" in err
    assert "\x1b" not in err and "\x07" not in err


@needs_unprivileged
def test_read_only_home_is_not_called_damaged(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0
    db_file = home / "labdeck.db"
    db_file.chmod(0o444)
    home.chmod(0o555)
    try:
        err = _one_clean_line(_labdeck(home, "answer", KEY, "4", prefix=UNPRIVILEGED))
    finally:
        home.chmod(0o755)
        db_file.chmod(0o644)
    assert "is read-only (no write permission)" in err and "damaged" not in err
    assert _reviews(db_file) == 0


@needs_unprivileged
def test_permission_denied(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0
    db_file = home / "labdeck.db"
    db_file.chmod(0o000)
    try:
        err = _one_clean_line(_labdeck(home, "due", prefix=UNPRIVILEGED))
    finally:
        db_file.chmod(0o644)
    assert f"permission denied: {db_file}" in err


@needs_mount_ns
def test_read_only_file_system(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["due"]) == 0
    script = (
        'mount --bind "$LABDECK_HOME" "$LABDECK_HOME" && '
        'mount -o remount,bind,ro "$LABDECK_HOME" && '
        f'"$PY" -m labdeck.cli answer {KEY} 4'
    )
    err = _one_clean_line(_in_mount_ns(script, home))
    assert "is read-only (read-only file system)" in err and "damaged" not in err


@needs_mount_ns
def test_disk_full_keeps_what_was_saved(tmp_path: Path) -> None:
    home = tmp_path / "small"
    home.mkdir()
    script = (
        'mount -t tmpfs -o size=8m tmpfs "$LABDECK_HOME" && '
        f'"$PY" -m labdeck.cli answer {KEY} 4 >/dev/null && '
        'cp "$LABDECK_HOME/labdeck.db" "$LABDECK_HOME/../before.db" && '
        '(dd if=/dev/zero of="$LABDECK_HOME/filler" bs=4k 2>/dev/null; true) && '
        f'"$PY" -m labdeck.cli answer {KEY} 2; echo "rc=$?" >&2; '
        'rm "$LABDECK_HOME/filler" && '
        f'"$PY" -m labdeck.cli answer {KEY} 5 >/dev/null && '
        'cp "$LABDECK_HOME/labdeck.db" "$LABDECK_HOME/../after.db"'
    )
    out = _in_mount_ns(script, home)
    lines = out.stderr.strip().splitlines()
    assert lines[-1] == "rc=2", out.stderr
    assert len(lines) == 2 and "disk full while writing" in lines[0]
    assert "internal error" not in lines[0] and "[SQL:" not in lines[0]
    assert _reviews(tmp_path / "before.db") == 1
    assert _reviews(tmp_path / "after.db") == 2  # the first answer kept, the full one not saved


# ---------------------------------------------------------------- bad input


def test_folder_named_toml_in_a_deck(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(content_dir(), copy)
    odd = copy / "exam-b" / "B99.toml"
    odd.mkdir()
    env_home = home
    out = subprocess.run(
        [sys.executable, "-m", "labdeck.cli", "decks"],
        capture_output=True,
        text=True,
        env={**_env(env_home), "LABDECK_CONTENT": str(copy)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"{odd}: is a directory" in out.stderr and "internal error" not in out.stderr
    assert "Exam C" in out.stdout  # the other decks still load
    again = _labdeck(home, "import", str(copy / "exam-b"))
    assert f"{odd}: is a directory" in _one_clean_line(again, status=1)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"reference": "a \\ud800 b", "answer": "x"}', "lone surrogate (\\ud800)"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["lone-surrogate", "deep-nesting"],
)
def test_bad_json_lines_name_the_line(home: Path, tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"reference": "ok", "answer": "ok"}\n' + line + "\n", encoding="utf-8")
    out = _labdeck(home, "grade", "--jsonl", str(path))
    err = out.stderr.strip()
    assert out.returncode not in (0, 70), err
    assert err == f"labdeck: {path}:2: " + err.split(f"{path}:2: ", 1)[1]
    assert expected in err and "internal error" not in err
