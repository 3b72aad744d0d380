"""Opening the database: WAL, foreign keys, migrate-on-open with a backup first."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from labdeck import config

if TYPE_CHECKING:  # sqlmodel (and pydantic) load only when a session is opened
    from sqlmodel import Session


class StoreError(RuntimeError):
    """A database problem worth telling the learner in one line."""


class DatabaseBusy(StoreError):
    pass


class DatabaseCorrupt(StoreError):
    pass


def migrations_dir() -> Path:
    from labdeck.resources import project_folder

    path = project_folder("migrations")
    if path is None or not (path / "env.py").exists():  # pragma: no cover - broken install
        raise StoreError("labdeck's migrations are missing from this install; reinstall labdeck")
    return path


def _alembic_config(db_file: Path):
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
def _head_from_files() -> str:
    revisions: dict[str, str | None] = {}
    for path in (migrations_dir() / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", text, re.M)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down else None
    parents = {d for d in revisions.values() if d}
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1:  # pragma: no cover - a branched history is a developer error
        raise StoreError(f"migrations have {len(heads)} heads: {heads}")
    return heads[0]


def _make_engine(db_file: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{db_file}",
        connect_args={"timeout": 2.0, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def latest_backup(db_file: Path) -> Path | None:
    backups = sorted(db_file.parent.glob(f"{db_file.name}.*.bak"))
    return backups[-1] if backups else None


def backup(db_file: Path, label: str = "backup") -> Path:
    """Copy the database (consistently, via SQLite's online backup) next to itself."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = db_file.with_name(f"{db_file.name}.{stamp}-{label}.bak")
    src = sqlite3.connect(db_file)
    try:
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()
    return target


def _check_integrity(db_file: Path, thorough: bool = False) -> None:
    """Detect a damaged file on open. The cheap check reads the header and the schema page;
    ``thorough`` runs SQLite's quick_check over every page (before migrations, `db check`)."""
    if not db_file.exists() or db_file.stat().st_size == 0:
        return
    with db_file.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise DatabaseCorrupt(_corrupt_message(db_file, "not an SQLite database"))
    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=2.0)
        try:
            if thorough:
                row = conn.execute("PRAGMA quick_check").fetchone()
            else:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                row = ("ok",)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusy(_busy_message(db_file)) from exc
        raise DatabaseCorrupt(_corrupt_message(db_file, str(exc))) from exc
    if row is None or row[0] != "ok":
        raise DatabaseCorrupt(_corrupt_message(db_file, str(row[0] if row else "no answer")))


def _corrupt_message(db_file: Path, detail: str) -> str:
    latest = latest_backup(db_file)
    hint = f"latest backup: {latest}" if latest else "no backup found next to it"
    return f"database {db_file} is damaged ({detail}); {hint}"


def _busy_message(db_file: Path) -> str:
    return f"database is busy: another labdeck process is using {db_file}; try again"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        has_table = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).first()
        if not has_table:
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None


def upgrade(db_file: Path, engine: Engine, revision: str = "head") -> Path | None:
    """Upgrade to ``revision``; back the file up first when it holds data and is behind."""
    current = current_revision(engine)
    if current == head_revision() and revision == "head":
        return None
    from alembic import command

    cfg = _alembic_config(db_file)
    saved = None
    if current is not None:
        _check_integrity(db_file, thorough=True)
        saved = backup(db_file, label=f"pre-{current}")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return saved


def downgrade(db_file: Path, engine: Engine, revision: str) -> Path:
    from alembic import command

    saved = backup(db_file, label="pre-downgrade")
    cfg = _alembic_config(db_file)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return saved


class Store:
    """One database file. ``session()`` yields a SQLModel session that commits on success."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.backup_made: Path | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        from sqlmodel import Session

        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseBusy(_busy_message(self.path)) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def backup(self) -> Path:
        return backup(self.path)

    def check(self) -> None:
        """Full integrity check (every page); raises DatabaseCorrupt."""
        _check_integrity(self.path, thorough=True)

    def close(self) -> None:
        self.engine.dispose()


def open_store(
    home: Path | str | None = None, *, path: Path | None = None, migrate: bool = True
) -> Store:
    """Open (creating if needed) the database in ``home`` and bring it to the head revision."""
    db_file = Path(path) if path else config.db_path(home)
    db_file.parent.mkdir(parents=True, exist_ok=True)
    _check_integrity(db_file)
    engine = _make_engine(db_file)
    store = Store(db_file, engine)
    if migrate:
        try:
            store.backup_made = upgrade(db_file, engine)
        except OperationalError as exc:
            engine.dispose()
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseBusy(_busy_message(db_file)) from exc
            raise StoreError(f"cannot migrate {db_file}: {exc.orig}") from exc
        except sqlite3.DatabaseError as exc:
            engine.dispose()
            raise DatabaseCorrupt(_corrupt_message(db_file, str(exc))) from exc
    return store
