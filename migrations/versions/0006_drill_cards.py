"""drill cards: cloze, choice and true/false next to the essays

Revision ID: 0006
Revises: 0005

- ``card.kind``: essay | cloze | choice | truefalse (existing rows are essays).
- ``card.parent_id``: the essay card a drill belongs to (NULL for essays).
- ``card.drill``: the type's own data (cloze deletion and alternatives, options and the correct
  set, a claim's verdict and why).
- ``card.note_check``: a shipped correction for a known mistake in the learner's own notes on
  this item ("check your note"), from ``content/<deck>/note_checks.toml``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("card") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="essay",
            )
        )
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("drill", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("note_check", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_card_parent_id_card", "card", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_card_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("card") as batch:
        batch.drop_index("ix_card_parent_id")
        batch.drop_constraint("fk_card_parent_id_card", type_="foreignkey")
        batch.drop_column("note_check")
        batch.drop_column("drill")
        batch.drop_column("parent_id")
        batch.drop_column("kind")
