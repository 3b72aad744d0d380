"""meta table, review checklists, per-question exam apply, demo child pid

Revision ID: 0005
Revises: 0004

- ``meta``: small key/value facts the database keeps about itself (the shipped deck's content
  fingerprint, the last integrity check), so they live and die with the file.
- ``review_log.confidence/sure/checklist``: the grader's confidence and the learner's key-point
  ticks, stored with the review (labelled data written by the learner).
- ``exam_question.applied``: each question is applied to the schedule in its own transaction,
  together with this flag, so an exam can never be applied twice.
- ``exam_question.checklist``: the learner's ticks on an exam report.
- ``demo_run.pid``: the child's process id, to mark runs whose process is gone as stale.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("review_log") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sure", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
    with op.batch_alter_table("exam_question") as batch:
        batch.add_column(
            sa.Column("applied", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
    with op.batch_alter_table("demo_run") as batch:
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demo_run") as batch:
        batch.drop_column("pid")
    with op.batch_alter_table("exam_question") as batch:
        batch.drop_column("checklist")
        batch.drop_column("applied")
    with op.batch_alter_table("review_log") as batch:
        batch.drop_column("checklist")
        batch.drop_column("sure")
        batch.drop_column("confidence")
    op.drop_table("meta")
