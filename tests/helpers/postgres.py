"""The test PostgreSQL (WIZARD_TEST_DATABASE_URL, which .ci/run sets): its URL, and a schema of a test's own."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.store import database_url

from .ci import unavailable


def postgres_test_url() -> str:
    """The test PostgreSQL's URL; without one the test is skipped, and fails under CI."""
    url = os.environ.get("WIZARD_TEST_DATABASE_URL")
    if not url:
        unavailable("WIZARD_TEST_DATABASE_URL is not set: .ci/run starts PostgreSQL and sets it")
    return url


@contextlib.contextmanager
def own_schema(url: str, prefix: str) -> Iterator[tuple[str, Engine, str]]:
    """(`url` with a new schema first on its search path, an engine on the database, the schema's name); the schema
    and all in it are dropped afterwards."""
    schema = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(database_url("", url))
    with admin.begin() as db:
        db.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    try:
        yield database_url("", url) + f"{separator}options=-csearch_path%3D{schema}", admin, schema
    finally:
        with admin.begin() as db:
            db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
