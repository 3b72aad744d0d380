"""card_override: the learner's in-place edits of a card's prompt, answer and key points

Revision ID: 0007
Revises: 0006

An edit writes the learner's text into the card's own columns (so every reader — review, exam,
grading, Browse, export — sees it with no change) and keeps the imported text of each edited
field here, in ``original`` (field name -> imported value). Re-importing the card's source
writes its new text into ``original`` instead of the card (``labdeck.ingest.load``), so the
edit stays in force; reverting copies ``original`` back and drops the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_override",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("card_id"),
    )


def downgrade() -> None:
    op.drop_table("card_override")
