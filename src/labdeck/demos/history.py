"""Run history: one ``DemoRun`` row per demo run, written as soon as the child has started
(with its pid) and closed with its outcome. Tables come from the store's migrations; this
module only reads and writes.

A row still ``running`` whose process is gone (the labdeck process running it was killed, the
machine lost power) is marked ``interrupted`` by ``mark_interrupted``, which every entry point
calls before it lists or starts runs: ``demo run`` and ``demo history`` on the command line,
the app at start-up and its demo screen. A parent killed between starting the child and
writing the row leaves no row; its child dies with it (``lifeline.py``).

The store modules (SQLModel) are imported inside the functions so that importing this module
stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from labdeck.demos.events import jsonable

RUNNING = "running"
INTERRUPTED = "interrupted"  # the process went away without an outcome being recorded


def _now() -> datetime:
    from labdeck import clock

    return clock.now()


def record_start(
    store: Any,
    demo_id: str,
    params: Mapping[str, Any],
    *,
    device: str = "auto",
    seed: int = 0,
    threads: int = 1,
    card_key: str | None = None,
    pid: int | None = None,
    now: Callable[[], datetime] | None = None,
) -> int:
    """Insert a ``running`` row (its own committed transaction) and return its id. ``pid`` is
    the child process; a running row without one counts as interrupted."""
    from labdeck.store.models import DemoRun

    run = DemoRun(
        demo_id=demo_id,
        card_key=card_key,
        params=jsonable(dict(params)),
        device=device,
        seed=seed,
        threads=threads,
        started_at=(now or _now)(),
        status=RUNNING,
        pid=pid,
    )
    with store.session() as s:
        s.add(run)
        s.flush()
        run_id = run.id
    assert run_id is not None
    return int(run_id)


def record_end(
    store: Any, run_id: int, outcome: Any, *, now: Callable[[], datetime] | None = None
) -> None:
    """Close the row with the outcome's status, metrics, checks and message."""
    from labdeck.store.models import DemoRun

    with store.session() as s:
        run = s.get(DemoRun, run_id)
        if run is None:
            raise KeyError(f"no demo run with id {run_id}")
        run.ended_at = (now or _now)()
        run.status = outcome.status
        run.metrics = jsonable(outcome.metrics)
        run.checks = jsonable(outcome.checks)
        run.message = outcome.message
        used = (outcome.result or {}).get("device")
        if isinstance(used, str) and used:
            run.device = used  # what "auto" resolved to
        s.add(run)


def record_process_start(
    store: Any,
    proc: Any,
    card_key: str | None = None,
    *,
    now: Callable[[], datetime] | None = None,
) -> int:
    """The row for a started :class:`~labdeck.demos.runner.DemoProcess` (CLI and TUI): marks
    interrupted runs first, then ``record_start`` with the child's pid."""
    mark_interrupted(store, now=now)
    return record_start(
        store, proc.demo_id, proc.params, device=proc.device, seed=proc.seed,
        threads=proc.threads, card_key=card_key, pid=proc.pid, now=now,
    )  # fmt: skip


def mark_interrupted(store: Any, *, now: Callable[[], datetime] | None = None) -> int:
    """Close every ``running`` row whose demo process no longer runs as ``interrupted``, with a
    message saying so; returns how many. ``ended_at`` stays empty: when the process died is not
    known. Rows of demos still running (another labdeck process is watching them) are left
    alone."""
    from sqlmodel import select

    from labdeck.demos.lifeline import demo_process_alive
    from labdeck.store.models import DemoRun

    marked = 0
    noticed = (now or _now)().strftime("%Y-%m-%d %H:%M")
    with store.session() as s:
        for run in s.exec(select(DemoRun).where(DemoRun.status == RUNNING)).all():
            if run.pid is not None and demo_process_alive(run.pid):
                continue
            run.status = INTERRUPTED
            gone = f"process {run.pid} is gone" if run.pid else "no process was recorded"
            run.message = (
                f"{gone}: the labdeck process running it ended before the demo reported "
                f"a result (noticed {noticed})"
            )
            s.add(run)
            marked += 1
    return marked


def list_runs(store: Any, limit: int = 50, demo_id: str | None = None) -> list[Any]:
    """The most recent runs first (``DemoRun`` rows, usable after the session closes)."""
    from sqlmodel import col, select

    from labdeck.store.models import DemoRun

    query = select(DemoRun).order_by(col(DemoRun.started_at).desc(), col(DemoRun.id).desc())
    if demo_id is not None:
        query = query.where(DemoRun.demo_id == demo_id)
    with store.session() as s:
        return list(s.exec(query.limit(limit)).all())


def run_to_dict(run: Any) -> dict[str, Any]:
    return {
        "id": run.id,
        "demo_id": run.demo_id,
        "card_key": run.card_key,
        "params": run.params,
        "device": run.device,
        "seed": run.seed,
        "threads": run.threads,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "status": run.status,
        "metrics": run.metrics,
        "checks": run.checks,
        "message": run.message,
        "pid": run.pid,
    }
