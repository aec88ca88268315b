"""Credential links: a connection prepared by one person whose database owner types its secrets through a one-time
link (only a hash of the link's token is kept); and when each connection's credentials were last set, and by whom.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store made before Alembic was made from the schema of its day, which may already hold them.
    if not has_table("credential_links"):
        op.create_table(
            "credential_links",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("source", sa.String(256), nullable=False),
            sa.Column("connection_id", sa.String(64)),
            sa.Column("connection_name", sa.String(256), nullable=False),
            sa.Column("prepared", sa.Text, nullable=False),
            sa.Column("fields", sa.Text, nullable=False),
            sa.Column("requested_by", sa.String(256), nullable=False, index=True),
            sa.Column("requested_at", sa.Float, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False),
            sa.Column("used_at", sa.Float),
            sa.Column("revoked_at", sa.Float),
            sa.Column("revoked_by", sa.String(256)),
            sa.Column("outcome", sa.String(256)),
        )
    if not has_table("credentials_set"):
        op.create_table(
            "credentials_set",
            sa.Column("connection_id", sa.String(64), primary_key=True),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("connection_name", sa.String(256)),
            sa.Column("source", sa.String(64)),
            sa.Column("set_at", sa.Float, nullable=False),
            sa.Column("set_by", sa.String(256)),
            sa.Column("by_owner", sa.Boolean, nullable=False),
            sa.Column("expires_at", sa.Float),
            sa.Column("reminded_at", sa.Float),
        )


def downgrade() -> None:
    op.drop_table("credentials_set")
    op.drop_table("credential_links")
