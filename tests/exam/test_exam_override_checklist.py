"""An exam question's own grade from key-point ticks: stored with the ticks, shown in the
report and its Markdown export; a direct grade or clearing drops the ticks."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from exam_helpers import FakeClock

from labdeck.exam import ExamError
from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.grade import grade_exam, override
from labdeck.exam.session import ExamSession
from labdeck.grading.checklist import Ticks, verdict_of
from labdeck.store import Store


def graded_exam(store: Store, clock: FakeClock, grader: Any) -> int:
    exam_id = create_exam(store, ExamSpec(chapters=["B2"], n=2, seed=4), now=clock).exam_id
    session = ExamSession(store, exam_id, clock=clock)
    session.start()
    session.set_answer("Queries are compared with keys by dot products, scaled, softmaxed.")
    session.submit()
    grade_exam(store, exam_id, grader, now=clock)
    return exam_id


def stored(store: Store, exam_id: int) -> tuple:
    """(override_quality, checklist) of question 1, the checklist JSON-decoded."""
    with sqlite3.connect(store.path) as conn:
        quality, checklist = conn.execute(
            "SELECT override_quality, checklist FROM exam_question "
            "WHERE exam_id = ? AND position = 1",
            (exam_id,),
        ).fetchone()
    return quality, None if checklist is None else json.loads(checklist)


def test_ticks_become_the_questions_grade(store: Store, fake_clock: FakeClock, grader: Any):
    exam_id = graded_exam(store, fake_clock, grader)
    from labdeck.exam.report import build_report

    q = build_report(store, exam_id).questions[0]
    assert q.key_points and q.checklist is None
    ticks = Ticks(
        [p["text"] for p in q.key_points],
        [verdict_of(p["covered"], p["contradicted"]) for p in q.key_points],
    )
    ticks.toggle(1)
    report = override(store, exam_id, 1, ticks.quality(), checklist=list(ticks.stored()))
    q = report.questions[0]
    assert q.override_quality == ticks.quality() and q.checklist == ticks.stored()
    assert stored(store, exam_id) == (ticks.quality(), ticks.stored())
    markdown = report.to_markdown()
    assert "**Key points** (your ticks)" in markdown
    first = "x" if ticks.ticked[0] else " "
    assert f"- [{first}] {ticks.points[0]}" in markdown

    override(store, exam_id, 1, 2)  # a direct grade drops the ticks
    assert stored(store, exam_id) == (2, None)
    override(store, exam_id, 1, None)
    assert stored(store, exam_id) == (None, None)


def test_bad_checklists_are_refused(store: Store, fake_clock: FakeClock, grader: Any):
    exam_id = graded_exam(store, fake_clock, grader)
    with pytest.raises(ExamError, match="grader must be"):
        override(store, exam_id, 1, 3, checklist=[{"point": "p", "grader": "?", "ticked": True}])
    with pytest.raises(ExamError, match="needs the quality"):
        override(
            store, exam_id, 1, None, checklist=[{"point": "p", "grader": "missed", "ticked": True}]
        )
    assert stored(store, exam_id) == (None, None)


def test_applying_the_exam_stores_the_learners_ticks_with_the_review(
    store: Store, fake_clock: FakeClock, grader: Any
) -> None:
    from labdeck.exam.grade import apply_to_schedule
    from labdeck.exam.report import build_report

    exam_id = graded_exam(store, fake_clock, grader)
    q = build_report(store, exam_id).questions[0]
    ticks = Ticks(
        [p["text"] for p in q.key_points],
        [verdict_of(p["covered"], p["contradicted"]) for p in q.key_points],
    )
    ticks.toggle(1)
    override(store, exam_id, 1, ticks.quality(), checklist=list(ticks.stored()))
    apply_to_schedule(store, exam_id, now=fake_clock)
    with sqlite3.connect(store.path) as conn:
        quality, checklist = conn.execute(
            "SELECT quality, checklist FROM review_log WHERE mode = 'exam' ORDER BY id LIMIT 1"
        ).fetchone()
    assert quality == ticks.quality()
    assert json.loads(checklist) == ticks.stored()


def test_the_text_report_lists_what_the_learners_ticks_leave_missed(
    store: Store, fake_clock: FakeClock, grader: Any
):
    """QA: `labdeck exam report` listed as missed the points the learner had ticked."""
    exam_id = graded_exam(store, fake_clock, grader)
    from labdeck.exam.report import build_report

    q = build_report(store, exam_id).questions[0]
    ticks = Ticks([p["text"] for p in q.key_points], ["missed"] * len(q.key_points))
    ticks.toggle(1)  # the learner says the first point is covered, the others are not
    report = override(store, exam_id, 1, ticks.quality(), checklist=list(ticks.stored()))
    text = report.to_text()
    missed_line = next(line for line in text.splitlines() if "missed" in line)
    assert "missed (your ticks):" in missed_line
    assert ticks.points[0] not in missed_line
    assert all(point in missed_line for point in ticks.points[1:])
