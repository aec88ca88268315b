"""Leases: work that runs once across workers and replicas (the reconciler, and later the alerts watcher) is done by
whoever holds its lease, until the lease runs out.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("leases"):
        op.create_table(
            "leases",
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("holder", sa.String(64), nullable=False),
            sa.Column("until", sa.Float, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("leases")
