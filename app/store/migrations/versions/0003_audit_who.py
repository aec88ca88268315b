"""Who acted, as sign-in named them, and in which role (schema version 3).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import add_missing

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_missing(
        "audit",
        sa.Column("subject", sa.String(256)),
        sa.Column("email", sa.String(256)),
        sa.Column("role", sa.String(16)),
    )


def downgrade() -> None:
    for column in ("role", "email", "subject"):
        op.drop_column("audit", column)
