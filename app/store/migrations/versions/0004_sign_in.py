"""Signing in: failed sign-ins per throttle key, and sessions kept in the store (made as they came, before Alembic;
the columns single sign-on added to sessions were never migrated then, so a database of that time may lack them).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing, has_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("sign_in_failures"):
        op.create_table(
            "sign_in_failures",
            sa.Column("key", sa.String(320), primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("last_at", sa.Float, nullable=False),
        )
    if not has_table("sessions"):
        op.create_table(
            "sessions",
            sa.Column("id_hash", sa.String(64), primary_key=True),
            sa.Column("user", sa.String(256), nullable=False),
            sa.Column("key", sa.String(64)),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False),
        )
        op.create_index("ix_sessions_user", "sessions", ["user"])
    add_missing(
        "sessions",
        sa.Column("subject", sa.String(256)),
        sa.Column("email", sa.String(256)),
        sa.Column("groups", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("sign_in_failures")
