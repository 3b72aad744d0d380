"""Drill cards in a mock exam: drawn on request, options in the exam's order, graded exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from labdeck.exam.compose import ExamSpec, create_exam
from labdeck.exam.grade import grade_exam
from labdeck.exam.session import ExamSession
from labdeck.store import Store


class NoGrader:
    """Drill questions must never reach the embedding grader."""

    def grade(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("the embedding grader was called for a drill card")


def test_a_drill_exam_is_graded_exactly(drill_store: Store) -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    spec = ExamSpec(n=4, seed=7, kinds=["cloze", "choice", "truefalse"])
    composed = create_exam(drill_store, spec, now=lambda: moment)
    assert sorted(composed.card_keys) == sorted(
        ["t:a1.1.scale.c1", "t:a1.1.scale.c2", "t:a1.1.axis", "t:a1.2.concat"]
    )
    sitting = ExamSession(drill_store, composed.exam_id, clock=lambda: moment)
    sitting.start()
    replies = {}
    for _ in range(sitting.n):
        q = sitting.current
        if q.key == "t:a1.2.concat":
            lines = q.prompt.splitlines()
            assert "Type the letter(s) of your choice." in lines
            right = next(line for line in lines if "concatenated" in line).strip()[0]
            replies[q.key] = right
        elif q.key == "t:a1.1.axis":
            replies[q.key] = "true"  # wrong
        elif q.key == "t:a1.1.scale.c1":
            replies[q.key] = "sqrt(d_k)"
        else:
            replies[q.key] = ""
        sitting.set_answer(replies[q.key])
        sitting.next()
    sitting.submit()
    report = grade_exam(drill_store, composed.exam_id, NoGrader())
    by_key = {q.key: q for q in report.questions}
    assert by_key["t:a1.2.concat"].quality == 5
    assert by_key["t:a1.1.scale.c1"].quality == 5
    assert by_key["t:a1.1.axis"].quality == 1
    assert by_key["t:a1.1.scale.c2"].quality == 0


def test_essays_only_by_default(drill_store: Store) -> None:
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    composed = create_exam(drill_store, ExamSpec(n=10, seed=1), now=lambda: moment)
    assert sorted(composed.card_keys) == ["t:a1.1", "t:a1.2"]
