"""demo run history

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demo_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demo_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("card_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("demo_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demo_run_demo_id"), ["demo_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demo_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_run_demo_id"))

    op.drop_table("demo_run")
