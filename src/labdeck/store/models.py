"""SQLModel tables. The schema itself changes only through Alembic migrations (migrations/).

Content (Deck, Chapter, Card) is kept apart from scheduling state (CardState) and history
(ReviewLog), so re-importing a document can rewrite text without touching a schedule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Deck(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)
    name: str
    description: str = ""
    source: str = "content"  # content | outline | qa
    source_path: str | None = None
    position: int = 0
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Chapter(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("deck_id", "code", name="uq_chapter_deck_code"),)

    id: int | None = Field(default=None, primary_key=True)
    deck_id: int = Field(foreign_key="deck.id", index=True, ondelete="CASCADE")
    code: str
    title: str
    title_zh: str | None = None
    description: str = ""
    position: int = 0


class Card(SQLModel, table=True):
    __table_args__ = (Index("ix_card_deck_order", "deck_id", "chapter_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)
    deck_id: int = Field(foreign_key="deck.id", ondelete="CASCADE")
    chapter_id: int = Field(foreign_key="chapter.id", index=True, ondelete="CASCADE")
    position: int = 0
    prompt: str
    prompt_zh: str | None = None
    answer: str | None = None  # None: no reference, self-graded only
    key_points: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    demos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outline_ref: str | None = None
    source_title: str | None = None
    source_path: str | None = None
    source_line: int | None = None
    notes: str | None = None  # the learner's own notes attached from an imported document
    notes_source: str | None = None
    retired: bool = False
    created_at: datetime
    updated_at: datetime
    kind: str = "essay"  # essay | cloze | choice | truefalse (see labdeck.drills)
    parent_id: int | None = Field(
        default=None, foreign_key="card.id", index=True, ondelete="SET NULL"
    )  # the essay card a drill belongs to
    drill: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # a shipped correction for a known mistake in the learner's notes on this item
    note_check: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CardOverride(SQLModel, table=True):
    """The learner's edit of a card: the card's columns hold the edited text, ``original`` the
    imported value of each edited field (prompt, answer, key_points), which re-imports update
    instead of the card (see ``labdeck.store.overrides``)."""

    __tablename__ = "card_override"

    card_id: int = Field(foreign_key="card.id", primary_key=True, ondelete="CASCADE")
    original: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime


class CardState(SQLModel, table=True):
    """Scheduling state of one card. ease is the SM-2 E-Factor in per-mille (2500 = 2.5).

    ``chapter_id`` copies the card's chapter while the card is live (NULL once retired), so a
    chapter's counts, and its due cards in queue order (due, card id), are one range of
    ``ix_card_state_chapter`` (migration 0009). Triggers (migration 0008) keep it in step with
    ``card``; no code writes it.
    """

    __tablename__ = "card_state"
    __table_args__ = (
        Index("ix_card_state_queue", "suspended", "due"),
        Index("ix_card_state_chapter", "chapter_id", "suspended", "due", "card_id", "buried_until"),
    )

    card_id: int = Field(foreign_key="card.id", primary_key=True, ondelete="CASCADE")
    repetitions: int = 0
    ease: int = 2500
    interval: int = 0
    due: date | None = None  # study day; None = new card
    lapses: int = 0
    reviews: int = 0
    leech: bool = False
    suspended: bool = False
    buried_until: date | None = None
    last_review: datetime | None = None
    chapter_id: int | None = None  # the live card's chapter, kept by triggers (see above)


class ReviewLog(SQLModel, table=True):
    """Append-only answer log. Undo marks a row ``undone`` and restores the ``prev_*`` state."""

    __tablename__ = "review_log"
    __table_args__ = (
        Index("ix_review_log_card_ts", "card_id", "ts"),
        Index("ix_review_log_day", "study_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="card.id", ondelete="CASCADE")
    ts: datetime
    study_day: date
    quality: int
    mode: str  # review | redrill | exam
    answer: str | None = None
    score: float | None = None
    suggested: int | None = None
    duration_ms: int | None = None
    confidence: float | None = None  # the grader's confidence in ``suggested`` (0-1)
    sure: bool | None = None  # the grader's verdict: True = sure, False = unsure, None = not graded
    # the learner's key-point ticks: [{"point": str, "grader": "covered|missed|contradicted",
    # "ticked": bool}], None when no checklist was shown
    checklist: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    prev_repetitions: int
    prev_ease: int
    prev_interval: int
    prev_due: date | None = None
    prev_lapses: int = 0
    prev_leech: bool = False
    prev_suspended: bool = False
    new_repetitions: int
    new_ease: int
    new_interval: int
    new_due: date | None = None
    new_lapses: int = 0
    new_leech: bool = False
    new_suspended: bool = False
    undone: bool = False


class EmbeddingCache(SQLModel, table=True):
    __tablename__ = "embedding_cache"

    model_id: str = Field(primary_key=True)
    text_hash: str = Field(primary_key=True)
    dim: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime


class DemoRun(SQLModel, table=True):
    __tablename__ = "demo_run"

    id: int | None = Field(default=None, primary_key=True)
    demo_id: str = Field(index=True)
    card_key: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    device: str = "cpu"
    seed: int = 0
    threads: int = 1
    started_at: datetime
    ended_at: datetime | None = None
    status: str = "running"
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    checks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str | None = None
    pid: int | None = None  # the child process, to mark runs whose process is gone as stale


class Exam(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seed: int = 0
    time_limit_s: int = 0
    status: str = "sitting"  # sitting | submitted | graded
    current: int = 0
    elapsed_s: float = 0.0
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    graded_at: datetime | None = None
    score: float | None = None
    applied: bool = False
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ExamQuestion(SQLModel, table=True):
    __tablename__ = "exam_question"
    __table_args__ = (UniqueConstraint("exam_id", "position", name="uq_exam_question_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    exam_id: int = Field(foreign_key="exam.id", index=True, ondelete="CASCADE")
    card_id: int = Field(foreign_key="card.id", ondelete="CASCADE")
    position: int
    self_graded: bool = False
    answer: str = ""
    time_spent_s: float = 0.0
    auto_score: float | None = None
    auto_quality: int | None = None
    override_quality: int | None = None
    feedback: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    applied: bool = False  # set in the same transaction that records this question's review
    checklist: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class Meta(SQLModel, table=True):
    """Facts the database keeps about itself (content fingerprint, last integrity check)."""

    key: str = Field(primary_key=True)
    value: str
