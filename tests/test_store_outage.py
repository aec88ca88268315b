"""When the portal's database fails: a restart, an outage, a locked file. A real PostgreSQL is reached through a TCP
proxy on loopback that the tests stop (the database unreachable) and restart (every pooled connection dropped, as a
database restart or failover drops them)."""

from __future__ import annotations

import concurrent.futures
import re
import sqlite3
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from app import create_app, services
from app.emulator import Fault
from app.reconciler import Reconciler
from app.store import database_url

from .helpers.forms import connection_body, form_data
from .helpers.live import IN_TIME, LiveServer, settings_for
from .helpers.markup import csrf_token, submission_id
from .helpers.postgres import postgres_test_url
from .helpers.tcp_proxy import TcpProxy


@pytest.fixture
def postgres_url():
    return postgres_test_url()


@pytest.fixture
def proxied(postgres_url):
    """(a database URL through the proxy, in a schema of its own; the proxy)."""
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    schema = "o_" + uuid.uuid4().hex[:12]
    admin = create_engine(database_url("", postgres_url))
    with admin.begin() as db:
        db.execute(text(f"CREATE SCHEMA {schema}"))
    through = postgres_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{proxy.port}", 1)
    separator = "&" if "?" in through else "?"
    yield through + f"{separator}options=-csearch_path%3D{schema}", proxy
    proxy.down()
    with admin.begin() as db:
        db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def portal(proxied, fresh_emulator):
    url, proxy = proxied
    # Flow Service may be slow on purpose here, but answers in time.
    server = LiveServer(create_app(settings_for(fresh_emulator, database_url=url, read_timeout=IN_TIME)))
    yield server, proxy
    server.stop()
    services.of(server.app).store.engine.dispose()


def submit(server, name: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{server.url}/sources/redshift", timeout=10).text
    key, data = form_data("redshift", name=name)
    return session.post(
        f"{server.url}/sources/{key}",
        allow_redirects=False,
        timeout=30,
        data={**data, "csrf_token": csrf_token(page), "submission_id": submission_id(page)},
    )


@pytest.mark.slow
def test_an_outage_is_503_with_retry_after_readyz_says_so_and_healthz_stays_up(portal, caplog):
    server, proxy = portal
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    assert submit(server, "Before the outage").status_code == 303  # the list then asks the store who created it
    proxy.down()
    time.sleep(2.1)  # readiness reuses its answer for two seconds
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 503 and "database" in ready.json()["problem"]
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    form = requests.get(f"{server.url}/sources/redshift", timeout=10)
    assert form.status_code == 200 and 'id="store-down"' in form.text  # said before anyone types
    for path in ("/connections?sandbox=prod", "/audit"):
        page = requests.get(server.url + path, timeout=20)
        assert page.status_code == 503 and page.headers["Retry-After"] == "10", path
        assert "cannot reach its own database" in page.text
    sent = submit(server, "During the outage")
    assert sent.status_code == 503 and "nothing was sent to Adobe" in sent.text
    proxy.up()
    time.sleep(2.1)
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    assert submit(server, "After the outage").status_code == 303
    outage_lines = [r for r in caplog.records if "cannot be reached" in r.getMessage() and r.levelname == "ERROR"]
    assert len(outage_lines) == 1  # one line per outage, not one per request


def test_a_database_restart_under_load_answers_no_500(portal, fresh_emulator):
    server, proxy = portal
    assert submit(server, "Warm the pool").status_code == 303
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(lambda n: (proxy.cut() if n == 3 else None, submit(server, f"Restart {n}"))[1], range(12))
        )
    proxy.cut()
    answers += [submit(server, "Right after")]
    assert all(answer.status_code in (303, 503) for answer in answers), [a.status_code for a in answers]
    assert answers[-1].status_code == 303
    made = [c["name"] for c in fresh_emulator.creations()]
    assert len(made) == len(set(made))  # none twice


def test_a_submission_whose_record_fails_is_shown_and_recorded_once_the_store_is_back(portal, fresh_emulator):
    server, proxy = portal
    # Flow Service takes a second to answer; the database goes away meanwhile.
    fresh_emulator.inject(Fault("POST", "/connections", delay=1.0))
    threading.Timer(0.4, proxy.down).start()
    answer = submit(server, "Made in the dark")
    assert answer.status_code == 202 and "Do not send the form again" in answer.text
    connection_id = re.search(r'<code id="connection-id">([^<]+)</code>', answer.text).group(1)
    assert connection_id in fresh_emulator.connections
    proxy.up()
    store = services.of(server.app).store
    deadline = time.monotonic() + 15
    while services.of(server.app).late.owed() and time.monotonic() < deadline:
        time.sleep(0.2)
    entries = store.audit.audit_entries(action="create")
    assert len(entries) == 1 and entries[0]["connection_id"] == connection_id
    assert "recorded late" in entries[0]["detail"]
    assert len(fresh_emulator.creations()) == 1


def test_a_pending_submission_of_a_dead_worker_is_reconciled_once_by_two_portals(proxied, fresh_emulator):
    url, _proxy = proxied
    apps = [create_app(settings_for(fresh_emulator, database_url=url)) for _ in range(2)]
    store = services.of(apps[0]).store
    started = int(time.time() * 1000) - 1000
    entry = {"action": "create", "outcome": "ok", "sandbox": "prod", "user": "ada", "role": "admin"}
    # One worker claimed, Adobe made the connection, and the worker died before recording it; another claimed and
    # died before Adobe made anything.
    store.submissions.claim(
        "made" * 5,
        {
            "sandbox": "prod",
            "name": "Orphan",
            "started_ms": started,
            "spec_id": connection_body("x")["connectionSpec"]["id"],
            "source": "Amazon Redshift",
            "entry": entry,
        },
    )
    made = services.of(apps[0]).connections.create_connection("prod", connection_body("Orphan"))
    store.submissions.claim(
        "none" * 5,
        {
            "sandbox": "prod",
            "name": "Never made",
            "started_ms": started,
            "spec_id": connection_body("x")["connectionSpec"]["id"],
            "source": "Amazon Redshift",
            "entry": entry,
        },
    )
    with store.engine.begin() as db:
        db.execute(text("UPDATE submissions SET updated_at = updated_at - interval '1 hour'"))
    barrier = threading.Barrier(2)

    def round_(app):
        barrier.wait()
        return Reconciler(services.of(app)).run_once()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        rounds = list(pool.map(round_, apps))
    assert sorted(r["recorded"] + r["failed"] for r in rounds) == [0, 2]
    assert store.submissions.finished("made" * 5)["result_url"].startswith(f"/connections/{made.id}?")
    entries = store.audit.audit_entries(action="create")
    assert {(e["outcome"], e["connection_name"], e["user"]) for e in entries} == {
        ("ok", "Orphan", "ada"),
        ("failed", "Never made", "ada"),
    }
    # The failed key may be claimed again; nothing is reconciled twice.
    assert store.submissions.claim("none" * 5, timeout=1) is None
    assert all(Reconciler(services.of(app)).run_once() == {"recorded": 0, "failed": 0, "drafts": 0} for app in apps)
    for app in apps:
        services.of(app).store.engine.dispose()


def test_a_locked_sqlite_file_is_the_same_503(fresh_emulator, tmp_path, monkeypatch):
    import app.store.engine

    monkeypatch.setattr(app.store.engine, "SQLITE_WAIT", 0.5)
    server = LiveServer(create_app(settings_for(fresh_emulator, data_dir=str(tmp_path))))
    holder = sqlite3.connect(tmp_path / "wizard.sqlite3", timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        answer = submit(server, "Locked out")
        assert answer.status_code == 503 and "cannot reach its own database" in answer.text
        assert not fresh_emulator.creations()
    finally:
        holder.rollback()
        holder.close()
        server.stop()
    assert submit(LiveServer(server.app), "Unlocked").status_code == 303


def test_a_chain_left_creating_by_a_dead_request_is_stopped_with_what_was_made_recorded(
    live_server, live_app, fresh_emulator
):
    from app.dataflows.chain import steps
    from app.dataflows.draft import Draft

    from .helpers.dataflows import Walk

    base = services.of(live_app).connections.create_connection("prod", connection_body("Chain")).id
    walk = Walk(live_server.url, base)
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302 and walk.schedule().status_code == 302
    kept = services.of(live_app)
    assert kept.store.drafts.start_chain(walk.key, 0.01)  # a request took the chain, made the source connection, died
    draft = Draft.of(kept.store.drafts.draft(walk.key))
    source = steps(draft, kept.dataflows.flow_spec("prod"))[0]
    made = kept.dataflows.create("prod", "sourceConnections", source.body).id
    with kept.store.engine.begin() as db:
        db.execute(text("UPDATE dataflow_drafts SET lease_until = lease_until - 3600"))
    assert Reconciler(kept).run_once()["drafts"] == 1
    after = Draft.of(kept.store.drafts.draft(walk.key))
    assert after.state == "stopped" and after.source_id == made and after.target_id is None and after.flow_id is None
    assert len(fresh_emulator.source_connections) == 1 and not fresh_emulator.flows  # looked up, never created
    review = walk.get("review").text
    assert "Continue with the same objects" in review and "Remove what was made" in review
    assert kept.store.audit.audit_entries(action="create-dataflow")[0]["outcome"] == "failed"
