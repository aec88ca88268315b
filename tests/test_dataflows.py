"""A connection's dataflows: listed on its page, and named when they keep it from being deleted."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from app import services
from app.emulator import Fault

from .helpers.dataflows import Maker
from .helpers.forms import connection_body as body
from .helpers.pages import DataflowWalkPage


@pytest.fixture
def flow(live_app):
    return services.of(live_app).connections


def _reads(emulator, path: str) -> int:
    return sum(1 for r in emulator.received if r.method == "GET" and r.path.endswith(path))


def test_a_connections_page_lists_its_dataflows(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Warehouse"))
    maker = Maker(fresh_emulator)
    flow_id = maker.flow(created.id, "Customers every 15 minutes", "public.customers")
    maker.flow(
        created.id, "Orders daily", "public.orders", {"startTime": 1764028800, "frequency": "day", "interval": "1"}
    )
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


def test_a_connection_without_dataflows_says_so_and_the_creation_page_does_not_look(live_server, fresh_emulator, flow):
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


def _delete_form(session, url: str, name: str):
    page = session.get(url, timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return session.post(url, data={"confirm_name": name, "csrf_token": token}, allow_redirects=False, timeout=10)


def _deletions(emulator) -> list[str]:
    return [r.path.split("/flowservice/", 1)[1].split("/")[0] for r in emulator.received if r.method == "DELETE"]


def test_deleting_a_connection_deletes_its_dataflows_first_in_adobes_order(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Busy"))
    maker = Maker(fresh_emulator)
    flow_id = maker.flow(created.id, "Keeps it busy")
    maker.source_connection(created.id, "sales.returns")  # one no dataflow uses
    session = requests.Session()
    url = f"{live_server.url}/connections/{created.id}/delete?sandbox=prod"
    page = session.get(url, timeout=10).text
    assert "Made from this connection" in page and f"<code>{flow_id}</code>" in page
    assert "Delete connection and all made from it" in page
    assert _delete_form(session, url, "busy").status_code == 400 and not _deletions(fresh_emulator)
    done = _delete_form(session, url, "Busy")
    assert done.status_code == 303
    assert _deletions(fresh_emulator) == [
        "flows",
        "sourceConnections",
        "sourceConnections",
        "targetConnections",
        "connections",
    ]
    assert not (fresh_emulator.flows or fresh_emulator.source_connections or fresh_emulator.target_connections)
    assert created.id not in fresh_emulator.connections
    audit = _audit_rows(live_server)
    for what in ("dataflow", "source connection", "target connection"):
        assert f",delete,{what}," in audit


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
    failed_run = re.search(r"/runs/([0-9a-f-]{36})/retry", runs).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    retried = session.post(
        f"{live_server.url}/dataflows/{flow_id}/runs/{failed_run}/retry?sandbox=prod",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert retried.status_code == 303
    after = session.get(live_server.url + retried.headers["Location"], timeout=10).text
    new_run = re.search(r"Retried: the new run is ([0-9a-f-]{36})\.", after).group(1)
    assert f"<code>{new_run}</code>" in after and "Succeeded" in after
    assert [
        r
        for r in fresh_emulator.received
        if r.path.endswith(f"/runs/{failed_run}/action") and r.query == "op=re-trigger"
    ]
    assert f"retry,dataflow,prod,Customers every 15 minutes,{flow_id},ok" in _audit_rows(live_server).replace(
        '"', ""
    ).replace(",,", ",")


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
    fresh_emulator.inject(
        Fault(
            "POST",
            f"/flows/{flow_id}/action",
            status=503,
            body={"type": "https://ns.adobe.com/aep/errors/FLOW-1100-400"},
            times=5,
        )
    )
    refused = session.post(
        f"{live_server.url}/dataflows/{flow_id}/state?sandbox=prod",
        data={"csrf_token": token, "enabled": "0"},
        timeout=10,
    )
    assert refused.status_code == 502 and "Adobe did not make the change" in refused.text
    assert fresh_emulator.flows[flow_id]["state"] == "enabled"
    assert ",disable," in _audit_rows(live_server) and ",failed," in _audit_rows(live_server)


def test_a_dataflow_of_another_sandbox_or_none_at_all_is_not_found(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Elsewhere"))
    flow_id = Maker(fresh_emulator).flow(created.id)
    assert requests.get(f"{live_server.url}/dataflows/{flow_id}?sandbox=dev", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/dataflows/{'0' * 36}?sandbox=prod", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/dataflows/not*an*id?sandbox=prod", timeout=10).status_code == 404


def test_a_deletion_stopped_midway_says_what_is_left_and_goes_on_when_sent_again(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Stubborn"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Stubborn flow")
    target_id = fresh_emulator.flows[flow_id]["targetConnectionIds"][0]
    session = requests.Session()
    url = f"{live_server.url}/connections/{created.id}/delete?sandbox=prod"
    # Every try (the first and the session's three retries) of the source connection's DELETE fails.
    source_id = next(iter(fresh_emulator.source_connections))
    fresh_emulator.inject(Fault("DELETE", f"/sourceConnections/{source_id}", status=503, times=4))
    stopped = _delete_form(session, url, "Stubborn")
    assert stopped.status_code == 502 and "the deletion stopped there" in stopped.text
    assert flow_id not in fresh_emulator.flows and fresh_emulator.source_connections
    # The target connection, which nothing in Flow Service leads to now, is remembered (on every worker: the store).
    assert target_id in fresh_emulator.target_connections
    again = session.get(url, timeout=10).text
    assert "1 target connection left from an earlier attempt" in again and f"<code>{target_id}</code>" in again
    assert _delete_form(session, url, "Stubborn").status_code == 303
    assert not fresh_emulator.source_connections and not fresh_emulator.target_connections
    assert created.id not in fresh_emulator.connections
    assert ",delete,source connection," in _audit_rows(live_server) and ",failed," in _audit_rows(live_server)


def test_a_dataflow_scheduled_once_runs_now_on_request_and_a_recurring_one_does_not(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("On demand"))
    maker = Maker(fresh_emulator)
    later = int(time.time()) + 3600
    once = maker.flow(created.id, "Once", schedule={"startTime": later, "frequency": "once"})
    session = requests.Session()
    page = session.get(f"{live_server.url}/dataflows/{once}?sandbox=prod", timeout=10).text
    assert "Run now" in page and "No run yet." in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ran = session.post(
        f"{live_server.url}/dataflows/{once}/run?sandbox=prod",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert ran.status_code == 303
    after = session.get(live_server.url + ran.headers["Location"], timeout=10).text
    run_id = re.search(r"Started a run: ([0-9a-f-]{36})\.", after).group(1)
    assert f"<code>{run_id}</code>" in after
    sent = [json.loads(r.body) for r in fresh_emulator.received if r.method == "POST" and r.path.endswith("/runs")]
    assert sent[0]["flowId"] == once and sent[0]["params"]["deltaColumn"] == {"name": "created_at"}
    assert all(isinstance(sent[0]["params"][k], int) for k in ("startTime", "windowStartTime", "windowEndTime"))
    assert ",run,dataflow," in _audit_rows(live_server)
    recurring = maker.flow(created.id, "Recurring", schedule={"startTime": later, "frequency": "hour", "interval": "1"})
    page = session.get(f"{live_server.url}/dataflows/{recurring}?sandbox=prod", timeout=10).text
    assert "Run now" not in page
    refused = session.post(
        f"{live_server.url}/dataflows/{recurring}/run?sandbox=prod", data={"csrf_token": token}, timeout=10
    )
    assert refused.status_code == 409 and "starts a run on request only for a dataflow scheduled once" in refused.text
    assert len([r for r in fresh_emulator.received if r.method == "POST" and r.path.endswith("/runs")]) == 1


def test_a_lost_answer_midway_through_a_deletion_is_resumed_without_a_second_of_anything(
    live_server, fresh_emulator, flow
):
    created = flow.create_connection("prod", body("Lossy"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Lossy flow")
    session = requests.Session()
    url = f"{live_server.url}/connections/{created.id}/delete?sandbox=prod"
    # The dataflow's DELETE takes effect, but its answer never arrives.
    fresh_emulator.inject(Fault("DELETE", f"/flows/{flow_id}", drop=True, after_handling=True))
    stopped = _delete_form(session, url, "Lossy")
    assert stopped.status_code == 502 and "the deletion stopped there" in stopped.text
    assert flow_id not in fresh_emulator.flows and fresh_emulator.source_connections
    assert _delete_form(session, url, "Lossy").status_code == 303
    deletions = _deletions(fresh_emulator)
    assert deletions.count("flows") == 1 and deletions.count("sourceConnections") == 1
    assert deletions.count("targetConnections") == 1 and deletions[-1] == "connections"
    assert not (fresh_emulator.source_connections or fresh_emulator.target_connections)


@pytest.mark.browser
def test_watch_retry_disable_and_delete_the_chain_in_the_browser(page, live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Browser chain"))
    flow_id = Maker(fresh_emulator).due_flow(created.id, ["failed"], "Customers into loyalty")
    walk = DataflowWalkPage(page, live_server.url)  # axe on the dataflow's page and on the delete page
    walk.open_dataflow_from_connection(created.id, "Customers into loyalty", flow_id)
    assert walk.run_shown("Failed")
    walk.retry_run()
    assert walk.run_shown("Succeeded")
    walk.disable("Customers into loyalty", by_keyboard=True)
    assert walk.state() == "disabled"
    walk.to_delete_page()
    assert page.locator("#dataflows").get_by_text("Customers into loyalty").is_visible()
    walk.delete_connection("Browser chain")
    assert not fresh_emulator.flows and not fresh_emulator.source_connections
    assert not fresh_emulator.target_connections and created.id not in fresh_emulator.connections


def test_a_dataflow_page_shows_what_it_can_when_a_read_fails_and_quotes_adobes_request_id(
    live_server, fresh_emulator, flow
):
    created = flow.create_connection("prod", body("Partly read"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Partly read flow")
    fresh_emulator.inject(Fault("GET", "/runs", status=500, times=4))
    page = requests.get(f"{live_server.url}/dataflows/{flow_id}?sandbox=prod", timeout=10)
    assert page.status_code == 200 and "<code>public.customers</code>" in page.text
    assert "Reading the dataflow&#39;s runs failed" in page.text
    fresh_emulator.inject(Fault("GET", f"/flows/{flow_id}", status=500, times=4))
    failed = requests.get(f"{live_server.url}/dataflows/{flow_id}?sandbox=prod", timeout=10)
    assert failed.status_code == 502 and "Could not read the dataflow" in failed.text
    assert re.search(r"Adobe's request id: <code>[0-9a-f-]{36}</code>", failed.text)
