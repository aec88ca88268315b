"""Each creation's curl kept with its submission (schema version 2): the result page shows it on any worker.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing("submissions", sa.Column("curl", sa.Text))


def downgrade() -> None:
    op.drop_column("submissions", "curl")
