"""Creating a dataflow from a table: the steps, the requests they send, and the chain made exactly once."""

from __future__ import annotations

import concurrent.futures
import datetime
import re
import zoneinfo

import pytest
import requests

from app import create_app, services
from app.emulator import Fault

from .helpers.dataflows import FIRST_DAY, FIRST_RUN, Walk, form_token, suggested
from .helpers.forms import connection_body as body
from .helpers.live import IN_TIME, LiveServer, settings_for
from .helpers.openapi_check import Checked, load_openapi
from .helpers.pages import DataflowWalkPage

PATHS = {
    "source_id": "/sourceConnections",
    "target_id": "/targetConnections",
    "mapping_id": "/mappingSets",
    "flow_id": "/flows",
}


@pytest.fixture
def base(live_app):
    return services.of(live_app).connections.create_connection("prod", body("Warehouse")).id


def _objects(emulator) -> dict[str, int]:
    return {
        "source": len(emulator.source_connections),
        "target": len(emulator.target_connections),
        "mapping": len(emulator.mapping_sets),
        "flow": len(emulator.flows),
    }


def _posts(emulator, path: str) -> int:
    return sum(1 for r in emulator.received if r.method == "POST" and r.path.endswith(path))


def _ready(live_server, emulator, base, **schedule) -> Walk:
    walk = Walk(live_server.url, base)
    walk.dataset(emulator)
    assert walk.mapping().status_code == 302
    assert walk.schedule(**schedule).status_code == 302
    return walk


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_from_a_table_to_a_dataflow_every_call_documented(live_server, live_app, fresh_emulator, base):
    checker = Checked(load_openapi())
    services.of(live_app).gateway.session.observers.append(checker)
    walk = Walk(live_server.url, base)
    page = walk.get("dataset")
    assert page.status_code == 200 and "Loyalty members" in page.text and "Web orders" in page.text
    dataset_id = walk.dataset(fresh_emulator)
    mapping = walk.get("mapping").text
    # Suggested by name and type; the identity fields marked as the schema's descriptors mark them.
    fields = suggested(mapping)
    assert fields["column_1"] == "personalEmail.address" and fields["column_2"] == "person.name.firstName"
    assert "identity LoyaltyId (primary)" in mapping and "The schema's primary identity is" in mapping
    # The schema's fields are offered once, in a datalist, however many columns there are.
    # (one input per column; constants appear one by one, with "Add a constant")
    assert mapping.count('<datalist id="xdm-fields">') == 1 and mapping.count('list="xdm-fields"') == 4
    assert walk.mapping({"constant_path_0": "_emulatortenant.points", "constant_value_0": "10"}).status_code == 302
    schedule = walk.get("schedule").text
    # Only timestamp columns can be the delta column.
    delta = re.search(r'<select[^>]*name="delta_column".*?</select>', schedule, re.S).group(0)
    assert "created_at" in delta and "email" not in delta
    assert walk.schedule(partial_percent="5", error_diagnostics="y").status_code == 302
    review = walk.get("review")
    text = _text(review.text)
    first = datetime.datetime.fromisoformat(FIRST_RUN).replace(tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    in_utc = first.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert f"every 1 hour, first at {FIRST_DAY} 09:30 Europe/Paris" in text and in_utc in text
    assert review.text.count("curl -X POST") == 4 and "{SOURCE_CONNECTION_ID}" in review.text
    made = walk.send("create", {})
    assert made.status_code == 302 and "/dataflows/" in made.headers["Location"]
    flow_id = made.headers["Location"].split("/dataflows/")[1].split("?")[0]
    flow = fresh_emulator.flows[flow_id]
    start = int(first.timestamp())
    assert flow["scheduleParams"] == {"startTime": start, "frequency": "hour", "interval": "1", "backfill": True}
    assert flow["options"] == {"errorDiagnosticsEnabled": True, "partialIngestionPercent": 5}
    assert flow["transformations"][0]["params"]["deltaColumn"]["name"] == "created_at"
    target = fresh_emulator.target_connections[flow["targetConnectionIds"][0]]
    assert target["params"]["dataSetId"] == dataset_id
    mapping_set = fresh_emulator.mapping_sets[flow["transformations"][1]["params"]["mappingId"]]
    assert {"sourceType": "STATIC", "source": "10", "destination": "_emulatortenant.points"} in mapping_set["mappings"]
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    page = requests.get(live_server.url + made.headers["Location"], timeout=10)
    assert page.status_code == 200 and "Customers hourly" in page.text
    # Every Catalog, Schema Registry, Data Prep and Flow Service call was checked against Adobe's documents.
    assert len(checker.checked) >= 12
    audit = services.of(live_app).store.audit.audit_entries(action="create-dataflow")
    assert audit[0]["outcome"] == "ok" and flow_id in audit[0]["detail"]
    # Back to a step of a made dataflow leads to the dataflow, never to a second one.
    again = walk.get("schedule")
    assert again.url.endswith(made.headers["Location"].split("/", 3)[-1]) or flow_id in again.url
    assert walk.send("create", {}).status_code == 302 and _posts(fresh_emulator, "/flows") == 1


@pytest.mark.read_timeout(IN_TIME)  # the delay widens the window; the answer still comes in time
def test_a_double_submit_makes_one_chain(live_server, fresh_emulator, base):
    walk = _ready(live_server, fresh_emulator, base)
    fresh_emulator.inject(Fault("POST", "/sourceConnections", delay=0.8))
    review = walk.get("review").text
    sent = {
        "csrf_token": form_token(review),
        "revision": re.search(r'name="revision" type="hidden" value="([^"]+)"', review).group(1),
    }

    def press():
        return walk.session.post(f"{walk.url}/create", data=sent, allow_redirects=False, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: press(), range(2)))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    assert all(_posts(fresh_emulator, path) == 1 for path in PATHS.values())


@pytest.mark.parametrize("step", list(PATHS))
def test_a_lost_answer_at_any_step_is_looked_up_and_the_chain_goes_on(
    live_server, live_app, fresh_emulator, base, step
):
    walk = _ready(live_server, fresh_emulator, base)
    checker = Checked(load_openapi())  # the look-ups too are calls Adobe documents
    services.of(live_app).gateway.session.observers.append(checker)
    # The object is made, then the connection drops before its answer arrives.
    fresh_emulator.inject(Fault("POST", PATHS[step], drop=True, after_handling=True))
    made = walk.send("create", {})
    assert made.status_code == 302, _text(made.text)
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    assert _posts(fresh_emulator, PATHS[step]) == 1  # never sent again blindly
    assert ("GET", 200) in checker.checked


@pytest.mark.parametrize("step", list(PATHS))
def test_a_failure_at_any_step_stops_then_continue_uses_the_same_objects(
    live_server, live_app, fresh_emulator, base, step
):
    walk = _ready(live_server, fresh_emulator, base)
    fresh_emulator.inject(Fault("POST", PATHS[step], status=503, body={"title": "Service Unavailable"}, times=4))
    stopped = walk.send("create", {})
    assert stopped.status_code == 502
    text = _text(stopped.text)
    assert "Creating stopped" in text and "Continue with the same objects" in text
    before = _objects(fresh_emulator)
    assert before[step.split("_")[0]] == 0 and (step == "flow_id") == (sum(before.values()) == 3)
    entries = services.of(live_app).store.audit.audit_entries(action="create-dataflow")
    assert entries[0]["outcome"] == "failed"
    fresh_emulator.faults.clear()
    made = walk.send("create", {})
    assert made.status_code == 302, _text(made.text)
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    assert _posts(fresh_emulator, PATHS[step]) == 2  # refused once, then made
    for other, path in PATHS.items():
        if other != step:  # made before the stop (or not reached): sent once
            assert _posts(fresh_emulator, path) == 1, other


def test_remove_what_was_made_deletes_in_reverse_order(live_server, live_app, fresh_emulator, base):
    walk = _ready(live_server, fresh_emulator, base)
    fresh_emulator.inject(
        Fault(
            "POST",
            "/flows",
            status=400,
            body={
                "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
                "title": "Invalid request",
                "status": 400,
                "report": {"detailed-message": "No.", "request-id": "r"},
                "errorMessage": "No.",
            },
        )
    )
    stopped = walk.send("create", {})
    assert stopped.status_code == 502 and "The dataflow was not created" in _text(stopped.text)
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 0}
    token = form_token(stopped.text)
    removed = walk.send("remove", {})
    assert removed.status_code == 200, _text(removed.text)
    assert "What this draft made was deleted, except its mapping set" in _text(removed.text)
    assert _objects(fresh_emulator) == {"source": 0, "target": 0, "mapping": 1, "flow": 0}
    deletions = [r.path.rsplit("/", 2)[1] for r in fresh_emulator.received if r.method == "DELETE"]
    assert deletions == ["targetConnections", "sourceConnections"]
    assert services.of(live_app).store.audit.audit_entries(action="remove-dataflow")[0]["outcome"] == "ok"
    # A removed draft creates nothing more, whatever is sent.
    again = walk.session.post(f"{walk.url}/create", data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert again.status_code == 302 and _posts(fresh_emulator, "/flows") == 1


def test_data_prep_refusals_and_our_checks_are_next_to_each_row(live_server, fresh_emulator, base):
    walk = Walk(live_server.url, base)
    walk.dataset(fresh_emulator)
    # A text constant for an integer field: Data Prep refuses it, and says so beside the row.
    refused = walk.mapping({"constant_path_0": "_emulatortenant.points", "constant_value_0": "lots"})
    assert refused.status_code == 400
    error = re.search(r'id="constant_path_0-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "Data Prep refused this" in error and "lots" in error
    assert 'id="column_1-verdict">Data Prep accepted this.' in refused.text
    assert 'value="lots"' in refused.text  # what was typed stays
    # Two columns for one field, and a type that cannot fit: refused before Data Prep is asked.
    asked = _posts(fresh_emulator, "/mappingSets/validate")
    twice = walk.mapping({"column_0": "person.name.firstName"})
    assert twice.status_code == 400 and "already takes the column" in twice.text
    mismatch = walk.mapping({"column_1": "_emulatortenant.points"})
    assert mismatch.status_code == 400 and "A string column cannot fill _emulatortenant.points" in _text(mismatch.text)
    nothing = walk.mapping({f"column_{i}": "" for i in range(4)})
    assert nothing.status_code == 400 and "Map at least one column" in nothing.text
    assert _posts(fresh_emulator, "/mappingSets/validate") == asked
    forged = walk.mapping({"column_0": "not.a.field"})
    assert forged.status_code == 400 and "Choose a field of the schema from the list" in forged.text


def test_schedule_refusals_name_their_field(live_server, fresh_emulator, base):
    walk = Walk(live_server.url, base)
    walk.dataset(fresh_emulator)
    walk.mapping()
    cases = {
        "interval": dict(frequency="minute", interval="10"),
        "start": dict(start="1999-12-31T23:00"),
        "timezone": dict(timezone="Mars/Olympus"),
        "partial_percent": dict(partial_percent="0"),
        "delta_column": dict(delta_column="email"),
        "name": dict(name=""),
    }
    for field, change in cases.items():
        answer = walk.schedule(**change)
        assert answer.status_code == 400, field
        assert f'id="{field}-error"' in answer.text, field
    assert "Adobe requires an interval of 15 or more" in walk.schedule(frequency="minute", interval="14").text
    assert walk.schedule(frequency="minute", interval="15").status_code == 302
    assert walk.schedule(frequency="once", interval=None, backfill=None).status_code == 302


def test_a_table_without_a_timestamp_says_it_cannot_feed_a_dataflow(live_server, fresh_emulator, base):
    # Said on the table's page, before any step, with no button to start one.
    explore = requests.get(f"{live_server.url}/connections/{base}/explore?sandbox=prod&table=sales.returns", timeout=10)
    assert 'id="no-delta"' in explore.text and "This table cannot feed a dataflow." in explore.text
    assert "Create a dataflow from this table" not in explore.text
    usable = requests.get(f"{live_server.url}/connections/{base}/explore?sandbox=prod&table=public.orders", timeout=10)
    assert 'id="no-delta"' not in usable.text and "Create a dataflow from this table" in usable.text
    # A draft started all the same (an old page, a script) meets the same rule at the schedule.
    walk = Walk(live_server.url, base, table="sales.returns", token_table="public.orders")
    walk.dataset(fresh_emulator, "Web orders")
    walk.mapping()
    page = walk.get("schedule")
    assert page.status_code == 200 and "has no timestamp column" in page.text and 'name="frequency"' not in page.text


def test_datasets_are_paged_and_searched(live_server, fresh_emulator, base):
    template = next(
        d for d in fresh_emulator.datasets.values() if d["sandboxName"] == "prod" and d["name"] == "Loyalty members"
    )
    for n in range(23):
        fresh_emulator.datasets[f"bulk{n:02d}"] = {
            **template,
            "id": f"bulk{n:02d}",
            "name": f"Bulk {n:02d}",
            "sandboxName": "prod",
        }
    walk = Walk(live_server.url, base)
    first = walk.get("dataset").text
    assert first.count('type="radio" name="dataset"') == 10 and "Next 10" in first
    second = walk.get("dataset", start="10").text
    assert "Bulk 10" in second and "Previous 10" in second
    found = walk.get("dataset", q="bulk 2").text
    assert found.count('type="radio" name="dataset"') == 3 and "Bulk 21" in found
    schema = walk.get("dataset", q="loyalty", schema=template["id"]).text
    assert "personalEmail.address" in schema and "identity LoyaltyId, primary" in schema
    odd = walk.get("dataset", q="a|b")
    assert odd.status_code == 200 and "letters, digits, spaces" in odd.text
    assert all("property=name~" not in r.query or "%7C" not in r.query for r in fresh_emulator.received)


def test_another_persons_draft_does_not_exist_for_them(fresh_emulator):
    server = LiveServer(
        create_app(settings_for(fresh_emulator, auth="proxy", trusted_user_header="X-Forwarded-Email", proxy_count=1))
    )
    base = services.of(server.app).connections.create_connection("prod", body("Shared")).id
    ada = requests.Session()
    ada.headers["X-Forwarded-Email"] = "ada@example.com"
    walk = Walk(server.url, base, session=ada)
    walk.dataset(fresh_emulator)
    assert walk.get("mapping").status_code == 200
    eve = requests.Session()
    eve.headers["X-Forwarded-Email"] = "eve@example.com"
    for step in ("dataset", "mapping", "schedule", "review"):
        assert eve.get(f"{walk.url}/{step}", timeout=10).status_code == 404, step
    assert "Shared" not in eve.get(f"{walk.url}/mapping", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', eve.get(server.url + "/").text)
    assert eve.post(
        f"{walk.url}/create", data={"csrf_token": token.group(1) if token else ""}, timeout=10
    ).status_code in (400, 404)
    server.stop()


@pytest.mark.browser
def test_in_chromium_from_a_table_to_a_watched_dataflow_and_back_to_nothing(page, live_server, fresh_emulator, base):
    walk = DataflowWalkPage(page, live_server.url)  # axe on every page of the way
    walk.open_table(base, "public.customers")
    assert page.locator("#no-preview").is_visible()
    walk.start_dataflow()
    walk.show_fields("Loyalty members")
    assert page.get_by_text("identity LoyaltyId, primary").is_visible()
    walk.choose_dataset("Loyalty members")
    walk.map_constant("_emulatortenant.points", "many", refused=True)
    assert "Data Prep refused this" in page.locator("#constant_path_0-error").inner_text()
    walk.map_constant("_emulatortenant.points", "250")
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    walk.schedule(
        name="Customers into loyalty, by the browser",
        every_minutes="15",
        first_run=moment.strftime("%Y-%m-%dT%H:%M"),
        time_zone="UTC",
    )
    assert page.locator("pre").count() == 4
    flow_id = walk.create(by_keyboard=True)
    assert flow_id and walk.state() == "enabled"
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    # A run fails fifteen minutes on, in emulator time; retry it, then disable the dataflow.
    requests.post(f"{fresh_emulator.url}/_emulator/runs", json={"flowId": flow_id, "outcomes": ["failed"]}, timeout=5)
    requests.post(f"{fresh_emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5)
    page.reload()
    assert walk.run_shown("Failed")
    walk.retry_run()
    walk.disable("Customers into loyalty, by the browser")
    # Delete the whole chain from its connection.
    walk.to_delete_page()
    walk.delete_connection("Warehouse")
    assert not fresh_emulator.flows and not fresh_emulator.source_connections and not fresh_emulator.target_connections


@pytest.mark.browser
def test_the_schedule_starts_in_the_browsers_time_zone_and_says_so(browser, live_server, fresh_emulator, base):
    walk = Walk(live_server.url, base)
    walk.dataset(fresh_emulator)
    walk.mapping()
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{walk.url}/schedule")
    assert page.get_by_label("Time zone").input_value() == "Asia/Tokyo"
    page.get_by_label("First run").fill(f"{FIRST_DAY}T09:00")
    page.get_by_role("button", name="Review").click()
    page.wait_for_url("**/review")
    # Tokyo keeps no summer time: 09:00 there is always 00:00 UTC.
    assert f"first at {FIRST_DAY} 09:00 Asia/Tokyo (sent as {FIRST_DAY} 00:00 UTC" in page.locator("main").inner_text()
    context.close()
    # Once chosen, the zone is the person's: no more guessing.
    again = walk.get("schedule").text
    assert "data-guess-zone" not in again and '<option selected value="Asia/Tokyo">' in again


def test_an_unconfirmed_step_whose_look_up_failed_too_is_looked_up_before_it_is_sent_again(
    live_server, fresh_emulator, base
):
    walk = _ready(live_server, fresh_emulator, base)
    # The target connection is made but its answer is lost, and Flow Service cannot list target connections.
    fresh_emulator.inject(Fault("POST", "/targetConnections", drop=True, after_handling=True))
    fresh_emulator.inject(Fault("GET", "/targetConnections", status=500, times=4))
    stopped = walk.send("create", {})
    assert stopped.status_code == 502 and "looking for it failed too" in _text(stopped.text)
    assert len(fresh_emulator.target_connections) == 1
    fresh_emulator.faults.clear()
    made = walk.send("create", {})
    assert made.status_code == 302, _text(made.text)
    assert _objects(fresh_emulator) == {"source": 1, "target": 1, "mapping": 1, "flow": 1}
    assert _posts(fresh_emulator, "/targetConnections") == 1


def test_forged_values_in_the_steps_are_refused_beside_their_field(live_server, fresh_emulator, base):
    walk = Walk(live_server.url, base)
    other_sandbox = next(d["id"] for d in fresh_emulator.datasets.values() if d["sandboxName"] == "dev")
    for forged, words in (
        (other_sandbox, "not in this sandbox any more"),
        ("../x", "Choose one of the datasets"),
        ("", "Choose the dataset the dataflow writes to"),
    ):
        answer = walk.send("dataset", {"dataset": forged})
        assert answer.status_code == 400 and words in answer.text, forged
    schemaless = {
        **next(d for d in fresh_emulator.datasets.values() if d["sandboxName"] == "prod"),
        "id": "noschema0000",
        "name": "Raw files",
    }
    del schemaless["schemaRef"]
    fresh_emulator.datasets["noschema0000"] = schemaless
    answer = walk.send("dataset", {"dataset": "noschema0000"})
    assert answer.status_code == 400 and "follows no XDM schema" in answer.text
    assert "none: a dataflow cannot write to it" in walk.get("dataset", q="raw").text
    # A table Flow Service does not have, or a name too long to be one, opens no draft.
    explore = walk.session.get(
        f"{live_server.url}/connections/{base}/explore?sandbox=prod&table=public.customers", timeout=10
    )
    for table in ("public.nothing", "t" * 600):
        answer = walk.session.post(
            f"{live_server.url}/connections/{base}/dataflows/new?sandbox=prod",
            data={"csrf_token": form_token(explore.text), "table": table},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code in (400, 404), table
    # A key that is not a draft's, however shaped.
    for key in ("x", "a" * 32, "../../etc/passwd" + "a" * 20):
        assert walk.session.get(f"{live_server.url}/dataflows/new/{key}/review", timeout=10).status_code == 404
