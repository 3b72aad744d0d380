"""core: decks, chapters, cards, scheduling state, review log

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deck", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deck_key"), ["key"], unique=True)

    op.create_table(
        "chapter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deck_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title_zh", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["deck_id"], ["deck.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deck_id", "code", name="uq_chapter_deck_code"),
    )
    with op.batch_alter_table("chapter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapter_deck_id"), ["deck_id"], unique=False)

    op.create_table(
        "card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deck_id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("prompt_zh", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("key_points", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("demos", sa.JSON(), nullable=False),
        sa.Column("outline_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("notes_source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["deck_id"], ["deck.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index(
            "ix_card_deck_order", ["deck_id", "chapter_id", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_card_key"), ["key"], unique=True)

    op.create_table(
        "card_state",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("repetitions", sa.Integer(), nullable=False),
        sa.Column("ease", sa.Integer(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("leech", sa.Boolean(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("buried_until", sa.Date(), nullable=True),
        sa.Column("last_review", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("card_id"),
    )
    with op.batch_alter_table("card_state", schema=None) as batch_op:
        batch_op.create_index("ix_card_state_queue", ["suspended", "due"], unique=False)

    op.create_table(
        "review_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("study_day", sa.Date(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("suggested", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("prev_repetitions", sa.Integer(), nullable=False),
        sa.Column("prev_ease", sa.Integer(), nullable=False),
        sa.Column("prev_interval", sa.Integer(), nullable=False),
        sa.Column("prev_due", sa.Date(), nullable=True),
        sa.Column("prev_lapses", sa.Integer(), nullable=False),
        sa.Column("prev_leech", sa.Boolean(), nullable=False),
        sa.Column("prev_suspended", sa.Boolean(), nullable=False),
        sa.Column("new_repetitions", sa.Integer(), nullable=False),
        sa.Column("new_ease", sa.Integer(), nullable=False),
        sa.Column("new_interval", sa.Integer(), nullable=False),
        sa.Column("new_due", sa.Date(), nullable=True),
        sa.Column("new_lapses", sa.Integer(), nullable=False),
        sa.Column("new_leech", sa.Boolean(), nullable=False),
        sa.Column("new_suspended", sa.Boolean(), nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_log", schema=None) as batch_op:
        batch_op.create_index("ix_review_log_card_ts", ["card_id", "ts"], unique=False)
        batch_op.create_index("ix_review_log_day", ["study_day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_log", schema=None) as batch_op:
        batch_op.drop_index("ix_review_log_day")
        batch_op.drop_index("ix_review_log_card_ts")

    op.drop_table("review_log")

    with op.batch_alter_table("card_state", schema=None) as batch_op:
        batch_op.drop_index("ix_card_state_queue")

    op.drop_table("card_state")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_key"))
        batch_op.drop_index("ix_card_deck_order")
        batch_op.drop_index(batch_op.f("ix_card_chapter_id"))

    op.drop_table("card")

    with op.batch_alter_table("chapter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_deck_id"))

    op.drop_table("chapter")

    with op.batch_alter_table("deck", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deck_key"))

    op.drop_table("deck")
