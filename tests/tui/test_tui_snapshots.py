"""Snapshot tests (pytest-textual-snapshot) of every screen of the study app, each at 80×24
(the smallest terminal every screen must be fully usable in) and at 160×45.

Deterministic by construction: a fixed clock, the shipped deck copied into a fresh db, the
grader loaded before the first frame, no header clock, no blinking cursors, and every worker
finished before the picture is taken. Regenerate with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tuihelpers import NOW, freeze, seed_history, settle, wait_for

SMALL = (80, 24)
LARGE = (160, 45)
SIZES = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])


def shoot(snap_compare, app, steps, size):
    async def run_before(pilot):
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)
        freeze(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _nothing(pilot):
    return None


@SIZES
def test_home(snap_compare, make_app, size):
    shoot(snap_compare, make_app(), _nothing, size)


@SIZES
def test_review_revealed(snap_compare, make_app, size):
    async def steps(pilot):
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.phase == "answering")
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.phase == "rating")

    shoot(snap_compare, make_app(), steps, size)


def test_review_chinese_80x24(snap_compare, make_app):
    async def steps(pilot):
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.phase == "answering")
        await pilot.press("escape", "z")  # leave the box, then the Chinese prompt

    shoot(snap_compare, make_app(), steps, size=SMALL)


@SIZES
def test_browse(snap_compare, make_app, size):
    async def steps(pilot):
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("slash", *"softmax")
        await settle(pilot)
        await pilot.press("enter")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_stats(snap_compare, make_app, services, size):
    assert seed_history(services, NOW) > 50

    async def steps(pilot):
        await pilot.press("t")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_demos(snap_compare, make_app, services, size):
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

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_import(snap_compare, make_app, tmp_path, monkeypatch, size):
    notes = tmp_path / "notes"
    (notes / "drafts").mkdir(parents=True)
    (notes / "outline-exam-C.md").write_text("# C1 Chapter\n\n## item\n\nbody\n")
    (notes / "interview.md").write_text("1. Question?\n   - Answer: yes\n")
    (notes / "picture.png").write_bytes(b"\x89PNG")
    monkeypatch.setenv("HOME", str(notes))  # the file picker opens in the home directory

    async def steps(pilot):
        await pilot.press("i")
        await settle(pilot)
        tree = pilot.app.screen.query_one("#import-tree")
        await wait_for(pilot, lambda: len(tree.root.children) == 3)

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_settings(snap_compare, make_app, size):
    async def steps(pilot):
        await pilot.press("comma")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_help(snap_compare, make_app, size):
    async def steps(pilot):
        await pilot.press("question_mark")

    shoot(snap_compare, make_app(), steps, size)


# ---------------------------------------------------------------- mock exam screens


def _exam(services, answered: bool) -> int:
    """A 3-question B2 exam at the fixed clock; submitted and graded when ``answered``."""
    from labdeck.exam.compose import ExamSpec, create_exam
    from labdeck.exam.grade import grade_exam
    from labdeck.exam.session import ExamSession

    spec = ExamSpec(chapters=["B2"], n=3, seed=4, time_per_question_s=60)
    exam_id = create_exam(services.store, spec, now=lambda: NOW).exam_id
    if answered:
        session = ExamSession(services.store, exam_id, clock=lambda: NOW)
        session.start()
        session.set_answer("Queries are compared with keys by scaled dot products, softmaxed.")
        session.submit()
        grade_exam(services.store, exam_id, services.wait_grader(), now=lambda: NOW)
    return exam_id


def _exam_ctx(services):
    from labdeck.tui.screens.exam import ExamContext

    ctx = ExamContext.from_services(services)
    ctx.clock = lambda: NOW
    return ctx


@SIZES
def test_exam_setup(snap_compare, make_app, size):
    async def steps(pilot):
        await pilot.press("e")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_exam_sitting(snap_compare, make_app, services, size):
    from labdeck.tui.screens.exam import ExamScreen

    exam_id = _exam(services, answered=False)

    async def steps(pilot):
        pilot.app.push_screen(ExamScreen(_exam_ctx(services), exam_id))
        await settle(pilot)
        await pilot.press(*"attention")

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_exam_report(snap_compare, make_app, services, size):
    from labdeck.tui.screens.exam import ExamReportScreen

    exam_id = _exam(services, answered=True)

    async def steps(pilot):
        pilot.app.push_screen(ExamReportScreen(_exam_ctx(services), exam_id))

    shoot(snap_compare, make_app(), steps, size)


@SIZES
def test_exam_history(snap_compare, make_app, services, size):
    _exam(services, answered=True)

    async def steps(pilot):
        pilot.app.action_exam_history()

    shoot(snap_compare, make_app(), steps, size)


@pytest.fixture(autouse=True)
def _snapshots_dir_exists():
    (Path(__file__).parent / "__snapshots__").mkdir(exist_ok=True)


async def test_the_report_wraps_key_points_alike_with_or_without_its_scroll_bar(
    make_app, services
) -> None:
    """The report's checklist is wrapped to a width that keeps the scroll bar's room whether
    the bar shows or not (it took the room off twice when shown: the wrap, and the snapshot's
    scroll thumb, changed with the order the two happened in)."""
    from tuihelpers import settle, wait_for

    from labdeck.tui.screens.exam import ExamReportScreen

    exam_id = _exam(services, answered=True)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ExamReportScreen(_exam_ctx(services), exam_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.selected() is not None)
        await settle(pilot)
        detail = screen.query_one("#report-detail")
        texts = []
        for overflow in ("scroll", "hidden"):
            detail.styles.overflow_y = overflow
            await settle(pilot)
            assert detail.show_vertical_scrollbar == (overflow == "scroll")
            texts.append(screen._points_text(screen.selected()).plain)
        assert texts[0] == texts[1]
