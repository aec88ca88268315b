"""What the portal keeps: each form submission's outcome and an audit trail, in SQLite or PostgreSQL.

SQLite under WIZARD_DATA_DIR needs nothing installed and serves one machine
(every gunicorn worker shares the file). Several replicas share PostgreSQL
through WIZARD_DATABASE_URL. Never a secret in either: the columns below are
all there is.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import time

from sqlalchemy import (Column, DateTime, Float, Integer, MetaData, String, Table, Text, bindparam, create_engine,
                        delete, event, func, insert, select, text, update)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

SCHEMA_VERSION = 4
metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

submissions = Table(
    "submissions", metadata,
    # The one-time key each rendered form carries; the primary key makes a second claim fail in the database.
    Column("key", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # pending, done
    Column("result_url", Text),
    # The request that was sent, as curl with every secret a placeholder: the result page shows it on any worker.
    Column("curl", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit", metadata,
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
)

# Failed sign-ins per throttle key (a name at an address, or an address), shared by every worker and replica.
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("key", String(320), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", Float, nullable=False),  # seconds since the epoch
)

# Signed-in sessions: the cookie holds a random id, the store its SHA-256. Signing out, expiry and a new
# password end a session everywhere, whatever copies of the cookie exist.
sessions = Table(
    "sessions", metadata,
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
    "cleanups", metadata,
    Column("connection_id", String(64), primary_key=True),
    Column("sandbox", String(128), nullable=False),
    Column("target_ids", Text, nullable=False),  # a JSON list
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Creating a dataflow: what the person chose, step by step (the plan, JSON), and each object of the chain as it is
# made, under one key. Any worker or replica continues a chain from here; its columns are written one at a time, so
# steps made side by side never overwrite each other.
dataflow_drafts = Table(
    "dataflow_drafts", metadata,
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
    "run_retries", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("flow_id", String(64), nullable=False, index=True),
    Column("new_run_id", String(64)),
    # Seconds since the epoch; a taking never completed (its request died) may be taken again after RETRY_LEASE.
    Column("taken_at", Float, nullable=False),
)
RETRY_LEASE = 120.0
# How long a draft nobody touches is kept.
DRAFT_DAYS = 30

AUDIT_COLUMNS = ["at", "user", "subject", "email", "role", "action", "source", "sandbox", "connection_name", "connection_id", "outcome",
                 "detail", "adobe_request_id", "request_id"]


# The statements every submission runs, built once per process; their values are bound at execute.
_CLAIM = insert(submissions)
_STATE_OF = select(submissions.c.state, submissions.c.result_url).where(submissions.c.key == bindparam("k"))
_FINISH = (update(submissions).where(submissions.c.key == bindparam("k"))
           .values(state="done", result_url=bindparam("result_url"), curl=bindparam("curl"),
                   updated_at=bindparam("now")))
_RELEASE = delete(submissions).where(submissions.c.key == bindparam("k"), submissions.c.state == "pending")
_RECORD = insert(audit)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def database_url(data_dir: str, url: str | None) -> str:
    if url:
        # postgresql:// means psycopg 3 here; SQLAlchemy's default would be psycopg2.
        return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith(("postgres://", "postgresql://")) \
            else url
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir), "wizard.sqlite3")


class Store:
    """Submissions and audit records behind one SQLAlchemy engine."""

    def __init__(self, url: str):
        sqlite = url.startswith("sqlite")
        self.engine = create_engine(url, pool_pre_ping=not sqlite,
                                    connect_args={"timeout": 30, "check_same_thread": False} if sqlite else {})
        if sqlite:
            @event.listens_for(self.engine, "connect")
            def _pragmas(connection, _record):
                cursor = connection.cursor()
                # Several worker processes write: WAL lets readers go on, busy_timeout makes writers queue.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                # In WAL mode NORMAL survives a crash of the wizard (not of the machine) without an fsync per write.
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
        # Writes that read first (the sign-in throttle) must not interleave between workers: SQLite takes its
        # write lock at BEGIN IMMEDIATE on an engine of its own; PostgreSQL locks the rows (FOR UPDATE).
        self._serial_engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                            isolation_level=None) if sqlite else self.engine
        if sqlite:
            @event.listens_for(self._serial_engine, "connect")
            def _serial_pragmas(connection, _record):
                connection.isolation_level = None
                cursor = connection.cursor()
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            @event.listens_for(self._serial_engine, "begin")
            def _immediate(connection):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        self._for_update = not sqlite
        self.migrate()

    def migrate(self) -> None:
        """Create the tables, or bring an older schema up to SCHEMA_VERSION.

        Every gunicorn worker runs this as it boots, several at once: when another worker creates a
        table between our check and our CREATE, try again (the table is then there).
        """
        for attempt in range(5):
            try:
                metadata.create_all(self.engine)
                break
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
        with self.engine.begin() as db:
            version = db.execute(select(schema_version.c.version)).scalar()
            if version is None:
                try:
                    db.execute(insert(schema_version).values(version=SCHEMA_VERSION))
                except IntegrityError:  # another worker got there first
                    pass
                return
        added = []
        if version < 2:  # version 2 keeps each creation's curl with its submission
            added.append("ALTER TABLE submissions ADD COLUMN curl TEXT")
        if version < 3:  # version 3 records who acted, as sign-in named them, and in which role
            added += [f"ALTER TABLE audit ADD COLUMN {name} VARCHAR({length})"
                      for name, length in (("subject", 256), ("email", 256), ("role", 16))]
        if version < 4:  # version 4 keeps a single sign-on session's ID token, for signing out at the provider
            added.append("ALTER TABLE sessions ADD COLUMN id_token TEXT")
        for statement in added:
            try:
                with self.engine.begin() as db:
                    db.execute(text(statement))
            except (OperationalError, ProgrammingError):  # another worker added it first
                pass
        if added:
            with self.engine.begin() as db:
                db.execute(update(schema_version).values(version=SCHEMA_VERSION))

    # Submissions: one connection per form, however often the form is sent.

    def claim(self, key: str, timeout: float = 120.0, poll: float = 0.05) -> str | None:
        """Claim `key`: None when the caller should go on and create, else the first outcome's URL.

        While another request (thread, worker or replica) holds the claim, wait for its outcome.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = _now()
            try:
                with self.engine.begin() as db:
                    db.execute(_CLAIM, {"key": key, "state": "pending", "created_at": now, "updated_at": now})
                return None
            except IntegrityError:
                pass
            with self.engine.connect() as db:
                row = db.execute(_STATE_OF, {"k": key}).first()
            if row and row.state == "done":
                return row.result_url
            if time.monotonic() > deadline:
                return None
            time.sleep(poll)  # pending elsewhere, or just released: look again

    def finish(self, key: str, result_url: str, curl: str | None = None, entry: dict | None = None) -> None:
        """Mark `key` done with its result, and put `entry` on record in the same transaction."""
        with self.engine.begin() as db:
            db.execute(_FINISH, {"k": key, "result_url": result_url, "curl": curl, "now": _now()})
            if entry:
                db.execute(_RECORD, {"at": _now(), **self._fitted(entry)})

    def finished(self, key: str) -> dict | None:
        """A finished submission's result URL and curl, or None."""
        with self.engine.connect() as db:
            row = db.execute(select(submissions.c.result_url, submissions.c.curl)
                             .where(submissions.c.key == key, submissions.c.state == "done")).first()
        return dict(row._mapping) if row else None

    def release(self, key: str) -> None:
        """Nothing was created: the same key may be sent again."""
        with self.engine.begin() as db:
            db.execute(_RELEASE, {"k": key})

    # The sign-in throttle.

    def sign_in_attempt(self, limits: dict[str, int], now: float, window: float, max_wait: float) -> int:
        """Count one attempt against each key of `limits` ({key: failures allowed before waiting}).

        Returns the seconds to wait before trying (0: go ahead). The attempt is counted before the password
        is checked, in one serialised transaction, so that simultaneous guesses on many workers cannot all
        slip through; `sign_in_succeeded` takes it back.
        """
        with self._serial_engine.begin() as db:
            query = select(sign_in_failures).where(sign_in_failures.c.key.in_(list(limits)))
            rows = {row.key: row for row in db.execute(query.with_for_update() if self._for_update else query)}
            wait = 0.0
            for key, free in limits.items():
                row = rows.get(key)
                if row and now - row.last_at <= window and row.count >= free:
                    wait = max(wait, row.last_at + min(2 ** (row.count - free), max_wait) - now)
            if wait > 0:
                return int(wait + 0.999)
            for key in limits:
                row = rows.get(key)
                if row is None:
                    db.execute(insert(sign_in_failures).values(key=key, count=1, last_at=now))
                else:
                    count = 1 if now - row.last_at > window else row.count + 1
                    db.execute(update(sign_in_failures).where(sign_in_failures.c.key == key)
                               .values(count=count, last_at=now))
            return 0

    def sign_in_succeeded(self, forget: str, take_back: str) -> None:
        """A right password: forget `forget`'s failures, and take back the attempt counted against `take_back`."""
        with self._serial_engine.begin() as db:
            db.execute(delete(sign_in_failures).where(sign_in_failures.c.key == forget))
            db.execute(update(sign_in_failures).where(sign_in_failures.c.key == take_back,
                                                      sign_in_failures.c.count > 0)
                       .values(count=sign_in_failures.c.count - 1))

    # Deleting a connection with its dataflows: the target connections left to delete.

    def remember_targets(self, connection_id: str, sandbox: str, target_ids) -> list[str]:
        """Add `target_ids` to those kept for the deletion of `connection_id`; all of them, in order."""
        with self._serial_engine.begin() as db:
            query = select(cleanups.c.target_ids).where(cleanups.c.connection_id == connection_id,
                                                        cleanups.c.sandbox == sandbox)
            row = db.execute(query.with_for_update() if self._for_update else query).first()
            kept = json.loads(row.target_ids) if row else []
            kept += [i for i in target_ids if i not in kept]
            values = dict(target_ids=json.dumps(kept), updated_at=_now())
            if row:
                db.execute(update(cleanups).where(cleanups.c.connection_id == connection_id).values(**values))
            else:
                db.execute(insert(cleanups).values(connection_id=connection_id, sandbox=sandbox, **values))
        return kept

    def remembered_targets(self, connection_id: str, sandbox: str) -> list[str]:
        with self.engine.connect() as db:
            row = db.execute(select(cleanups.c.target_ids).where(cleanups.c.connection_id == connection_id,
                                                                 cleanups.c.sandbox == sandbox)).first()
        return json.loads(row.target_ids) if row else []

    def forget_target(self, connection_id: str, target_id: str) -> None:
        with self._serial_engine.begin() as db:
            query = select(cleanups.c.target_ids).where(cleanups.c.connection_id == connection_id)
            row = db.execute(query.with_for_update() if self._for_update else query).first()
            if row:
                kept = [i for i in json.loads(row.target_ids) if i != target_id]
                db.execute(update(cleanups).where(cleanups.c.connection_id == connection_id)
                           .values(target_ids=json.dumps(kept), updated_at=_now()))

    def forget_cleanup(self, connection_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(cleanups).where(cleanups.c.connection_id == connection_id))

    # Dataflows being created.

    def new_draft(self, key: str, owner: str | None, sandbox: str, connection_id: str, plan: dict,
                  most: int = MOST_OPEN_DRAFTS) -> bool:
        """Open a draft, unless the person has `most` open already (False). Drafts untouched for DRAFT_DAYS go first,
        unless their chain stopped halfway (those name objects in Adobe that someone may still want to remove) or is
        being made."""
        now = _now()
        with self.engine.begin() as db:
            db.execute(delete(dataflow_drafts).where(
                dataflow_drafts.c.updated_at < now - datetime.timedelta(days=DRAFT_DAYS),
                dataflow_drafts.c.state.in_(("draft", "done", "removed"))))
            db.execute(insert(dataflow_drafts).values(key=key, owner=owner, sandbox=sandbox,
                                                      connection_id=connection_id, plan=json.dumps(plan),
                                                      state="draft", created_at=now, updated_at=now))
            # Counted after the insert, in the same transaction: two starts at once cannot both slip under the bound.
            count = db.execute(select(func.count()).select_from(dataflow_drafts).where(
                _owned_by(owner), dataflow_drafts.c.state.in_(OPEN_DRAFT_STATES))).scalar()
            if count > most:
                db.execute(delete(dataflow_drafts).where(dataflow_drafts.c.key == key))
                return False
        return True

    def draft(self, key: str) -> dict | None:
        """The draft with its plan read back, and the plan's revision (what a review page showed), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(dataflow_drafts).where(dataflow_drafts.c.key == key)).first()
        if row is None:
            return None
        found = dict(row._mapping)
        found["revision"] = plan_revision(found["plan"])
        found["plan"] = json.loads(found["plan"])
        return found

    def save_plan(self, key: str, plan: dict) -> bool:
        """Change what a draft will create; False once creating has begun (its plan is then fixed)."""
        with self.engine.begin() as db:
            changed = db.execute(update(dataflow_drafts)
                                 .where(dataflow_drafts.c.key == key, dataflow_drafts.c.state == "draft")
                                 .values(plan=json.dumps(plan), updated_at=_now())).rowcount
        return changed == 1

    def start_chain(self, key: str, lease: float, revision: str | None = None) -> bool:
        """Take the chain for `lease` seconds: True when this request is now the one creating it (from a draft, a
        stop, or a lease that ran out), False when another request holds it or it has ended. With `revision`, a draft
        is taken only while its plan is still the one of that revision (the one the person reviewed)."""
        now = time.time()
        takeable = (dataflow_drafts.c.state.in_(("draft", "stopped"))
                    | ((dataflow_drafts.c.state == "creating") & (dataflow_drafts.c.lease_until < now)))
        with self.engine.begin() as db:
            conditions = [dataflow_drafts.c.key == key, takeable]
            if revision is not None:
                plan = db.execute(select(dataflow_drafts.c.plan).where(dataflow_drafts.c.key == key)).scalar()
                if plan is None or plan_revision(plan) != revision:
                    return False
                # The update itself compares the plan: a change saved since the read above leaves the draft untaken.
                conditions.append((dataflow_drafts.c.state != "draft") | (dataflow_drafts.c.plan == plan))
            taken = db.execute(update(dataflow_drafts).where(*conditions)
                               .values(state="creating", lease_until=now + lease, problem=None,
                                       updated_at=_now())).rowcount
        return taken == 1

    def made(self, key: str, step: str, object_id: str | None) -> None:
        """Record one object of the chain the moment Adobe names it (None: it was deleted)."""
        if step not in DRAFT_STEPS:
            raise ValueError(step)
        with self.engine.begin() as db:
            db.execute(update(dataflow_drafts).where(dataflow_drafts.c.key == key)
                       .values({step: object_id, "updated_at": _now()}))

    def end_chain(self, key: str, state: str, problem: str | None = None, entry: dict | None = None) -> None:
        """The chain is done, stopped (with the problem to show) or removed; `entry` goes on record with it."""
        with self.engine.begin() as db:
            db.execute(update(dataflow_drafts).where(dataflow_drafts.c.key == key)
                       .values(state=state, problem=problem, lease_until=None, updated_at=_now()))
            if entry:
                db.execute(_RECORD, {"at": _now(), **self._fitted(entry)})

    def open_drafts(self, owner: str | None) -> list[dict]:
        """The person's drafts not yet done or removed, newest first (the plan's table and dataflow name only)."""
        query = (select(dataflow_drafts.c.key, dataflow_drafts.c.sandbox, dataflow_drafts.c.connection_id,
                        dataflow_drafts.c.state, dataflow_drafts.c.plan, dataflow_drafts.c.updated_at)
                 .where(_owned_by(owner), dataflow_drafts.c.state.in_(OPEN_DRAFT_STATES))
                 .order_by(dataflow_drafts.c.updated_at.desc()))
        with self.engine.connect() as db:
            rows = [dict(row._mapping) for row in db.execute(query)]
        for row in rows:
            plan = json.loads(row.pop("plan"))
            row["table"], row["name"] = plan.get("table"), (plan.get("schedule") or {}).get("name")
        return rows

    def discard_draft(self, key: str, owner: str | None) -> bool:
        """Delete the person's draft while nothing of its chain exists; False otherwise."""
        with self.engine.begin() as db:
            gone = db.execute(delete(dataflow_drafts).where(
                dataflow_drafts.c.key == key, dataflow_drafts.c.state == "draft", _owned_by(owner))).rowcount
        return gone == 1

    # Retrying failed runs.

    def take_retry(self, run_id: str, flow_id: str, now: float | None = None) -> bool:
        """Take a failed run's retry: True for the one request that may send it; False when it was retried already
        or another request is retrying it now."""
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as db:
                db.execute(insert(run_retries).values(run_id=run_id, flow_id=flow_id, taken_at=now))
            return True
        except IntegrityError:
            pass
        # A taking whose request died without an answer either way is taken over once its lease ran out.
        with self.engine.begin() as db:
            return db.execute(update(run_retries).where(
                run_retries.c.run_id == run_id, run_retries.c.new_run_id.is_(None),
                run_retries.c.taken_at < now - RETRY_LEASE).values(taken_at=now)).rowcount == 1

    def retry_done(self, run_id: str, new_run_id: str | None) -> None:
        """The retry was sent: record the run it made; with None (Adobe refused it), give the run back."""
        with self.engine.begin() as db:
            if new_run_id is None:
                db.execute(delete(run_retries).where(run_retries.c.run_id == run_id))
            else:
                db.execute(update(run_retries).where(run_retries.c.run_id == run_id).values(new_run_id=new_run_id))

    def retries_of(self, flow_id: str) -> dict[str, str | None]:
        """{run id: the run its retry made (None while it is being sent)} for a dataflow's runs retried here."""
        with self.engine.connect() as db:
            return dict(db.execute(select(run_retries.c.run_id, run_retries.c.new_run_id)
                                   .where(run_retries.c.flow_id == flow_id)).all())

    def creators(self, connection_ids) -> dict[str, str]:
        """{connection id: who created it in this portal ("" when nobody was signed in)}, from successful creates."""
        ids = [i for i in connection_ids if i][:500]
        if not ids:
            return {}
        query = (select(audit.c.connection_id, audit.c.user)
                 .where(audit.c.action == "create", audit.c.outcome == "ok", audit.c.connection_id.in_(ids)))
        with self.engine.connect() as db:
            return {row.connection_id: row.user or "" for row in db.execute(query)}

    def created_by(self, user: str, limit: int = 500) -> list[str]:
        """The ids of the connections `user` created in this portal, newest first."""
        query = (select(audit.c.connection_id).where(audit.c.action == "create", audit.c.outcome == "ok",
                                                     audit.c.user == _fit(audit.c.user, user))
                 .order_by(audit.c.id.desc()).limit(limit))
        with self.engine.connect() as db:
            return [row.connection_id for row in db.execute(query) if row.connection_id]

    # Sessions.

    @staticmethod
    def _hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def start_session(self, session_id: str, user: str, key: str | None, lifetime: float, *, subject=None,
                      email=None, groups=(), id_token=None) -> None:
        now = time.time()
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.expires_at < now))
            db.execute(insert(sessions).values(
                id_hash=self._hash(session_id), user=_fit(sessions.c.user, user), key=key,
                subject=_fit(sessions.c.subject, subject) if subject else None,
                email=_fit(sessions.c.email, email) if email else None, groups=",".join(groups),
                id_token=id_token or None, created_at=now, expires_at=now + lifetime))

    def session(self, session_id: str) -> dict | None:
        """The live session of this id (user, key, subject, email, groups…), or None when it ended or never was."""
        with self.engine.connect() as db:
            row = db.execute(select(sessions).where(sessions.c.id_hash == self._hash(session_id),
                                                    sessions.c.expires_at > time.time())).first()
        if not row:
            return None
        live = dict(row._mapping)
        live["groups"] = tuple(g for g in (live["groups"] or "").split(",") if g)
        return live

    def end_session(self, session_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.id_hash == self._hash(session_id)))

    # Audit trail.

    def record(self, **entry) -> None:
        """Put an entry on record."""
        with self.engine.begin() as db:
            db.execute(_RECORD, {"at": _now(), **self._fitted(entry)})

    @staticmethod
    def _fitted(entry: dict) -> dict:
        """An entry's values, each cut to its column's length, NUL bytes (PostgreSQL refuses them) replaced."""
        return {k: _fit(audit.c[k], v) for k, v in entry.items() if k in AUDIT_COLUMNS and v is not None}

    def audit_entries(self, *, action=None, user=None, sandbox=None, outcome=None, text=None, limit=200,
                      sandboxes=None):
        """The newest entries matching the filters; with `sandboxes`, only entries of those sandboxes."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if sandboxes is not None:
            query = query.where(audit.c.sandbox.in_(list(sandboxes)))
        for column, value in (("action", action), ("user", user), ("sandbox", sandbox), ("outcome", outcome)):
            if value:
                query = query.where(audit.c[column] == _fit(audit.c[column], value))
        if text:
            pattern = "%" + _fit(audit.c.connection_name, text.lower()) + "%"
            query = query.where(audit.c.connection_name.ilike(pattern) | audit.c.connection_id.ilike(pattern))
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query)]

    @staticmethod
    def as_csv(entries) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(AUDIT_COLUMNS)
        for entry in entries:
            row = [iso_utc(entry.get("at"))] + [entry.get(c) or "" for c in AUDIT_COLUMNS[1:]]
            # A cell starting with = + - @, a tab or a carriage return would be a formula in a spreadsheet (OWASP).
            writer.writerow(["'" + c if isinstance(c, str) and c and c[0] in "=+-@\t\r" else c for c in row])
        return out.getvalue()


def plan_revision(plan_text: str) -> str:
    """A short digest of a draft's plan as stored: what the review page showed, checked again at create."""
    return hashlib.sha256(plan_text.encode()).hexdigest()[:16]


def _owned_by(owner: str | None):
    """Drafts of this person; with nobody signed in (WIZARD_AUTH none), the drafts started that way."""
    return dataflow_drafts.c.owner == owner if owner is not None else dataflow_drafts.c.owner.is_(None)


def iso_utc(moment: datetime.datetime | None) -> str:
    """ISO 8601 in UTC with a Z; SQLite hands back naive datetimes that were written in UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fit(column, value) -> str:
    """`value` as text that `column` takes: no NUL byte, no longer than the column."""
    text_value = str(value).replace("\x00", "\ufffd")
    length = getattr(column.type, "length", None) or 2000
    return text_value[:length]
