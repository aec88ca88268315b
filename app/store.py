"""What the portal keeps: each form submission's outcome and an audit trail, in SQLite or PostgreSQL.

SQLite under WIZARD_DATA_DIR needs nothing installed and serves one machine
(every gunicorn worker shares the file). Several replicas share PostgreSQL
through WIZARD_DATABASE_URL. Never a secret in either: the columns below are
all there is.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import time

from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, delete, event,
                        insert, select, update)
from sqlalchemy.exc import IntegrityError

SCHEMA_VERSION = 1
metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

submissions = Table(
    "submissions", metadata,
    # The one-time key each rendered form carries; the primary key makes a second claim fail in the database.
    Column("key", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # pending, done
    Column("result_url", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("user", String(256)),
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

AUDIT_COLUMNS = ["at", "user", "action", "source", "sandbox", "connection_name", "connection_id", "outcome",
                 "detail", "adobe_request_id", "request_id"]


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
        self.migrate()

    def migrate(self) -> None:
        """Create the tables, or bring an older schema up to SCHEMA_VERSION."""
        metadata.create_all(self.engine)
        with self.engine.begin() as db:
            if db.execute(select(schema_version.c.version)).scalar() is None:
                try:
                    db.execute(insert(schema_version).values(version=SCHEMA_VERSION))
                except IntegrityError:  # another worker got there first
                    pass

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
                    db.execute(insert(submissions).values(key=key, state="pending", created_at=now, updated_at=now))
                return None
            except IntegrityError:
                pass
            with self.engine.connect() as db:
                row = db.execute(select(submissions.c.state, submissions.c.result_url)
                                 .where(submissions.c.key == key)).first()
            if row and row.state == "done":
                return row.result_url
            if time.monotonic() > deadline:
                return None
            time.sleep(poll)  # pending elsewhere, or just released: look again

    def finish(self, key: str, result_url: str) -> None:
        with self.engine.begin() as db:
            db.execute(update(submissions).where(submissions.c.key == key)
                       .values(state="done", result_url=result_url, updated_at=_now()))

    def release(self, key: str) -> None:
        """Nothing was created: the same key may be sent again."""
        with self.engine.begin() as db:
            db.execute(delete(submissions).where(submissions.c.key == key, submissions.c.state == "pending"))

    # Audit trail.

    def record(self, **entry) -> None:
        values = {k: (str(v)[:2000] if v is not None else None) for k, v in entry.items() if k in AUDIT_COLUMNS}
        with self.engine.begin() as db:
            db.execute(insert(audit).values(at=_now(), **values))

    def audit_entries(self, *, action=None, user=None, sandbox=None, outcome=None, text=None, limit=200):
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        for column, value in (("action", action), ("user", user), ("sandbox", sandbox), ("outcome", outcome)):
            if value:
                query = query.where(audit.c[column] == value)
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(audit.c.connection_name.ilike(pattern) | audit.c.connection_id.ilike(pattern))
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query)]

    @staticmethod
    def as_csv(entries) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(AUDIT_COLUMNS)
        for entry in entries:
            row = [entry["at"].isoformat() if entry.get("at") else ""] + [entry.get(c) or "" for c in AUDIT_COLUMNS[1:]]
            # A cell starting with = + - @ would be a formula in a spreadsheet.
            writer.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
        return out.getvalue()
