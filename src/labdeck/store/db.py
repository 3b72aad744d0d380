"""Opening the database: WAL, foreign keys, an integrity check, migrate-on-open with a backup.

Every open (the CLI and the app may write) runs ``PRAGMA quick_check`` unless the file is
unchanged since the last check that passed (see ``_verify``), and refuses a damaged file with a
pointer to ``labdeck db restore``. ``Store.close`` checkpoints the WAL into the main file, so
after a clean exit ``labdeck.db`` alone holds everything; the CLI entry closes every store
before its fast ``os._exit``.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from labdeck import config
from labdeck.store import backups
from labdeck.store.backups import DEFAULT_KEEP, check_file, latest_backup
from labdeck.store.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseReadOnly,
    DiskFull,
    NewerSchema,
    StoreError,
    corrupt_message,
    store_error,
)
from labdeck.store.sql import fetch

if TYPE_CHECKING:  # SQLAlchemy loads with the first engine, sqlmodel with the first session
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

__all__ = [
    "DatabaseBusy",
    "DatabaseCorrupt",
    "DatabaseReadOnly",
    "DiskFull",
    "NewerSchema",
    "Store",
    "StoreError",
    "close_all",
    "latest_backup",
    "open_store",
]

BUSY_TIMEOUT_S = 2.0  # how long a connection waits on another process's write lock

# A check result is trusted only for a file last changed this long before the check: a change
# within the same file-system timestamp tick would otherwise look like no change ("racy git").
RACY_NS = 1_000_000_000


def migrations_dir() -> Path:
    from labdeck.resources import project_folder

    path = project_folder("migrations")
    if path is None or not (path / "env.py").exists():  # pragma: no cover - broken install
        raise StoreError("labdeck's migrations are missing from this install; reinstall labdeck")
    return path


def _alembic_config(db_file: Path) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db_file}")
    return cfg


def head_revision() -> str:
    """The newest migration, read from the version files (cheap: no alembic import).

    A test checks that this agrees with alembic's own view of the head.
    """
    return _head_from_files()


@lru_cache(maxsize=1)
def known_revisions() -> dict[str, str | None]:
    """Every migration this install carries: revision -> down revision."""
    revisions: dict[str, str | None] = {}
    for path in (migrations_dir() / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", text, re.M)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down else None
    return revisions


@lru_cache(maxsize=1)
def _head_from_files() -> str:
    revisions = known_revisions()
    parents = {d for d in revisions.values() if d}
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1:  # pragma: no cover - a branched history is a developer error
        raise StoreError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]


def _make_engine(db_file: Path) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(
        f"sqlite:///{db_file}",
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def backup(db_file: Path, label: str = "backup", keep: int = DEFAULT_KEEP) -> Path:
    """A verified copy of the database next to itself (SQLite's online backup), rotated."""
    return backups.make_backup(db_file, label, keep)


# ---------------------------------------------------------------- integrity


def _check_header(db_file: Path) -> None:
    """The cheap check on every open: the file is SQLite (or empty/new)."""
    if not db_file.is_file() or db_file.stat().st_size == 0:
        return
    with db_file.open("rb") as handle:
        if handle.read(16) != backups.HEADER:
            raise DatabaseCorrupt(corrupt_message(db_file, "not an SQLite database"))


def _check_integrity(db_file: Path, thorough: bool = False) -> None:
    """Raise DatabaseCorrupt unless the header (and, ``thorough``, every page) is sound."""
    _check_header(db_file)
    if thorough and db_file.is_file() and db_file.stat().st_size > 0:
        reason = check_file(db_file)
        if reason is not None:
            raise DatabaseCorrupt(corrupt_message(db_file, reason))


def _cache_file(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".checked")


def _identity(db_file: Path) -> list[int] | None:
    """What changes whenever the database's bytes may have changed: the main file's inode,
    size, mtime and ctime, and the WAL's when it holds frames."""
    try:
        st = db_file.stat()
    except OSError:
        return None
    ident: list[int] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    try:
        wal = db_file.with_name(db_file.name + "-wal").stat()
        if wal.st_size > 0:
            ident += [wal.st_ino, wal.st_size, wal.st_mtime_ns, wal.st_ctime_ns]
    except OSError:
        pass
    return ident


def _newest_change_ns(ident: list[int]) -> int:
    return max(ident[3:5] + ident[7:9])


def file_identity(db_file: Path) -> list[int] | None:
    """What changes whenever the database's bytes may have changed (by this process or
    another): compare two to tell whether what was read from the file is still current."""
    return _identity(db_file)


# The timestamp tick of a file system whose stamps have fractions of a second (Linux's come
# from a clock updated every jiffy, <= 10 ms): a change this long after another gets a
# different stamp. Whole-second stamps get RACY_NS.
FINE_RACY_NS = 50_000_000


def settled_identity(db_file: Path) -> tuple[list[int] | None, float]:
    """``(identity, 0)`` when the file's last change is at least a timestamp tick old
    (``FINE_RACY_NS`` where the stamps show fractions of a second, else ``RACY_NS``), so that
    a later change cannot share its tick and look like none; else ``(None, seconds to
    wait)``. What is read after a settled identity is current while the identity holds."""
    ident = _identity(db_file)
    if ident is None:
        return None, 0.0
    newest = _newest_change_ns(ident)
    racy = FINE_RACY_NS if newest % 1_000_000_000 else RACY_NS
    age = time.time_ns() - newest
    if age < racy:
        return None, (racy - age) / 1e9
    return ident, 0.0


def _verify(db_file: Path) -> str:
    """``quick_check`` the file unless it is unchanged since a check that passed.

    Returns "checked", "cached" or "new" (no file yet); raises DatabaseCorrupt. The result is
    cached in ``labdeck.db.checked`` by file identity; only a check made at least ``RACY_NS``
    after the file's last change is cached, so a change in the same timestamp tick is never
    mistaken for none.
    """
    ident = _identity(db_file)
    if ident is None or ident[2] == 0:
        return "new"
    cache = _cache_file(db_file)
    try:
        if json.loads(cache.read_text(encoding="utf-8")).get("identity") == ident:
            return "cached"
    except (OSError, ValueError, AttributeError):
        pass
    started = time.time_ns()
    reason = check_file(db_file)
    if reason is not None:
        raise DatabaseCorrupt(corrupt_message(db_file, reason))
    if started - _newest_change_ns(ident) >= RACY_NS and _identity(db_file) == ident:
        with contextlib.suppress(OSError):  # a read-only home still opens; it checks next time
            cache.write_text(json.dumps({"identity": ident}), encoding="utf-8")
    return "checked"


# ---------------------------------------------------------------- migrations


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return revision_of(conn)


def revision_of(conn: Connection | sqlite3.Connection) -> str | None:
    """The database's Alembic revision (None: not migrated yet), on either kind of
    connection: ``upgrade`` and ``peek`` decide with this one read."""
    if not fetch(conn, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"):
        return None
    rows = fetch(conn, "SELECT version_num FROM alembic_version")
    return str(rows[0][0]) if rows else None


def at_head(current: str | None) -> bool:
    """Is a database at ``current`` up to date (opening it migrates nothing)?"""
    return current == head_revision()


def _check_known(db_file: Path, current: str | None) -> None:
    if current is not None and current not in known_revisions():
        raise NewerSchema(
            f"database {db_file} was made by a newer labdeck (revision {current}); "
            "upgrade labdeck to open it (the file was not changed)"
        )


def _unchanged_backup(db_file: Path, label: str) -> Path | None:
    """A good ``label`` backup made after the database last changed (a retried migration
    reuses it instead of writing another full copy)."""
    ident = _identity(db_file)
    if ident is None:
        return None
    changed = _newest_change_ns(ident)
    for path in backups.backups(db_file):
        fresh = path.name.endswith(f"-{label}.bak") and path.stat().st_mtime_ns > changed
        if fresh and check_file(path) is None:
            return path
    return None


def upgrade(
    db_file: Path, engine: Engine, revision: str = "head", keep: int = DEFAULT_KEEP
) -> Path | None:
    """Upgrade to ``revision``; back the file up first when it holds data and is behind."""
    current = current_revision(engine)
    _check_known(db_file, current)
    if at_head(current) and revision == "head":
        return None
    from alembic import command

    cfg = _alembic_config(db_file)
    saved = None
    if current is not None:
        _check_integrity(db_file, thorough=True)
        label = f"pre-{current}"
        saved = _unchanged_backup(db_file, label) or backup(db_file, label, keep)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return saved


def downgrade(db_file: Path, engine: Engine, revision: str, keep: int = DEFAULT_KEEP) -> Path:
    """Migrate down to ``revision`` after a verified backup (which then holds the data)."""
    from alembic import command

    _check_known(db_file, current_revision(engine))
    saved = backup(db_file, "pre-downgrade", keep)
    cfg = _alembic_config(db_file)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return saved


def resolves_to_base(revision: str, current: str | None) -> bool:
    """Would ``db downgrade REVISION`` (``base``, or ``-N`` steps) drop every table?"""
    if revision == "base":
        return True
    if revision.startswith("-") and revision[1:].isdigit():
        down = known_revisions()
        for _ in range(int(revision[1:])):
            current = down.get(current) if current else None
        return current is None
    return False


# ---------------------------------------------------------------- the store

_OPEN: weakref.WeakSet[Store] = weakref.WeakSet()


class Store:
    """One database file. ``session()`` yields a SQLModel session that commits on success."""

    def __init__(self, path: Path, engine: Engine, keep_backups: int = DEFAULT_KEEP) -> None:
        self.path = path
        self.engine = engine
        self.keep_backups = keep_backups
        self.backup_made: Path | None = None
        self.integrity = "unchecked"  # "checked" | "cached" | "new" once open_store verified
        self._closer = weakref.finalize(self, _release, engine, path)
        _OPEN.add(self)

    @contextmanager
    def session(self) -> Iterator[Session]:
        from sqlalchemy.exc import DBAPIError
        from sqlmodel import Session

        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            error = store_error(exc, self.path)
            if error is None:
                raise
            raise error from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def backup(self, label: str = "backup") -> Path:
        return backup(self.path, label, self.keep_backups)

    def check(self) -> None:
        """Full integrity check (every page); raises DatabaseCorrupt."""
        _check_integrity(self.path, thorough=True)

    def checkpoint(self) -> bool:
        """Move the WAL into the main file and truncate it (see ``checkpoint``)."""
        return checkpoint(self.path)

    def close(self) -> None:
        """Checkpoint and release the file (the clean-exit path of the CLI and the app).
        A store dropped without ``close`` is closed the same way when it is collected."""
        self._closer()


def checkpoint(db_file: Path) -> bool:
    """``PRAGMA wal_checkpoint(TRUNCATE)``: after it ``db_file`` alone holds every commit.
    False when another process is reading (the data stays safe in the WAL, and the last
    connection to close checkpoints it)."""
    if not db_file.exists():
        return False
    try:
        conn = sqlite3.connect(db_file, timeout=0.2)
        try:
            row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return bool(row) and row[0] == 0


def _release(engine: Engine, db_file: Path) -> None:
    engine.dispose()
    checkpoint(db_file)


def close_all() -> None:
    """Close every store this process opened (called before the CLI's ``os._exit``)."""
    for store in list(_OPEN):
        try:
            store.close()
        except Exception:  # leaving anyway: every commit is safe in the WAL
            continue


def keep_setting(home: Path | str | None) -> int:
    """How many backups to keep (settings ``backups_keep``)."""
    try:
        return max(1, config.load_settings(home).backups_keep)
    except (config.SettingsError, OSError):
        return DEFAULT_KEEP  # a broken settings file must not lock the learner out


def _checked(db_file: Path, verify: bool = True) -> str:
    """The checks every open makes before its first connection: the header, then (with
    ``verify``) the cached integrity check (``_verify``). Raises DatabaseCorrupt."""
    _check_header(db_file)
    return _verify(db_file) if verify else "unchecked"


@contextmanager
def peek(db_file: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only DB-API connection to ``db_file``, in one read transaction, when opening it
    would change nothing: the file exists and passes ``open_store``'s checks (``_checked``:
    the header, the integrity check, cached or made now) and its schema is at the head
    (``revision_of``, ``at_head``, read in that transaction). None otherwise — a new, damaged,
    unreadable, older or newer file, a busy lock —: then ``open_store`` does what it needs
    and reports what it must. Needs no SQLAlchemy (the home screen's first counts are read
    through this). The connection is opened ``mode=ro``: it never writes, not even the
    checkpoint a last connection makes on close, so the file the store opens next is the
    one checked here."""
    conn: sqlite3.Connection | None = None
    try:
        if db_file.is_file() and _checked(db_file) != "new":
            conn = sqlite3.connect(
                f"{db_file.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
            )
            conn.execute("BEGIN")
            if not at_head(revision_of(conn)):
                conn.close()
                conn = None
    except (StoreError, sqlite3.Error, OSError, ValueError):
        if conn is not None:
            conn.close()
        conn = None
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()  # ends the read transaction


def open_store(
    home: Path | str | None = None,
    *,
    path: Path | None = None,
    migrate: bool = True,
    verify: bool = True,
) -> Store:
    """Open (creating if needed) the database in ``home`` and bring it to the head revision.

    ``verify`` runs the (cached) integrity check; only commands that repair or inspect a
    damaged file (``db check``, ``db current``) skip it.
    """
    db_file = Path(path) if path else config.db_path(home)
    engine = None
    try:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        integrity = _checked(db_file, verify)
        engine = _make_engine(db_file)
        store = Store(db_file, engine, keep_setting(home))
        store.integrity = integrity
        if migrate:
            store.backup_made = upgrade(db_file, engine, keep=store.keep_backups)
        return store
    except Exception as exc:
        if engine is not None:
            engine.dispose()
        error = store_error(exc, db_file)
        if error is None or error is exc:
            raise
        raise error from exc
