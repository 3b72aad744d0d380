"""Has the shipped deck changed since the last sync? (Cheap: no parsing, no SQLModel.)

The fingerprint lives in the database's ``meta`` table, so it lives and dies with the file: a
deleted, replaced or restored database reloads the deck. (It used to sit next to the database
in ``labdeck.db.content``, which outlived a deleted database; that file is removed on sync.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from labdeck.store.sql import fetch

if TYPE_CHECKING:
    from labdeck.store import Store
    from labdeck.store.sql import Conn

META_KEY = "content_fingerprint"


def content_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/*.toml")):
        if not path.is_file():  # a folder named *.toml is reported by the parser, not here
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def stored_fingerprint(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return fingerprint_of(conn)


def fingerprint_of(conn: Conn) -> str | None:
    """The fingerprint of the deck last synced into the database, on either kind of
    connection (``Workspace`` decides with this whether the store's open syncs the deck)."""
    rows = fetch(conn, "SELECT value FROM meta WHERE key = :key", {"key": META_KEY})
    return str(rows[0][0]) if rows else None


def record_fingerprint(store: Store, fingerprint: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (META_KEY, fingerprint),
        )
    store.path.with_name(store.path.name + ".content").unlink(missing_ok=True)


def content_changed(store: Store, root: Path) -> bool:
    return stored_fingerprint(store) != content_fingerprint(root)
