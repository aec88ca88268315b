"""Bringing the store's schema up to date with Alembic, once, however many processes start at the same moment.

A database made before Alembic is recognised by its old version table and stamped at the revision of that version;
the revisions after it make only what is missing. Upgrading holds a lock (PostgreSQL's advisory lock, a file lock
beside an SQLite file) so that one process migrates and the others wait, then find nothing to do. A database ahead of
this release's code (a newer release migrated it) is refused, naming both revisions.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# The revision each schema version of the releases before Alembic corresponds to.
BEFORE_ALEMBIC = {1: "0001", 2: "0002", 3: "0003"}
# PostgreSQL's advisory lock key for migrating (any constant of our own; "aepw" in ASCII).
LOCK_KEY = 0x61657077


class SchemaAhead(Exception):
    """The database was migrated by a newer release than this one: this code would misread it."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this release knows."""
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The database's revision (None before any)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _locked(engine: Engine):
    """Hold the migration lock: one process at a time, across processes and machines sharing the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(database + ".migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> str:
    """Bring the database to this release's head (a no-op when it is there); its revision after. Raises SchemaAhead
    for a database a newer release migrated."""
    config, scripts = _config(), ScriptDirectory.from_config(_config())
    newest = scripts.get_current_head()
    with _locked(engine):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            revision = MigrationContext.configure(connection).get_current_revision()
            if revision is None:
                revision = _stamp_before_alembic(connection, config)
            if revision is not None and revision not in {script.revision for script in scripts.walk_revisions()}:
                raise SchemaAhead(
                    f"The portal's database is at schema revision {revision}, which this release does not know: a "
                    f"newer release migrated it. This release knows up to revision {newest}. Run the newer release, "
                    "or restore the database from before it."
                )
            if revision != newest:
                log.info("migrating the store's schema from revision %s to %s", revision or "none", newest)
                command.upgrade(config, "head")
    return newest or ""


def _stamp_before_alembic(connection, config: Config) -> str | None:
    """A database made before Alembic: the revision its old version table says, stamped (None for an empty one)."""
    if not inspect(connection).has_table("schema_version"):
        return None
    version = connection.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    revision = BEFORE_ALEMBIC.get(version or 1, "0003")
    log.info("store made before schema revisions (version %s): taken as revision %s", version, revision)
    command.stamp(config, revision)
    return revision
