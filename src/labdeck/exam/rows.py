"""The one query both the sitting and the report need: an exam's questions with their cards."""

from __future__ import annotations

from sqlmodel import Session, col, select

from labdeck.exam import ExamError
from labdeck.store.models import Card, Chapter, Deck, Exam, ExamQuestion

QuestionRow = tuple[ExamQuestion, Card, Chapter, Deck]


def exam_rows(session: Session, exam_id: int) -> tuple[Exam, list[QuestionRow]]:
    """The exam and its questions in order, each with its card, chapter and deck."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise ExamError(f"no exam with id {exam_id}")
    rows = session.exec(
        select(ExamQuestion, Card, Chapter, Deck)
        .join(Card, col(Card.id) == col(ExamQuestion.card_id))
        .join(Chapter, col(Chapter.id) == col(Card.chapter_id))
        .join(Deck, col(Deck.id) == col(Card.deck_id))
        .where(ExamQuestion.exam_id == exam_id)
        .order_by(col(ExamQuestion.position))
    ).all()
    return exam, list(rows)
