"""Helpers shared by the TUI tests (imported as ``tuihelpers``; conftest.py holds fixtures)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # the fixed clock of every TUI test


def review_rows(store) -> list[tuple]:
    """(id, card_id, quality, mode, undone, answer) of every review_log row, oldest first."""
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT id, card_id, quality, mode, undone, answer FROM review_log ORDER BY id"
                )
            )
        ]


def card_state(store, card_id: int) -> dict:
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT repetitions, ease, interval, due, lapses, suspended, reviews "
                "FROM card_state WHERE card_id = :c"
            ),
            {"c": card_id},
        ).first()
    keys = ("repetitions", "ease", "interval", "due", "lapses", "suspended", "reviews")
    return dict(zip(keys, row, strict=True))


def background_workers(app) -> list:
    """Workers that end by themselves (a DirectoryTree's loader never does)."""
    return [w for w in app.workers if w.name != "_loader" and not w.is_finished]


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and the screen catch up (no sleeps on a wall clock). A worker that a
    newer exclusive one cancels while this waits has finished too (not a failure: the browse
    screen's detail worker is replaced so whenever the cursor moves during a slow load)."""
    from textual.worker import WorkerCancelled

    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        for worker in background_workers(app):
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
    await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 30.0, step: float = 0.05) -> None:
    """Pause until ``predicate()`` holds (for a child process or a model; bounded)."""
    waited = 0.0
    while not predicate():
        if waited >= timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(step)
        waited += step


def freeze(app) -> None:
    """No blinking cursors in snapshots."""
    from textual.widgets import Input, TextArea

    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False


def seed_history(services, now: datetime, days: int = 21, per_day: int = 8) -> int:
    """Answer cards on each of the last ``days`` study days (deterministic qualities)."""
    from labdeck.srs.scheduler import Scheduler

    qualities = (5, 4, 3, 4, 2, 5, 4, 1)
    answered = 0
    for offset in range(days, 0, -1):
        moment = now - timedelta(days=offset)
        scheduler = Scheduler(services.store, services.settings, now=lambda m=moment: m)
        for i in range(per_day - (offset % 3)):
            entry = scheduler.next_card()
            if entry is None:
                break
            scheduler.answer(entry.card_id, qualities[(offset + i) % len(qualities)])
            answered += 1
    return answered


def screen_text(app) -> str:
    """The screen as plain text, line by line, exactly as drawn (what the learner sees)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def review_log(store, row_id: int | None = None) -> dict:
    """The newest (or the given) review_log row, every column, JSON decoded."""
    import json

    with store.engine.connect() as conn:
        sql = "SELECT * FROM review_log " + (
            "WHERE id = :i" if row_id is not None else "ORDER BY id DESC LIMIT 1"
        )
        row = conn.execute(text(sql), {"i": row_id}).mappings().first()
    assert row is not None, "no review_log row"
    out = dict(row)
    if isinstance(out.get("checklist"), str):
        out["checklist"] = json.loads(out["checklist"])
    return out


class SureGrader:
    """The real grader with its verdict set to *sure* on every result, for tests of what
    happens after a suggestion is offered (the real verdict for a given answer may be
    *unsure*, which the checklist tests cover)."""

    def __init__(self, grader) -> None:
        self.grader = grader

    def grade(self, *args, **kwargs):
        import dataclasses

        return dataclasses.replace(self.grader.grade(*args, **kwargs), sure=True)


def visible_columns(table) -> list[str]:
    """Labels of a DataTable's columns drawn in full in its width (no horizontal scroll)."""
    room = table.scrollable_content_region.width
    shown, used = [], 0
    for column in table.ordered_columns:
        used += column.get_render_width(table)
        if used > room:
            break
        shown.append(str(column.label))
    return shown


def burst(app, *keys: str) -> None:
    """Queue every key on ``app`` before any is handled (one read of fast typing): names as
    Textual gives them ("backspace", "space", "left"), a letter as itself."""
    from textual import events

    for key in keys:
        char = {"backspace": "\x7f", "space": " "}.get(key, key if len(key) == 1 else None)
        message = events.Key(key, char)
        message.set_sender(app)
        app.post_message(message)
