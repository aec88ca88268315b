"""The first store (schema version 1): submission keys, the audit trail, and the old version table.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("schema_version"):
        # Kept for releases before Alembic, which read it at start: it must be there during a rolling update.
        op.create_table("schema_version", sa.Column("version", sa.Integer, primary_key=True))
    if not has_table("submissions"):
        op.create_table(
            "submissions",
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("result_url", sa.Text),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if not has_table("audit"):
        op.create_table(
            "audit",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("user", sa.String(256)),
            sa.Column("action", sa.String(32), nullable=False),
            sa.Column("source", sa.String(128)),
            sa.Column("sandbox", sa.String(128)),
            sa.Column("connection_name", sa.String(256)),
            sa.Column("connection_id", sa.String(64)),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("detail", sa.Text),
            sa.Column("adobe_request_id", sa.String(128)),
            sa.Column("request_id", sa.String(128)),
        )
        op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("submissions")
    op.drop_table("schema_version")
