"""Upgrading the store in place: databases made by every earlier release, on SQLite and PostgreSQL, keep every row;
the migrations match the models; processes starting together migrate once; a database ahead of the code is refused."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, create_engine, insert, text

from app.store import Store, database_url
from app.store.migrate import SchemaAhead, current, head, upgrade
from app.store.schema import metadata

from .helpers.postgres import own_schema, postgres_test_url

REPO = Path(__file__).resolve().parents[1]
NOW = datetime.datetime(2026, 11, 24, 10, tzinfo=datetime.UTC)


def old_schema(version: str) -> MetaData:
    """The tables a release made, as its own store module declared them (from the project's history)."""
    old = MetaData()
    Table("schema_version", old, Column("version", Integer, primary_key=True))
    submissions = [
        Column("key", String(64), primary_key=True),
        Column("state", String(16), nullable=False),
        Column("result_url", Text),
    ]
    if version != "1":
        submissions.append(Column("curl", Text))
    Table(
        "submissions",
        old,
        *submissions,
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    who = (
        [Column("subject", String(256)), Column("email", String(256)), Column("role", String(16))]
        if version.startswith("3")
        else []
    )
    Table(
        "audit",
        old,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Column("user", String(256)),
        *who,
        Column("action", String(32), nullable=False),
        Column("source", String(128)),
        Column("sandbox", String(128)),
        Column("connection_name", String(256)),
        Column("connection_id", String(64)),
        Column("outcome", String(16), nullable=False),
        Column("detail", Text),
        Column("adobe_request_id", String(128)),
        Column("request_id", String(128)),
    )
    if version == "1":
        return old
    Table(
        "sign_in_failures",
        old,
        Column("key", String(320), primary_key=True),
        Column("count", Integer, nullable=False),
        Column("last_at", Float, nullable=False),
    )
    sso = (
        [Column("subject", String(256)), Column("email", String(256)), Column("groups", Text)]
        if version == "3-late"
        else []
    )
    Table(
        "sessions",
        old,
        Column("id_hash", String(64), primary_key=True),
        Column("user", String(256), nullable=False, index=True),
        Column("key", String(64)),
        *sso,
        Column("created_at", Float, nullable=False),
        Column("expires_at", Float, nullable=False),
    )
    if version == "3-late":
        Table(
            "cleanups",
            old,
            Column("connection_id", String(64), primary_key=True),
            Column("sandbox", String(128), nullable=False),
            Column("target_ids", Text, nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )
        Table(
            "dataflow_drafts",
            old,
            Column("key", String(64), primary_key=True),
            Column("owner", String(256)),
            Column("sandbox", String(128), nullable=False),
            Column("connection_id", String(64), nullable=False),
            Column("plan", Text, nullable=False),
            Column("state", String(16), nullable=False),
            Column("lease_until", Float),
            *[Column(c, String(64)) for c in ("source_id", "target_id", "mapping_id", "flow_id")],
            Column("problem", Text),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )
    return old


ROWS = {
    "submissions": {
        "key": "k" * 20,
        "state": "done",
        "result_url": "/connections/c1?sandbox=prod",
        "created_at": NOW,
        "updated_at": NOW,
    },
    "audit": {"at": NOW, "user": "ada", "action": "create", "outcome": "ok", "connection_id": "c1"},
    "sign_in_failures": {"key": "address:10.0.0.1", "count": 2, "last_at": 1.0},
    "sessions": {"id_hash": "h" * 64, "user": "ada", "key": "f" * 16, "created_at": 1.0, "expires_at": 9e9},
    "cleanups": {"connection_id": "c1", "sandbox": "prod", "target_ids": '["t1"]', "updated_at": NOW},
    "dataflow_drafts": {
        "key": "d" * 32,
        "owner": "ada",
        "sandbox": "prod",
        "connection_id": "c1",
        "plan": "{}",
        "state": "draft",
        "created_at": NOW,
        "updated_at": NOW,
    },
}
VERSIONS = {"1": 1, "2": 2, "3-early": 3, "3-late": 3}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """The URL of an empty database: a new SQLite file, or a new schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield database_url(str(tmp_path), None)
        return
    with own_schema(postgres_test_url(), "m_") as (url, _admin, _schema):
        yield url


def made_by_release(url: str, version: str):
    """A database as a release of that schema version left it, with a row in every table it had."""
    engine = create_engine(url)
    old = old_schema(version)
    old.create_all(engine)
    with engine.begin() as db:
        db.execute(insert(old.tables["schema_version"]).values(version=VERSIONS[version]))
        for name, row in ROWS.items():
            if name in old.tables:
                db.execute(insert(old.tables[name]).values(**row))
    return engine, set(old.tables)


@pytest.mark.parametrize("version", list(VERSIONS))
def test_a_store_made_by_each_earlier_release_is_brought_forward_and_keeps_every_row(empty_url, version):
    engine, tables = made_by_release(empty_url, version)
    store = Store(empty_url)
    assert current(store.engine) == head()
    with store.engine.connect() as db:
        for name in tables - {"schema_version"}:
            assert db.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar() == 1, name
        # The version table stays for the releases before Alembic, which read it during a rolling update.
        assert db.execute(text("SELECT version FROM schema_version")).scalar() == VERSIONS[version]
        assert compare_metadata(MigrationContext.configure(db), metadata) == []
    # What the rows held is read back through today's code.
    assert store.submissions.finished("k" * 20)["result_url"] == "/connections/c1?sandbox=prod"
    assert store.audit.audit_entries()[0]["user"] == "ada"
    if "cleanups" in tables:
        assert store.cleanups.remembered_targets("c1", "prod") == ["t1"]
    engine.dispose()
    store.engine.dispose()


def test_a_new_store_matches_the_models_and_a_second_start_changes_nothing(empty_url):
    store = Store(empty_url)
    with store.engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), metadata) == []
    assert store.migrate() == head() == current(store.engine)
    store.engine.dispose()


def test_a_store_a_newer_release_migrated_is_refused_naming_both_revisions(empty_url):
    store = Store(empty_url)
    with store.engine.begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaAhead, match=f"revision 9999.*up to revision {head()}"):
        upgrade(store.engine)
    store.engine.dispose()


STARTER = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
from app.store import Store
Store(sys.argv[1])
print("started")
"""


@pytest.mark.parametrize("old", [False, True], ids=["empty", "made by release 2"])
def test_four_processes_starting_together_migrate_once(empty_url, old):
    if old:
        made_by_release(empty_url, "2")[0].dispose()
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, empty_url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [starter.communicate(timeout=60)[0] for starter in starters]
    assert all(starter.returncode == 0 for starter in starters), outputs
    assert sum(output.count("migrating the store's schema") for output in outputs) == 1, outputs
    engine = create_engine(empty_url)
    assert current(engine) == head()
    engine.dispose()


def test_the_command_migrates_and_says_where_the_store_is(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env["WIZARD_DATA_DIR"] = str(tmp_path)
    command = [str(Path(sys.executable).with_name("aep-source-wizard")), "migrate"]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert f"the store is at schema revision {head()}" in first.stdout
    engine = create_engine(database_url(str(tmp_path), None))
    with engine.begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    ahead = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert ahead.returncode == 2 and "newer release migrated it" in ahead.stderr
