"""Personal API tokens (their hashes, never the tokens), the groups each person last signed in with, and the token
each audited action was taken with.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing, has_table

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store made before Alembic was made from the schema of its day, which may already hold it.
    add_missing("audit", sa.Column("token", sa.String(160)))
    if not has_table("api_tokens"):
        op.create_table(
            "api_tokens",
            sa.Column("prefix", sa.String(16), primary_key=True),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Column("user", sa.String(256), nullable=False, index=True),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("sandboxes", sa.String(512), nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("expires_at", sa.Float, nullable=False),
            sa.Column("last_used_at", sa.Float),
            sa.Column("revoked_at", sa.Float),
            sa.Column("revoked_by", sa.String(256)),
        )
    if not has_table("people"):
        op.create_table(
            "people",
            sa.Column("user", sa.String(256), primary_key=True),
            sa.Column("groups", sa.Text, nullable=False),
            sa.Column("seen_at", sa.Float, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("people")
    op.drop_table("api_tokens")
    op.drop_column("audit", "token")
