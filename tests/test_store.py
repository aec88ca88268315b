"""The store in SQLite and in a real PostgreSQL: one claim wins, outcomes are shared, the audit holds no secret."""

from __future__ import annotations

import csv
import datetime
import io
import re
import threading
import uuid

import pytest
from sqlalchemy import text

from app.store import Store, database_url

from .helpers.postgres import own_schema, postgres_test_url


@pytest.fixture(scope="module")
def postgres_url():
    """The test PostgreSQL in a schema of this module's own: another process running tests at once has its own."""
    with own_schema(postgres_test_url(), "s_") as (url, _admin, _schema):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(database_url(str(tmp_path), None))
        return
    store = Store(request.getfixturevalue("postgres_url"))
    yield store
    with store.engine.begin() as db:
        db.execute(text("DELETE FROM submissions")), db.execute(text("DELETE FROM audit"))
        db.execute(text("DELETE FROM cleanups")), db.execute(text("DELETE FROM dataflow_drafts"))
    store.engine.dispose()


def test_of_many_claims_at_once_exactly_one_goes_ahead(store):
    key = uuid.uuid4().hex
    barrier = threading.Barrier(8)
    results = []

    def claim():
        barrier.wait()
        outcome = store.submissions.claim(key, timeout=10)
        if outcome is None:
            store.submissions.finish(key, "/connections/the-one")
        results.append(outcome)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 1
    assert sorted(r for r in results if r) == ["/connections/the-one"] * 7


def test_a_released_key_may_be_claimed_again(store):
    key = uuid.uuid4().hex
    assert store.submissions.claim(key) is None
    store.submissions.release(key)
    assert store.submissions.claim(key) is None
    store.submissions.finish(key, "/connections/x")
    store.submissions.release(key)  # a finished key is never released
    assert store.submissions.claim(key) == "/connections/x"


def test_the_audit_takes_odd_values_without_losing_the_row(store):
    store.audit.record(
        action="create",
        outcome="ok",
        sandbox="prod",
        connection_name="n" * 5000 + "\x00tail",
        connection_id="c\x00" * 40,
        detail="a\x00b",
    )
    entry = store.audit.audit_entries()[0]
    assert entry["connection_name"] == "n" * 256 and len(entry["connection_id"]) == 64
    assert "\x00" not in entry["detail"]
    assert store.audit.audit_entries(text="n\x00n") == [] and store.audit.audit_entries(user="\x00") == []


def test_the_csv_keeps_empty_cells_empty_uses_utc_and_neutralises_every_formula(store):
    for name in ("=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", "plain"):
        store.audit.record(action="create", outcome="ok", sandbox="prod", connection_name=name)
    rows = list(csv.reader(io.StringIO(store.audit.as_csv(store.audit.audit_entries()))))
    header, rows = rows[0], rows[1:]
    names = [row[header.index("connection_name")] for row in rows]
    assert names == ["plain", "'\rcmd", "'\tcmd", "'@SUM(A1)", "'-1", "'+1", "'=1+1"]
    assert all(
        row[header.index("detail")] == "" and row[header.index("user")] == "" and row[header.index("role")] == ""
        for row in rows
    )
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[0]) for row in rows)


def test_audit_filters_and_csv(store):
    store.audit.record(
        action="create",
        outcome="ok",
        user="ada",
        sandbox="prod",
        connection_name="Orders",
        connection_id="c1",
        source="MySQL",
        request_id="r1",
    )
    store.audit.record(
        action="delete",
        outcome="failed",
        user="grace",
        sandbox="dev",
        connection_name="=HYPERLINK()",
        connection_id="c2",
        detail="FLOW-1418-400",
        adobe_request_id="a2",
        request_id="r2",
    )
    assert [e["connection_id"] for e in store.audit.audit_entries()] == ["c2", "c1"]
    assert [e["user"] for e in store.audit.audit_entries(action="create")] == ["ada"]
    assert [e["user"] for e in store.audit.audit_entries(outcome="failed", sandbox="dev")] == ["grace"]
    assert [e["connection_id"] for e in store.audit.audit_entries(text="ORD")] == ["c1"]
    csv_text = store.audit.as_csv(store.audit.audit_entries())
    assert csv_text.splitlines()[0].startswith("at,user,subject,email,role,action")
    assert "'=HYPERLINK()" in csv_text  # no formula injection into a spreadsheet


def _open_store(path: str) -> None:
    Store(database_url(path, None))


def test_workers_booting_at_once_all_open_a_new_store(tmp_path):
    """Every gunicorn worker migrates the store as it boots; one must not fail because another created a table."""
    import multiprocessing

    for round_ in range(3):
        folder = str(tmp_path / f"round-{round_}")
        processes = [multiprocessing.Process(target=_open_store, args=(folder,)) for _ in range(6)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        assert [process.exitcode for process in processes] == [0] * 6


def test_the_target_connections_of_a_deletion_are_kept_until_each_is_gone(store):
    assert store.cleanups.remember_targets("base-1", "prod", ["t1", "t2"]) == ["t1", "t2"]
    assert store.cleanups.remember_targets("base-1", "prod", ["t2", "t3"]) == ["t1", "t2", "t3"]
    assert store.cleanups.remembered_targets("base-1", "dev") == []  # another sandbox's connection of that id
    store.cleanups.forget_target("base-1", "t2")
    assert store.cleanups.remembered_targets("base-1", "prod") == ["t1", "t3"]
    store.cleanups.forget_cleanup("base-1")
    assert store.cleanups.remembered_targets("base-1", "prod") == []


def test_a_draft_chain_is_taken_once_its_steps_kept_apart_and_old_drafts_go(store):
    plan = {"table": "public.customers"}
    store.drafts.new_draft("k" * 32, "ada", "prod", "base-1", plan)
    assert store.drafts.start_chain("k" * 32, lease=60) and not store.drafts.start_chain("k" * 32, lease=60)  # held
    assert not store.drafts.save_plan("k" * 32, {"table": "other"})  # fixed once creating began
    for step in ("source_id", "target_id", "mapping_id"):
        store.drafts.made("k" * 32, step, step + "-1")  # each in its own column: made side by side, none lost
    store.drafts.end_chain("k" * 32, "stopped", "the flow was refused")
    draft = store.drafts.draft("k" * 32)
    assert (draft["state"], draft["problem"], draft["target_id"], draft["flow_id"]) == (
        "stopped",
        "the flow was refused",
        "target_id-1",
        None,
    )
    assert store.drafts.start_chain("k" * 32, lease=-1)  # after a stop anyone may go on; a lease already run out...
    assert store.drafts.start_chain("k" * 32, lease=60)  # ...may be taken over
    # Drafts untouched for 30 days go when a new one opens, unless their chain stopped halfway or is being made.
    for key, state in (("old-draft", "draft"), ("old-done", "done"), ("old-stopped", "stopped")):
        store.drafts.new_draft(key.ljust(32, "x"), "ada", "prod", "base-1", plan)
        store.drafts.end_chain(key.ljust(32, "x"), state)
    with store.engine.begin() as db:
        db.execute(
            text("UPDATE dataflow_drafts SET updated_at = :old WHERE key LIKE 'old-%'"),
            {"old": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)},
        )
    store.drafts.new_draft("n" * 32, "ada", "prod", "base-1", plan)
    assert (
        store.drafts.draft("old-draft".ljust(32, "x")) is None and store.drafts.draft("old-done".ljust(32, "x")) is None
    )
    assert store.drafts.draft("old-stopped".ljust(32, "x"))["state"] == "stopped" and store.drafts.draft("k" * 32)
