"""Deleting a connection with what is made from it: the target connections still to delete, so a stop resumes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("cleanups"):
        op.create_table(
            "cleanups",
            sa.Column("connection_id", sa.String(64), primary_key=True),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("target_ids", sa.Text, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("cleanups")
