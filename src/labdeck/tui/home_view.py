"""What the home screen shows (counts, today's summary, the heatmap), and its snapshot on disk.

The counts need SQLAlchemy, whose import alone takes about as long as a whole hello-world
Textual start-up. So when the app closes it writes what Home would show next to the database
(``home-view.json``), with the database file's and its WAL's size and mtime, the study day
and the settings; the next start shows that snapshot in its first frame when all of them are
unchanged — the counts are a function of exactly those (``queue.overview`` counts by study
day) — and the home's worker replaces it with counts read from the store a moment later in
any case. Anything else (another process wrote the database, a new day, other limits, a
damaged file) and the snapshot is not used. This module imports neither SQLAlchemy nor
Textual.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from labdeck.config import Settings, db_path, home_dir

if TYPE_CHECKING:
    from labdeck.srs.scheduler import Scheduler
    from labdeck.store.sql import Conn

FILE = "home-view.json"
VERSION = 1
HEATMAP_DAYS = 7 * 12  # "Reviews, last 12 weeks"


@dataclass(frozen=True)
class Row:
    """One line of the deck tree: a deck (chapter None) or one of its chapters."""

    deck: str
    chapter: str | None
    name: str
    new: int
    redrill: int
    due: int


@dataclass(frozen=True)
class HomeView:
    total: tuple[int, int, int]  # new, re-drill, due over all decks
    rows: list[Row]
    answered: int
    pass_rate: float | None
    streak: int
    day: date  # the study day the counts are for
    per_day: dict[date, int] = field(default_factory=dict)  # answers per day (heatmap)


def read(scheduler: Scheduler, *, chapters: bool = True, like: HomeView | None = None) -> HomeView:
    """What Home shows, from the store (``read_on`` in one of the scheduler's reads)."""
    day = scheduler.today()
    with scheduler.repo.read() as conn:
        return read_on(conn, scheduler.settings, day, chapters=chapters, like=like)


def read_on(
    conn: Conn,
    settings: Settings,
    day: date,
    *,
    chapters: bool = True,
    like: HomeView | None = None,
) -> HomeView:
    """What Home shows for the study day ``day``, read on ``conn`` (a SQLAlchemy connection
    of the open store, or ``Workspace.peek``'s DB-API one: the same statements either way):
    the decks' counts (``queue.overview``; with ``chapters``, the chapters' rows too);
    today's summary and the heatmap (``stats.today_on``, ``stats.answers_per_day``) come
    from ``like`` when given (read a moment ago)."""
    from labdeck.srs import queue, stats

    total, counts = queue.overview(conn, settings, day, None, chapters=chapters)
    rows = [
        Row(c.deck, c.chapter, c.name, c.new, c.redrill, c.due)
        for c in counts
        if c.deck is not None
    ]
    totals = (total.new, total.redrill, total.due)
    if like is not None:
        return replace(like, total=totals, rows=rows)
    summary = stats.today_on(conn, day)
    return HomeView(
        total=totals,
        rows=rows,
        answered=summary.answered,
        pass_rate=summary.pass_rate,
        streak=summary.streak,
        day=day,
        per_day=dict(stats.answers_per_day(conn, day, days=HEATMAP_DAYS)),
    )


def _signature(home: Path | None) -> list[list[int] | None] | None:
    """Size and mtime of the database and its WAL (None: no database yet)."""
    db = db_path(home)
    parts: list[list[int] | None] = []
    for path in (db, db.with_name(db.name + "-wal")):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if path == db:
                return None
            parts.append(None)
        else:
            parts.append([st.st_size, st.st_mtime_ns])
    return parts


def _key(settings: Settings) -> str:
    return repr(settings)  # any setting changed (limits, rollover hour, deck order…): not used


def save(home: Path | None, view: HomeView, settings: Settings) -> None:
    """Write the snapshot for the database as it is now (call after the store is closed)."""
    signature = _signature(home)
    if signature is None:
        return
    data = asdict(view)
    data["day"] = view.day.isoformat()
    data["per_day"] = {d.isoformat(): n for d, n in view.per_day.items()}
    payload = {"version": VERSION, "db": signature, "settings": _key(settings), "view": data}
    target = home_dir(home) / FILE
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # only costs the next start its early counts


def load(home: Path | None, settings: Settings, day: date) -> HomeView | None:
    """The snapshot, if the database, the settings and the study day are those it was made
    for; None otherwise (or when it is missing or unreadable)."""
    try:
        payload = json.loads((home_dir(home) / FILE).read_text(encoding="utf-8"))
        if (
            payload["version"] != VERSION
            or payload["settings"] != _key(settings)
            or payload["db"] != _signature(home)
        ):
            return None
        data = payload["view"]
        if data["day"] != day.isoformat():
            return None
        return HomeView(
            total=tuple(int(n) for n in data["total"]),  # type: ignore[arg-type]
            rows=[Row(**row) for row in data["rows"]],
            answered=int(data["answered"]),
            pass_rate=data["pass_rate"],
            streak=int(data["streak"]),
            day=day,
            per_day={date.fromisoformat(d): int(n) for d, n in data["per_day"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
