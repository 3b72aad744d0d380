"""Run history in the real store (tables from the migrations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from labdeck.demos import history
from labdeck.demos.runner import Outcome

pytest.importorskip("sqlmodel")


def test_record_start_end_and_list(home: Path) -> None:
    from labdeck.store import open_store

    store = open_store(home)
    t0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    first = history.record_start(
        store, "vae", {"epochs": 3}, device="cpu", seed=2, threads=1,
        card_key="exam-c:c3.4", now=lambda: t0,
    )  # fmt: skip
    second = history.record_start(store, "ctc", {"beam": 4}, now=lambda: t0 + timedelta(minutes=5))
    running = history.list_runs(store)
    assert [r.id for r in running] == [second, first]  # newest first
    assert running[1].status == "running" and running[1].ended_at is None

    ok = Outcome(
        "ok", "finished", returncode=0,
        result={"metrics": {"nll": float("nan"), "acc": 0.9},
                "checks": {"acc": {"passed": True, "value": 0.9, "target": ">= 0.75"}}},
    )  # fmt: skip
    history.record_end(store, first, ok, now=lambda: t0 + timedelta(seconds=4))
    history.record_end(store, second, Outcome("crashed", "killed by SIGKILL"))

    runs = {r.id: r for r in history.list_runs(store)}
    done = runs[first]
    assert done.status == "ok" and done.message == "finished"
    assert done.metrics == {"nll": None, "acc": 0.9}  # NaN stored as null (strict JSON)
    assert done.checks["acc"]["passed"] is True
    assert done.params == {"epochs": 3} and done.seed == 2 and done.card_key == "exam-c:c3.4"
    assert runs[second].status == "crashed" and runs[second].metrics == {}
    assert [r.demo_id for r in history.list_runs(store, demo_id="vae")] == ["vae"]
    assert len(history.list_runs(store, limit=1)) == 1
    as_dict = history.run_to_dict(done)
    assert as_dict["status"] == "ok" and as_dict["started_at"].startswith("2026-05-01")
    with pytest.raises(KeyError):
        history.record_end(store, 999, ok)
