"""Grading with the real grader, overrides, applying to the schedule, history and Markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exam_helpers import FakeClock, add_card_without_reference
from sqlmodel import select

from labdeck.exam import ExamError
from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.grade import apply_to_schedule, grade_exam, override
from labdeck.exam.history import list_exams, score_trends
from labdeck.exam.report import build_report
from labdeck.exam.session import ExamSession
from labdeck.store import Store
from labdeck.store.models import CardState, Exam, ReviewLog
from labdeck.store.queries import list_cards

OFF_TOPIC = "Photosynthesis converts sunlight, water and carbon dioxide into glucose in leaves."


def _sit(store: Store, clock: FakeClock, answers: list[Callable[[Any], str]]) -> int:
    """Compose a 4-question exam over B2+C4 and answer question i with answers[i](card)."""
    spec = ExamSpec(chapters=["B2", "C4"], n=len(answers), seed=11)
    exam_id = create_exam(store, spec, now=clock).exam_id
    cards = {c.key: c for c in list_cards(store)}
    session = ExamSession(store, exam_id, clock=clock)
    session.start()
    for i, make in enumerate(answers):
        session.goto(i)
        session.set_answer(make(cards[session.current.key]))
        clock.advance(30 + 10 * i)
    session.submit()
    return exam_id


def _full(card: Any) -> str:
    return card.answer


def _partial(card: Any) -> str:
    return card.key_points[0]


def _blank(_card: Any) -> str:
    return ""


def _wrong(_card: Any) -> str:
    return OFF_TOPIC


def test_grade_override_apply(
    store: Store, fake_clock: FakeClock, grader: Any, scheduler_factory: Callable[[], Any]
) -> None:
    exam_id = _sit(store, fake_clock, [_full, _partial, _blank, _wrong])
    with pytest.raises(ExamError, match="not graded"):
        apply_to_schedule(store, exam_id, scheduler_factory())
    report = grade_exam(store, exam_id, grader, now=fake_clock)
    full, partial, blank, wrong = report.questions
    assert report.status == "graded"
    assert full.quality is not None and full.quality >= 4
    assert full.auto_score is not None and full.auto_score > 0.8
    assert len(full.key_points_covered) > len(full.key_points_missed)
    assert blank.quality == 0 and blank.verdict == "blank"
    assert blank.key_points_missed  # every key point missed
    assert wrong.quality is not None and wrong.quality <= 1
    assert partial.auto_score is not None and wrong.auto_score is not None
    assert full.auto_score > partial.auto_score > wrong.auto_score
    assert [q.time_s for q in report.questions] == pytest.approx([30, 40, 50, 60])
    assert {c.code for c in report.chapters} == {"B2", "C4"}
    assert sum(c.questions for c in report.chapters) == 4
    assert report.model_id
    # one scale: every question's mark is its quality / 5 (the similarity is only a signal)
    assert [q.score for q in report.questions] == pytest.approx(
        [q.quality / 5 for q in report.questions if q.quality is not None]
    )
    assert report.score == pytest.approx(sum(q.quality or 0 for q in report.questions) / 20)
    before = report.score
    assert before is not None

    # the stored summary feeds the history
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None and exam.score == pytest.approx(before)
        assert set(exam.result["chapters"]) == {"B2", "C4"}

    # override: the report updates
    updated = override(store, exam_id, 4, 3)
    assert updated.questions[3].quality == 3
    assert updated.questions[3].auto_quality == wrong.auto_quality
    assert updated.score is not None and updated.score > before
    assert "(own)" in updated.to_markdown()
    with pytest.raises(ExamError, match="no question 9"):
        override(store, exam_id, 9, 2)
    with pytest.raises(ExamError, match="0 and 5"):
        override(store, exam_id, 1, 6)

    # apply: an SM-2 review per answered card, mode exam, with the final quality
    result = apply_to_schedule(store, exam_id, scheduler_factory())
    assert len(result.applied) == 3 and len(result.skipped_blank) == 1
    with store.session() as s:
        logs = s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()
        assert [log.mode for log in logs] == ["exam"] * 3
        assert [log.quality for log in logs] == [full.quality, partial.quality, 3]
        assert logs[0].suggested == full.auto_quality
        assert logs[0].duration_ms == 30_000
        for log in logs:
            state = s.get(CardState, log.card_id)
            assert state is not None and state.reviews == 1
        assert s.get(Exam, exam_id).applied  # type: ignore[union-attr]
    with pytest.raises(ExamError, match="already applied"):
        apply_to_schedule(store, exam_id, scheduler_factory())
    with pytest.raises(ExamError, match="grades are final"):
        override(store, exam_id, 1, 2)


def test_exam_without_apply_leaves_schedules_alone(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    exam_id = _sit(store, fake_clock, [_full, _wrong])
    grade_exam(store, exam_id, grader, now=fake_clock)
    with store.session() as s:
        assert s.exec(select(ReviewLog)).first() is None
    assert build_report(store, exam_id).applied is False


def test_history_trends_and_markdown(store: Store, fake_clock: FakeClock, grader: Any) -> None:
    first = _sit(store, fake_clock, [_wrong, _partial])
    grade_exam(store, first, grader, now=fake_clock)
    fake_clock.advance(86_400)
    second = _sit(store, fake_clock, [_full, _full])
    grade_exam(store, second, grader, now=fake_clock)
    fake_clock.advance(60)
    unfinished = create_exam(store, ExamSpec(decks=["exam-c"], n=2, seed=1), now=fake_clock)

    exams = list_exams(store)
    assert [e.exam_id for e in exams] == [unfinished.exam_id, second, first]
    assert exams[0].status == "sitting" and exams[0].score is None
    assert exams[1].score is not None and exams[2].score is not None
    assert exams[1].score > exams[2].score
    assert exams[1].elapsed_s == pytest.approx(70)
    assert exams[1].to_dict()["scope"] == "exam-b B2; exam-c C4"

    trends = score_trends(store)
    assert [p.exam_id for p in trends["total"]] == [first, second]
    chapter = next(k for k in trends if k != "total")
    assert len(trends[chapter]) == 2

    md = build_report(store, second).to_markdown()
    assert md.startswith(f"# Mock exam {second} — ")
    assert "## Per chapter" in md and "| B2 |" in md
    assert "**Reference answer**" in md
    assert "- [x] " in md  # covered key points
    assert "**Your answer**" in md


def test_grading_refuses_unsubmitted_and_twice(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    exam_id = create_exam(store, ExamSpec(chapters=["B1"], n=1, seed=1), now=fake_clock).exam_id
    with pytest.raises(ExamError, match="still being sat"):
        grade_exam(store, exam_id, grader)
    exam_id = _sit(store, fake_clock, [_blank])
    report = grade_exam(store, exam_id, grader)
    assert report.score == 0 and report.answered == 0
    with pytest.raises(ExamError, match="already graded"):
        grade_exam(store, exam_id, grader)


def test_self_graded_questions_wait_for_the_learner(
    store: Store, fake_clock: FakeClock, grader: Any, scheduler_factory: Callable[[], Any]
) -> None:
    add_card_without_reference(store, "B11", "notes:b11-own")
    spec = ExamSpec(chapters=["B11"], n=4, seed=2, include_self_graded=True)
    exam_id = create_exam(store, spec, now=fake_clock).exam_id
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    own = next(i for i, q in enumerate(session.questions) if q.self_graded)
    session.goto(own)
    session.set_answer("My own answer.")
    session.submit()
    report = grade_exam(store, exam_id, grader, now=fake_clock)
    mine = report.questions[own]
    assert mine.key == "notes:b11-own"
    assert mine.quality is None and mine.verdict == "self-grade" and report.pending == 1
    assert "self-graded" in report.to_markdown()
    report = override(store, exam_id, own + 1, 4)
    assert report.pending == 0 and report.questions[own].score == pytest.approx(0.8)
    result = apply_to_schedule(store, exam_id, scheduler_factory())
    assert result.applied == ["notes:b11-own"]


def test_undoing_an_applied_exam_review_lets_that_question_apply_again(
    store: Store, fake_clock: FakeClock, grader: Any, scheduler_factory: Callable[[], Any]
) -> None:
    exam_id = _sit(store, fake_clock, [_full, _partial])
    grade_exam(store, exam_id, grader, now=fake_clock)
    scheduler = scheduler_factory()
    first = apply_to_schedule(store, exam_id, scheduler)
    assert len(first.applied) == 2
    undone = scheduler.undo()  # the newest: the second question's review
    assert undone is not None and undone.mode == "exam" and undone.key == first.applied[1]
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None and not exam.applied  # no longer fully applied
    again = apply_to_schedule(store, exam_id, scheduler_factory())
    assert again.applied == [first.applied[1]] and again.already_applied == [first.applied[0]]
    with store.session() as s:
        logs = s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()
        assert [(log.mode, log.undone) for log in logs] == [
            ("exam", False),
            ("exam", True),
            ("exam", False),
        ]
        exam = s.get(Exam, exam_id)
        assert exam is not None and exam.applied


def test_a_drill_reply_in_neither_form_is_wrong_and_the_report_says_why(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """A true/false question answered "no idea" was graded as a blank (quality 0)."""
    spec = ExamSpec(n=60, seed=5, kinds=["truefalse", "choice"])
    exam_id = create_exam(store, spec, now=fake_clock).exam_id
    session = ExamSession(store, exam_id, clock=fake_clock)
    session.start()
    session.set_answer("no idea")
    session.submit()
    grade_exam(store, exam_id, grader, now=fake_clock)
    first = build_report(store, exam_id).questions[0]
    assert first.drill is not None and first.drill["verdict"] == "unread"
    assert first.auto_quality == 1 and first.verdict != "blank"
    assert first.drill["expected_form"].startswith(("t or f", "the option letters"))


def _two_points(card: Any) -> str:
    return " ".join(card.key_points[:2])


def _restated(card: Any) -> str:
    """The question said back as an answer: fluent, on topic, and no answer at all."""
    return card.prompt


def test_an_unsure_grade_is_flagged_in_the_report_and_its_export(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """Review says "unsure" and asks for ticks; the exam gave the same kind of answer a
    grade with no word of doubt (QA: a fluent answer with 1 of 6 points found, "pass 3").
    The grade stays the score's (on the labelled sets the ticks' table did worse on unsure
    answers), but the report and its Markdown say which grades to check."""
    exam_id = _sit(
        store, fake_clock, [_full, _restated, _two_points, _restated, _partial, _restated]
    )
    report = grade_exam(store, exam_id, grader, now=fake_clock)
    with store.session() as s:
        from labdeck.store.models import ExamQuestion

        rows = s.exec(select(ExamQuestion).where(ExamQuestion.exam_id == exam_id)).all()
    sure_seen = {True: 0, False: 0}
    for q, shown in zip(sorted(rows, key=lambda r: r.position), report.questions, strict=True):
        fb = q.feedback or {}
        assert isinstance(fb["sure"], bool) and fb["key_points"]
        sure_seen[fb["sure"]] += 1
        assert shown.unsure is (not fb["sure"])
        assert q.auto_quality is not None
    assert sure_seen[True] and sure_seen[False], sure_seen  # both kinds in the exam
    markdown = report.to_markdown()
    assert markdown.count("(grader unsure: check it)") == sure_seen[False]


def test_migration_0010_marks_stored_exams_by_quality(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    """An exam graded under the old rule stored similarity means; 0010 re-marks it, so history
    and trends read what its report reads today."""
    from labdeck.store import db

    exam_id = _sit(store, fake_clock, [_full, _partial, _blank, _wrong])
    report = grade_exam(store, exam_id, grader, now=fake_clock)
    db.downgrade(store.path, store.engine, "0009")
    with store.session() as s:  # what the old rule stored: similarity means
        exam = s.get(Exam, exam_id)
        assert exam is not None
        exam.score = 0.4321
        exam.result = {
            **exam.result,
            "score": 0.4321,
            "chapters": {
                code: {**info, "score": 0.1234} for code, info in exam.result["chapters"].items()
            },
        }
        s.add(exam)
    db.upgrade(store.path, store.engine)
    assert store.revision() == db.head_revision()
    (summary,) = list_exams(store, status="graded")
    assert summary.score == pytest.approx(report.score, abs=1e-4)
    assert summary.chapters == pytest.approx({c.code: c.score for c in report.chapters}, abs=1e-4)
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        assert exam is not None and exam.result["score"] == pytest.approx(report.score, abs=1e-4)
