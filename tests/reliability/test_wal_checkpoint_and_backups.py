"""Issue 12.5: a clean exit checkpoints the WAL; backups are verified, rotated and restorable.

Before: the CLI left through ``os._exit`` with everything in ``labdeck.db-wal`` (the main file
stayed 4 KB, so a copy of it was an empty deck), a database from a newer labdeck got a fresh
full backup on every start, backups were never rotated, and any ``.bak`` counted as "latest".
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from labdeck.cli import main
from labdeck.store import db, open_store

KEY = "exam-b:b1.1"


def _entry(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script (``labdeck.cli:entry``, which ends in ``os._exit``)."""
    code = f"import sys; sys.argv = ['labdeck', *{list(args)!r}]; from labdeck.cli import entry; entry()"
    env = {**os.environ, "LABDECK_HOME": str(home), "LABDECK_NOW": "2026-03-02T10:00:00"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def _reviews(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM review_log").fetchone()[0]
    finally:
        conn.close()


def _baks(home: Path) -> list[Path]:
    return sorted(home.glob("labdeck.db.*.bak"))


def test_clean_exit_leaves_everything_in_the_main_file(home: Path, tmp_path: Path) -> None:
    assert _entry(home, "answer", KEY, "4").returncode == 0
    wal = home / "labdeck.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy" / "labdeck.db"
    copy.parent.mkdir()
    shutil.copy(home / "labdeck.db", copy)  # the main file alone, as a learner would copy it
    assert _reviews(copy) == 1
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT count(*) FROM card").fetchone()[0] > 0
    conn.close()


def test_backups_are_verified_standalone_and_rotated(synced_home: Path, capsys) -> None:
    home = synced_home
    (home / "config.toml").write_text("backups_keep = 3\n", encoding="utf-8")
    assert main(["answer", KEY, "4"]) == 0
    made = []
    for _ in range(5):
        assert main(["db", "backup"]) == 0
        made.append(Path(capsys.readouterr().out.strip()))
    assert _baks(home) == sorted(made[-3:])
    for path in _baks(home):
        alone = home / "alone.db"
        shutil.copy(path, alone)  # a backup needs no -wal beside it
        conn = sqlite3.connect(alone)
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
        conn.close()
        assert _reviews(alone) == 1
        alone.unlink()


def test_newer_schema_is_refused_without_a_backup_loop(home: Path) -> None:
    store = open_store(home)
    store.close()
    conn = sqlite3.connect(home / "labdeck.db")
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.commit()
    conn.close()
    for _ in range(6):
        out = _entry(home, "due")
        assert out.returncode == 2
        assert "newer labdeck (revision 0099); upgrade labdeck" in out.stderr
        assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert _baks(home) == []


def test_empty_or_damaged_bak_is_never_the_latest(home: Path) -> None:
    store = open_store(home)
    good = store.backup()
    store.close()
    (home / "labdeck.db.29991231-000000-000000-backup.bak").write_bytes(b"")
    (home / "labdeck.db.29991231-000001-000000-backup.bak").write_bytes(
        b"SQLite format 3\x00" + os.urandom(8192)
    )
    assert db.latest_backup(home / "labdeck.db") == good


def test_restore_backs_up_first_and_refuses_a_damaged_file(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["answer", KEY, "4"]) == 0
    capsys.readouterr()
    assert main(["db", "backup"]) == 0
    first = Path(capsys.readouterr().out.strip())
    assert main(["answer", KEY, "2"]) == 0
    assert main(["answer", KEY, "5"]) == 0
    db_file = home / "labdeck.db"
    assert _reviews(db_file) == 3

    damaged = home / "elsewhere.db"
    shutil.copy(first, damaged)
    with damaged.open("r+b") as handle:
        handle.seek(damaged.stat().st_size // 2)
        handle.write(os.urandom(8192))
    before = db_file.read_bytes()
    capsys.readouterr()
    assert main(["db", "restore", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert "is not a sound database" in err and "nothing was changed" in err
    assert db_file.read_bytes() == before

    assert main(["db", "restore"]) == 0  # the latest good backup
    out = capsys.readouterr().out
    assert f"restored from {first}" in out
    assert _reviews(db_file) == 1
    saved = next(p for p in _baks(home) if p.name.endswith("-pre-restore.bak"))
    assert _reviews(saved) == 3  # the replaced state is kept
    assert main(["answer", KEY, "4"]) == 0  # and the restored file is usable


def test_restore_moves_a_damaged_database_aside(synced_home: Path, capsys) -> None:
    home = synced_home
    assert main(["answer", KEY, "4"]) == 0
    assert main(["db", "backup"]) == 0
    db_file = home / "labdeck.db"
    with db_file.open("r+b") as handle:
        handle.seek(db_file.stat().st_size // 2)
        handle.write(os.urandom(16384))
    capsys.readouterr()
    assert main(["db", "restore"]) == 0
    out = capsys.readouterr().out
    assert "damaged file kept as" in out
    assert list(home.glob("labdeck.db.*-damaged"))
    assert _reviews(db_file) == 1


@pytest.mark.parametrize("keep", ["0", "'ten'"])
def test_bad_keep_setting_is_one_line(synced_home: Path, capsys, keep: str) -> None:
    home = synced_home
    (home / "config.toml").write_text(f"backups_keep = {keep}\n", encoding="utf-8")
    assert main(["due"]) == 1
    assert "backups_keep" in capsys.readouterr().err


def test_retried_migration_reuses_its_backup(
    home: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that keeps failing (here: another process holds the write lock) must not
    write a new full copy on every start."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)  # the wait is not what is tested
    store = open_store(home)
    db.downgrade(store.path, store.engine, "0004")
    store.close()
    for old in _baks(home):
        old.unlink()
    holder = sqlite3.connect(home / "labdeck.db")
    holder.execute("BEGIN IMMEDIATE")  # readers (and backups) go on, writers wait
    try:
        for _ in range(3):
            assert main(["due"]) == 2
            assert "database is busy" in capsys.readouterr().err
    finally:
        holder.rollback()
        holder.close()
    assert len(_baks(home)) == 1
    assert main(["due"]) == 0  # the lock is gone: the migration runs, reusing that backup
    assert len(_baks(home)) == 1 and "pre-0004" in _baks(home)[0].name


def test_restoring_the_oldest_backup_survives_rotation(synced_home: Path, capsys) -> None:
    home = synced_home
    (home / "config.toml").write_text("backups_keep = 2\n", encoding="utf-8")
    assert main(["answer", KEY, "4"]) == 0
    capsys.readouterr()
    assert main(["db", "backup"]) == 0
    oldest = Path(capsys.readouterr().out.strip())
    assert main(["answer", KEY, "3"]) == 0
    assert main(["db", "backup"]) == 0
    capsys.readouterr()
    # the pre-restore backup would rotate the oldest out: not the one being restored
    assert main(["db", "restore", str(oldest)]) == 0, capsys.readouterr().err
    assert _reviews(home / "labdeck.db") == 1
