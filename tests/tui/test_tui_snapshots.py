"""Snapshot tests (pytest-textual-snapshot) of every screen of the study app.

Deterministic by construction: a fixed clock, the shipped deck copied into a fresh db, the
grader loaded before the first frame, no header clock, no blinking cursors, and every worker
finished before the picture is taken. Regenerate with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tuihelpers import freeze, seed_history, settle, wait_for

from conftest import NOW

WIDE = (120, 36)
SMALL = (80, 24)


def shoot(snap_compare, app, steps, size=WIDE):
    async def run_before(pilot):
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)
        freeze(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _nothing(pilot):
    return None


def test_home(snap_compare, make_app):
    shoot(snap_compare, make_app(), _nothing)


def test_review_revealed(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.phase == "answering")
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "rating")

    shoot(snap_compare, make_app(), steps)


def test_review_chinese_80x24(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.phase == "answering")
        await pilot.press("escape", "z")  # leave the box, then the Chinese prompt

    shoot(snap_compare, make_app(), steps, size=SMALL)


def test_browse(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("slash", *"softmax")
        await settle(pilot)
        await pilot.press("enter")

    shoot(snap_compare, make_app(), steps)


def test_stats(snap_compare, make_app, services):
    assert seed_history(services, NOW) > 50

    async def steps(pilot):
        await pilot.press("t")

    shoot(snap_compare, make_app(), steps)


def test_demos(snap_compare, make_app, services):
    from labdeck.demos import history, registry
    from labdeck.demos.runner import Outcome

    params = registry.get("attention").resolve(None, "quick")
    run_id = history.record_start(
        services.store, "attention", params, device="cpu", now=lambda: NOW
    )
    outcome = Outcome(
        "ok",
        "finished in 2.0 s; 11/11 checks passed",
        returncode=0,
        result={"metrics": {"sdpa_max_abs_err": 2.98e-07}, "checks": {}},
    )
    history.record_end(services.store, run_id, outcome, now=lambda: NOW)

    async def steps(pilot):
        pilot.app.action_demos("attention", "exam-b:b2.1")

    shoot(snap_compare, make_app(), steps)


def test_import(snap_compare, make_app, tmp_path, monkeypatch):
    notes = tmp_path / "notes"
    (notes / "drafts").mkdir(parents=True)
    (notes / "outline-exam-C.md").write_text("# C1 Chapter\n\n## item\n\nbody\n")
    (notes / "interview.md").write_text("1. Question?\n   - Answer: yes\n")
    (notes / "picture.png").write_bytes(b"\x89PNG")
    monkeypatch.chdir(notes)

    async def steps(pilot):
        await pilot.press("i")
        await settle(pilot)
        tree = pilot.app.screen.query_one("#import-tree")
        await wait_for(pilot, lambda: len(tree.root.children) == 3)

    shoot(snap_compare, make_app(), steps)


def test_settings(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("comma")

    shoot(snap_compare, make_app(), steps)


def test_help(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("question_mark")

    shoot(snap_compare, make_app(), steps)


@pytest.fixture(autouse=True)
def _snapshots_dir_exists():
    (Path(__file__).parent / "__snapshots__").mkdir(exist_ok=True)
