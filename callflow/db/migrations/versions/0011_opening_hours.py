"""opening hours: each queue's weekly schedule, and where callers go while closed

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("queue") as table:
        table.add_column(sa.Column("hours", sa.JSON(), nullable=True))
        table.add_column(sa.Column("closed_target", Text(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue") as table:
        table.drop_column("closed_target")
        table.drop_column("hours")
