"""What the portal sends about dataflows, as Adobe's documents send it, and what it refuses to act on.

Each test performs one item of the review of every call against Adobe's documents: the answers it must read, the
requests it must shape as the tutorials do, the numbers it must bound, and the dataflows and runs it must not touch.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid

import pytest
import requests

from app import services
from app.emulator import Fault
from app.store import MOST_OPEN_DRAFTS

from .helpers.dataflows import DATA_LAKE, FIRST_DAY, Maker, Walk, form_token
from .helpers.forms import connection_body as body
from .helpers.live import IN_TIME
from .test_attacks import s3_connection


@pytest.fixture
def flow(live_app):
    return services.of(live_app).connections


def _posts(emulator, tail: str) -> list:
    return [r for r in emulator.received if r.method == "POST" and r.path.endswith(tail)]


def _page(session, url):
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    return page.text


def _press(session, live_server, flow_id, action, **data):
    """POST one of a dataflow page's buttons, with the session's CSRF token (from a form page when the dataflow's page
    offers no button)."""
    page = _page(session, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    if "csrf_token" not in page:
        page = _page(session, f"{live_server.url}/sources/redshift")
    return session.post(
        f"{live_server.url}/dataflows/{flow_id}/{action}?sandbox=prod",
        data={"csrf_token": form_token(page), **data},
        allow_redirects=False,
        timeout=10,
    )


def _once(maker, base_id, name="Once"):
    return maker.flow(base_id, name, schedule={"startTime": int(time.time()) + 3600, "frequency": "once"})


# Run now: the answer in either documented shape, and a lost answer looked for, never sent twice.


def test_run_now_reads_the_answer_in_the_tutorials_shape_too(live_server, fresh_emulator, flow):
    once = _once(Maker(fresh_emulator), flow.create_connection("prod", body("Tutorial")).id)
    run_id = str(uuid.uuid4())
    # The on-demand ingestion tutorial prints the answer as {"items": [{"id", "etag"}]}; the spec as {id, etag}.
    fresh_emulator.inject(
        Fault(
            "POST",
            "/runs",
            status=201,
            after_handling=True,
            body={"items": [{"id": run_id, "etag": '"1100c53e-0000-0200-0000-627138980000"'}]},
        )
    )
    session = requests.Session()
    ran = _press(session, live_server, once, "run")
    assert ran.status_code == 303, ran.text
    assert f"Started a run: {run_id}." in session.get(live_server.url + ran.headers["Location"], timeout=10).text


def test_a_lost_answer_to_run_now_is_looked_for_and_never_sent_again(live_server, fresh_emulator, flow):
    once = _once(Maker(fresh_emulator), flow.create_connection("prod", body("Lost run")).id)
    # The run is made, then the connection drops before its answer arrives.
    fresh_emulator.inject(Fault("POST", "/runs", drop=True, after_handling=True))
    session = requests.Session()
    ran = _press(session, live_server, once, "run")
    assert ran.status_code == 303, ran.text
    made = [run for run in fresh_emulator.runs.values() if run["flowId"] == once]
    assert len(made) == 1 and len(_posts(fresh_emulator, "/runs")) == 1
    assert f"Started a run: {made[0]['id']}." in session.get(live_server.url + ran.headers["Location"], timeout=10).text
    assert any(
        r.method == "GET" and r.path.endswith("/runs") and "createdAt%3E" in r.query for r in fresh_emulator.received
    )


def test_a_run_now_whose_answer_is_lost_before_adobe_saw_it_says_trying_again_is_safe(
    live_server, fresh_emulator, flow
):
    once = _once(Maker(fresh_emulator), flow.create_connection("prod", body("Never ran")).id)
    fresh_emulator.inject(Fault("POST", "/runs", drop=True))  # dropped before it is handled: nothing made
    refused = _press(requests.Session(), live_server, once, "run")
    assert refused.status_code == 502 and "no run started, so trying again is safe" in refused.text
    assert not fresh_emulator.runs and len(_posts(fresh_emulator, "/runs")) == 1


def test_a_run_now_whose_look_up_fails_too_says_so_and_sends_nothing_more(live_server, fresh_emulator, flow):
    once = _once(Maker(fresh_emulator), flow.create_connection("prod", body("Unknown run")).id)
    fresh_emulator.inject(Fault("POST", "/runs", drop=True, after_handling=True))
    fresh_emulator.inject(Fault("GET", "/runs", status=500, times=20))
    session = requests.Session()
    page = _page(session, f"{live_server.url}/dataflows/{once}?sandbox=prod")
    fresh_emulator.faults[-1].times = 20  # the page's own read of the runs took some; the look-up meets the rest
    refused = session.post(
        f"{live_server.url}/dataflows/{once}/run?sandbox=prod",
        data={"csrf_token": form_token(page)},
        allow_redirects=False,
        timeout=20,
    )
    assert refused.status_code == 502 and "Whether a run started is unknown" in refused.text
    assert len(_posts(fresh_emulator, "/runs")) == 1


# Retry: the run must be the dataflow's, failed (in any case), and retried once.


def _failed_run(maker, base_id, status="failed") -> tuple[str, str]:
    flow_id = maker.due_flow(base_id, ["failed"])
    requests.get(
        f"{maker.emulator.url}/data/foundation/flowservice/runs", headers=maker.headers, timeout=5
    )  # falls due
    run = next(r for r in maker.emulator.runs.values() if r["flowId"] == flow_id)
    run["metrics"]["statusSummary"]["status"] = status
    return flow_id, run["id"]


def test_a_failed_run_is_retried_whatever_the_case_of_its_status_and_only_once(
    live_server, live_app, fresh_emulator, flow
):
    flow_id, run_id = _failed_run(Maker(fresh_emulator), flow.create_connection("prod", body("Cased")).id, "Failed")
    session = requests.Session()
    page = _page(session, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    assert "<strong>Failed</strong>" in page and f"/runs/{run_id}/retry" in page
    retried = _press(session, live_server, flow_id, f"runs/{run_id}/retry")
    assert retried.status_code == 303, retried.text
    page = _page(session, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    assert f"/runs/{run_id}/retry" not in page and "Retried as <code>" in page
    # A second press (a double click, another tab, another worker) sends nothing.
    again = session.post(
        f"{live_server.url}/dataflows/{flow_id}/runs/{run_id}/retry?sandbox=prod",
        data={"csrf_token": form_token(page)},
        timeout=10,
    )
    assert again.status_code == 409 and "retried already" in again.text
    assert len(_posts(fresh_emulator, f"/runs/{run_id}/action")) == 1


@pytest.mark.read_timeout(IN_TIME)  # the delay widens the window; the answer still comes in time
def test_two_retries_at_once_send_one(live_server, fresh_emulator, flow):
    import concurrent.futures

    flow_id, run_id = _failed_run(Maker(fresh_emulator), flow.create_connection("prod", body("Twice")).id)
    fresh_emulator.inject(Fault("POST", f"/runs/{run_id}/action", delay=0.5))
    session = requests.Session()
    token = form_token(_page(session, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod"))
    url = f"{live_server.url}/dataflows/{flow_id}/runs/{run_id}/retry?sandbox=prod"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda _: session.post(url, data={"csrf_token": token}, allow_redirects=False, timeout=10), range(2)
            )
        )
    assert sorted(a.status_code for a in answers) == [303, 409]
    assert len(_posts(fresh_emulator, f"/runs/{run_id}/action")) == 1


def test_a_refused_retry_gives_the_run_back(live_server, fresh_emulator, flow):
    flow_id, run_id = _failed_run(Maker(fresh_emulator), flow.create_connection("prod", body("Refused")).id)
    fresh_emulator.inject(
        Fault(
            "POST",
            f"/runs/{run_id}/action",
            status=400,
            body={"type": "https://ns.adobe.com/aep/errors/FLOW-1100-400", "title": "Invalid request", "status": 400},
        )
    )
    session = requests.Session()
    assert _press(session, live_server, flow_id, f"runs/{run_id}/retry").status_code == 400
    assert _press(session, live_server, flow_id, f"runs/{run_id}/retry").status_code == 303


def test_a_lost_answer_to_a_retry_finds_the_new_run(live_server, fresh_emulator, flow):
    flow_id, run_id = _failed_run(Maker(fresh_emulator), flow.create_connection("prod", body("Lost retry")).id)
    fresh_emulator.inject(Fault("POST", f"/runs/{run_id}/action", drop=True, after_handling=True))
    session = requests.Session()
    retried = _press(session, live_server, flow_id, f"runs/{run_id}/retry")
    assert retried.status_code == 303, retried.text
    newest = max((r for r in fresh_emulator.runs.values() if r["flowId"] == flow_id), key=lambda r: r["createdAt"])
    assert (
        f"Retried: the new run is {newest['id']}."
        in session.get(live_server.url + retried.headers["Location"], timeout=10).text
    )
    assert len(_posts(fresh_emulator, f"/runs/{run_id}/action")) == 1


def test_a_run_of_another_dataflow_is_not_found_and_nothing_is_sent_or_audited(
    live_server, live_app, fresh_emulator, flow
):
    maker = Maker(fresh_emulator)
    base_id = flow.create_connection("prod", body("Two flows")).id
    _other_flow, other_run = _failed_run(maker, base_id)
    mine = maker.flow(base_id, "Mine")
    answer = _press(requests.Session(), live_server, mine, f"runs/{other_run}/retry")
    assert answer.status_code == 404
    assert not _posts(fresh_emulator, "/action")
    assert not services.of(live_app).store.audit.audit_entries(action="retry")


def test_a_run_that_did_not_fail_is_not_retried(live_server, fresh_emulator, flow):
    flow_id, run_id = _failed_run(Maker(fresh_emulator), flow.create_connection("prod", body("Fine")).id, "success")
    answer = _press(requests.Session(), live_server, flow_id, f"runs/{run_id}/retry")
    assert answer.status_code == 409 and "Only a failed run can be retried" in answer.text
    assert not _posts(fresh_emulator, "/action")


# Enable and disable, as the documented call sends them.


def test_enable_and_disable_send_no_body_and_no_content_type(live_server, fresh_emulator, flow):
    flow_id = Maker(fresh_emulator).flow(flow.create_connection("prod", body("Bare")).id, "Bare flow")
    session = requests.Session()
    assert _press(session, live_server, flow_id, "state", enabled="0").status_code == 303
    assert _press(session, live_server, flow_id, "state", enabled="1").status_code == 303
    sent = _posts(fresh_emulator, f"/flows/{flow_id}/action")
    assert [r.query for r in sent] == ["op=disable", "op=enable"]
    assert all(r.body == b"" and "Content-Type" not in r.headers for r in sent)


# Rename, as the update tutorial sends it.


def test_renaming_adds_the_description_as_the_update_tutorial_does(app, client, fresh_emulator, flow):
    made = flow.create_connection("prod", {k: v for k, v in body("No description").items() if k != "description"})
    page = client.get(f"/connections/{made.id}/edit?sandbox=prod").get_data(as_text=True)
    etag = re.search(r'name="etag" type="hidden" value="([^"]+)"', page).group(1)
    renamed = client.post(
        f"/connections/{made.id}/edit?sandbox=prod",
        data={"name": "Now named", "description": "Now described", "etag": etag.replace("&#34;", '"')},
    )
    assert renamed.status_code == 303, renamed.get_data(as_text=True)
    patch = json.loads(next(r for r in fresh_emulator.received if r.method == "PATCH").body)
    assert {"op": "add", "path": "/description", "value": "Now described"} in patch
    assert {"op": "replace", "path": "/name", "value": "Now named"} in patch
    assert fresh_emulator.connections[made.id]["description"] == "Now described"


# The schedule's numbers and times are bounded before anything is sent.


def _schedule_page(live_server, fresh_emulator, base_id) -> Walk:
    walk = Walk(live_server.url, base_id)
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302
    return walk


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("partial_percent", "1e-999999999", "at most two decimals"),
        ("partial_percent", "0.255", "at most two decimals"),
        ("partial_percent", "100.01", "100"),
        ("partial_percent", "1e999999999", "100"),
        ("partial_percent", "0", "more than 0"),
        ("interval", "1441", "15 to 1440"),
        ("interval", "10000", "15 to 1440"),
    ],
)
def test_numbers_on_the_schedule_are_bounded_beside_their_field(live_server, fresh_emulator, flow, field, value, says):
    walk = _schedule_page(live_server, fresh_emulator, flow.create_connection("prod", body("Numbers")).id)
    refused = walk.schedule(**{"frequency": "minute", "interval": "15", field: value})
    assert refused.status_code == 400
    assert says in _field_error(refused.text, field)
    assert f'value="{value}"' in refused.text  # what was typed stays
    assert not _posts(fresh_emulator, "/flows")


@pytest.mark.parametrize(
    ("frequency", "interval", "ok"),
    [
        ("hour", "744", True),
        ("hour", "745", False),
        ("day", "365", True),
        ("day", "366", False),
        ("week", "52", True),
        ("week", "53", False),
        ("minute", "14", False),
        ("minute", "1440", True),
    ],
)
def test_each_frequency_has_its_bounds(live_server, fresh_emulator, flow, frequency, interval, ok):
    walk = _schedule_page(live_server, fresh_emulator, flow.create_connection("prod", body("Bounds")).id)
    assert walk.schedule(frequency=frequency, interval=interval).status_code == (302 if ok else 400)


def test_the_first_run_is_neither_long_past_nor_years_ahead(live_server, fresh_emulator, flow):
    walk = _schedule_page(live_server, fresh_emulator, flow.create_connection("prod", body("Times")).id)
    now = datetime.datetime.now(datetime.UTC)
    for moment, says in (
        (now - datetime.timedelta(days=2), "more than a day in the past"),
        (now + datetime.timedelta(days=400), "more than a year away"),
        (datetime.datetime(2100, 1, 1), "more than a year away"),
    ):
        refused = walk.schedule(start=moment.strftime("%Y-%m-%dT%H:%M"), timezone="UTC")
        assert refused.status_code == 400 and says in _field_error(refused.text, "start")
    assert walk.schedule(start=f"{FIRST_DAY}T09:30").status_code == 302


def test_the_threshold_sent_is_the_one_typed(live_server, fresh_emulator, flow):
    walk = _schedule_page(live_server, fresh_emulator, flow.create_connection("prod", body("Threshold")).id)
    assert walk.schedule(partial_percent="2.50").status_code == 302
    assert walk.send("create", {}).status_code == 302
    sent = json.loads(_posts(fresh_emulator, "/flows")[0].body)
    assert sent["options"]["partialIngestionPercent"] == 2.5


# What a source connection and a flow carry.


def test_source_connection_columns_carry_only_adobes_keys(live_server, fresh_emulator, flow):
    walk = _schedule_page(live_server, fresh_emulator, flow.create_connection("prod", body("Keys")).id)
    assert walk.schedule().status_code == 302
    assert walk.send("create", {}).status_code == 302
    columns = json.loads(_posts(fresh_emulator, "/sourceConnections")[0].body)["params"]["columns"]
    assert columns and all(set(c) <= {"name", "type", "xdm", "meta:xdmType"} for c in columns)
    assert {
        "name": "created_at",
        "type": "string",
        "meta:xdmType": "date-time",
        "xdm": {"type": "string", "format": "date-time"},
    } in columns


@pytest.mark.parametrize(("delta", "date_format"), [("joined_on", "YYYY-MM-DD"), ("changed_at", "yyyy-MM-dd HH:mm:ss")])
def test_the_delta_columns_date_format_follows_its_type(live_server, fresh_emulator, flow, delta, date_format):
    walk = Walk(live_server.url, flow.create_connection("prod", body("Formats")).id, table="sales.odd_names")
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302
    assert walk.schedule(delta_column=delta).status_code == 302
    assert walk.send("create", {}).status_code == 302
    copy = json.loads(_posts(fresh_emulator, "/flows")[0].body)["transformations"][0]
    assert copy["params"]["deltaColumn"] == {"name": delta, "dateFormat": date_format, "timezone": "UTC"}


def test_columns_with_dots_spaces_dashes_and_accents_map_to_the_right_field(live_server, fresh_emulator, flow):
    walk = Walk(live_server.url, flow.create_connection("prod", body("Odd names")).id, table="sales.odd_names")
    walk.dataset(fresh_emulator)
    page = walk.get("mapping").text
    names = {name: int(i) for i, name in re.findall(r'<label class="label" for="column_(\d+)">([^<(]+?) \(', page)}
    chosen = {
        f"column_{names['order.id']}": "_emulatortenant.loyaltyId",
        f"column_{names['first name']}": "person.name.firstName",
        f"column_{names['a-b']}": "person.name.lastName",
        f"column_{names['ümlaut']}": "personalEmail.address",
    }
    cleared = {f"column_{i}": "" for i in names.values()}
    mapped = walk.send("mapping", {**cleared, **chosen})
    assert mapped.status_code == 302, _field_errors(mapped.text)
    validated = json.loads(_posts(fresh_emulator, "/mappingSets/validate")[-1].body)["mappings"]
    assert {(m["source"], m["destination"]) for m in validated} == {
        ("${order\\.id}", "_emulatortenant.loyaltyId"),
        ("${first name}", "person.name.firstName"),
        ("${a-b}", "person.name.lastName"),
        ("ümlaut", "personalEmail.address"),
    }
    assert walk.schedule(delta_column="changed_at").status_code == 302
    made = walk.send("create", {})
    assert made.status_code == 302, made.text  # the flow's source columns are the mapping's sources, unwrapped
    assert len(fresh_emulator.flows) == 1


def _field_errors(page: str) -> list[str]:
    return re.findall(r'class="error" id="([^"]+)-error">(.*?)</p>', page, re.S)


# Scope: only what the portal offers is acted on.


def _foreign_flow(emulator, base_id: str, inherited: bool, target_spec: str = DATA_LAKE) -> str:
    """A dataflow made elsewhere with the same technical account, put straight into Flow Service's state."""
    now = int(time.time() * 1000)
    base = emulator.connections[base_id]
    common = {
        "createdAt": now,
        "updatedAt": now,
        "createdBy": "elsewhere",
        "createdClient": "elsewhere",
        "sandboxName": "prod",
        "sandboxId": str(uuid.uuid5(uuid.NAMESPACE_DNS, "prod")),
        "imsOrgId": emulator.org_id,
        "etag": '"1"',
        "version": '"1"',
        "state": "enabled",
        "description": "",
    }
    source = {
        **common,
        "id": str(uuid.uuid4()),
        "name": "bucket source",
        "baseConnectionId": base_id,
        "connectionSpec": base["connectionSpec"],
        "data": {"format": "parquet"},
        "params": {"path": "/in"},
    }
    target = {
        **common,
        "id": str(uuid.uuid4()),
        "name": "elsewhere target",
        "connectionSpec": {"id": target_spec, "version": "1.0"},
        "params": {},
    }
    flow = {
        **common,
        "id": str(uuid.uuid4()),
        "name": "Made elsewhere",
        "flowSpec": {"id": str(uuid.uuid4()), "version": "1.0"},
        "sourceConnectionIds": [source["id"]],
        "targetConnectionIds": [target["id"]],
        "scheduleParams": {"startTime": int(time.time()) + 3600, "frequency": "once"},
        "transformations": [{"name": "Copy", "params": {"deltaColumn": {"name": "changed_at"}}}],
    }
    if inherited:
        flow["inheritedAttributes"] = {
            "sourceConnections": [
                {
                    "id": source["id"],
                    "connectionSpec": source["connectionSpec"],
                    "baseConnection": {"id": base_id, "connectionSpec": base["connectionSpec"]},
                }
            ],
            "targetConnections": [{"id": target["id"], "connectionSpec": target["connectionSpec"]}],
        }
    emulator.source_connections[source["id"]] = source
    emulator.target_connections[target["id"]] = target
    emulator.flows[flow["id"]] = flow
    return flow["id"]


@pytest.mark.parametrize("inherited", [True, False])
@pytest.mark.parametrize(
    ("action", "data"), [("state", {"enabled": "0"}), ("run", {}), ("runs/" + "0" * 36 + "/retry", {})]
)
def test_a_dataflow_from_another_kind_of_source_is_read_only(
    live_server, live_app, fresh_emulator, inherited, action, data
):
    flow_id = _foreign_flow(fresh_emulator, s3_connection(live_app), inherited)
    session = requests.Session()
    page = _page(session, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    assert "read-only" in page and "Disable dataflow" not in page and "Run now" not in page
    answer = _press(session, live_server, flow_id, action, **data)
    assert answer.status_code == 403 and "read-only here" in answer.text
    assert not _posts(fresh_emulator, "/action") and not _posts(fresh_emulator, "/runs")
    assert fresh_emulator.flows[flow_id]["state"] == "enabled"


def test_a_destinations_dataflow_is_read_only_even_from_a_database(live_server, live_app, fresh_emulator, flow):
    base_id = flow.create_connection("prod", body("Database")).id
    flow_id = _foreign_flow(fresh_emulator, base_id, True, target_spec=str(uuid.uuid4()))
    answer = _press(requests.Session(), live_server, flow_id, "state", enabled="0")
    assert answer.status_code == 403 and not _posts(fresh_emulator, "/action")


def test_no_dataflow_is_made_from_a_read_only_connection(live_server, live_app, fresh_emulator):
    connection_id = s3_connection(live_app)
    session = requests.Session()
    explore = _page(
        session, f"{live_server.url}/connections/{connection_id}/explore?sandbox=prod&table=public.customers"
    )
    assert "Create a dataflow from this table" not in explore
    token = form_token(_page(session, f"{live_server.url}/sources/redshift"))
    started = session.post(
        f"{live_server.url}/connections/{connection_id}/dataflows/new?sandbox=prod",
        data={"csrf_token": token, "table": "public.customers"},
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 403 and "read-only" in started.text
    assert not [
        r
        for r in fresh_emulator.received
        if r.method == "POST" and "/flowservice/" in r.path and not r.path.endswith("/flowservice/connections")
    ]
    assert sum(r.path.endswith("/explore") for r in fresh_emulator.received) == 1  # the page's own, not the start's
    assert not services.of(live_app).store.drafts.open_drafts(None)


# Drafts: fixed once creating, taken over after a dead request, bounded per person.


def _ready(live_server, fresh_emulator, base_id) -> Walk:
    walk = _schedule_page(live_server, fresh_emulator, base_id)
    assert walk.schedule().status_code == 302
    return walk


def test_a_step_sent_while_the_dataflow_is_being_created_is_refused_clearly(
    live_server, live_app, fresh_emulator, flow
):
    walk = _ready(live_server, fresh_emulator, flow.create_connection("prod", body("Racing")).id)
    store = services.of(live_app).store
    mapping = walk.get("mapping").text
    assert store.drafts.start_chain(walk.key, 120)  # another tab pressed Create
    sent = walk.session.post(
        f"{walk.url}/mapping",
        data={"csrf_token": form_token(mapping), "column_0": ""},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 409 and "your change was not saved" in sent.text
    # Every step leads to the review, and the review shows the draft: never a loop of redirects.
    for step in ("dataset", "mapping", "schedule"):
        assert walk.get(step).url.endswith("/review")
    review = walk.get("review")
    assert review.status_code == 200 and "Another request is creating this dataflow" in review.text


def test_create_refuses_a_draft_changed_since_its_review(live_server, live_app, fresh_emulator, flow):
    walk = _ready(live_server, fresh_emulator, flow.create_connection("prod", body("Changed")).id)
    review = walk.get("review").text
    revision = re.search(r'name="revision" type="hidden" value="([^"]+)"', review).group(1)
    assert walk.schedule(name="Renamed in another tab").status_code == 302
    sent = walk.session.post(
        f"{walk.url}/create",
        data={"csrf_token": form_token(review), "revision": revision},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 409 and "changed since that page was shown" in sent.text
    assert not fresh_emulator.received[-1].method == "POST" and not _posts(fresh_emulator, "/flows")
    assert walk.send("create", {}).status_code == 302  # reviewed again: made
    assert json.loads(_posts(fresh_emulator, "/flows")[0].body)["name"] == "Renamed in another tab"


def test_a_draft_left_creating_by_a_dead_request_is_taken_over_when_its_lease_ends(
    live_server, live_app, fresh_emulator, flow
):
    walk = _ready(live_server, fresh_emulator, flow.create_connection("prod", body("Dead")).id)
    store = services.of(live_app).store
    assert store.drafts.start_chain(walk.key, 0.01)  # a request took the chain, then died
    time.sleep(0.05)
    review = walk.get("review").text
    assert "stopped without an answer" in review and "Continue with the same objects" in review
    made = walk.send("create", {})
    assert made.status_code == 302 and "/dataflows/" in made.headers["Location"]
    assert len(fresh_emulator.flows) == 1


def test_a_person_has_a_bounded_number_of_open_drafts_and_each_start_is_audited(
    live_server, live_app, fresh_emulator, flow
):
    base_id = flow.create_connection("prod", body("Many")).id
    session = requests.Session()
    token = form_token(
        _page(session, f"{live_server.url}/connections/{base_id}/explore?sandbox=prod&table=public.orders")
    )

    def start():
        return session.post(
            f"{live_server.url}/connections/{base_id}/dataflows/new?sandbox=prod",
            data={"csrf_token": token, "table": "public.orders"},
            allow_redirects=False,
            timeout=10,
        )

    started = [start() for _ in range(MOST_OPEN_DRAFTS)]
    assert {answer.status_code for answer in started} == {302}
    refused = start()
    assert refused.status_code == 409 and "No new draft was started" in refused.text
    assert refused.text.count("Discard</button>") == MOST_OPEN_DRAFTS
    store = services.of(live_app).store
    assert len(store.drafts.open_drafts(None)) == MOST_OPEN_DRAFTS
    assert len(store.audit.audit_entries(action="start-dataflow")) == MOST_OPEN_DRAFTS
    first = Walk.__new__(Walk)
    first.session, first.url = session, live_server.url + started[0].headers["Location"].rsplit("/", 1)[0]
    assert first.send("discard", {}).status_code == 303
    assert start().status_code == 302
    assert store.audit.audit_entries(action="discard-dataflow")[0]["outcome"] == "ok"
