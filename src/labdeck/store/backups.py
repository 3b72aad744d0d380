"""Backups next to the database: made with SQLite's backup API, verified, rotated, restored.

A backup is ``labdeck.db.<stamp>-<label>.bak``: a self-contained file (rollback-journal mode,
no ``-wal`` needed) that passed ``PRAGMA quick_check`` before it got its name. Only such files
count as "a backup"; an empty or damaged ``.bak`` is never the latest one.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from labdeck.store.errors import DatabaseCorrupt, StoreError, one_line, store_error

HEADER = b"SQLite format 3\x00"
DEFAULT_KEEP = 10


def check_file(path: Path) -> str | None:
    """Why ``path`` is not a sound SQLite database, or None when ``quick_check`` passes."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return one_line(exc.strerror or str(exc))
    if size == 0:
        return "empty file"
    try:
        with path.open("rb") as handle:
            if handle.read(16) != HEADER:
                return "not an SQLite database"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return one_line(str(exc))
        raise store_error(exc, path) or exc from exc  # busy, read-only, disk full: not damage
    if rows != [("ok",)]:
        return one_line("; ".join(str(r[0]) for r in rows[:3]))
    return None


def backups(db_file: Path) -> list[Path]:
    """Every ``.bak`` next to ``db_file``, newest first (the stamp in the name orders them)."""
    return sorted(db_file.parent.glob(f"{db_file.name}.*.bak"), reverse=True)


def _plausible(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == HEADER
    except OSError:
        return False


def latest_backup(db_file: Path) -> Path | None:
    """The newest backup that passes ``quick_check``."""
    for path in backups(db_file):
        if _plausible(path) and check_file(path) is None:
            return path
    return None


def rotate(db_file: Path, keep: int = DEFAULT_KEEP, protect: Path | None = None) -> list[Path]:
    """Delete our backups beyond the newest ``keep`` (never ``protect``); files that are not
    SQLite are left alone (and not counted). Returns what was deleted."""
    good = [p for p in backups(db_file) if _plausible(p)]
    removed = []
    for path in good[max(keep, 1) :]:
        if protect is not None and path.resolve() == protect.resolve():
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _copy(source: Path, target: Path, *, journal: str) -> None:
    """Copy ``source`` into ``target`` with SQLite's online backup (consistent, WAL included)."""
    src = sqlite3.connect(source, timeout=2.0)
    try:
        dst = sqlite3.connect(target, timeout=2.0)
        try:
            src.backup(dst)
            dst.execute(f"PRAGMA journal_mode={journal}").fetchone()
            if journal == "WAL":
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            dst.close()
    finally:
        src.close()


def make_backup(
    db_file: Path, label: str = "backup", keep: int = DEFAULT_KEEP, protect: Path | None = None
) -> Path:
    """A verified backup of ``db_file``; the oldest beyond ``keep`` are rotated out.

    The copy is written under a temporary name and renamed only after ``quick_check`` passed,
    so a damaged source or a full disk never leaves a file that looks like a backup.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = db_file.with_name(f"{db_file.name}.{stamp}-{label}.bak")
    tmp = target.with_name(target.name + ".tmp")
    try:
        _copy(db_file, tmp, journal="DELETE")
        reason = check_file(tmp)
        if reason is not None:
            raise DatabaseCorrupt(
                f"database {db_file} is damaged ({reason}); no backup was made from it"
            )
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        error = store_error(exc, db_file) if isinstance(exc, Exception) else None
        if error is None or error is exc:
            raise
        raise error from exc
    rotate(db_file, keep, protect)
    return target


@dataclass
class Restored:
    source: Path
    saved: Path | None = None  # backup of the state that was replaced
    moved_aside: list[Path] = field(default_factory=list)  # a damaged database, kept as is


def _move_aside(db_file: Path) -> list[Path]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        path = db_file.with_name(db_file.name + suffix)
        if path.exists():
            aside = db_file.with_name(f"{db_file.name}.{stamp}-damaged{suffix}")
            os.replace(path, aside)
            moved.append(aside)
    return moved


def restore(db_file: Path, source: Path | None = None, keep: int = DEFAULT_KEEP) -> Restored:
    """Replace the database by ``source`` (default: the latest good backup).

    A damaged ``source`` is refused before anything changes. The current state is backed up
    first; a current file too damaged to back up is moved aside under a ``-damaged`` name.
    """
    if source is None:
        source = latest_backup(db_file)
        if source is None:
            raise StoreError(
                f"no good backup next to {db_file}; name one: `labdeck db restore FILE`"
            )
    reason = check_file(source)
    if reason is not None:
        raise DatabaseCorrupt(f"{source} is not a sound database ({reason}); nothing was changed")
    if db_file.exists() and source.resolve() == db_file.resolve():
        raise StoreError(f"{source} is the database itself; name a backup")
    done = Restored(source)
    if db_file.exists() and db_file.stat().st_size > 0:
        if check_file(db_file) is None:
            done.saved = make_backup(db_file, "pre-restore", keep, protect=source)
        else:
            done.moved_aside = _move_aside(db_file)
    try:
        _copy(source, db_file, journal="WAL")
    except Exception as exc:
        error = store_error(exc, db_file)
        if error is None:
            raise
        raise error from exc
    reason = check_file(db_file)
    if reason is not None:  # pragma: no cover - the source passed the same check
        raise DatabaseCorrupt(f"restoring {source} into {db_file} failed ({reason})")
    return done
