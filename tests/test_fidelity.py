"""What the portal sends is what Adobe's documents allow: search with `==` only, names never confused, one error
type."""

from __future__ import annotations

import html
import re
import time
import uuid
from urllib.parse import parse_qsl

import pytest
import requests

from app import services
from app.adobe import AdobeError
from app.adobe.connections import SEARCH_CAP
from app.emulator import Fault
from app.sources import SOURCES

from .helpers.dataflows import Maker
from .helpers.forms import form_data
from .helpers.live import SLOW
from .helpers.markup import csrf_token
from .helpers.openapi_check import Checked, load_openapi

REDSHIFT = SOURCES["redshift"].connection_spec_id
POSTGRESQL = SOURCES["postgresql"].connection_spec_id
# Names whose characters Flow Service's filter syntax could misread, or a URL could.
TRICKY_NAMES = [
    "finance-dwh,mallory",
    'finance-dwh"',
    "finance-dwh'",
    "finance-dwh==x",
    "finance-dwh&x",
    "finance-dwh#x",
    "finance-dwh ",
    "Финансы-dwh",
    "finance-dwh,",
]


def redshift_body(name: str) -> dict:
    return {
        "name": name,
        "auth": {
            "specName": "Basic Authentication",
            "params": {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "u", "password": "p"},
        },
        "connectionSpec": {"id": REDSHIFT, "version": "1.0"},
    }


def seed(emulator, count: int, name=lambda n: f"bulk {n:04d}", age_ms: int = 0) -> None:
    """Put `count` connections straight into the emulator's store, oldest first (Adobe's data, not ours)."""
    now = int(time.time() * 1000) - age_ms
    with emulator._lock:
        for n in range(count):
            connection_id = str(uuid.uuid4())
            emulator.connections[connection_id] = {
                "id": connection_id,
                "createdAt": now - (count - n) * 1000,
                "updatedAt": now,
                "name": name(n),
                "description": "",
                "sandboxName": "prod",
                "imsOrgId": emulator.org_id,
                "state": "enabled",
                "connectionSpec": {"id": REDSHIFT, "version": "1.0"},
                "etag": '"1"',
                "version": '"1"',
                "createdBy": emulator.client_id,
                "createdClient": emulator.client_id,
                "auth": {"specName": "Basic Authentication", "params": {"password": "****"}},
            }


def list_queries(emulator) -> list[str]:
    return [r.query for r in emulator.received if r.method == "GET" and r.path.endswith("/connections")]


def filters(emulator) -> list[str]:
    return [value for query in list_queries(emulator) for key, value in parse_qsl(query) if key == "property"]


@pytest.fixture
def flow(app):
    return services.of(app).connections


# Search.


def test_search_finds_parts_of_names_in_any_case_with_only_exact_filters(client, flow, fresh_emulator):
    for name in ("Orders EU", "orders US", "Returns"):
        flow.create_connection("prod", redshift_body(name))
    page = client.get("/connections", query_string={"name": "ORDERS"}).get_data(as_text=True)
    assert "Orders EU" in page and "orders US" in page and "Returns" not in page
    assert filters(fresh_emulator) and all("==" in f and "~" not in f for f in filters(fresh_emulator))
    assert not any(f.startswith("name") for f in filters(fresh_emulator)), "names are matched in the portal"


def test_search_reads_further_pages_until_a_page_of_results_is_full(client, fresh_emulator):
    seed(fresh_emulator, 3, name=lambda n: f"target {n}", age_ms=10_000_000)
    seed(fresh_emulator, 250)  # newer, none matching
    page = client.get("/connections", query_string={"name": "TARGET"}).get_data(as_text=True)
    assert all(f"target {n}" in page for n in range(3))
    assert len(list_queries(fresh_emulator)) == 3 and "Searched the" not in page


def test_search_says_when_the_cap_stopped_it_and_can_go_on(client, fresh_emulator):
    seed(fresh_emulator, 1, name=lambda n: "needle", age_ms=100_000_000)
    seed(fresh_emulator, SEARCH_CAP + 50)
    page = html.unescape(client.get("/connections", query_string={"name": "needle"}).get_data(as_text=True))
    assert f"Searched the newest {SEARCH_CAP} connections" in page and "needle</a>" not in page
    assert "Older connections were not searched yet" in page
    older = re.search(r'href="([^"]+)" rel="next">Search older connections', page).group(1)
    page = html.unescape(client.get(older).get_data(as_text=True))
    assert "needle</a>" in page and "Searched the next" not in page


def test_the_emulator_refuses_the_contains_operator(fresh_emulator, app):
    gateway = services.of(app).gateway
    answer = requests.get(
        f"{gateway.base_url}/connections",
        params={"property": "name~orders"},
        timeout=5,
        headers=gateway.headers("prod", gateway.tokens.token()),
    )
    assert answer.status_code == 400
    assert answer.json()["type"].endswith("FLOW-1440-400") and answer.json()["title"] == "Invalid request"
    assert answer.json()["report"]["detailed-message"] == "Operator '~' not implemented."


# Names that filters could confuse.


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_a_namesake_is_only_a_connection_of_exactly_that_name(client, flow, fresh_emulator, name):
    other = flow.create_connection("prod", redshift_body("finance-dwh"))
    key, data = form_data("redshift", name=name)
    del data["duplicate_ok"]
    response = client.post(f"/sources/{key}", data=data)
    if name.strip() == "finance-dwh":
        # The form trims a name's edge spaces, as Flow Service's UI does: this is finance-dwh itself.
        assert response.status_code == 409 and f"/connections/{other.id}" in response.get_data(as_text=True)
        return
    assert response.status_code == 303, "finance-dwh is not a namesake of " + repr(name)
    assert other.id not in response.headers["Location"]
    same = flow.create_connection("prod", redshift_body(name))
    warned = client.post(f"/sources/{key}", data=data)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 409 and f"/connections/{same.id}" in page and f"/connections/{other.id}" not in page
    assert not any("," in f.split("==", 1)[1] for f in filters(fresh_emulator) if f.startswith("name=="))


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_a_lost_answer_never_recovers_a_different_connection(client, flow, fresh_emulator, name):
    other = flow.create_connection("prod", redshift_body("finance-dwh"))
    fresh_emulator.inject(Fault("POST", "/connections", drop=True))  # dropped before Flow Service acted
    key, data = form_data("redshift", name=name)
    response = client.post(f"/sources/{key}", data=data)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 502 and "unconfirmed" in page and "It was not created" in page
    assert other.id not in page
    audit = app_audit(client)
    assert other.id not in audit and ",ok," not in audit


@pytest.mark.parametrize("name", ["finance-dwh,mallory", "Финансы-dwh", 'a"b'])
def test_a_lost_answer_finds_the_connection_it_made(client, flow, fresh_emulator, name):
    flow.create_connection("prod", redshift_body("finance-dwh"))
    fresh_emulator.inject(Fault("POST", "/connections", drop=True, after_handling=True))
    key, data = form_data("redshift", name=name)
    response = client.post(f"/sources/{key}", data=data)
    made = [c for c in fresh_emulator.connections.values() if c["name"] == name]
    assert response.status_code == 303 and len(made) == 1 and made[0]["id"] in response.headers["Location"]


def test_a_lost_answer_ignores_a_namesake_made_before_the_submission(client, fresh_emulator):
    seed(fresh_emulator, 1, name=lambda n: "Orders warehouse", age_ms=60_000)
    fresh_emulator.inject(Fault("POST", "/connections", drop=True))
    key, data = form_data("redshift")
    response = client.post(f"/sources/{key}", data=data)
    assert response.status_code == 502 and "unconfirmed" in response.get_data(as_text=True)


def test_a_lost_answer_ignores_a_namesake_of_another_source(client, flow, fresh_emulator):
    body = redshift_body("Orders warehouse")
    body["connectionSpec"]["id"] = POSTGRESQL
    body["auth"]["params"] = {
        "server": "pg",
        "port": "5432",
        "database": "d",
        "username": "u",
        "password": "p",
        "sslMode": "Prefer",
    }
    flow.create_connection("prod", body)
    fresh_emulator.inject(Fault("POST", "/connections", drop=True))
    key, data = form_data("redshift")
    assert client.post(f"/sources/{key}", data=data).status_code == 502


def app_audit(client) -> str:
    return client.get("/audit.csv").get_data(as_text=True)


# Explore in lower case.


def test_explore_sends_object_types_in_lower_case(client, flow, fresh_emulator):
    created = flow.create_connection("prod", redshift_body("Explored"))
    client.get(f"/connections/{created.id}/explore")
    client.get(f"/connections/{created.id}/explore", query_string={"table": "public.orders"})
    sent = [r.query for r in fresh_emulator.received if r.path.endswith("/explore")]
    assert sent == ["objectType=root", "objectType=table&object=public.orders"]


# One error contract.

CALLS = {
    "create_connection": lambda c: c.create_connection("prod", redshift_body("Contract")),
    "find_connections": lambda c: c.find_connections("prod", "Contract"),
    "list_connections": lambda c: c.list_connections("prod", [REDSHIFT]),
    "search_connections": lambda c: c.search_connections("prod", [REDSHIFT], "contract"),
    "count_connections": lambda c: c.count_connections("prod", [REDSHIFT], state="enabled"),
    "connections_by_id": lambda c: c.connections_by_id("prod", ["0" * 36]),
    "get_connection": lambda c: c.get_connection("prod", "0" * 36),
    "list_connection_specs": lambda c: c.list_connection_specs("prod"),
    "check_ready": lambda c: c.check_ready("prod", REDSHIFT),
    "test_connection": lambda c: c.test_connection("prod", "0" * 36),
    "explore": lambda c: c.explore("prod", "0" * 36),
    "update_connection": lambda c: c.update_connection(
        "prod", "0" * 36, '"1"', [{"op": "replace", "path": "/name", "value": "x"}]
    ),
    "delete_connection": lambda c: c.delete_connection("prod", "0" * 36),
}
# The gateway's own, which every client's calls go through.
GATEWAY_CALLS = {
    "call": lambda g: g.call("GET", "/connections", "prod", "Listing connections"),
    "send": lambda g: g.send("GET", "/connections", "prod", "Listing connections"),
}
SPOILS = {
    "dropped": {"drop": True},
    "malformed": {"malformed": True, "status": 200},
    "html": {"status": 502, "body": "<html>Bad gateway</html>"},
    "slow": {"delay": SLOW},
}


def test_every_public_method_is_driven_here(app, flow):
    public = {name for name in dir(flow) if not name.startswith("_") and callable(getattr(flow, name))}
    assert public - {"curl_for_create", "list_connections_page"} == set(CALLS)
    gateway = services.of(app).gateway
    public = {name for name in dir(gateway) if not name.startswith("_") and callable(getattr(gateway, name))}
    assert public - {"headers", "curl", "listing_page", "pages", "quotes_secret"} == set(GATEWAY_CALLS)


DATAFLOW_CALLS = {
    "dependents": lambda d: d.dependents("prod", "0" * 36),
    "flow": lambda d: d.flow("prod", "0" * 36),
    "source_connection": lambda d: d.source_connection("prod", "0" * 36),
    "target_connection": lambda d: d.target_connection("prod", "0" * 36),
    "recent_runs": lambda d: d.recent_runs("prod", "0" * 36),
    "set_enabled": lambda d: d.set_enabled("prod", "0" * 36, False),
    "retry_run": lambda d: d.retry_run("prod", "1" * 36, "0" * 36),
    "run": lambda d: d.run("prod", "0" * 36),
    "runs_since": lambda d: d.runs_since("prod", "0" * 36, 0),
    "delete": lambda d: d.delete("prod", "flows", "0" * 36),
    "run_now": lambda d: d.run_now(
        "prod",
        {"id": "0" * 36, "transformations": [{"name": "Copy", "params": {"deltaColumn": {"name": "created_at"}}}]},
        1,
        2,
        3,
    ),
    "flow_spec": lambda d: d.flow_spec("prod", "NotCached"),
    "create": lambda d: d.create("prod", "sourceConnections", {"name": "x"}),
    "find": lambda d: d.find("prod", "flows", "x", "y"),
    "sandbox_flows": lambda d: d.sandbox_flows("prod"),
    "sandbox_runs": lambda d: d.sandbox_runs("prod", 0),
    "update_flow": lambda d: d.update_flow("prod", "0" * 36, '"1"', [{"op": "replace", "path": "/name", "value": "x"}]),
}
# Catalog, the Schema Registry and Data Prep, through the same session and token.
PLATFORM_CALLS = {
    "catalog.page": lambda a: services.of(a).catalog.page("prod", "web"),
    "catalog.dataset": lambda a: services.of(a).catalog.dataset("prod", "a" * 24),
    "schema_registry.schema": lambda a: services.of(a).schema_registry.schema(
        "prod", "https://ns.adobe.com/x/schemas/y"
    ),
    "data_prep.validate": lambda a: services.of(a).data_prep.validate("prod", {"mappings": [{}]}),
    "data_prep.create": lambda a: services.of(a).data_prep.create("prod", {"mappings": [{}]}),
    "data_prep.find": lambda a: services.of(a).data_prep.find("prod", "x"),
    "data_prep.mapping_set_of": lambda a: services.of(a).data_prep.mapping_set_of("prod", "a" * 32),
    "data_prep.update": lambda a: services.of(a).data_prep.update("prod", "a" * 32, {"mappings": [{}]}),
}


@pytest.mark.parametrize("spoil", list(SPOILS))
@pytest.mark.parametrize("method", list(DATAFLOW_CALLS))
def test_every_dataflow_call_raises_only_adobe_error(live_app, fresh_emulator, method, spoil):
    dataflows = services.of(live_app).dataflows
    assert {name for name in dir(dataflows) if not name.startswith("_")} == set(DATAFLOW_CALLS)
    for verb in ("GET", "POST", "DELETE", "PATCH"):
        fresh_emulator.inject(Fault(verb, "", times=50, **SPOILS[spoil]))
    with pytest.raises(AdobeError) as caught:
        DATAFLOW_CALLS[method](dataflows)
    assert caught.value.message and "Traceback" not in caught.value.message


# Every method under the spoils its own parsing meets (a dropped answer, a body that is not JSON); the error page and
# the slow answer, which only the shared call() reads, under one read and one create (each costs seconds of retries).
PLATFORM_SPOILS = [
    (method, spoil)
    for method in PLATFORM_CALLS
    for spoil in SPOILS
    if spoil in ("dropped", "malformed") or method in ("catalog.page", "data_prep.create")
]


@pytest.mark.parametrize(("method", "spoil"), PLATFORM_SPOILS)
def test_every_catalog_schema_and_data_prep_call_raises_only_adobe_error(live_app, fresh_emulator, method, spoil):
    for name in ("catalog", "schema_registry", "data_prep"):
        service = getattr(services.of(live_app), name)
        public = {f"{name}.{m}" for m in dir(service) if not m.startswith("_") and callable(getattr(service, m))}
        assert public <= set(PLATFORM_CALLS), public - set(PLATFORM_CALLS)
    for verb in ("GET", "POST", "PUT"):
        fresh_emulator.inject(Fault(verb, "", times=50, **SPOILS[spoil]))
    with pytest.raises(AdobeError) as caught:
        PLATFORM_CALLS[method](live_app)
    assert caught.value.message and "Traceback" not in caught.value.message


@pytest.mark.parametrize("spoil", list(SPOILS))
@pytest.mark.parametrize("method", [*CALLS, *GATEWAY_CALLS])
def test_every_public_method_raises_only_adobe_error(app, flow, fresh_emulator, method, spoil):
    for verb in ("GET", "POST", "PATCH", "DELETE"):
        fresh_emulator.inject(Fault(verb, "", times=50, **SPOILS[spoil]))
    with pytest.raises(AdobeError) as caught:
        if method in CALLS:
            CALLS[method](flow)
        else:
            GATEWAY_CALLS[method](services.of(app).gateway)
    assert caught.value.message and "Traceback" not in caught.value.message


def test_a_dropped_namesake_check_is_a_clear_page_and_releases_the_claim(client, fresh_emulator):
    key, data = form_data("redshift", submission_id="k" * 20)
    del data["duplicate_ok"]
    fresh_emulator.inject(Fault("GET", "/connections", drop=True, times=10))
    first = client.post(f"/sources/{key}", data=data)
    assert first.status_code in (303, 502)
    fresh_emulator.faults.clear()
    started = time.monotonic()
    again = client.post(f"/sources/{key}", data=data)
    assert time.monotonic() - started < 5 and again.status_code in (303, 409)


def test_an_exception_after_the_claim_releases_it(app, client, fresh_emulator, monkeypatch):
    key, data = form_data("redshift", submission_id="e" * 20)
    flow = services.of(app).connections
    original = flow.create_connection
    monkeypatch.setattr(flow, "create_connection", lambda *a, **k: 1 / 0)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post(f"/sources/{key}", data=data).status_code == 500
    monkeypatch.setattr(flow, "create_connection", original)
    started = time.monotonic()
    assert client.post(f"/sources/{key}", data=data).status_code == 303
    assert time.monotonic() - started < 5


# The error parser reads every documented shape.


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (
            {
                "type": "/placeholder/type/uri",
                "status": 400,
                "title": "BadRequestError",
                "detail": "A valid content-type must be specified",
            },
            "BadRequestError",
            "A valid content-type must be specified",
        ),
        ({"error_code": "403025", "message": "Profile is not valid"}, "403025", "Profile is not valid"),
        (
            {
                "type": "https://ns.adobe.com/aep/errors/FLOW-1413-400",
                "title": "Invalid request",
                "status": 400,
                "report": {"detailed-message": "The spec ID provided is invalid.", "request-id": "r-1"},
            },
            "FLOW-1413-400",
            "The spec ID provided is invalid.",
        ),
        ({"errorMessage": "Something Flow Service said"}, None, "Something Flow Service said"),
    ],
)
def test_the_error_parser_reads_every_documented_shape(flow, fresh_emulator, body, code, words):
    fresh_emulator.inject(Fault("GET", f"/connections/{'0' * 36}", status=400, body=body))
    with pytest.raises(AdobeError) as caught:
        flow.get_connection("prod", "0" * 36)
    assert caught.value.code == code and words in caught.value.message


# Every call the portal makes, through its pages, against the spec and the documents.


def test_every_call_the_portal_makes_is_documented(live_server, live_app, fresh_emulator):
    checker = Checked(load_openapi())
    services.of(live_app).gateway.session.observers.append(checker)
    session = requests.Session()
    url = live_server.url

    def post(path, data, expect):
        page = session.get(url + path, timeout=10).text
        fields = {"csrf_token": csrf_token(page)}
        etag = re.search(r'name="etag"(?: type="hidden")? value="([^"]*)"', page)
        if etag:
            fields["etag"] = html.unescape(etag.group(1))
        submission = re.search(r'name="submission_id" value="([^"]+)"', page)
        if submission:
            fields["submission_id"] = submission.group(1)
        response = session.post(url + path, data={**fields, **data}, allow_redirects=False, timeout=10)
        assert response.status_code == expect, response.text[:500]
        return response

    key, data = form_data("redshift", name="finance-dwh,mallory")
    del data["duplicate_ok"]
    created = post(f"/sources/{key}", data, 303).headers["Location"]
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", created).group(1)
    post(f"/sources/{key}", data, 409)  # the namesake check
    for path in [
        "/",
        "/connections",
        "/connections?name=MALLORY",
        created,
        f"/connections/{connection_id}/test",
        f"/connections/{connection_id}/explore",
        f"/connections/{connection_id}/explore?table=public.orders",
        "/readyz",
        f"/sources/spec/{next(iter(fresh_emulator.specs))}",
    ]:
        assert session.get(url + path, timeout=10).status_code in (200, 302), path
    # A dataflow on it: its page (the flow, its connections, its runs), a retry and a disable, then deleted.
    flow_id = Maker(fresh_emulator).due_flow(connection_id, ["failed"])
    dataflow_page = session.get(f"{url}/dataflows/{flow_id}?sandbox=prod", timeout=10).text
    failed_run = re.search(r"/runs/([0-9a-f-]{36})/retry", dataflow_page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', dataflow_page).group(1)
    for path, data in (
        (f"/dataflows/{flow_id}/runs/{failed_run}/retry", {}),
        (f"/dataflows/{flow_id}/state", {"enabled": "0"}),
    ):
        done = session.post(
            f"{url}{path}?sandbox=prod", data={"csrf_token": token, **data}, allow_redirects=False, timeout=10
        )
        assert done.status_code == 303, path
    assert session.get(f"{url}/connections/{connection_id}?sandbox=prod", timeout=10).status_code == 200
    fresh_emulator.flows.clear()
    fresh_emulator.source_connections.clear()
    post(f"/connections/{connection_id}/edit?sandbox=prod", {"name": "renamed", "description": ""}, 303)
    post(
        f"/connections/{connection_id}/credentials?sandbox=prod",
        {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "etl", "password": "n3w"},
        303,
    )
    post(f"/connections/{connection_id}/delete?sandbox=prod", {"confirm_name": "renamed"}, 303)
    methods = {(method, status) for method, status in checker.checked}
    assert {("POST", 201), ("GET", 200), ("PATCH", 200), ("DELETE", 204), ("POST", 200)} <= methods
    assert any("/runs?" in r.path + "?" + r.query or r.path.endswith("/runs") for r in fresh_emulator.received)
    assert len(checker.checked) >= 15
