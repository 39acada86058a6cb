"""queued callbacks: each queue's policy, the callbacks, and the link between calls

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("queue") as table:
        table.add_column(sa.Column("callback", sa.JSON(), nullable=True))
    with op.batch_alter_table("interaction") as table:
        table.add_column(sa.Column("callback_of", sa.Integer(), nullable=True))
        table.create_index("ix_interaction_callback_of", ["callback_of"])
    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("queue", Text(length=40), nullable=False),
        sa.Column("number", Text(length=21), nullable=False),
        sa.Column("name", Text(length=80), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", Text(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asked_in", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("agent", Text(length=40), nullable=True),
        sa.Column("reason", Text(length=200), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("queue", "number", "requested_at", "state", "asked_in", "interaction_id",
                   "ended_at"):  # fmt: skip
        op.create_index(f"ix_callback_{column}", "callback", [column])


def downgrade() -> None:
    op.drop_table("callback")
    with op.batch_alter_table("interaction") as table:
        table.drop_index("ix_interaction_callback_of")
        table.drop_column("callback_of")
    with op.batch_alter_table("queue") as table:
        table.drop_column("callback")
