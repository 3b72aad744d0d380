"""The exam screens driven by Pilot in a tiny host app (real store, real grader, fake clock)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from exam_helpers import FakeClock
from sqlmodel import select
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, SelectionList, Static, TextArea

from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.grade import grade_exam
from labdeck.exam.session import ExamSession, load_questions
from labdeck.store import Store
from labdeck.store.models import Exam, ReviewLog
from labdeck.tui.screens.confirm import ConfirmScreen
from labdeck.tui.screens.exam import (
    ExamContext,
    ExamHistoryScreen,
    ExamReportScreen,
    ExamScreen,
    ExamSetupScreen,
)


class Host(App):
    """Pushes one screen over an empty base screen (so the screen can pop itself)."""

    def __init__(self, make: Callable[[], Screen]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot: Pilot, condition: Callable[[], bool], tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("condition not reached")


@contextlib.asynccontextmanager
async def setup_screen(
    store: Store, clock: FakeClock, grader: Any, size: tuple[int, int]
) -> AsyncIterator[tuple[Pilot, ExamSetupScreen, SelectionList]]:
    """The compose screen in a host app, its decks and the last exam's settings read in."""
    app = Host(lambda: ExamSetupScreen(ExamContext(store, lambda: grader, clock=clock)))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamSetupScreen)
        chapters = screen.query_one("#setup-chapters", SelectionList)
        await wait_for(pilot, lambda: chapters.option_count == 14)
        await settle(pilot)
        yield pilot, screen, chapters


def _exam(store: Store, clock: FakeClock, n: int = 3, per: int = 60) -> int:
    spec = ExamSpec(chapters=["B2"], n=n, seed=4, time_per_question_s=per)
    return create_exam(store, spec, now=clock).exam_id


def _sitting_screen(store: Store, exam_id: int, clock: FakeClock, grader: Any) -> ExamScreen:
    return ExamScreen(ExamContext(store, lambda: grader, clock=clock), exam_id, tick_s=0.2)


async def test_sit_type_skip_return_submit(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    exam_id = _exam(store, fake_clock)
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        assert "3:00 left" in str(screen.query_one("#exam-clock", Static).render())
        keys = str(screen.query_one("#exam-keys", Static).render())
        assert "ctrl+n" in keys and "ctrl+t" in keys and "ctrl+s" in keys
        await pilot.press(*"attention")
        fake_clock.advance(20)
        await wait_for(pilot, lambda: load_questions(store, exam_id)[1][0].answer == "attention")
        await pilot.press("ctrl+g")  # skip & mark the first, move to the second
        assert screen.session is not None and screen.session.index == 1
        assert screen.session.questions[0].marked
        assert screen.query_one("#exam-answer", TextArea).text == ""
        await pilot.press(*"heads")
        await pilot.press("ctrl+n")
        await pilot.press("alt+left", "ctrl+b")  # back to the first
        assert screen.session.index == 0
        assert screen.query_one("#exam-answer", TextArea).text == "attention"
        await pilot.press("end", *" scores")
        await settle(pilot)
        views = load_questions(store, exam_id)[1]
        assert [v.answer for v in views] == ["attention scores", "heads", ""]
        assert views[0].time_spent_s == pytest.approx(20)
        assert not views[0].marked  # edited after returning
        fake_clock.advance(10)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, ExamScreen)
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        report_screen = app.screen
        assert isinstance(report_screen, ExamReportScreen)
        await wait_for(pilot, lambda: report_screen.report is not None)
        assert report_screen.report is not None
        assert report_screen.report.status == "graded"
        assert report_screen.report.questions[2].verdict == "blank"
        table = report_screen.query_one("#report-questions", DataTable)
        assert table.row_count == 3


async def test_the_position_line_cuts_the_chapter_title_not_the_key_or_timer_at_80x24(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA at 80x24: "Question 2 of 3 · B8 Embedding Models and Vector Search · exam-b:b8.20:50
    left", the card key run into the timer. The chapter title is cut with … instead, and the
    timer keeps a gap after the whole key."""
    import io
    import re

    from rich.console import Console

    spec = ExamSpec(chapters=["B8"], n=3, seed=4, time_per_question_s=60)
    exam_id = create_exam(store, spec, now=fake_clock).exam_id
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen) and screen.session is not None
        await pilot.press("ctrl+n")
        await settle(pilot)
        q = screen.session.current
        assert q.position == 2 and len(f"{q.chapter} {q.chapter_title}") > 30, q.chapter_title
        console = Console(width=80, height=24, file=io.StringIO(), record=True)
        console.print(screen._compositor.render_update(full=True))
        line = next(x for x in console.export_text().splitlines() if "Question 2 of 3" in x)
        title_start = q.chapter_title.split()[0]
        assert re.search(
            rf"Question 2 of 3 · {q.chapter} {title_start}[^·]*… · {re.escape(q.key)}  +\d+:\d\d left",
            line,
        ), line


async def test_time_up_submits_and_grades(store: Store, fake_clock: FakeClock, grader: Any) -> None:
    exam_id = _exam(store, fake_clock, n=2, per=30)
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"softmax of scaled dot products")
        fake_clock.advance(45)
        clock = app.screen.query_one("#exam-clock", Static)
        await wait_for(pilot, lambda: "0:15 left" in str(clock.render()))
        await pilot.press("ctrl+t")  # the submit dialog is open when time runs out
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        fake_clock.advance(20)
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        await wait_for(pilot, lambda: getattr(app.screen, "report", None) is not None)
        assert not any(isinstance(s, ExamScreen | ConfirmScreen) for s in app.screen_stack)
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None
        assert exam.status == "graded" and exam.elapsed_s == pytest.approx(60)
    assert load_questions(store, exam_id)[1][0].answer == "softmax of scaled dot products"


async def test_the_submit_dialogs_time_left_keeps_counting(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: the dialog's "2:41 left" stayed frozen while the clock ran on behind it."""
    exam_id = _exam(store, fake_clock, n=2, per=90)
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        detail = dialog.query_one("#confirm-detail", Static)
        assert "3:00 left" in str(detail.render())
        fake_clock.advance(19)
        await wait_for(pilot, lambda: "2:41 left" in str(detail.render()))


async def test_leave_and_resume_same_answers_and_time(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    exam_id = _exam(store, fake_clock)
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*"draft")
        fake_clock.advance(50)
        await settle(pilot)
        await pilot.press("escape")  # pause & leave
        await settle(pilot)
        assert not isinstance(app.screen, ExamScreen)
    fake_clock.advance(999)  # closed: does not count
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        assert screen.query_one("#exam-answer", TextArea).text == "draft"
        assert screen.session is not None
        assert screen.session.remaining_s() == pytest.approx(130)


async def test_setup_composes_and_starts(store: Store, fake_clock: FakeClock, grader: Any) -> None:
    app = Host(lambda: ExamSetupScreen(ExamContext(store, lambda: grader, clock=fake_clock)))
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamSetupScreen)
        chapters = screen.query_one("#setup-chapters", SelectionList)
        assert chapters.option_count == 14  # exam-b, all selected
        chapters.deselect_all()
        chapters.select("B3")
        chapters.select("B4")
        screen.query_one("#setup-n", Input).value = "3"
        screen.query_one("#setup-seed", Input).value = "17"
        screen.query_one("#setup-per", Input).value = "90"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamScreen))
        await settle(pilot)
        with store.session() as s:
            exam = s.exec(select(Exam)).one()
            assert exam.seed == 17 and exam.time_limit_s == 270
            assert exam.scope["chapters"] == ["B3", "B4"]
        assert {q.chapter for q in load_questions(store, exam.id or 0)[1]} == {"B3", "B4"}


async def test_setup_starts_from_the_last_exams_settings(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: the compose form went back to 10 questions / 120 s and every chapter each time."""
    spec = ExamSpec(
        decks=["exam-b"], chapters=["B3", "B4"], n=4, seed=9, time_per_question_s=45,
        favour_weak=True,
    )  # fmt: skip
    create_exam(store, spec, now=fake_clock)
    async with setup_screen(store, fake_clock, grader, (120, 45)) as (_pilot, screen, chapters):
        assert sorted(chapters.selected) == ["B3", "B4"]
        values = [screen.query_one(f"#setup-{name}", Input).value for name in
                  ("n", "per", "total", "seed")]  # fmt: skip
        assert values == ["4", "45", "", ""]  # a new exam draws anew: no seed
        assert screen.query_one("#setup-weak", Checkbox).value is True


async def test_setup_draws_drill_cards_when_asked_and_remembers_it(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """The CLI's ``exam new --types`` had no counterpart on the compose screen: an exam there
    drew essays only."""

    async def compose(tick: bool) -> tuple[set[str], bool]:
        async with setup_screen(store, fake_clock, grader, (80, 24)) as (pilot, screen, chapters):
            box = screen.query_one("#setup-drills", Checkbox)
            shown = box.value
            if tick:
                box.focus()
                await pilot.press("space")
            chapters.deselect_all()
            chapters.select("B3")
            screen.query_one("#setup-n", Input).value = "12"
            screen.query_one("#setup-seed", Input).value = "5"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExamScreen))
            await settle(pilot)
        with store.session() as s:
            exam_id = s.exec(select(Exam.id).order_by(Exam.id.desc())).first()  # type: ignore[union-attr]
        return {q.kind for q in load_questions(store, exam_id or 0)[1]}, shown

    kinds, shown = await compose(tick=False)
    assert kinds == {"essay"} and shown is False
    kinds, shown = await compose(tick=True)
    assert shown is False and kinds - {"essay"}, kinds  # drills drawn, with the essays
    kinds, shown = await compose(tick=False)  # the next compose starts from the last one
    assert shown is True and kinds - {"essay"}, kinds


async def test_setup_form_by_keyboard_tab_reaches_fields_and_ctrl_a_stays_in_them(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Tab goes from the chapters straight to the first field (the form's scroll container is
    no stop of its own); in a field ctrl+a is the field's (cursor home), not "all chapters"."""
    async with setup_screen(store, fake_clock, grader, (80, 24)) as (pilot, screen, chapters):
        app = pilot.app
        assert app.focused is chapters
        await pilot.press("tab")
        field = screen.query_one("#setup-n", Input)
        assert app.focused is field
        await pilot.press("ctrl+a", "2")
        assert field.value == "210"
        assert len(chapters.selected) == 14, "ctrl+a in a field toggled the chapters"
        await pilot.press("shift+tab", "ctrl+a")  # on the chapters it still toggles them all
        assert len(chapters.selected) == 0
        await pilot.press("tab", "h")  # h in a field is typing (refused there), not history
        assert isinstance(app.screen, ExamSetupScreen)
        await pilot.press("shift+tab", "h")  # elsewhere h opens the history, as on the report
        await wait_for(pilot, lambda: isinstance(app.screen, ExamHistoryScreen))


async def test_report_override_apply_export_history(
    store: Store,
    fake_clock: FakeClock,
    grader: Any,
    scheduler_factory: Callable[[], Any],
    tmp_path: Any,
) -> None:
    exam_id = _exam(store, fake_clock, n=3)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("Queries are compared with keys by dot products, scaled, softmaxed.")
    fake_clock.advance(40)
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)

    def make() -> Screen:
        ctx = ExamContext(
            store,
            lambda: grader,
            scheduler_factory=scheduler_factory,
            clock=fake_clock,
            export_dir=tmp_path,
        )
        return ExamReportScreen(ctx, exam_id)

    app = Host(make)
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamReportScreen)
        summary = str(screen.query_one("#report-summary", Static).render())
        assert "Score" in summary and "not applied" in summary
        before = screen.report.score if screen.report else None
        await pilot.press("down", "5")  # override question 2 (blank) to 5
        await settle(pilot)
        assert screen.report is not None
        assert screen.report.questions[1].override_quality == 5
        assert before is not None and screen.report.score is not None
        assert screen.report.score > before
        await pilot.press("x")  # clear it again
        await settle(pilot)
        assert screen.report.questions[1].override_quality is None
        await pilot.press("m")
        assert (tmp_path / f"exam-{exam_id}.md").read_text().startswith("# Mock exam")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert screen.report.applied
        # the grades are final: the footer offers no grading key any more (dimmed)
        enabled = {key: active.enabled for key, active in app.active_bindings.items()}
        for key in ("a", "x", "enter", "equals_sign"):
            assert enabled[key] is False, key
        assert enabled["m"] and enabled["h"]
        with store.session() as s:
            logs = s.exec(select(ReviewLog)).all()
            assert [log.mode for log in logs] == ["exam"]  # only the answered question
        await pilot.press("4")  # grades are final now
        await settle(pilot)
        assert screen.report.questions[1].override_quality is None

        await pilot.press("h")
        await settle(pilot)
        history = app.screen
        assert isinstance(history, ExamHistoryScreen)
        assert history.query_one("#history-table", DataTable).row_count == 1
        series = history.series()
        assert "total" in series and "B2" in series
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExamReportScreen)


async def test_the_reports_checklist_wraps_again_when_the_terminal_is_resized(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: resized from 80 to 160 columns, the key points stayed wrapped at ~30 columns."""
    exam_id = _exam(store, fake_clock, n=1)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer(
        "Queries are compared with keys by dot products scaled by the square root of the "
        "key dimension, softmaxed into weights that average the values; many heads at once."
    )
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    app = Host(lambda: ExamReportScreen(ExamContext(store, lambda: grader), exam_id))

    def widest(screen: Screen) -> int:
        text = screen.query_one("#detail-points", Static).render()
        return max(len(line) for line in str(text).splitlines()[1:])  # the points, not the
        # line over them (one line the widget wraps)

    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamReportScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        await settle(pilot)
        narrow = widest(screen)
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert widest(screen) > narrow + 20


async def test_the_reports_detail_scrolls_with_pgdn_while_the_list_keeps_the_focus(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA at 80x24: the detail pane (question, answer, key points, reference) scrolled only
    after Tab, Tab; the read-only chapter table took the first Tab."""
    exam_id = _exam(store, fake_clock, n=2)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("Scaled dot products, softmax weights over the values. " * 6)
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    app = Host(lambda: ExamReportScreen(ExamContext(store, lambda: grader), exam_id))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamReportScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        await settle(pilot)
        table = screen.query_one("#report-questions", DataTable)
        detail = screen.query_one("#report-detail")
        assert table.has_focus and detail.max_scroll_y > 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert detail.scroll_y > 0 and table.has_focus and table.cursor_row == 0
        await pilot.press("pageup")
        await settle(pilot)
        assert detail.scroll_y == 0
        await pilot.press("tab")  # the next stop is the detail pane, not the chapter table
        assert screen.focused is detail


async def test_setup_never_shows_the_defaults_before_the_remembered_settings(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: the compose screen showed 10 questions / 120 s for ~1.5 s, then the learner's own
    settings: every frame now shows the fields blank (disabled) or as remembered."""
    spec = ExamSpec(decks=["exam-b"], chapters=["B3"], n=5, seed=1, time_per_question_s=60)
    create_exam(store, spec, now=fake_clock)
    app = Host(lambda: ExamSetupScreen(ExamContext(store, lambda: grader, clock=fake_clock)))
    seen: set[tuple[str, str, bool]] = set()
    display = app._display

    def hooked(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and isinstance(screen, ExamSetupScreen):
            n, per = (screen.query_one(f"#setup-{f}", Input) for f in ("n", "per"))
            seen.add((n.value, per.value, n.disabled))

    app._display = hooked
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")  # pressed before the form is filled: starts once it is
        await wait_for(pilot, lambda: isinstance(app.screen, ExamScreen))
    assert seen and seen <= {("", "", True), ("5", "60", False)}, seen
    with store.session() as session:
        newest = session.exec(select(Exam).order_by(Exam.id.desc())).first()
    assert newest is not None and newest.settings["n"] == 5


@contextlib.asynccontextmanager
async def held_sitting(
    store: Store, clock: FakeClock, grader: Any
) -> AsyncIterator[tuple[App, Pilot, ExamScreen, int]]:
    """A two-question sitting (30 s a question) over an empty base screen, settled."""
    exam_id = _exam(store, clock, n=2, per=30)
    app = Host(lambda: _sitting_screen(store, exam_id, clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        sitting = app.screen
        assert isinstance(sitting, ExamScreen)
        yield app, pilot, sitting, exam_id


async def _hold_submission(pilot: Pilot, sitting: ExamScreen, fake_clock: FakeClock) -> Any:
    """Run out the sitting's time with its submission held until the returned event is set
    (a loaded machine grading slowly). Waits until the sitting is submitting; never waits on
    the app's workers, which the held submission would block."""
    import threading

    release = threading.Event()
    submit = sitting.session.submit

    def held_submit() -> None:
        assert release.wait(30), "the test never released the submission"
        submit()

    sitting.session.submit = held_submit
    fake_clock.advance(61)
    for _ in range(200):
        if sitting.finished:
            break
        await pilot.pause(0.05)
    assert sitting.finished  # the clock saw it: submitting
    return release


async def test_esc_as_the_time_runs_out_opens_the_report_over_the_screen_below(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Leaving as the time-up submission ran: the report took the place of the screen below
    (switch_screen on a stack the sitting had left), or the sitting popped itself mid-submit.
    The submission is held until both escapes are handled (CI, loaded: a sleep let it finish
    first, and the second escape closed the report)."""
    async with held_sitting(store, fake_clock, grader) as (app, pilot, sitting, exam_id):
        base = app.screen_stack[0]
        await pilot.press(*"scaled dot products")
        release = await _hold_submission(pilot, sitting, fake_clock)
        await pilot.press("escape", "escape")  # as the time runs out
        for _ in range(5):
            await pilot.pause(0.05)
        assert app.screen is sitting  # still submitting: esc does not leave it half-done
        release.set()
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        await wait_for(pilot, lambda: getattr(app.screen, "report", None) is not None)
        assert app.screen_stack[0] is base and sitting not in app.screen_stack
        assert len(app.screen_stack) == 2
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None and exam.status == "graded"


async def test_a_sitting_left_while_it_is_submitted_says_where_its_report_is(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Taken elsewhere while the time-up submission ran (a palette command): the exam is
    submitted (its report grades it when opened) and a notification names where the report
    is; nothing opens over the screen the learner went to. It was silent: ``self.app`` raised
    in the worker once the screen had left the stack."""
    async with held_sitting(store, fake_clock, grader) as (app, pilot, sitting, exam_id):
        base = app.screen_stack[0]
        release = await _hold_submission(pilot, sitting, fake_clock)
        app.pop_screen()  # what a command that opens another screen over Home does
        await pilot.pause()
        release.set()
        await wait_for(pilot, lambda: any("history" in n.message for n in app._notifications))
        assert app.screen is base and len(app.screen_stack) == 1
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None and exam.status == "submitted"


async def test_time_up_with_the_command_palette_open_leaves_no_screen_over_the_report(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    exam_id = _exam(store, fake_clock, n=2, per=30)
    app = Host(lambda: _sitting_screen(store, exam_id, fake_clock, grader))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not isinstance(app.screen, ExamScreen)  # the palette is over the sitting
        fake_clock.advance(61)
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        await wait_for(pilot, lambda: getattr(app.screen, "report", None) is not None)
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["ExamReportScreen"]


async def test_exam_screens_opened_from_one_another_do_not_pile_up(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: report → h → e → a new exam's report, then esc went to the history, the old report
    and only then Home. New exam from the history starts over Home; h on a report opened from
    the history goes back to it."""
    exam_id = _exam(store, fake_clock, n=1)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    ctx = ExamContext(store, lambda: grader, clock=fake_clock)
    app = Host(lambda: ExamReportScreen(ctx, exam_id))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        base = app.screen_stack[0]
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamHistoryScreen))
        await settle(pilot)
        history = app.screen
        await pilot.press("enter")  # the exam's report, from the history
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        await settle(pilot)
        await pilot.press("h")  # back to that history, not a third screen on the pile
        await wait_for(pilot, lambda: app.screen is history)
        assert len(app.screen_stack) == 3
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExamSetupScreen))
        assert app.screen_stack[:-1] == [base]  # the history and both reports are gone
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is base)


async def test_a_drill_question_in_the_report_shows_no_similarity_score(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """QA: drill questions read "similarity score 1.00" / "0.00", though they are graded
    exactly, with no similarity."""
    spec = ExamSpec(chapters=["B3"], n=2, seed=5, kinds=["choice"])
    exam_id = create_exam(store, spec, now=fake_clock).exam_id
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("a")
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    app = Host(
        lambda: ExamReportScreen(ExamContext(store, lambda: grader, clock=fake_clock), exam_id)
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        head = app.screen.query_one("#detail-head", Static)
        await wait_for(pilot, lambda: "/5" in str(head.content))
        assert "similarity" not in str(head.content), head.content


async def test_a_checkbox_reads_on_or_off_without_colour(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Textual's checkbox and selection list draw ``X`` on and off alike, colour the only
    difference: every box on the compose form looked ticked in a monochrome terminal (QA)."""
    async with setup_screen(store, fake_clock, grader, (100, 32)) as (pilot, screen, _chapters):
        box = screen.query_one("#setup-drills", Checkbox)
        assert box.value is False

        def line(needle: str) -> str:
            rows = [strip.text for strip in pilot.app.screen._compositor.render_strips()]
            return next(row for row in rows if needle in row)

        drills = "Include drill cards"
        assert f"▐ ▌ {drills}" in line(drills)
        box.focus()
        await pilot.press("space")
        await settle(pilot)
        assert box.value is True and f"▐X▌ {drills}" in line(drills)
        chapters = screen.query_one("#setup-chapters", SelectionList)
        first = chapters.get_option_at_index(0)
        title = str(first.prompt)[:20]
        assert first.value in chapters.selected and "▐X▌" in line(title)
        chapters.deselect(first)
        await settle(pilot)
        assert "▐ ▌" in line(title) and "▐X▌" not in line(title)


async def test_the_chapter_list_has_a_row_for_space_and_stops_at_its_ends(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Tab into the chapter list highlighted no row, so space did nothing; ↑ on the first
    chapter jumped to the last (QA)."""
    async with setup_screen(store, fake_clock, grader, (80, 24)) as (pilot, screen, chapters):
        assert chapters.highlighted == 0
        first = chapters.get_option_at_index(0).value
        chapters.focus()
        await pilot.press("space")
        await settle(pilot)
        assert first not in chapters.selected  # space toggled the highlighted first row
        await pilot.press("up")
        await settle(pilot)
        assert chapters.highlighted == 0
        await pilot.press("end", "down")
        await settle(pilot)
        assert chapters.highlighted == chapters.option_count - 1


async def test_a_report_left_below_reads_the_exam_again_when_it_comes_back(
    store: Store, fake_clock: FakeClock, grader: Any, scheduler_factory: Callable[[], Any]
) -> None:
    """QA: report → h history → enter (a second report of the same exam) → a, y → esc, esc:
    the first report came back saying "not applied (a)" and offered to apply it again."""
    exam_id = _exam(store, fake_clock, n=2)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("Queries are compared with keys by dot products, scaled, softmaxed.")
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    ctx = ExamContext(store, lambda: grader, scheduler_factory=scheduler_factory, clock=fake_clock)
    app = Host(lambda: ExamReportScreen(ctx, exam_id))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        first = app.screen
        assert isinstance(first, ExamReportScreen) and first.report is not None
        assert not first.report.applied
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        second = app.screen
        assert isinstance(second, ExamReportScreen) and second is not first
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert second.report is not None and second.report.applied
        await pilot.press("escape")  # the history
        await settle(pilot)
        await pilot.press("escape")  # the first report
        await settle(pilot)
        assert app.screen is first
        await wait_for(pilot, lambda: first.report is not None and first.report.applied)
        summary = str(first.query_one("#report-summary", Static).render())
        assert "not applied" not in summary and "applied" in summary
        enabled = {key: active.enabled for key, active in app.active_bindings.items()}
        assert enabled["a"] is False  # the grades are final here too
        # …and the key line and the detail say so, offering no grading key (QA)
        keys = str(first.query_one("#report-keys", Static).render())
        assert "grades are final" in keys and "a apply" not in keys and "tick" not in keys
        detail = str(first.query_one("#detail-points", Static).render())
        assert "grades are final" in detail and "enter records" not in detail
