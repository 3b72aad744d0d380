"""Sitting an exam headlessly: answers, navigation, skip, timing, crash-and-resume, time up."""

from __future__ import annotations

import pytest
from exam_helpers import FakeClock

from labdeck.exam import ExamError
from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.session import ExamSession, load_questions, sitting_exams
from labdeck.store import Store
from labdeck.store.models import Exam


def _exam(store: Store, clock: FakeClock, n: int = 3, per: int = 60) -> int:
    spec = ExamSpec(decks=["exam-b"], n=n, seed=5, time_per_question_s=per)
    return create_exam(store, spec, now=clock).exam_id


def test_answer_move_skip_and_time_per_question(store: Store, fake_clock: FakeClock) -> None:
    exam_id = _exam(store, fake_clock)
    session = ExamSession(store, exam_id, clock=fake_clock)
    assert session.start()
    assert session.remaining_s() == 180
    session.set_answer("first answer")
    fake_clock.advance(20)
    session.skip()  # mark question 1 to come back to, move on
    assert session.index == 1
    assert session.questions[0].marked
    fake_clock.advance(10)
    session.set_answer("second")
    session.next()
    fake_clock.advance(5)
    session.previous()
    session.previous()
    assert session.index == 0
    assert session.current.answer == "first answer"
    session.save()
    assert session.remaining_s() == pytest.approx(145)
    times = [q.time_spent_s for q in session.questions]
    assert times == pytest.approx([20, 10, 5])


def test_skip_marks_and_editing_unmarks(store: Store, fake_clock: FakeClock) -> None:
    exam_id = _exam(store, fake_clock)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.skip()
    assert session.index == 1 and session.questions[0].marked
    session.goto(2)
    session.skip()  # last question: jumps back to the first marked / blank one
    assert session.index == 0
    assert session.questions[2].marked
    session.set_answer("came back")
    assert not session.questions[0].marked
    session.save()
    _exam_row, views = load_questions(store, exam_id)
    assert [v.marked for v in views] == [False, False, True]


def test_crash_and_resume_keeps_answers_and_remaining_time(
    store: Store, fake_clock: FakeClock
) -> None:
    exam_id = _exam(store, fake_clock)
    first = ExamSession(store, exam_id, clock=fake_clock)
    first.start()
    first.set_answer("typed before the crash")
    fake_clock.advance(25)
    first.next()
    first.set_answer("second answer")
    fake_clock.advance(15)
    first.save()  # the last autosave
    fake_clock.advance(4)  # lost: typed after the last save
    first.set_answer("second answer, more")
    del first  # crash: no pause, no submit

    fake_clock.advance(3600)  # the app was closed for an hour: that time does not count
    assert sitting_exams(store) == [exam_id]
    resumed = ExamSession(store, exam_id, clock=fake_clock)
    assert resumed.index == 1
    assert resumed.questions[0].answer == "typed before the crash"
    assert resumed.current.answer == "second answer"
    assert resumed.start()
    assert resumed.remaining_s() == pytest.approx(180 - 40)
    fake_clock.advance(10)
    assert resumed.remaining_s() == pytest.approx(130)


def test_pause_stops_the_clock(store: Store, fake_clock: FakeClock) -> None:
    exam_id = _exam(store, fake_clock)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    fake_clock.advance(30)
    session.pause()
    fake_clock.advance(500)
    assert session.remaining_s() == pytest.approx(150)
    again = ExamSession(store, exam_id, clock=fake_clock)
    again.start()
    assert again.remaining_s() == pytest.approx(150)


def test_time_up_submits_what_is_there(store: Store, fake_clock: FakeClock) -> None:
    exam_id = _exam(store, fake_clock, n=2, per=30)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("half an answer")
    fake_clock.advance(59)
    assert not session.tick()
    fake_clock.advance(5)
    assert session.tick()
    assert session.status == "submitted"
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None
        assert exam.status == "submitted"
        assert exam.elapsed_s == pytest.approx(60)  # capped at the limit
        assert exam.submitted_at is not None
    assert load_questions(store, exam_id)[1][0].answer == "half an answer"
    with pytest.raises(ExamError, match="already submitted"):
        session.set_answer("too late")
    with pytest.raises(ExamError):
        ExamSession(store, exam_id, clock=fake_clock).start()


def test_resume_after_limit_submits_immediately(store: Store, fake_clock: FakeClock) -> None:
    exam_id = _exam(store, fake_clock, n=1, per=30)
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    fake_clock.advance(45)
    session.save()  # elapsed is capped at 30: the time is up
    again = ExamSession(store, exam_id, clock=fake_clock)
    assert again.start() is False
    assert again.status == "submitted"


def test_untimed_exam(store: Store, fake_clock: FakeClock) -> None:
    spec = ExamSpec(decks=["exam-c"], n=2, seed=1, time_per_question_s=0)
    exam_id = create_exam(store, spec, now=fake_clock).exam_id
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    fake_clock.advance(10_000)
    assert session.remaining_s() is None
    assert not session.tick()
    assert session.elapsed_s() == pytest.approx(10_000)
