"""recording notice: a sound each caller of a queue hears before joining it

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("queue") as table:
        table.add_column(sa.Column("recording_notice", Text(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue") as table:
        table.drop_column("recording_notice")
