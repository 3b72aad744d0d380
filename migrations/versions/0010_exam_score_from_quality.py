"""Exam scores on one scale: a question's mark is its final quality / 5

Revision ID: 0010
Revises: 0009

Until now a question the grader marked kept its similarity as its score, while one the learner
graded counted quality / 5: the two scales disagree (a pass can read 48 % by similarity and
60 % as 3/5), so a report mixed them. ``labdeck.exam.report`` now marks every graded question
by quality / 5. This recomputes what graded exams stored from the old rule: ``exam.score`` and
each chapter's score in ``exam.result``, so history and trends read the same as a report
rebuilt today. Exam questions are not changed (``auto_score`` keeps the similarity, shown in
the report's detail). No schema change; downgrade leaves the new figures.
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

QUESTIONS = sa.text(
    "SELECT eq.exam_id, ch.code, COALESCE(eq.override_quality, eq.auto_quality) "
    "FROM exam_question AS eq "
    "JOIN card ON card.id = eq.card_id JOIN chapter AS ch ON ch.id = card.chapter_id"
)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def upgrade() -> None:
    conn = op.get_bind()
    marks: dict[int, list[float]] = defaultdict(list)
    chapter_marks: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for exam_id, code, quality in conn.execute(QUESTIONS):
        if quality is not None:
            marks[exam_id].append(quality / 5)
            chapter_marks[exam_id][code].append(quality / 5)
    exams = conn.execute(sa.text("SELECT id, result FROM exam WHERE status = 'graded'")).all()
    for exam_id, raw in exams:
        result = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        score = _mean(marks.get(exam_id, []))
        if isinstance(result, dict):
            if "score" in result:
                result["score"] = score
            for code, info in (result.get("chapters") or {}).items():
                if isinstance(info, dict):
                    info["score"] = _mean(chapter_marks[exam_id].get(code, []))
        conn.execute(
            sa.text("UPDATE exam SET score = :score, result = :result WHERE id = :id"),
            {"score": score, "result": json.dumps(result), "id": exam_id},
        )


def downgrade() -> None:
    """The similarity means are not kept anywhere to restore; the marks stay."""
