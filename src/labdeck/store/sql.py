"""Running SQL as the driver sees it, on either kind of connection the store hands out.

The queue's, the counts' and the start-up checks' statements are plain SQLite SQL with
``:name`` parameters. They run on a SQLAlchemy ``Connection`` (``exec_driver_sql``: no
``text()`` parsing or compiling, the driver's statement cache keeps them prepared) or on a
DB-API ``sqlite3.Connection`` (``store.db.peek``: the home screen's first counts, read before
SQLAlchemy is imported). Both hand the statement and the parameters to the same driver, so the
rows are the same. This module imports no SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    Conn: TypeAlias = Connection | sqlite3.Connection


def fetch(conn: Conn, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """The rows of ``sql`` (``:name`` parameters; each row a tuple or a tuple-like ``Row``),
    run through the driver as it is. Errors: SQLAlchemy's ``DBAPIError`` on its connections,
    ``sqlite3.Error`` on a DB-API one."""
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql, dict(params or {})).fetchall()
    return list(conn.exec_driver_sql(sql, dict(params or {})).all())
