"""Every dataflow in view: the dataflows page (health, filters, sort, paging, read-only marked, one wait on Adobe per
sandbox), a dataflow's page (names, next run due, the chart), and changing a dataflow after it is made; with the
health rules on their own."""

from __future__ import annotations

import re
import time

import pytest
import requests
from flask import Flask

from app import create_app, services
from app.config import Settings
from app.watch import board, health
from app.watch.watcher import Watcher
from tests.helpers.dataflows import FLOW, Maker
from tests.test_watch import base_connection

HOUR = {"frequency": "hour", "interval": "1"}


@pytest.fixture
def board_app(settings: Settings) -> Flask:
    app = create_app(settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def flows_of(page: str) -> list[str]:
    return re.findall(r'href="/dataflows/([0-9a-f-]{36})\?sandbox=', page)


def test_every_dataflow_of_every_sandbox_with_its_health_in_one_wait(board_app, fresh_emulator):
    prod, dev = Maker(fresh_emulator), Maker(fresh_emulator, "dev")
    failing = prod.due_flow(base_connection(prod), ["failed"], name="Orders")
    healthy = prod.due_flow(base_connection(prod), name="Customers")
    elsewhere = dev.due_flow(base_connection(dev), ["partial"], name="Events")
    client = board_app.test_client()
    since = len(fresh_emulator.received)
    page = client.get("/dataflows")
    assert page.status_code == 200
    calls = [r for r in fresh_emulator.received[since:] if r.path.startswith(FLOW)]
    # One listing of flows and one of runs per sandbox, nothing per dataflow.
    assert sorted((r.path.rsplit("/", 1)[1], r.headers.get("X-Sandbox-Name")) for r in calls) == [
        ("connectionSpecs", "prod"),
        ("flows", "dev"),
        ("flows", "prod"),
        ("runs", "dev"),
        ("runs", "prod"),
    ]
    assert set(flows_of(page.text)) == {failing, healthy, elsewhere}
    assert ">✕</span> Failed" in page.text and ">◐</span> Partly ingested" in page.text
    summary = re.search(r'<section aria-labelledby="health-title".*?</section>', page.text, re.DOTALL).group(0)
    assert "<strong>1</strong> failing" in summary and "<strong>1</strong> partly ingested" in summary
    assert flows_of(client.get("/dataflows?health=failing").text) == [failing]
    assert flows_of(client.get("/dataflows?sandbox=dev").text) == [elsewhere]
    assert flows_of(client.get("/dataflows?q=cust").text) == [healthy]
    assert flows_of(client.get("/dataflows?status=success").text) == [healthy]
    assert flows_of(client.get("/dataflows?sort=failures").text)[0] == failing
    # A filter value that is not one of the choices is ignored, never an error.
    assert client.get("/dataflows?health=<x>&sort=%00&sandbox=nope&next=!!").status_code == 200


def test_records_in_the_last_day_and_failures_in_a_row_come_from_what_the_watcher_kept(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker), ["failed", "failed", "success"])
    watcher = Watcher(services.of(board_app), 60)
    watcher.run_once()
    for _ in range(2):
        requests.post(f"{fresh_emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5)
        watcher.run_once()
    row = re.search(rf"{flow_id}.*?</tr>", board_app.test_client().get("/dataflows").text, re.DOTALL).group(0)
    assert '<td data-label="Records, last 24 h">100</td>' in row  # the success wrote 100
    assert '<td data-label="Failed in a row">0</td>' in row


def test_dataflows_the_portal_does_not_write_are_listed_and_marked_read_only(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker))
    fresh_emulator.flows[flow_id]["inheritedAttributes"]["targetConnections"][0]["connectionSpec"]["id"] = "other"
    page = board_app.test_client().get("/dataflows").text
    assert flow_id in page and "read-only here" in page


def test_paging_follows_a_continuation_token(board_app, fresh_emulator, monkeypatch):
    monkeypatch.setattr(board, "PAGE", 2)
    maker = Maker(fresh_emulator)
    base = base_connection(maker)
    made = {maker.flow(base, name=f"Flow {n}") for n in range(5)}
    client = board_app.test_client()
    seen, url = [], "/dataflows"
    while url:
        page = client.get(url).text
        seen += flows_of(page)
        following = re.search(r'href="(/dataflows\?next=[^"]+)" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert len(seen) == 5 and set(seen) == made


def test_a_dataflows_page_names_what_it_reads_and_writes_draws_its_runs_and_says_when_next(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    base = base_connection(maker)
    flow_id = maker.due_flow(base, ["failed", "partial"])
    requests.post(f"{fresh_emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5)
    page = board_app.test_client().get(f"/dataflows/{flow_id}?sandbox=prod").text
    assert f'href="/connections/{base}?sandbox=prod">crm</a>' in page
    assert 'id="runs-chart"' in page and page.count('<rect class="failed"') == 2
    due = re.search(r'<dd id="next-due">(.*?)</dd>', page).group(1)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", due)
    assert "error-diagnostics" in page


def test_changing_a_dataflow_shows_the_request_then_patches_it_with_its_etag(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker))
    client = board_app.test_client()
    form = client.get(f"/dataflows/{flow_id}/edit?sandbox=prod")
    assert form.status_code == 200
    etag = fresh_emulator.flows[flow_id]["etag"]
    data = {
        "name": "Customers hourly",
        "description": "for the CRM",
        "frequency": "hour",
        "interval": "2",
        "etag": etag,
    }
    review = client.post(f"/dataflows/{flow_id}/edit?sandbox=prod", data=data)
    assert review.status_code == 200 and "If-Match: " in review.text and "/scheduleParams/interval" in review.text
    assert fresh_emulator.flows[flow_id]["name"] == "Customers every 15 minutes"  # nothing sent yet
    sent = client.post(f"/dataflows/{flow_id}/edit?sandbox=prod", data={**data, "send": "1"})
    assert sent.status_code == 303
    changed = fresh_emulator.flows[flow_id]
    assert changed["name"] == "Customers hourly" and changed["scheduleParams"]["interval"] == "2"
    assert changed["scheduleParams"]["frequency"] == "hour" and changed["description"] == "for the CRM"
    [patch] = [r for r in fresh_emulator.received if r.method == "PATCH"]
    assert patch.headers["If-Match"] == etag
    # A colleague's change in between: nothing is sent, theirs is shown beside mine.
    stale = client.post(f"/dataflows/{flow_id}/edit?sandbox=prod", data={**data, "name": "Mine", "send": "1"})
    assert stale.status_code == 409 and 'id="compare"' in stale.text and "Customers hourly" in stale.text
    assert len([r for r in fresh_emulator.received if r.method == "PATCH"]) == 2  # refused by Adobe (412)
    entries = services.of(board_app).store.audit.audit_entries(action="change-dataflow")
    assert [e["outcome"] for e in entries] == ["failed", "ok"]
    # A bad interval is a message next to its field, with what was typed kept.
    wrong = client.post(
        f"/dataflows/{flow_id}/edit?sandbox=prod", data={**data, "frequency": "minute", "interval": "5"}
    )
    assert wrong.status_code == 400 and "15 or more" in wrong.text and 'value="Customers hourly"' in wrong.text


def test_a_dataflow_the_portal_does_not_write_cannot_be_changed(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker))
    fresh_emulator.flows[flow_id]["inheritedAttributes"]["targetConnections"][0]["connectionSpec"]["id"] = "other"
    client = board_app.test_client()
    assert client.get(f"/dataflows/{flow_id}/edit?sandbox=prod").status_code == 403
    assert (
        client.post(
            f"/dataflows/{flow_id}/edit?sandbox=prod",
            data={"name": "x", "frequency": "hour", "interval": "1", "send": "1"},
        ).status_code
        == 403
    )
    assert not [r for r in fresh_emulator.received if r.method == "PATCH"]


# The health rules on their own.


def flow(**changes):
    return {"id": "f", "state": "enabled", "createdAt": 0, "scheduleParams": {"startTime": "1000", **HOUR}, **changes}


@pytest.mark.parametrize(
    ("now", "last_ms", "late"),
    [
        (1000 + 3600 + 14 * 60, 1000_000, None),  # the second due time is within its 15-minute grace
        (1000 + 3600 + 16 * 60, 1000_000, 1000 + 3600),  # past it, and no run since
        (1000 + 3600 + 16 * 60, (1000 + 3600) * 1000, None),  # the run came
        (1000 + 10 * 60, None, None),  # the first due time is still in its grace
        (1000 + 20 * 60, None, 1000),  # nothing ever ran
    ],
)
def test_late_is_no_run_since_a_due_time_more_than_its_grace_ago(now, last_ms, late):
    assert health.late_since(flow(), now, last_ms) == late


def test_health_words_and_next_due():
    assert health.health_of(flow(state="disabled"), 5000, "failed").word == "disabled"
    assert health.health_of(flow(), 1100, "failed").word == "failing"
    assert health.health_of(flow(), 1100, "partial").word == "partial"
    assert health.health_of(flow(), 1100, "success").word == "healthy"
    assert health.next_due(flow(), 1100) == 1000 + 3600
    assert health.next_due(flow(scheduleParams={"startTime": "1000", "frequency": "once"}), 1100) is None
    assert health.next_due(flow(state="disabled"), 1100) is None
    assert health.grace(60 * 60 * 24 * 7) == 3 * 3600 and health.grace(15 * 60) == 15 * 60


def test_a_run_status_in_the_portals_words():
    def run(status, failed=0):
        return {"metrics": {"statusSummary": {"status": status}, "recordSummary": {"failedRecordCount": failed}}}

    assert [
        health.run_status(r) for r in (run("Failed"), run("success", 3), run("success"), run("inProgress"), {})
    ] == ["failed", "partial", "success", "inprogress", "unknown"]
    assert health.run_row({"id": "r"}, "prod") is None
    row = health.run_row(
        {
            "id": "r",
            "flowId": "f",
            "createdAt": "x",
            "metrics": {"recordSummary": {"inputRecordCount": True, "outputRecordCount": -5}},
        },
        "prod",
    )
    assert row["created_ms"] == 0 and row["records_read"] == 0 and row["records_written"] == 0


def test_board_time_is_adobes_clock_not_the_portals(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker))
    requests.post(f"{fresh_emulator.url}/_emulator/runs", json={"flowId": flow_id, "stalled": True}, timeout=5)
    requests.post(f"{fresh_emulator.url}/_emulator/clock", json={"advance": 2 * 3600}, timeout=5)
    page = board_app.test_client().get("/dataflows?health=late").text
    assert flows_of(page) == [flow_id], "two hours on Adobe's clock: late, whatever the portal's clock says"
    assert time.time() < fresh_emulator.now() - 3600
