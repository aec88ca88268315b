"""What the store keeps, table by table (how it connects: app/store/engine.py; how an older schema is brought up to
date: app/store/migrations). Never a secret: the columns below are all there is."""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The version table of the releases before Alembic (app/store/migrations): kept, since during a rolling update those
# releases still read it at start.
schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

submissions = Table(
    "submissions",
    metadata,
    # The one-time key each rendered form carries; the primary key makes a second claim fail in the database.
    Column("key", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # pending, done, failed (nothing was made)
    Column("result_url", Text),
    # The request that was sent, as curl with every secret a placeholder: the result page shows it on any worker.
    Column("curl", Text),
    # The claim that made the row (a random token): a claim retried after a lost commit finds its own row.
    Column("claimed_by", String(32)),
    # What the submission is creating, as JSON (sandbox, name, connection spec, when, and its audit entry but the
    # outcome): how a submission left pending is completed from Adobe, and put on record as its person's.
    Column("intent", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("user", String(256)),
    # The person as sign-in gave them (the identity provider's subject, their email) and the role they acted in.
    Column("subject", String(256)),
    Column("email", String(256)),
    Column("role", String(16)),
    Column("action", String(32), nullable=False),  # create, rename, rotate, delete
    Column("source", String(128)),
    Column("sandbox", String(128)),
    Column("connection_name", String(256)),
    Column("connection_id", String(64)),
    Column("outcome", String(16), nullable=False),  # ok, failed
    Column("detail", Text),
    Column("adobe_request_id", String(128)),
    Column("request_id", String(128)),
    # The API token the action was taken with: its name and prefix (never the token).
    Column("token", String(160)),
)

# Failed sign-ins per throttle key (a name at an address, or an address), shared by every worker and replica.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", Float, nullable=False),  # seconds since the epoch
)

# Signed-in sessions: the cookie holds a random id, the store its SHA-256. Signing out, expiry and a new
# password end a session everywhere, whatever copies of the cookie exist.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user", String(256), nullable=False, index=True),
    # A digest of the user's password hash when signing in: a new password ends the session.
    Column("key", String(64)),
    # With single sign-on, the identity provider's subject, email and groups, as the ID token gave them.
    Column("subject", String(256)),
    Column("email", String(256)),
    Column("groups", Text),
    # With single sign-on, the ID token, kept only to send as id_token_hint when the person signs out (OpenID
    # Connect RP-Initiated Logout): it opens no API, and is deleted with the session. Never put in the cookie.
    Column("id_token", Text),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Deleting a connection with everything made from it: the target connections still to delete once their flows are
# gone (nothing in Flow Service leads from a base connection to them then), so that a stopped deletion resumes.
cleanups = Table(
    "cleanups",
    metadata,
    Column("connection_id", String(64), primary_key=True),
    Column("sandbox", String(128), nullable=False),
    Column("target_ids", Text, nullable=False),  # a JSON list
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Creating a dataflow: what the person chose, step by step (the plan, JSON), and each object of the chain as it is
# made, under one key. Any worker or replica continues a chain from here; its columns are written one at a time, so
# steps made side by side never overwrite each other.
dataflow_drafts = Table(
    "dataflow_drafts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("owner", String(256)),
    Column("sandbox", String(128), nullable=False),
    Column("connection_id", String(64), nullable=False),
    Column("plan", Text, nullable=False),
    Column("state", String(16), nullable=False),  # draft, creating, stopped, done, removed
    # While `creating`, the time (seconds since the epoch) after which another request may take the chain over.
    Column("lease_until", Float),
    Column("source_id", String(64)),
    Column("target_id", String(64)),
    Column("mapping_id", String(64)),
    Column("flow_id", String(64)),
    Column("problem", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
DRAFT_STEPS = ("source_id", "target_id", "mapping_id", "flow_id")
# The open drafts one person may have at once (our choice: more is a script gone wrong, not a person).
MOST_OPEN_DRAFTS = 50
OPEN_DRAFT_STATES = ("draft", "creating", "stopped")

# Failed runs retried from the portal, each once: the row is taken before the retry is sent (so a double click or a
# second worker sends nothing), and names the run the retry made once Adobe answers.
run_retries = Table(
    "run_retries",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("flow_id", String(64), nullable=False, index=True),
    Column("new_run_id", String(64)),
    # Seconds since the epoch; a taking never completed (its request died) may be taken again after RETRY_LEASE.
    Column("taken_at", Float, nullable=False),
)
RETRY_LEASE = 120.0
# How long a draft nobody touches is kept.
DRAFT_DAYS = 30

# Work that runs once across workers and replicas: whoever holds its lease (until `until`, seconds since the epoch).
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("until", Float, nullable=False),
)

# Config as code (app/config_file): each object a file put in a sandbox, as last applied. `applied` is its entry as the
# file had it (secrets as references, never values); `fingerprints` a keyed hash of each secret's value then (HMAC with
# the portal's secret key), so that a plan tells a changed secret without the value ever being kept.
config_state = Table(
    "config_state",
    metadata,
    Column("sandbox", String(128), primary_key=True),
    Column("kind", String(16), primary_key=True),  # connection or dataflow
    Column("name", String(256), primary_key=True),
    Column("object_id", String(64), nullable=False),
    Column("applied", Text, nullable=False),  # JSON
    Column("fingerprints", Text, nullable=False),  # JSON: field → HMAC-SHA256 hex
    Column("applied_at", Float, nullable=False),
    Column("applied_by", String(256)),
)

# Credential links (app/web/credential_links.py, app/web/owner.py): a connection prepared by one person whose secrets
# its database owner types through a one-time link. Only a SHA-256 of the link's token is kept; `prepared` holds what
# the requester filled in (never a secret), `fields` the fields the owner is asked for.
credential_links = Table(
    "credential_links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # create or rotate
    Column("sandbox", String(128), nullable=False),
    Column("source", String(256), nullable=False),  # a curated source's key, or spec:<connection spec id>:<authSpec>
    Column("connection_id", String(64)),  # the connection rotated, or the one made
    Column("connection_name", String(256), nullable=False),
    Column("prepared", Text, nullable=False),  # JSON: the form's fields as the requester filled them, secrets aside
    Column("fields", Text, nullable=False),  # JSON: the fields the owner types
    Column("requested_by", String(256), nullable=False, index=True),
    Column("requested_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("revoked_at", Float),
    Column("revoked_by", String(256)),
    Column("outcome", String(256)),  # what the owner's entry came to, in words (never a secret)
)

# When each connection's credentials were last set through the portal, by whom, whether its database owner typed them
# (through a credential link), and when the owner said they expire.
credentials_set = Table(
    "credentials_set",
    metadata,
    Column("connection_id", String(64), primary_key=True),
    Column("sandbox", String(128), nullable=False),
    Column("connection_name", String(256)),
    Column("source", String(64)),  # its connection spec's id
    Column("set_at", Float, nullable=False),
    Column("set_by", String(256)),
    Column("by_owner", Boolean, nullable=False),
    Column("expires_at", Float),
    Column("reminded_at", Float),  # when "credentials expire soon" went out for this expiry
)

# Personal API tokens (app/web/tokens.py, app/api): only a hash of each token is kept, never the token. The prefix is
# the token's visible start (asw_ and eight characters), by which its person recognises it and the API finds its row.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("prefix", String(16), primary_key=True),
    Column("hash", String(64), nullable=False),  # SHA-256 of the whole token, hex
    Column("user", String(256), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # the most the token may do: viewer, creator, editor or admin
    Column("sandboxes", String(512), nullable=False),  # comma-separated patterns, such as dev-*,prod
    Column("created_at", Float, nullable=False),  # seconds since the epoch
    Column("expires_at", Float, nullable=False),
    Column("last_used_at", Float),
    Column("revoked_at", Float),
    Column("revoked_by", String(256)),
)

# People as sign-in last described them: with single sign-on (and behind a proxy) a token's person has the groups
# of their last sign-in (or visit), since no request of the API carries them.
people = Table(
    "people",
    metadata,
    Column("user", String(256), primary_key=True),
    Column("groups", Text, nullable=False),
    Column("seen_at", Float, nullable=False),
)

# Watching dataflows (app/watch): the runs the watcher has read, newest status kept, and whether their events are out.
watched_runs = Table(
    "watched_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("sandbox", String(128), nullable=False),
    Column("flow_id", String(64), nullable=False, index=True),
    Column("created_ms", BigInteger, nullable=False, index=True),  # Flow Service's createdAt
    Column("completed_ms", BigInteger),
    Column("status", String(16), nullable=False),  # success, partial, failed, or Adobe's word while it runs
    Column("records_read", Integer),
    Column("records_written", Integer),
    Column("records_failed", Integer),
    Column("errors", Text),  # a JSON list of Adobe's errors: code and message (cut short)
    # Whether the watcher has turned this run into events (a run seen while in progress is looked at again).
    Column("noticed", Boolean, nullable=False, default=False),
)

# Each dataflow as the watcher last saw it: what a transition (disabled, late, recovered) is measured against.
watched_flows = Table(
    "watched_flows",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("sandbox", String(128), nullable=False),
    Column("name", String(256)),
    Column("state", String(16)),  # enabled, disabled
    Column("source_spec", String(64)),  # the source's connection spec id, when the flow says
    Column("failures_in_row", Integer, nullable=False, default=0),
    # The lateness already told (the last run it was late after): one "late" event per episode.
    Column("late_after", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Where the watcher has read each sandbox's runs up to (Flow Service's createdAt, ms), so a restart loses nothing.
watch_cursors = Table(
    "watch_cursors",
    metadata,
    Column("sandbox", String(128), primary_key=True),
    Column("since_ms", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Alert rules: which dataflows, which events, sent where. A webhook's or Slack's URL is kept sealed (AES-GCM under a
# key derived from WIZARD_SECRET_KEY, app/watch/sealing.py); a webhook's signing secret is derived, never kept.
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("sandbox", String(128), nullable=False),  # a sandbox, or * for all of them (admins)
    Column("source", String(64)),  # a source's connection spec id, or empty for any
    Column("flow_id", String(64)),  # one dataflow, or empty for any
    Column("events", Text, nullable=False),  # a JSON list of event kinds
    Column("channel", String(16), nullable=False),  # webhook, slack, email
    Column("target", Text, nullable=False),  # sealed for webhook and slack; the addresses for email
    Column("target_hint", String(256), nullable=False),  # what pages show: a host, or the addresses
    Column("created_by", String(256)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Events, each made once (its id is derived from what happened: a run's id and its kind, a lateness, a disabling).
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # failed, partial, late, recovered, disabled, test
    Column("sandbox", String(128), nullable=False),
    Column("flow_id", String(64)),
    Column("run_id", String(64)),
    Column("body", Text, nullable=False),  # JSON: what a message says
    Column("origin", String(16), nullable=False),  # watcher, adobe (I/O Events), test
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# One delivery per event and rule: sent once, retried with back-off for a day, then failed (and sendable again).
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("rule_id", String(32), primary_key=True),
    Column("state", String(16), nullable=False),  # pending, sending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False, index=True),  # seconds since the epoch
    # While `sending`: when another process may take it over (the sender died).
    Column("lease_until", Float),
    Column("last_error", Text),
    Column("first_at", Float, nullable=False),
    Column("sent_at", Float),
)

AUDIT_COLUMNS = [
    "at",
    "user",
    "subject",
    "email",
    "role",
    "action",
    "source",
    "sandbox",
    "connection_name",
    "connection_id",
    "outcome",
    "detail",
    "adobe_request_id",
    "request_id",
    "token",
]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _fit(column, value) -> str:
    """`value` as text that `column` takes: no NUL byte, no longer than the column."""
    text_value = str(value).replace("\x00", "\ufffd")
    length = getattr(column.type, "length", None) or 2000
    return text_value[:length]
