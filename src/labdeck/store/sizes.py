"""What the database's bytes are spent on (``labdeck db check`` prints it).

Per table: its rows and the bytes of its pages with its indexes' (SQLite's ``dbstat`` table),
and for the embedding cache the bytes a vector costs on disk and as stored. Read through a
read-only connection: a report never writes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    bytes: int | None  # the table's and its indexes' pages; None where SQLite lacks dbstat


@dataclass(frozen=True)
class SizeReport:
    tables: list[TableSize]
    file_bytes: int
    vectors: int  # embedding-cache rows
    vector_payload: float | None  # mean bytes of one stored vector blob

    @property
    def vector_on_disk(self) -> float | None:
        """Mean bytes one cached vector takes with its row, page share and key index."""
        cache = next((t for t in self.tables if t.name == "embedding_cache"), None)
        if cache is None or cache.bytes is None or not cache.rows:
            return None
        return cache.bytes / cache.rows


def size_report(db_file: Path) -> SizeReport:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        pages: dict[str, int] | None
        try:
            pages = {
                str(table): int(n)
                for table, n in conn.execute(
                    "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat s "
                    "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name"
                )
            }
        except sqlite3.OperationalError:  # built without SQLITE_ENABLE_DBSTAT_VTAB
            pages = None
        tables = [
            TableSize(
                name,
                int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]),
                None if pages is None else pages.get(name, 0),
            )
            for name in names
        ]
        vectors, payload = 0, None
        if "embedding_cache" in names:
            vectors, payload = conn.execute(
                "SELECT count(*), avg(length(vector)) FROM embedding_cache"
            ).fetchone()
        return SizeReport(tables, db_file.stat().st_size, int(vectors), payload)
    finally:
        conn.close()


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"  # pragma: no cover - the loop always returns


def format_report(report: SizeReport) -> list[str]:
    """The report as lines: a row per table, the cache's bytes per vector, the file's size."""
    width = max((len(t.name) for t in report.tables), default=5)
    lines = [f"{'table':<{width}}  {'rows':>12}  {'bytes (with indexes)':>20}"]
    for t in report.tables:
        size = "?" if t.bytes is None else human(t.bytes)
        lines.append(f"{t.name:<{width}}  {t.rows:>12,}  {size:>20}")
    lines.append(f"{'file':<{width}}  {'':>12}  {human(report.file_bytes):>20}")
    if report.vectors:
        on_disk = report.vector_on_disk
        stored = human(report.vector_payload or 0)
        disk = "" if on_disk is None else f"{human(on_disk)} on disk, "
        lines.append(
            f"embedding cache: {report.vectors:,} vectors, {disk}{stored} stored, per vector"
        )
    return lines
