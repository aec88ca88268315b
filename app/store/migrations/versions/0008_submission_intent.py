"""What each submission is about to create, so that one left pending (its worker killed) can be completed from Adobe;
and which claim made the row, so that a claim retried after a lost commit knows it as its own.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing("submissions", sa.Column("claimed_by", sa.String(32)), sa.Column("intent", sa.Text))


def downgrade() -> None:
    op.drop_column("submissions", "intent")
    op.drop_column("submissions", "claimed_by")
