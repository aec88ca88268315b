"""Watching dataflows and alerting: the runs and dataflows the watcher has seen, where it has read up to, alert rules,
the events they match (each made once) and their deliveries.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from app.store.migrations.existing import has_table

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("watched_runs"):
        op.create_table(
            "watched_runs",
            sa.Column("run_id", sa.String(64), primary_key=True),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("flow_id", sa.String(64), nullable=False),
            sa.Column("created_ms", sa.BigInteger, nullable=False),
            sa.Column("completed_ms", sa.BigInteger),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("records_read", sa.Integer),
            sa.Column("records_written", sa.Integer),
            sa.Column("records_failed", sa.Integer),
            sa.Column("errors", sa.Text),
            sa.Column("noticed", sa.Boolean, nullable=False),
        )
        op.create_index("ix_watched_runs_flow_id", "watched_runs", ["flow_id"])
        op.create_index("ix_watched_runs_created_ms", "watched_runs", ["created_ms"])
    if not has_table("watched_flows"):
        op.create_table(
            "watched_flows",
            sa.Column("flow_id", sa.String(64), primary_key=True),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("name", sa.String(256)),
            sa.Column("state", sa.String(16)),
            sa.Column("source_spec", sa.String(64)),
            sa.Column("failures_in_row", sa.Integer, nullable=False),
            sa.Column("late_after", sa.String(64)),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if not has_table("watch_cursors"):
        op.create_table(
            "watch_cursors",
            sa.Column("sandbox", sa.String(128), primary_key=True),
            sa.Column("since_ms", sa.BigInteger, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if not has_table("alert_rules"):
        op.create_table(
            "alert_rules",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("source", sa.String(64)),
            sa.Column("flow_id", sa.String(64)),
            sa.Column("events", sa.Text, nullable=False),
            sa.Column("channel", sa.String(16), nullable=False),
            sa.Column("target", sa.Text, nullable=False),
            sa.Column("target_hint", sa.String(256), nullable=False),
            sa.Column("created_by", sa.String(256)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if not has_table("alert_events"):
        op.create_table(
            "alert_events",
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("sandbox", sa.String(128), nullable=False),
            sa.Column("flow_id", sa.String(64)),
            sa.Column("run_id", sa.String(64)),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("origin", sa.String(16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_alert_events_created_at", "alert_events", ["created_at"])
    if not has_table("alert_deliveries"):
        op.create_table(
            "alert_deliveries",
            sa.Column("event_id", sa.String(64), primary_key=True),
            sa.Column("rule_id", sa.String(32), primary_key=True),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("next_at", sa.Float, nullable=False),
            sa.Column("lease_until", sa.Float),
            sa.Column("last_error", sa.Text),
            sa.Column("first_at", sa.Float, nullable=False),
            sa.Column("sent_at", sa.Float),
        )
        op.create_index("ix_alert_deliveries_next_at", "alert_deliveries", ["next_at"])


def downgrade() -> None:
    for table in ("alert_deliveries", "alert_events", "alert_rules", "watch_cursors", "watched_flows", "watched_runs"):
        op.drop_table(table)
