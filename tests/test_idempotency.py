"""Exactly one connection per form, whatever arrives at once: two threads, two gunicorn workers; all on record."""

from __future__ import annotations

import csv
import io
import sys
import threading

import pytest
import requests

from app.emulator import Fault

from .helpers.forms import form_data
from .helpers.live import IN_TIME
from .helpers.markup import csrf_token, submission_id
from .helpers.servers import REPO, serve, wait_until_up


def two_at_once(url: str, key: str, data: dict, sessions) -> list[requests.Response]:
    """The same form, sent twice at the same instant (a double click, two tabs resubmitting)."""
    barrier = threading.Barrier(len(sessions))
    answers = []

    def send(session):
        barrier.wait()
        answers.append(session.post(f"{url}/sources/{key}", data=data, allow_redirects=False, timeout=30))

    threads = [threading.Thread(target=send, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def opened_form(url: str, key: str, data: dict):
    session = requests.Session()
    page = session.get(f"{url}/sources/{key}", timeout=10).text
    return session, {**data, "csrf_token": csrf_token(page), "submission_id": submission_id(page)}


def clone(session: requests.Session) -> requests.Session:
    """A second connection from the same browser: same cookie, its own socket."""
    other = requests.Session()
    other.cookies.update(session.cookies)
    return other


@pytest.mark.read_timeout(IN_TIME)  # a slow Flow Service, in time
def test_two_identical_posts_at_once_make_one_connection(live_server, fresh_emulator):
    fresh_emulator.inject(Fault("POST", "/connections", delay=0.5))  # a slow Flow Service widens the window
    key, data = form_data("redshift")
    session, form = opened_form(live_server.url, key, data)
    answers = two_at_once(live_server.url, key, form, [session, clone(session)])
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert len(fresh_emulator.creations()) == 1
    audit = session.get(f"{live_server.url}/audit?action=create", timeout=10).text
    assert audit.count("Orders warehouse") == 1 and "Amazon Redshift" in audit


@pytest.mark.slow
def test_two_workers_share_the_submission_keys(fresh_emulator, tmp_path):
    url, process = serve(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        WEB_CONCURRENCY="2",
        WIZARD_AUTH="none",
        WIZARD_DATA_DIR=str(tmp_path),
        AEP_CLIENT_ID=fresh_emulator.client_id,
        AEP_CLIENT_SECRET=fresh_emulator.client_secret,
        AEP_ORG_ID=fresh_emulator.org_id,
        AEP_PLATFORM_URL=fresh_emulator.url,
        AEP_IMS_URL=fresh_emulator.url,
        WIZARD_SECRET_KEY="shared-by-both-workers",
    )
    try:
        wait_until_up(url, process)
        fresh_emulator.inject(Fault("POST", "/connections", delay=0.5, times=20))
        key, data = form_data("phoenix")
        for _ in range(5):
            session, form = opened_form(url, key, data)
            answers = two_at_once(url, key, form, [session, clone(session), clone(session)])
            assert {a.status_code for a in answers} == {303}
            assert len({a.headers["Location"] for a in answers}) == 1
        assert len(fresh_emulator.creations()) == 5
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    workers = {line.split("pid: ")[1].split('"')[0] for line in output.splitlines() if "Booting worker" in line}
    assert len(workers) == 2


def test_the_audit_trail_records_every_action_and_exports_csv(live_server, fresh_emulator):
    key, data = form_data("redshift", password="audit-secret-77")
    session, form = opened_form(live_server.url, key, data)
    created = session.post(f"{live_server.url}/sources/{key}", data=form, allow_redirects=False, timeout=10)
    connection = live_server.url + created.headers["Location"].split("?")[0]
    page = session.get(connection + "/delete", timeout=10).text
    fresh_emulator.used_by_dataflows.add(connection.rsplit("/", 1)[1])
    session.post(
        connection + "/delete", data={"csrf_token": csrf_token(page), "confirm_name": "Orders warehouse"}, timeout=10
    )
    fresh_emulator.used_by_dataflows.clear()
    session.post(
        connection + "/delete", data={"csrf_token": csrf_token(page), "confirm_name": "Orders warehouse"}, timeout=10
    )
    csv_text = session.get(f"{live_server.url}/audit.csv", timeout=10).text
    header, *rows = list(csv.reader(io.StringIO(csv_text)))
    action, outcome = header.index("action"), header.index("outcome")
    assert [(r[action], r[outcome]) for r in rows] == [("delete", "ok"), ("delete", "failed"), ("create", "ok")]
    assert "FLOW-1418-400" in csv_text and "audit-secret-77" not in csv_text
    failed = session.get(f"{live_server.url}/audit", params={"outcome": "failed"}, timeout=10).text
    assert "FLOW-1418-400" in failed and failed.count("<tr>") == 2  # the header row and one entry
