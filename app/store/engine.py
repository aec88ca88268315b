"""How the store connects to SQLite or PostgreSQL: the engines, and what each database is told when it connects."""

from __future__ import annotations

from sqlalchemy import create_engine, event

# How long a statement waits for SQLite's write lock before the store counts as unavailable (our choice: writes take
# milliseconds; a lock held longer is a stuck process or a backup, and the person is told rather than kept waiting).
SQLITE_WAIT = 10
# How long a new connection to PostgreSQL may take before the store counts as unavailable (our choice).
CONNECT_TIMEOUT = 3


def connect(url: str):
    """(the engine; an engine whose transactions take SQLite's write lock at once, for writes that read first;
    whether rows are locked FOR UPDATE, as PostgreSQL can). A pooled connection is checked before each use (it may
    have died with a database restart)."""
    sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"timeout": SQLITE_WAIT, "check_same_thread": False}
        if sqlite
        else {"connect_timeout": CONNECT_TIMEOUT},
    )
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            # Several worker processes write: WAL lets readers go on, busy_timeout makes writers queue.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_WAIT * 1000}")
            # In WAL mode NORMAL survives a crash of the wizard (not of the machine) without an fsync per write.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    # Writes that read first (the sign-in throttle) must not interleave between workers: SQLite takes its
    # write lock at BEGIN IMMEDIATE on an engine of its own; PostgreSQL locks the rows (FOR UPDATE).
    serial_engine = (
        create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"timeout": SQLITE_WAIT, "check_same_thread": False},
            isolation_level=None,
        )
        if sqlite
        else engine
    )
    if sqlite:

        @event.listens_for(serial_engine, "connect")
        def _serial_pragmas(connection, _record):
            connection.isolation_level = None
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_WAIT * 1000}")
            cursor.close()

        @event.listens_for(serial_engine, "begin")
        def _immediate(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    for_update = not sqlite
    return engine, serial_engine, for_update
