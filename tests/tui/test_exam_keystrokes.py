"""Issue 15, items 1 and 3: in the mock exam, text typed just before a move, a submit or the
end of time stays with its question, and what was typed before a pause is in the database.

Pilot drives the real ``ExamScreen`` on a real SQLite store. ``burst`` hands the keys to the
app the way the terminal driver does when the learner types fast or pastes (tmux send-keys):
all the key events at once, before the app had time to process any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import TextArea
from tuihelpers import settle, wait_for

from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.session import load_questions
from labdeck.tui.screens.confirm import ConfirmScreen
from labdeck.tui.screens.exam import ExamContext, ExamReportScreen, ExamScreen

ANSWER = "attention weights are a softmax"


class Clock:
    """An injected ``now()`` that moves only when told to."""

    def __init__(self) -> None:
        self.t = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class Host(App):
    """Pushes one screen over an empty base screen."""

    def __init__(self, make: Callable[[], Screen]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


def burst(pilot: Pilot, *keys: str) -> None:
    """Queue every key event on the app in one go, as the driver does with one read of fast
    input; none is handled before the caller next awaits."""
    for key in keys:
        char = key if len(key) == 1 else None
        name = {" ": "space"}.get(key, key)
        event = events.Key(name, char)
        event.set_sender(pilot.app)
        pilot.app.post_message(event)


@pytest.fixture
def sitting(services: Any) -> tuple[Any, int, Clock]:
    clock = Clock()
    spec = ExamSpec(chapters=["B2"], n=3, seed=4, time_per_question_s=60)
    exam_id = create_exam(services.store, spec, now=clock).exam_id
    return services, exam_id, clock


def _app(services: Any, exam_id: int, clock: Clock) -> Host:
    grader = services.wait_grader()
    return Host(
        lambda: ExamScreen(ExamContext(services.store, lambda: grader, clock=clock), exam_id)
    )


def _stored(services: Any, exam_id: int) -> list[str]:
    return [q.answer for q in load_questions(services.store, exam_id)[1]]


def _box(app: App) -> str:
    return app.screen.query_one("#exam-answer", TextArea).text


async def test_typing_then_next_at_once_keeps_the_text_with_its_question(sitting) -> None:
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen) and screen.session is not None
        burst(pilot, *ANSWER, "ctrl+n")
        await settle(pilot)
        assert screen.session.index == 1
        assert _box(app) == "", "the tail of answer 1 landed in question 2's box"
        assert screen.session.questions[0].answer == ANSWER
        assert _stored(services, exam_id) == [ANSWER, "", ""]


async def test_typing_then_previous_and_skip_at_once(sitting) -> None:
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen) and screen.session is not None
        await pilot.press("ctrl+n")
        await settle(pilot)
        burst(pilot, *"second answer", "ctrl+b", *" first", "ctrl+g")  # skip & mark moves on
        await settle(pilot)
        assert screen.session.index == 1
        assert _box(app) == "second answer"
        assert _stored(services, exam_id) == [" first", "second answer", ""]
        assert screen.session.questions[0].marked


async def test_typing_then_submit_at_once_grades_the_whole_answer(sitting) -> None:
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        burst(pilot, *ANSWER, "ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert _box(app) == ANSWER
        burst(pilot, *" of scores", "ctrl+t", "y")  # confirmed before the box caught up
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        report_screen = app.screen
        assert isinstance(report_screen, ExamReportScreen)
        await wait_for(pilot, lambda: report_screen.report is not None)
        assert report_screen.report is not None
        assert report_screen.report.questions[0].answer == ANSWER + " of scores"
    assert _stored(services, exam_id) == [ANSWER + " of scores", "", ""]


async def test_the_submit_dialog_counts_an_answer_typed_in_the_same_burst(sitting) -> None:
    """QA (tmux): an answer typed into a blank question and ctrl+s at once: the header read
    3/3 answered while the dialog said "2/3 answered, 1 blank" (counted before the box had
    the keys)."""
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen) and screen.session is not None
        burst(pilot, *"one", "ctrl+n", *"two", "ctrl+n")
        await settle(pilot)
        burst(pilot, *"three", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        await settle(pilot)
        detail = str(dialog.query_one("#confirm-detail").render())
        assert detail.startswith("3/3 answered;"), detail
        assert "blank" not in detail


async def test_typing_when_time_runs_out_keeps_every_key(sitting) -> None:
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen) and screen.session is not None
        burst(pilot, *ANSWER)
        clock.advance(181)
        screen._tick()  # the countdown's tick finds the time up while the keys are queued
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        report_screen = app.screen
        assert isinstance(report_screen, ExamReportScreen)
        await wait_for(pilot, lambda: report_screen.report is not None)
    assert _stored(services, exam_id) == [ANSWER, "", ""]


async def test_a_pause_in_typing_is_saved_without_waiting_for_a_move(sitting) -> None:
    """A kill -9 at any moment loses at most the keys typed since the last pause: the answer
    is in the database as soon as the app is idle, with no debounce window left open."""
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        for word in ("softmax", " of", " scores"):
            await pilot.press(*word)
            await pilot.app.workers.wait_for_complete()  # a pause: no timer fires, no key moves
            typed = _box(app)
            assert _stored(services, exam_id)[0] == typed
        assert typed == "softmax of scores"


async def test_typing_after_coming_back_to_a_question_continues_its_answer(sitting) -> None:
    """Back on an answered question (ctrl+b, or the exam resumed), the cursor is at the end of
    the answer: the next keys continue it instead of landing in front of it."""
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(pilot, *"first", "ctrl+n", *"second", "ctrl+b", *" more")
        await settle(pilot)
        assert _box(app) == "first more"
        await pilot.press("escape")  # pause and leave
        await settle(pilot)
    assert _stored(services, exam_id) == ["first more", "second", ""]
    app = _app(services, exam_id, clock)  # resumed: it opens on the question left last
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(pilot, *" again")
        await settle(pilot)
        assert _box(app) == "first more again"
        await pilot.press("escape")
        await settle(pilot)
    assert _stored(services, exam_id) == ["first more again", "second", ""]


async def test_keys_typed_across_the_time_up_never_grade_or_apply(sitting, monkeypatch) -> None:
    """QA: typing went on past the time-up; on the report ``a`` opened "Apply this exam?", the
    line's Enter confirmed it, and digits ticked key points as the learner's own grades. Keys
    are ignored on a report reached by time-up until the learner pauses, and Apply takes
    ``y`` only. (The pause is made long while the burst is sent: on a loaded machine the
    burst could come more than the real 1 s after the report, a pause the learner never
    made; then short, for the pause that lets keys act again.)"""
    monkeypatch.setattr(ExamReportScreen, "TYPING_PAUSE_S", 600.0)
    services, exam_id, clock = sitting
    app = _app(services, exam_id, clock)
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        burst(pilot, *ANSWER)
        clock.advance(181)
        screen._tick()
        await wait_for(pilot, lambda: isinstance(app.screen, ExamReportScreen))
        report_screen = app.screen
        assert isinstance(report_screen, ExamReportScreen)
        await wait_for(pilot, lambda: report_screen.report is not None)
        keys_line = str(report_screen.query_one("#report-keys").render())
        assert "keys are ignored" in keys_line
        burst(pilot, *" and a", "enter", *"nother 1 2 =4 q")  # still typing
        await settle(pilot)
        assert app.screen is report_screen, "a stray key opened a dialog or left the report"
        assert report_screen.report is not None and not report_screen.report.applied
        assert all(q.override_quality is None for q in report_screen.report.questions)
        keys = report_screen.query_one("#report-keys")
        assert "keys are ignored" in str(keys.render())
        report_screen.TYPING_PAUSE_S = 0.3  # the learner stops typing
        await wait_for(pilot, lambda: "keys are ignored" not in str(keys.render()))
        await pilot.press("a")  # now keys act again: Apply asks, and Enter does not confirm
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), "Enter confirmed an irreversible apply"
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(report_screen.report and report_screen.report.applied))


async def test_the_palette_is_off_while_an_exam_is_sat(sitting, make_app) -> None:
    """QA: ctrl+p during a sitting opened the palette, and its Browse showed every reference
    answer while the clock ran."""
    from textual.command import CommandPalette

    services, exam_id, clock = sitting
    app = make_app(services)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.push_screen(
            ExamScreen(ExamContext(services.store, services.wait_grader, clock=clock), exam_id)
        )
        await settle(pilot)
        assert isinstance(app.screen, ExamScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, ExamScreen)
        assert not CommandPalette.is_open(app)
        assert any("palette is off" in n.message for n in app._notifications)
        await pilot.press("escape")  # paused and left: the palette works again
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert CommandPalette.is_open(app)
