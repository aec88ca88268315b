"""A connection's dataflows: listed on its page, and named when they keep it from being deleted."""

from __future__ import annotations

import re
import time

import pytest
import requests

from app.emulator import Fault

from .dataflows import Maker
from .forms import connection_body as body


@pytest.fixture
def flow(live_app):
    return live_app.extensions["flow_service"]


def _reads(emulator, path: str) -> int:
    return sum(1 for r in emulator.received if r.method == "GET" and r.path.endswith(path))


def test_a_connections_page_lists_its_dataflows(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Warehouse"))
    maker = Maker(fresh_emulator)
    flow_id = maker.flow(created.id, "Customers every 15 minutes", "public.customers")
    maker.flow(created.id, "Orders daily", "public.orders",
               {"startTime": 1764028800, "frequency": "day", "interval": "1"})
    leftover = maker.source_connection(created.id, "sales.returns")
    other = flow.create_connection("prod", body("Another"))
    maker.flow(other.id, "Not this connection's")
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert page.status_code == 200
    table = page.text.split('id="dataflows"', 1)[1].split("</table>", 1)[0]
    assert "Customers every 15 minutes" in table and "Orders daily" in table and "Not this" not in table
    assert f"<code>{flow_id}</code>" in table and "<code>public.customers</code>" in table
    assert "every 15 minutes from 2025-11-24 16:00 UTC" in table and "every day from 2025-11-25 00:00 UTC" in table
    assert re.search(r"1 source connection of this connection no dataflow uses: <code>" + leftover, page.text)


def test_a_connection_without_dataflows_says_so_and_the_creation_page_does_not_look(live_server, fresh_emulator,
                                                                                    flow):
    created = flow.create_connection("prod", body("Fresh"))
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert "No dataflow reads from this connection." in page.text
    assert _reads(fresh_emulator, "/sourceConnections") == 1 and _reads(fresh_emulator, "/flows") == 0


def test_when_dataflows_cannot_be_read_the_page_still_shows_the_connection(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Shown anyway"))
    fresh_emulator.inject(Fault("GET", "/sourceConnections", status=500, times=4))
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert page.status_code == 200 and "Shown anyway" in page.text
    assert "Its dataflows could not be read" in page.text


def test_deleting_a_connection_that_dataflows_use_names_them_and_sends_nothing(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Busy"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Keeps it busy")
    session = requests.Session()
    url = f"{live_server.url}/connections/{created.id}/delete?sandbox=prod"
    page = session.get(url, timeout=10)
    assert page.status_code == 200 and "Dataflows use this connection" in page.text
    assert f"<code>{flow_id}</code>" in page.text and 'name="confirm_name"' not in page.text
    # A forged POST (with a real token from another form of the session) is refused the same way.
    rename = session.get(f"{live_server.url}/connections/{created.id}/edit?sandbox=prod", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', rename).group(1)
    sent = session.post(url, data={"confirm_name": "Busy", "csrf_token": token}, allow_redirects=False, timeout=10)
    assert sent.status_code == 409 and "Dataflows use this connection" in sent.text
    assert not [r for r in fresh_emulator.received if r.method == "DELETE"]
    assert created.id in fresh_emulator.connections


def _audit_rows(live_server) -> str:
    return requests.get(f"{live_server.url}/audit.csv", timeout=10).text


def test_a_dataflow_page_shows_its_runs_and_retries_a_failed_one(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Watched"))
    flow_id = Maker(fresh_emulator).due_flow(created.id, ["failed"])
    session = requests.Session()
    connection_page = session.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10).text
    assert f'href="/dataflows/{flow_id}?sandbox=prod"' in connection_page
    url = f"{live_server.url}/dataflows/{flow_id}?sandbox=prod"
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    assert "<code>public.customers</code>" in page.text and "every 15 minutes from" in page.text
    runs = page.text.split('id="runs"', 1)[1].split("</table>", 1)[0]
    assert "<strong>Failed</strong>" in runs and "<code>CONNECTOR-2001-500</code>" in runs
    failed_run = re.search(r'/runs/([0-9a-f-]{36})/retry', runs).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    retried = session.post(f"{live_server.url}/dataflows/{flow_id}/runs/{failed_run}/retry?sandbox=prod",
                           data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert retried.status_code == 303
    after = session.get(live_server.url + retried.headers["Location"], timeout=10).text
    new_run = re.search(r"Retried: the new run is ([0-9a-f-]{36})\.", after).group(1)
    assert f"<code>{new_run}</code>" in after and "Succeeded" in after
    assert [r for r in fresh_emulator.received if r.path.endswith(f"/runs/{failed_run}/action")
            and r.query == "op=re-trigger"]
    assert f"retry,dataflow,prod,Customers every 15 minutes,{flow_id},ok" in _audit_rows(live_server).replace(
        '"', "").replace(",,", ",")


def test_a_dataflow_is_disabled_and_enabled_again_and_each_is_audited(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Switched"))
    later = {"startTime": int(time.time()) + 3600, "frequency": "hour", "interval": "1"}
    flow_id = Maker(fresh_emulator).flow(created.id, "Switched flow", schedule=later)
    session = requests.Session()
    url = f"{live_server.url}/dataflows/{flow_id}?sandbox=prod"
    page = session.get(url, timeout=10).text
    assert "Disable dataflow" in page and "No run yet." in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    state_url = f"{live_server.url}/dataflows/{flow_id}/state?sandbox=prod"
    off = session.post(state_url, data={"csrf_token": token, "enabled": "0"}, allow_redirects=False, timeout=10)
    assert off.status_code == 303 and fresh_emulator.flows[flow_id]["state"] == "disabled"
    page = session.get(url, timeout=10).text
    assert "Disabled: Switched flow." in page and "Enable dataflow" in page
    on = session.post(state_url, data={"csrf_token": token, "enabled": "1"}, allow_redirects=False, timeout=10)
    assert on.status_code == 303 and fresh_emulator.flows[flow_id]["state"] == "enabled"
    assert session.post(state_url, data={"csrf_token": token, "enabled": "maybe"}, timeout=10).status_code == 400
    assert session.post(state_url, data={"enabled": "0"}, timeout=10).status_code == 400  # no CSRF token
    audit = _audit_rows(live_server)
    assert audit.count(flow_id) == 2 and ",disable," in audit and ",enable," in audit


def test_adobe_refusing_an_action_is_shown_on_the_dataflow_page_and_audited(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Refused"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Refused flow")
    session = requests.Session()
    page = session.get(f"{live_server.url}/dataflows/{flow_id}?sandbox=prod", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    fresh_emulator.inject(Fault("POST", f"/flows/{flow_id}/action", status=503, body={
        "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400"}, times=5))
    refused = session.post(f"{live_server.url}/dataflows/{flow_id}/state?sandbox=prod",
                           data={"csrf_token": token, "enabled": "0"}, timeout=10)
    assert refused.status_code == 502 and "Adobe did not make the change" in refused.text
    assert fresh_emulator.flows[flow_id]["state"] == "enabled"
    assert ",disable," in _audit_rows(live_server) and ",failed," in _audit_rows(live_server)


def test_a_dataflow_of_another_sandbox_or_none_at_all_is_not_found(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Elsewhere"))
    flow_id = Maker(fresh_emulator).flow(created.id)
    assert requests.get(f"{live_server.url}/dataflows/{flow_id}?sandbox=dev", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/dataflows/{'0' * 36}?sandbox=prod", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/dataflows/not*an*id?sandbox=prod", timeout=10).status_code == 404
