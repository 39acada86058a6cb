"""skills: the vocabulary, agents' levels, queues' requirements and escalation

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "skill",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", Text(length=30), nullable=False),
        sa.Column("description", Text(length=200), nullable=False),
    )
    op.create_index("ix_skill_name", "skill", ["name"], unique=True)
    with op.batch_alter_table("agent") as table:
        table.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("queue") as table:
        table.add_column(
            sa.Column("requirement", Text(length=200), nullable=False, server_default="")
        )
        table.add_column(sa.Column("escalation", sa.JSON(), nullable=True))
        table.add_column(
            sa.Column("skill_preference", Text(length=4), nullable=False, server_default="any")
        )
    with op.batch_alter_table("interaction") as table:
        table.add_column(sa.Column("requirement", Text(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interaction") as table:
        table.drop_column("requirement")
    with op.batch_alter_table("queue") as table:
        table.drop_column("skill_preference")
        table.drop_column("escalation")
        table.drop_column("requirement")
    with op.batch_alter_table("agent") as table:
        table.drop_column("skills")
    op.drop_index("ix_skill_name", "skill")
    op.drop_table("skill")
