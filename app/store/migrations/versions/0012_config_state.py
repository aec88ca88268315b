"""Config as code: each object a file put in a sandbox, as last applied (its entry, and a keyed hash of each secret).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store made before Alembic was made from the schema of its day, which may already hold it.
    if not has_table("config_state"):
        op.create_table(
            "config_state",
            sa.Column("sandbox", sa.String(128), primary_key=True),
            sa.Column("kind", sa.String(16), primary_key=True),
            sa.Column("name", sa.String(256), primary_key=True),
            sa.Column("object_id", sa.String(64), nullable=False),
            sa.Column("applied", sa.Text, nullable=False),
            sa.Column("fingerprints", sa.Text, nullable=False),
            sa.Column("applied_at", sa.Float, nullable=False),
            sa.Column("applied_by", sa.String(256)),
        )


def downgrade() -> None:
    op.drop_table("config_state")
