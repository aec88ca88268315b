"""A single sign-on session's ID token (for signing out at the provider), and failed runs retried, each once.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing, has_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing("sessions", sa.Column("id_token", sa.Text))
    if not has_table("run_retries"):
        op.create_table(
            "run_retries",
            sa.Column("run_id", sa.String(64), primary_key=True),
            sa.Column("flow_id", sa.String(64), nullable=False),
            sa.Column("new_run_id", sa.String(64)),
            sa.Column("taken_at", sa.Float, nullable=False),
        )
        op.create_index("ix_run_retries_flow_id", "run_retries", ["flow_id"])


def downgrade() -> None:
    op.drop_table("run_retries")
    op.drop_column("sessions", "id_token")
