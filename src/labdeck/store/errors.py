"""One classifier for the errors SQLite, SQLAlchemy, Alembic and the OS raise around the store.

Errors are told apart by SQLite's result code (``sqlite_errorcode``) and the OS ``errno``,
never by message text. ``store_error`` turns a raw error into a ``StoreError`` subclass with
one clear line; ``classify`` gives the line and the exit status the CLI and the TUI report.
Imports nothing heavy: the CLI calls it on its error path.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Exit statuses: 2 for a store or file-system problem the learner can fix, 1 for bad input.
STATUS_STORE = 2
STATUS_INPUT = 1


class StoreError(RuntimeError):
    """A database problem worth telling the learner in one line."""


class DatabaseBusy(StoreError):
    pass


class DatabaseCorrupt(StoreError):
    pass


class DatabaseReadOnly(StoreError):
    pass


class DiskFull(StoreError):
    pass


class NewerSchema(StoreError):
    """The file was written by a newer labdeck (a revision this install does not know)."""


@dataclass(frozen=True)
class Problem:
    message: str  # one line, control characters stripped
    status: int


def one_line(text: str) -> str:
    """``text`` safe to print on one terminal line: control sequences and characters go."""
    from labdeck.textfmt import clean_text

    return " ".join(clean_text(str(text)).split())


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's ``orig``) and its explicit causes, each once.
    (Not ``__context__``: a bug raised while handling a database error stays a bug.)"""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend([getattr(item, "orig", None), item.__cause__])


def sqlite_code(exc: BaseException) -> tuple[int, str] | None:
    """(primary result code, extended code name) of the first SQLite error in the chain."""
    for item in _chain(exc):
        code = getattr(item, "sqlite_errorcode", None)
        if isinstance(item, sqlite3.Error) and isinstance(code, int):
            return code & 0xFF, str(getattr(item, "sqlite_errorname", "") or code)
    return None


def os_error(exc: BaseException) -> OSError | None:
    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno is not None:
            return item
    return None


# ---------------------------------------------------------------- messages


def busy_message(db_file: Path | None) -> str:
    where = f" {db_file}" if db_file else " it"
    return f"database is busy: another labdeck process is using{where}; try again"


def corrupt_message(db_file: Path | None, detail: str) -> str:
    from labdeck.store.backups import latest_backup

    latest = latest_backup(db_file) if db_file else None
    hint = (
        f"restore the latest good backup ({latest}) with `labdeck db restore`"
        if latest
        else "no good backup next to it; `labdeck db restore FILE` restores a copy you kept"
    )
    return f"database {db_file or ''} is damaged ({detail}); {hint}"


def _read_only_message(target: Path | str | None, detail: str) -> str:
    return (
        f"{target or 'the labdeck home'} is read-only ({detail}); labdeck needs to write there: "
        "make it writable or use another --home"
    )


def _disk_full_message(target: Path | str | None) -> str:
    return (
        f"disk full while writing {target or 'the labdeck home'}: everything saved before "
        "this command is kept, this change was not saved; free some space (old *.bak backups "
        "in the home can go) and try again"
    )


def _os_message(err: OSError, db_file: Path | None) -> tuple[type[StoreError], str]:
    target = err.filename or db_file
    code = err.errno
    if code == errno.EROFS:
        return DatabaseReadOnly, _read_only_message(target, "read-only file system")
    if code in (errno.EACCES, errno.EPERM):
        return StoreError, f"permission denied: {target}; check its owner and permissions"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull, _disk_full_message(target)
    if code in (errno.ENOTDIR, errno.EEXIST) and target and Path(target).is_file():
        return StoreError, f"{target} is a file, not a directory; labdeck needs a folder there"
    if code == errno.ENOTDIR:
        return StoreError, f"a part of {target} is a file, not a directory"
    if code == errno.EISDIR:
        return StoreError, f"{target} is a directory, expected a file"
    return (
        StoreError,
        f"cannot use {target}: {err.strerror or errno.errorcode.get(code, code) if code is not None else None}",
    )


def _nearly_full(db_file: Path) -> bool:
    """Less free space next to ``db_file`` than one more WAL's worth (1 MiB)."""
    import os

    for folder in (db_file.parent, *db_file.parent.parents):
        if folder.exists():
            try:
                st = os.statvfs(folder)
            except OSError:
                return False
            return st.f_bavail * st.f_frsize < 1 << 20
    return False


def _why_read_only(path: Path) -> str | None:
    """ "read-only file system", "no write permission" or None (writable)."""
    import os

    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        return None
    return None if os.access(path, os.W_OK) else "no write permission"


def _cant_open_message(db_file: Path | None) -> tuple[type[StoreError], str]:
    """SQLITE_CANTOPEN carries no errno: look at the path to say why."""
    if db_file is None:
        return StoreError, "cannot open the database file"
    for parent in (db_file.parent, *db_file.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                return StoreError, f"{parent} is a file, not a directory"
            break
    if db_file.is_dir():
        return StoreError, f"{db_file} is a directory, expected the database file"
    for target in (db_file, db_file.parent):
        why = _why_read_only(target) if target.exists() else None
        if why:
            return DatabaseReadOnly, _read_only_message(target, why)
    return StoreError, f"cannot open the database file {db_file}"


def _sqlite_message(
    code: int, name: str, db_file: Path | None, exc: BaseException
) -> tuple[type[StoreError], str] | None:
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusy, busy_message(db_file)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        detail = "not an SQLite database" if code == sqlite3.SQLITE_NOTADB else name
        return DatabaseCorrupt, corrupt_message(db_file, detail)
    if code == sqlite3.SQLITE_READONLY:
        for target in (db_file, db_file.parent) if db_file else ():
            why = _why_read_only(target) if target.exists() else None
            if why:
                return DatabaseReadOnly, _read_only_message(target, why)
        return DatabaseReadOnly, _read_only_message(db_file, name)
    if code == sqlite3.SQLITE_FULL:
        return DiskFull, _disk_full_message(db_file)
    if code == sqlite3.SQLITE_CANTOPEN:
        return _cant_open_message(db_file)
    if code in (sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return StoreError, f"permission denied: {db_file or 'the database'} ({name})"
    if code == sqlite3.SQLITE_IOERR:
        err = os_error(exc)
        if err is not None:
            return _os_message(err, db_file)
        if db_file is not None and _nearly_full(db_file):  # SQLite keeps the errno to itself
            return DiskFull, _disk_full_message(db_file)
        return StoreError, f"cannot read or write {db_file or 'the database'}: I/O error ({name})"
    return None  # SQL errors, constraints, misuse: a bug in labdeck, not the learner's problem


def store_error(exc: BaseException, db_file: Path | None = None) -> StoreError | None:
    """``exc`` as a ``StoreError`` with one clear line, or None when it is not a store or
    file-system error (a programming error stays itself)."""
    if isinstance(exc, StoreError):
        return exc
    found = sqlite_code(exc)
    if found is not None:
        told = _sqlite_message(found[0], found[1], db_file, exc)
        if told is None:
            return None
        return told[0](told[1])
    err = os_error(exc)
    if err is not None:
        kind, message = _os_message(err, db_file)
        return kind(message)
    return None


def classify(exc: BaseException, db_file: Path | None = None) -> Problem | None:
    """The line and exit status for a store or file-system error; None for anything else."""
    error = store_error(exc, db_file)
    if error is None:
        return None
    return Problem(one_line(str(error)), STATUS_STORE)


def describe(exc: BaseException) -> str:
    """A one-line name for an unexpected error, without SQLAlchemy's ``[SQL: …]`` dump."""
    inner = getattr(exc, "orig", None)
    shown = inner if isinstance(inner, BaseException) else exc
    return one_line(f"{type(shown).__name__}: {shown}")
