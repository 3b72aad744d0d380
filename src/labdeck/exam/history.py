"""Past exams: a list with date, scope, score and duration, and score trends per chapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from labdeck.exam import ExamError
from labdeck.store import Store
from labdeck.store.models import Exam, ExamQuestion


@dataclass
class ExamSummary:
    exam_id: int
    created_at: datetime
    scope: str
    status: str
    questions: int
    score: float | None
    elapsed_s: float
    time_limit_s: int
    applied: bool
    chapters: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exam_id": self.exam_id,
            "created_at": self.created_at.isoformat(),
            "scope": self.scope,
            "status": self.status,
            "questions": self.questions,
            "score": None if self.score is None else round(self.score, 4),
            "elapsed_s": round(self.elapsed_s, 1),
            "time_limit_s": self.time_limit_s,
            "applied": self.applied,
            "chapters": self.chapters,
        }


def list_exams(store: Store, *, status: str | None = None) -> list[ExamSummary]:
    """Every exam, newest first."""
    with store.session() as s:
        counts = dict(
            s.exec(
                select(col(ExamQuestion.exam_id), func.count(col(ExamQuestion.id))).group_by(
                    col(ExamQuestion.exam_id)
                )
            ).all()
        )
        query = select(Exam).order_by(col(Exam.created_at).desc(), col(Exam.id).desc())
        if status:
            query = query.where(Exam.status == status)
        out = []
        for exam in s.exec(query).all():
            chapters = {
                code: (info or {}).get("score")
                for code, info in ((exam.result or {}).get("chapters") or {}).items()
            }
            out.append(
                ExamSummary(
                    exam_id=exam.id or 0,
                    created_at=exam.created_at,
                    scope=str((exam.scope or {}).get("label", "")),
                    status=exam.status,
                    questions=counts.get(exam.id or 0, 0),
                    score=exam.score,
                    elapsed_s=exam.elapsed_s,
                    time_limit_s=exam.time_limit_s,
                    applied=exam.applied,
                    chapters=chapters,
                )
            )
        return out


@dataclass
class TrendPoint:
    exam_id: int
    created_at: datetime
    score: float


def score_trends(store: Store) -> dict[str, list[TrendPoint]]:
    """Scores over time, oldest first: ``"total"`` plus one series per chapter code."""
    trends: dict[str, list[TrendPoint]] = {"total": []}
    for exam in reversed(list_exams(store, status="graded")):
        if exam.score is not None:
            trends["total"].append(TrendPoint(exam.exam_id, exam.created_at, exam.score))
        for code, score in exam.chapters.items():
            if score is not None:
                trends.setdefault(code, []).append(TrendPoint(exam.exam_id, exam.created_at, score))
    return trends


def delete_exam(store: Store, exam_id: int) -> None:
    """Remove an exam and its questions (review log rows it produced are kept)."""
    with store.session() as s:
        exam = s.get(Exam, exam_id)
        if exam is None:
            raise ExamError(f"no exam with id {exam_id}")
        for q in s.exec(select(ExamQuestion).where(ExamQuestion.exam_id == exam_id)).all():
            s.delete(q)
        s.delete(exam)
