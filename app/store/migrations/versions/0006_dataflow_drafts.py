"""Dataflows being made: each draft's plan, and each object of its chain as it is made.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("dataflow_drafts"):
        op.create_table(
            "dataflow_drafts",
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("owner", sa.String(256)),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("connection_id", sa.String(64), nullable=False),
            sa.Column("plan", sa.Text, nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("lease_until", sa.Float),
            sa.Column("source_id", sa.String(64)),
            sa.Column("target_id", sa.String(64)),
            sa.Column("mapping_id", sa.String(64)),
            sa.Column("flow_id", sa.String(64)),
            sa.Column("problem", sa.Text),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("dataflow_drafts")
