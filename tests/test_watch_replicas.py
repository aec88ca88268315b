"""Alerts across processes, as a team runs the portal: two portals (`aep-source-wizard`, two gunicorn workers each)
over one PostgreSQL store, watching the same emulator. A failed run reaches a real webhook once, signed, within two
watch intervals; the process holding the watcher's lease is killed, another takes it over, and the next failure is
told once too."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from .helpers.dataflows import Maker
from .helpers.postgres import own_schema, postgres_test_url
from .helpers.receivers import Webhook
from .helpers.servers import serve, wait_until_up
from .test_watch import base_connection

REPO = Path(__file__).resolve().parents[1]
WATCH_SECONDS = 1
pytestmark = pytest.mark.slow


@pytest.fixture
def shared_store():
    """(a PostgreSQL URL whose tables live in a schema of their own, an engine, the schema)."""
    with own_schema(postgres_test_url(), "w_") as made:
        yield made


def lease_holder_pid(admin, schema: str) -> int | None:
    with admin.begin() as db:
        holder = db.execute(
            text(f"SELECT holder FROM {schema}.leases WHERE name = 'watcher' AND until > extract(epoch from now())")
        ).scalar()
    return int(holder.split(":")[1]) if holder else None


def wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_each_failure_is_told_once_by_two_portals_of_two_workers_with_the_watcher_killed(shared_store, fresh_emulator):
    url, admin, schema = shared_store
    hook = Webhook()
    env = {
        "AEP_CLIENT_ID": fresh_emulator.client_id,
        "AEP_CLIENT_SECRET": fresh_emulator.client_secret,
        "AEP_ORG_ID": fresh_emulator.org_id,
        "AEP_PLATFORM_URL": fresh_emulator.url,
        "AEP_IMS_URL": fresh_emulator.url,
        "AEP_SANDBOXES": "prod",
        "WIZARD_AUTH": "none",
        "WIZARD_SECRET_KEY": "replicas-test-key",
        "WIZARD_DATABASE_URL": url,
        "WEB_CONCURRENCY": "2",
        "WIZARD_WATCH_SECONDS": str(WATCH_SECONDS),
        "WIZARD_ALERTS_TO_LOOPBACK": "1",
        "WIZARD_PUBLIC_URL": "https://portal.example",
    }
    portals = [serve([sys.executable, "-m", "app.cli"], REPO, **env) for _ in range(2)]
    try:
        for base, process in portals:
            wait_until_up(base, process, seconds=60)
        first = portals[0][0]
        session = requests.Session()
        form = session.get(first + "/alerts/new", timeout=10)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form.text).group(1)
        made = session.post(
            first + "/alerts/new",
            timeout=10,
            data={
                "csrf_token": token,
                "name": "on call",
                "sandbox": "prod",
                "source": "",
                "events": ["failed"],
                "channel": "webhook",
                "url": hook.url,
            },
        )
        assert made.status_code == 200, made.text
        secret = re.search(r"whsec_[A-Za-z0-9_-]+", made.text).group(0)
        # The watcher's first round learns the sandbox; what fails after it is told.
        wait(lambda: lease_holder_pid(admin, schema), 30, "a watcher holding the lease")
        with admin.begin() as db:
            wait(
                lambda: db.execute(text(f"SELECT count(*) FROM {schema}.watch_cursors")).scalar(),
                30,
                "the watcher's first round",
            )

        maker = Maker(fresh_emulator)
        connection = base_connection(maker)
        before = maker.due_flow(connection, ["failed"], name="Orders")
        started = time.monotonic()
        [told] = hook.wait_for(1, seconds=30)
        assert time.monotonic() - started <= 2 * WATCH_SECONDS + 5  # two rounds, and a sender's look for what is due
        assert told["json"]["dataflow"]["id"] == before and hook.signed(told, secret)

        # The process holding the watcher's lease dies mid-work; another worker or replica takes it over.
        holder = lease_holder_pid(admin, schema)
        os.kill(holder, signal.SIGKILL)
        after = maker.due_flow(connection, ["failed"], name="Customers")
        wait(lambda: len(hook.received) >= 2, 40, "the second failure told after the watcher's death")
        assert wait(lambda: lease_holder_pid(admin, schema), 30, "a new holder") != holder
        time.sleep(3 * WATCH_SECONDS + 5)  # rounds and sends after it: nothing more arrives
        events = hook.seen_events()
        assert len(events) == len(set(events)) == 2, [r["json"] for r in hook.received]
        assert [r["json"]["dataflow"]["id"] for r in hook.received] == [before, after]
        assert all(hook.signed(r, secret) for r in hook.received)
        with admin.begin() as db:
            assert db.execute(text(f"SELECT count(*) FROM {schema}.alert_events")).scalar() == 2
            assert db.execute(text(f"SELECT state, count(*) FROM {schema}.alert_deliveries GROUP BY state")).all() == [
                ("sent", 2)
            ]
    finally:
        for _base, process in portals:
            process.send_signal(signal.SIGTERM)
        for _base, process in portals:
            try:
                process.wait(timeout=15)
            except Exception:  # noqa: BLE001 - a portal that will not stop is killed
                process.kill()
        hook.stop()
