"""The API (/api/v1) with personal tokens: tokens made, used, refused and revoked; the same checks, commands, roles
and audit trail as the pages; exactly-once creation; and every answer checked against the portal's OpenAPI document."""

from __future__ import annotations

import json
import logging
import re
import threading
import time

import pytest
import requests
from flask import request
from openapi_spec_validator import validate

from app import create_app, services
from app.accounts import add_user
from app.emulator import Fault
from app.roles import parse_roles
from app.store.tokens import prefix_of

from .helpers.api import PASSWORD, Api, make_token, signed_in
from .helpers.dataflows import FIRST_RUN, Maker
from .helpers.forms import connection_body
from .helpers.live import IN_TIME, LiveServer, settings_for
from .test_roles import (  # noqa: F401 - oidc_app and proxy_app: fixtures, asked for by name below
    client_for,
    oidc_app,
    proxy_app,
)

ROLES = "g-viewer=viewer@*;g-creator=creator@*;g-editor=editor@*;g-admin=admin@*;g-dev=creator@dev"
PEOPLE = {"viewer": "g-viewer", "creator": "g-creator", "editor": "g-editor", "admin": "g-admin", "devonly": "g-dev"}
S3 = "ecadc60c-7455-4d87-84dc-2a0e293d997b"
FIELDS = {
    "method": "fields",
    "server": "pg.example.com",
    "port": 5432,
    "database": "orders",
    "username": "etl",
    "password": "api-s3cret-Pw",
    "encryptionMethod": "1",
    "validateServerCertificate": "1",
}


def new_connection(name: str = "Made by API", sandbox: str = "prod", **changes) -> dict:
    return {"source": "postgresql", "sandbox": sandbox, "name": name, "fields": dict(FIELDS), **changes}


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users"
    for name, groups in PEOPLE.items():
        add_user(str(path), name, PASSWORD, groups.split(","))
    return path


@pytest.fixture
def portal(request, fresh_emulator, users):
    marker = request.node.get_closest_marker("read_timeout")
    app = create_app(
        settings_for(
            fresh_emulator,
            auth="accounts",
            users_file=str(users),
            roles=parse_roles(ROLES),
            sandboxes=("prod", "dev"),
            **({"read_timeout": float(marker.args[0])} if marker else {}),
        )
    )
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def api_as(app, who: str, **scope) -> Api:
    return Api(app, make_token(signed_in(app, who), **scope))


# The document.


def test_the_openapi_document_is_valid_3_1_and_describes_every_api_route(portal):
    document = portal.test_client().get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    declared = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routed = {
        (re.sub(r"<([a-z_]+)>", r"{\1}", rule.rule), method)
        for rule in portal.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == declared
    # The request schemas are the models that check calls: a body that refuses unknown keys says so in the document.
    assert document["components"]["schemas"]["NewConnection"]["additionalProperties"] is False


def test_the_reference_page_renders_the_document_from_the_portals_own_files(portal):
    page = portal.test_client().get("/api/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "POST /api/v1/connections" in text and "NewConnection" in text
    # No third-party request: every src and href stays on the portal.
    assert "https://" not in "".join(
        part for part in text.split('"') if part.startswith(("http://", "https://", "//"))
    ).replace("https://", "", 0) or all(
        not part.startswith(("http://", "https://", "//")) for part in text.split('src="')[1:]
    )
    assert "<script" not in text.split("</header>", 1)[1]


# Tokens: made once, kept as a hash, refused when wrong, expired, revoked or the person's rights are gone.


def test_a_token_is_shown_once_kept_as_a_hash_and_listed_by_its_prefix(portal):
    person = signed_in(portal, "editor")
    token = make_token(person, name="nightly load")
    listing = person.get("/tokens").get_data(as_text=True)
    assert token not in listing and token[:12] in listing and "nightly load" in listing
    with services.of(portal).store.engine.connect() as db:
        dumped = json.dumps([list(map(str, row)) for row in db.exec_driver_sql("SELECT * FROM api_tokens")])
        audited = json.dumps([list(map(str, row)) for row in db.exec_driver_sql("SELECT * FROM audit")])
    assert token not in dumped and token[13:] not in dumped and token[13:] not in audited
    assert "create-token" in audited


def test_a_token_acts_as_its_person_and_its_calls_are_audited_with_its_name(portal, fresh_emulator):
    api = api_as(portal, "creator", name="loader")
    made = api.post("/api/v1/connections", json=new_connection())
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["connection"]["params"] == {"connectionString": body["connection"]["params"]["connectionString"]}
    assert FIELDS["password"] not in made.get_data(as_text=True)
    # The answer is what was sent, with Adobe's id and etag: the same etag a read gives.
    read = api.get(f"/api/v1/connections/{body['id']}?sandbox=prod")
    assert body["connection"]["etag"] == read.headers["ETag"] and body["connection"]["name"] == "Made by API"
    entry = services.of(portal).store.audit.audit_entries(action="create")[0]
    assert entry["user"] == "creator" and entry["role"] == "creator" and entry["token"].startswith("loader (asw_")
    assert fresh_emulator.creations()[-1]["name"] == "Made by API"


@pytest.mark.parametrize("how", ["none", "wrong scheme", "tampered", "unknown", "revoked", "expired", "cookie"])
def test_a_refused_token_is_401_alike_and_nothing_reaches_adobe(portal, fresh_emulator, how):
    person = signed_in(portal, "admin")
    token = make_token(person)
    store = services.of(portal).store
    headers = {"Authorization": f"Bearer {token}"}
    if how == "none":
        headers = {}
    elif how == "wrong scheme":
        headers = {"Authorization": f"Basic {token}"}
    elif how == "tampered":
        headers = {"Authorization": f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}"}
    elif how == "unknown":
        headers = {"Authorization": "Bearer asw_00000000_" + "x" * 43}
    elif how == "revoked":
        assert person.post(f"/tokens/{token[:12]}/revoke").status_code == 303
    elif how == "expired":
        expired, _row = store.tokens.create("admin", "old", "admin", "*", -1)
        headers = {"Authorization": f"Bearer {expired}"}
    api = Api(portal)
    if how == "cookie":
        # A signed-in browser's cookie opens no API call.
        api.client = person
        headers = {}
    seen = len(fresh_emulator.received)
    answer = api.post("/api/v1/connections", json=new_connection(), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.get_json()["title"] == "Not signed in"
    assert len(fresh_emulator.received) == seen and not fresh_emulator.creations()


def test_a_person_who_loses_a_group_loses_the_tokens_rights_and_one_removed_loses_the_token(
    portal, users, fresh_emulator
):
    api = api_as(portal, "editor")
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 200
    add_user(str(users), "editor", PASSWORD, ["unrelated"])
    seen = len(fresh_emulator.received)
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 403
    lines = [line for line in users.read_text().splitlines() if not line.startswith("editor:")]
    users.write_text("\n".join(lines) + "\n")
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 401
    assert len(fresh_emulator.received) == seen, "nothing reached Adobe"


def test_wrong_tokens_count_in_the_sign_in_throttle(portal):
    api = Api(portal)
    statuses = [
        api.get("/api/v1/sources", headers={"Authorization": "Bearer asw_00000000_" + "y" * 43}).status_code
        for _ in range(22)
    ]
    assert statuses[:20] == [401] * 20 and statuses[-1] == 429
    refused = api.get("/api/v1/sources", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_token_page_refuses_a_scope_wider_than_the_persons_roles(portal):
    person = signed_in(portal, "devonly")
    page = person.get("/tokens").get_data(as_text=True)
    assert 'value="creator"' in page and 'value="admin"' not in page
    refused = person.post("/tokens", data={"name": "x", "role": "creator", "sandboxes": "prod", "days": "30"})
    assert refused.status_code == 400 and "not creator in any sandbox these name" in refused.get_data(as_text=True)
    too_long = person.post("/tokens", data={"name": "x", "role": "creator", "sandboxes": "dev", "days": "91"})
    assert too_long.status_code == 400 and "Choose 1 to 90 days." in too_long.get_data(as_text=True)
    admin = person.post("/tokens", data={"name": "x", "role": "admin", "sandboxes": "dev", "days": "5"})
    assert admin.status_code == 400 and "Not a valid choice" in admin.get_data(as_text=True)


def test_admins_see_and_revoke_everyones_tokens_and_others_see_only_their_own(portal):
    editor = signed_in(portal, "editor")
    token = make_token(editor, name="editors script")
    viewer = signed_in(portal, "viewer")
    assert "editors script" not in viewer.get("/tokens").get_data(as_text=True)
    assert viewer.post(f"/tokens/{token[:12]}/revoke").status_code == 404
    admin = signed_in(portal, "admin")
    assert "editors script" in admin.get("/tokens").get_data(as_text=True)
    assert admin.post(f"/tokens/{token[:12]}/revoke").status_code == 303
    assert Api(portal, token).get("/api/v1/sources").status_code == 401
    assert "revoked by admin" in editor.get("/tokens").get_data(as_text=True)


# The same rules as the pages.


def test_a_create_is_checked_by_the_sources_own_form_with_its_messages(portal, fresh_emulator):
    api = api_as(portal, "creator")
    bad = api.post("/api/v1/connections", json=new_connection(name="", fields={**FIELDS, "port": "x", "server": ""}))
    assert bad.status_code == 422
    errors = {e["field"]: e["message"] for e in bad.get_json()["errors"]}
    assert errors["fields.port"] == "Enter the port as a whole number from 1 to 65535."
    assert "name" in errors and "fields.server" in errors
    unknown = api.post("/api/v1/connections", json={**new_connection(), "colour": "red"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "colour"
    no_such = api.post("/api/v1/connections", json=new_connection(source="oracle"))
    assert no_such.status_code == 404
    assert not fresh_emulator.creations()
    assert FIELDS["password"] not in bad.get_data(as_text=True)


def test_a_repeated_idempotency_key_returns_the_first_result_and_another_body_is_422(portal, fresh_emulator):
    api = api_as(portal, "creator")
    first = api.post("/api/v1/connections", json=new_connection(), headers={"Idempotency-Key": "load-42"})
    again = api.post("/api/v1/connections", json=new_connection(), headers={"Idempotency-Key": "load-42"})
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["repeated"] is True
    other = api.post("/api/v1/connections", json=new_connection(name="Else"), headers={"Idempotency-Key": "load-42"})
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(fresh_emulator.creations()) == 1
    # Another person's same key is theirs alone.
    theirs = api_as(portal, "editor").post(
        "/api/v1/connections", json=new_connection(name="Theirs"), headers={"Idempotency-Key": "load-42"}
    )
    assert theirs.status_code == 201 and len(fresh_emulator.creations()) == 2


@pytest.mark.read_timeout(IN_TIME)  # a slow Flow Service, in time
def test_two_concurrent_creates_with_the_same_key_make_one_connection(portal, fresh_emulator):
    token = make_token(signed_in(portal, "creator"))
    server = LiveServer(portal)
    fresh_emulator.inject(Fault("POST", "/connections", delay=0.5))  # a slow Flow Service widens the window
    answers: list = []
    barrier = threading.Barrier(2)

    def create():
        barrier.wait()
        answers.append(
            requests.post(
                server.url + "/api/v1/connections",
                json=new_connection(name="Once"),
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same"},
                timeout=30,
            )
        )

    try:
        threads = [threading.Thread(target=create) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(fresh_emulator.creations()) == 1


def test_a_lost_answer_from_adobe_is_looked_up_before_anything_is_sent_again(portal, fresh_emulator):
    fresh_emulator.inject(Fault("POST", "/connections", drop=True, after_handling=True))
    api = api_as(portal, "creator")
    made = api.post("/api/v1/connections", json=new_connection(name="Lost answer"), headers={"Idempotency-Key": "k"})
    assert made.status_code == 201 and made.get_json()["connection"]["name"] == "Lost answer"
    assert len(fresh_emulator.creations()) == 1
    entry = services.of(portal).store.audit.audit_entries(action="create")[0]
    assert entry["detail"] == "found after a lost answer"


def test_a_namesake_is_409_until_the_call_accepts_it(portal, fresh_emulator):
    api = api_as(portal, "creator")
    assert api.post("/api/v1/connections", json=new_connection(name="Twice")).status_code == 201
    warned = api.post("/api/v1/connections", json=new_connection(name="Twice"))
    assert warned.status_code == 409 and warned.get_json()["namesakes"][0]["name"] == "Twice"
    accepted = api.post("/api/v1/connections", json=new_connection(name="Twice", allow_duplicate_name=True))
    assert accepted.status_code == 201 and len(fresh_emulator.creations()) == 2


def test_rename_and_rotate_need_if_match_and_refuse_a_stale_one(portal, fresh_emulator):
    api = api_as(portal, "editor")
    made = api.post("/api/v1/connections", json=new_connection()).get_json()
    path = f"/api/v1/connections/{made['id']}?sandbox=prod"
    read = api.get(path)
    etag = read.headers["ETag"]
    assert read.get_json()["etag"] == etag
    assert api("PATCH", path, json={"name": "Renamed"}).status_code == 428
    renamed = api("PATCH", path, json={"name": "Renamed", "description": "nightly"}, headers={"If-Match": etag})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Renamed"
    stale = api("PATCH", path, json={"name": "Again"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    rotate = f"/api/v1/connections/{made['id']}/credentials?sandbox=prod"
    fresh = renamed.headers["ETag"]
    rotated = api("PUT", rotate, json={"fields": {**FIELDS, "password": "n3w-Passw0rd"}}, headers={"If-Match": fresh})
    assert rotated.status_code == 200, rotated.get_json()
    assert "n3w-Passw0rd" not in rotated.get_data(as_text=True)
    changed = [r for r in fresh_emulator.received if r.method == "PATCH"]
    # The rename, the stale one (Adobe refused it: the etag goes to Adobe as sent), and the rotation.
    assert len(changed) == 3 and "n3w-Passw0rd" in changed[-1].body.decode()
    kind = api("PUT", rotate, json={"fields": {"method": "basic"}}, headers={"If-Match": rotated.headers["ETag"]})
    assert kind.status_code == 422


def test_test_explore_list_and_delete_through_the_api(portal, fresh_emulator):
    api = api_as(portal, "admin")
    made = api.post("/api/v1/connections", json=new_connection(name="Explored")).get_json()
    tested = api.post(f"/api/v1/connections/{made['id']}/test?sandbox=prod")
    assert tested.status_code == 200 and tested.get_json()["outcome"] == "ok"
    tables = api.get(f"/api/v1/connections/{made['id']}/explore?sandbox=prod").get_json()["tables"]
    table = tables[0]["path"]
    columns = api.get(f"/api/v1/connections/{made['id']}/explore?sandbox=prod&table={table}").get_json()
    assert columns["columns"] and columns["delta_columns"]
    listed = api.get("/api/v1/connections?sandbox=prod&name=Explored").get_json()
    assert [c["id"] for c in listed["items"]] == [made["id"]]
    assert api("DELETE", f"/api/v1/connections/{made['id']}?sandbox=prod").status_code == 200
    assert api.get(f"/api/v1/connections/{made['id']}?sandbox=prod").status_code == 404
    assert [e["action"] for e in api.get("/api/v1/audit").get_json()["items"]][:2] == ["delete", "create"]


def test_a_connection_of_another_kind_is_read_only_through_the_api(portal, fresh_emulator):
    s3 = (
        services.of(portal)
        .connections.create_connection(
            "prod",
            {
                "name": "Bucket",
                "auth": {"specName": "Access Key", "params": {"s3AccessKey": "AKIA", "s3SecretKey": "sk-secret"}},
                "connectionSpec": {"id": S3, "version": "1.0"},
            },
        )
        .id
    )
    api = api_as(portal, "admin")
    read = api.get(f"/api/v1/connections/{s3}?sandbox=prod")
    assert read.status_code == 200 and read.get_json()["read_only"] is True
    assert "sk-secret" not in read.get_data(as_text=True)
    etag = read.headers["ETag"]
    for method, path, body in (
        ("PATCH", "", {"name": "x"}),
        ("PUT", "/credentials", {"fields": {}}),
        ("DELETE", "", None),
    ):
        answer = api(method, f"/api/v1/connections/{s3}{path}?sandbox=prod", json=body, headers={"If-Match": etag})
        assert answer.status_code == 403, (method, answer.get_json())
    assert not [r for r in fresh_emulator.received if r.method in ("PATCH", "DELETE")]


# The route × role matrix: every API route, for each role and for tokens narrower than their person.

# endpoint → (method, path, body, the least role that gets through)
MATRIX = {
    "api.list_connections": ("GET", "/api/v1/connections?sandbox=prod", None, "viewer"),
    "api.get_connection": ("GET", "/api/v1/connections/{id}?sandbox=prod", None, "viewer"),
    "api.create_connection": ("POST", "/api/v1/connections", "create", "creator"),
    "api.rename_connection": ("PATCH", "/api/v1/connections/{id}?sandbox=prod", {"name": ""}, "editor"),
    "api.rotate_credentials": ("PUT", "/api/v1/connections/{id}/credentials?sandbox=prod", {"fields": {}}, "editor"),
    "api.test_connection": ("POST", "/api/v1/connections/{id}/test?sandbox=prod", None, "viewer"),
    "api.explore_connection": ("GET", "/api/v1/connections/{id}/explore?sandbox=prod", None, "viewer"),
    "api.delete_connection": ("DELETE", "/api/v1/connections/{id}?sandbox=nosuch", None, "admin"),
    "api.list_sources": ("GET", "/api/v1/sources", None, "signed-in"),
    "api.get_source": ("GET", "/api/v1/sources/redshift", None, "signed-in"),
    "api.audit_trail": ("GET", "/api/v1/audit", None, "viewer"),
    "api.list_dataflows": ("GET", "/api/v1/dataflows?sandbox=prod", None, "viewer"),
    "api.get_dataflow": ("GET", "/api/v1/dataflows/{flow}?sandbox=prod", None, "viewer"),
    "api.list_runs": ("GET", "/api/v1/dataflows/{flow}/runs?sandbox=prod", None, "viewer"),
    "api.enable_dataflow": ("POST", "/api/v1/dataflows/{flow}/enable?sandbox=prod", None, "editor"),
    "api.disable_dataflow": ("POST", "/api/v1/dataflows/{flow}/disable?sandbox=nosuch", None, "editor"),
    "api.run_dataflow": ("POST", "/api/v1/dataflows/{flow}/run?sandbox=prod", None, "editor"),
    "api.retry_run": ("POST", "/api/v1/dataflows/{flow}/runs/" + "0" * 36 + "/retry?sandbox=prod", None, "editor"),
    "api.delete_dataflow": ("DELETE", "/api/v1/dataflows/{flow}?sandbox=nosuch", None, "admin"),
    "api.create_dataflow": ("POST", "/api/v1/dataflows", "dataflow", "creator"),
    "api.export_config": ("GET", "/api/v1/config?sandbox=prod", None, "viewer"),
    "api.plan_config": ("POST", "/api/v1/config/plan", {"sandbox": "prod", "file": "apiVersion: x"}, "viewer"),
    # A file that names nothing: applying it leaves the sandbox as it is.
    "api.apply_config": (
        "POST",
        "/api/v1/config/apply",
        {"sandbox": "prod", "file": "apiVersion: aep-source-wizard/v1\n"},
        "editor",
    ),
    "api.change_dataflow": ("PATCH", "/api/v1/dataflows/{flow}?sandbox=prod", {"name": ""}, "editor"),
}
ORDER = ["viewer", "creator", "editor", "admin"]


def test_every_api_route_has_a_row(portal):
    routed = {rule.endpoint for rule in portal.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routed == set(MATRIX)


@pytest.mark.parametrize(
    ("who", "scope", "acts_as"),
    [
        ("viewer", {}, "viewer"),
        ("creator", {"role": "creator"}, "creator"),
        ("editor", {"role": "editor"}, "editor"),
        ("admin", {}, "admin"),
        # Narrower than the person: an admin's viewer token, and an admin's token for dev alone (none in prod).
        ("admin", {"role": "viewer"}, "viewer"),
        ("admin", {"sandboxes": "dev"}, None),
    ],
)
def test_the_api_route_matrix(portal, fresh_emulator, who, scope, acts_as):
    connection_id = services.of(portal).connections.create_connection("prod", connection_body("Matrix")).id
    flow_id = Maker(fresh_emulator).flow(connection_id, "Matrix flow")
    api = api_as(portal, who, **scope)
    seen = len(fresh_emulator.creations())
    for endpoint, (method, path, body, least) in MATRIX.items():
        url = path.replace("{id}", connection_id).replace("{flow}", flow_id)
        sent = new_connection(name="", sandbox="prod") if body == "create" else body
        if body == "dataflow":  # a table with no such column: refused after the role, before anything is made
            sent = new_dataflow(fresh_emulator, connection_id, mapping={"columns": {"nope": "x"}})
        answer = api(method, url, json=sent, headers={"If-Match": '"x"'})
        allowed = least == "signed-in" or (acts_as is not None and ORDER.index(acts_as) >= ORDER.index(least))
        if endpoint == "api.audit_trail" and scope.get("sandboxes") == "dev":
            # The trail of the sandboxes the token may read: dev's alone, none of prod's.
            assert answer.status_code == 200
            assert {e["sandbox"] for e in answer.get_json()["items"]} <= {"dev"}
            continue
        if "sandbox=nosuch" in path:
            allowed = False  # a sandbox the portal has not: 404 for everyone, before any role is asked
            assert answer.status_code == 404, (endpoint, who, scope)
            continue
        if allowed:
            assert answer.status_code not in (401, 403), (endpoint, who, scope, answer.get_json())
        else:
            assert answer.status_code == 403, (endpoint, who, scope, answer.status_code)
            assert "Matrix" not in answer.get_data(as_text=True)
    assert len(fresh_emulator.creations()) == seen, "no connection was created by the matrix"
    assert not [r for r in fresh_emulator.received if r.method in ("PATCH", "DELETE")]
    assert fresh_emulator.flows[flow_id]["state"] == "enabled" or acts_as in ("editor", "admin")


def test_the_api_is_open_without_sign_in_as_the_pages_are(fresh_emulator):
    app = create_app(settings_for(fresh_emulator))
    app.config.update(TESTING=True)
    answer = Api(app).get("/api/v1/connections?sandbox=prod")
    assert answer.status_code == 200
    assert "needs no token" in app.test_client().get("/tokens").get_data(as_text=True)


def test_no_token_reaches_a_log_line(portal, capfd):
    token = make_token(signed_in(portal, "admin"))
    Api(portal, token).get("/api/v1/sources")
    Api(portal, token[:-2] + "zz").get("/api/v1/sources")
    time.sleep(0.05)
    out, err = capfd.readouterr()
    assert token[13:] not in out + err and token[13:30] not in out + err


# Dataflows.


def test_dataflows_listed_read_with_their_runs_and_a_failed_run_retried_once(portal, fresh_emulator):
    base = services.of(portal).connections.create_connection("prod", connection_body("Flowing")).id
    flow_id = Maker(fresh_emulator).due_flow(base, ["failed"])
    api = api_as(portal, "editor")
    listed = api.get("/api/v1/dataflows?sandbox=prod").get_json()
    row = next(item for item in listed["items"] if item["id"] == flow_id)
    assert row["health"] == "failing" and row["last_status"] == "failed" and row["read_only"] is False
    read = api.get(f"/api/v1/dataflows/{flow_id}?sandbox=prod")
    assert read.get_json()["base_connection_id"] == base and read.get_json()["schedule"]["frequency"] == "minute"
    runs = api.get(f"/api/v1/dataflows/{flow_id}/runs?sandbox=prod").get_json()["items"]
    failed = next(r for r in runs if r["status"] == "failed")
    assert failed["errors"][0]["code"] == "CONNECTOR-2001-500"
    retried = api.post(f"/api/v1/dataflows/{flow_id}/runs/{failed['id']}/retry?sandbox=prod")
    assert retried.status_code == 200 and retried.get_json()["run_id"]
    again = api.post(f"/api/v1/dataflows/{flow_id}/runs/{failed['id']}/retry?sandbox=prod")
    assert again.status_code == 409 and "retried already" in again.get_json()["detail"]
    triggered = [r for r in fresh_emulator.received if r.path.endswith(f"/runs/{failed['id']}/action")]
    assert len(triggered) == 1
    entry = services.of(portal).store.audit.audit_entries(action="retry")[0]
    assert entry["connection_id"] == flow_id and entry["token"].startswith("script (asw_")


def test_a_dataflow_disabled_enabled_run_and_deleted_through_the_api(portal, fresh_emulator):
    base = services.of(portal).connections.create_connection("prod", connection_body("Flowing")).id
    once = Maker(fresh_emulator).flow(base, "Once", schedule={"startTime": 1764000000, "frequency": "once"})
    api = api_as(portal, "admin")
    assert api.post(f"/api/v1/dataflows/{once}/disable?sandbox=prod").status_code == 200
    assert fresh_emulator.flows[once]["state"] == "disabled"
    assert api.post(f"/api/v1/dataflows/{once}/enable?sandbox=prod").status_code == 200
    assert fresh_emulator.flows[once]["state"] == "enabled"
    started = api.post(f"/api/v1/dataflows/{once}/run?sandbox=prod")
    assert started.status_code == 200 and started.get_json()["run_id"]
    assert api("DELETE", f"/api/v1/dataflows/{once}?sandbox=prod").status_code == 200
    assert once not in fresh_emulator.flows and not fresh_emulator.source_connections
    assert not fresh_emulator.target_connections and base in fresh_emulator.connections
    assert api.get(f"/api/v1/dataflows/{once}?sandbox=prod").status_code == 404


def test_a_dataflow_of_another_kind_is_read_only_through_the_api(portal, fresh_emulator):
    base = services.of(portal).connections.create_connection("prod", connection_body("Flowing")).id
    flow_id = Maker(fresh_emulator).flow(base)
    fresh_emulator.flows[flow_id]["targetConnectionIds"].append("another-target")
    api = api_as(portal, "admin")
    assert api.get(f"/api/v1/dataflows/{flow_id}?sandbox=prod").get_json()["read_only"] is True
    for method, path in (("POST", "/disable"), ("POST", "/run"), ("DELETE", "")):
        assert api(method, f"/api/v1/dataflows/{flow_id}{path}?sandbox=prod").status_code == 403
    assert not [r for r in fresh_emulator.received if r.method in ("PATCH", "DELETE") or r.path.endswith("/runs")]


def new_dataflow(emulator, connection_id: str, **changes) -> dict:
    dataset = next(
        d["id"] for d in emulator.datasets.values() if d["sandboxName"] == "prod" and d["name"] == "Loyalty members"
    )
    return {
        "sandbox": "prod",
        "connection_id": connection_id,
        "table": "public.customers",
        "dataset_id": dataset,
        "schedule": {"name": "Customers hourly", "start": FIRST_RUN, "timezone": "Europe/Paris"},
        **changes,
    }


def test_a_dataflow_made_from_one_document_once_per_key(portal, fresh_emulator):
    api = api_as(portal, "creator")
    base = api.post("/api/v1/connections", json=new_connection(name="Source")).get_json()["id"]
    sent = new_dataflow(fresh_emulator, base)
    made = api.post("/api/v1/dataflows", json=sent, headers={"Idempotency-Key": "nightly"})
    assert made.status_code == 201, made.get_json()
    flow_id = made.get_json()["id"]
    assert made.get_json()["dataflow"]["name"] == "Customers hourly" and all(made.get_json()["made"].values())
    assert fresh_emulator.flows[flow_id]["scheduleParams"]["frequency"] == "hour"
    again = api.post("/api/v1/dataflows", json=sent, headers={"Idempotency-Key": "nightly"})
    assert again.status_code == 201 and again.get_json()["id"] == flow_id and again.get_json()["repeated"] is True
    assert len(fresh_emulator.flows) == 1
    other = api.post(
        "/api/v1/dataflows", json={**sent, "table": "public.orders"}, headers={"Idempotency-Key": "nightly"}
    )
    assert other.status_code == 422
    actions = [e["action"] for e in services.of(portal).store.audit.audit_entries()]
    assert actions.count("create-dataflow") == 1 and "start-dataflow" in actions


def test_a_dataflow_document_is_checked_by_the_steps_own_rules(portal, fresh_emulator):
    api = api_as(portal, "creator")
    base = api.post("/api/v1/connections", json=new_connection(name="Source")).get_json()["id"]
    wrong_column = api.post(
        "/api/v1/dataflows", json=new_dataflow(fresh_emulator, base, mapping={"columns": {"nope": "x"}})
    )
    assert wrong_column.status_code == 422 and wrong_column.get_json()["errors"][0]["field"] == "mapping.columns.nope"
    wrong_field = api.post(
        "/api/v1/dataflows", json=new_dataflow(fresh_emulator, base, mapping={"columns": {"email": "no.such.field"}})
    )
    assert wrong_field.status_code == 422
    assert wrong_field.get_json()["errors"][0] == {
        "field": "mapping.columns.email",
        "message": "Choose a field of the schema from the list, or leave it empty.",
    }
    past = api.post(
        "/api/v1/dataflows",
        json=new_dataflow(
            fresh_emulator, base, schedule={"name": "x", "start": "2001-01-01T00:00", "frequency": "day"}
        ),
    )
    assert past.status_code == 422 and past.get_json()["errors"][0]["field"] == "schedule.start"
    no_dataset = api.post("/api/v1/dataflows", json=new_dataflow(fresh_emulator, base, dataset_id="nope"))
    assert no_dataset.status_code == 422 and no_dataset.get_json()["errors"][0]["field"] == "dataset_id"
    assert not fresh_emulator.flows and not fresh_emulator.source_connections


def test_a_stopped_dataflow_chain_goes_on_when_the_same_call_is_sent_again(portal, fresh_emulator):
    api = api_as(portal, "creator")
    base = api.post("/api/v1/connections", json=new_connection(name="Source")).get_json()["id"]
    fresh_emulator.inject(Fault("POST", "/flows", status=500, times=10))
    sent = new_dataflow(fresh_emulator, base)
    stopped = api.post("/api/v1/dataflows", json=sent, headers={"Idempotency-Key": "k"})
    assert stopped.status_code == 502 and stopped.get_json()["made"]["source_id"]
    fresh_emulator.faults.clear()
    resumed = api.post("/api/v1/dataflows", json=sent, headers={"Idempotency-Key": "k"})
    assert resumed.status_code == 201, resumed.get_json()
    assert len(fresh_emulator.source_connections) == 1 and len(fresh_emulator.target_connections) == 1
    assert len(fresh_emulator.flows) == 1


def test_with_single_sign_on_a_token_has_the_groups_of_the_persons_last_sign_in(request):
    portal = request.getfixturevalue("oidc_app")
    person = client_for(portal, "editor")
    page = person.get("/tokens").get_data(as_text=True)
    assert "those of your last sign-in" in page
    api = Api(portal, make_token(person))
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 200
    # The identity provider drops the group: the token keeps the last sign-in's until the person signs in again.
    portal.config["TEST_PROVIDER"].add_user("editor", ["unrelated"], email="editor@example.com")
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 200
    client_for(portal, "editor")
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 403


def test_a_dataflow_changed_through_the_api_as_its_page_changes_it(portal, fresh_emulator):
    api = api_as(portal, "editor")
    base = api.post("/api/v1/connections", json=new_connection(name="Source")).get_json()["id"]
    mapped = {"columns": {"customer_id": "_emulatortenant.loyaltyId", "email": "personalEmail.address"}}
    flow_id = api.post("/api/v1/dataflows", json=new_dataflow(fresh_emulator, base, mapping=mapped)).get_json()["id"]
    path = f"/api/v1/dataflows/{flow_id}?sandbox=prod"
    etag = api.get(path).headers["ETag"]
    assert api("PATCH", path, json={"name": "Customers"}).status_code == 428
    same = api("PATCH", path, json={"name": "Customers hourly"}, headers={"If-Match": etag})
    assert same.status_code == 200 and same.get_json()["changed"] is False
    seen = len(fresh_emulator.received)
    every_two = api("PATCH", path, json={"name": "Customers", "interval": 2}, headers={"If-Match": etag})
    assert every_two.status_code == 200 and every_two.get_json()["dataflow"]["schedule"]["interval"] == "2"
    assert len([r for r in fresh_emulator.received[seen:] if r.method == "PATCH"]) == 1
    stale = api("PATCH", path, json={"name": "Again"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    fresh = every_two.headers["ETag"]
    wrong = api("PATCH", path, json={"mapping": {"columns": {"email": "no.such"}}}, headers={"If-Match": fresh})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "mapping.columns.email"
    remapped = api(
        "PATCH",
        path,
        json={"mapping": {"columns": {"customer_id": "_emulatortenant.loyaltyId"}}},
        headers={"If-Match": fresh},
    )
    assert remapped.status_code == 200 and remapped.get_json()["mapping_version"] == 1
    assert [e["action"] for e in services.of(portal).store.audit.audit_entries(action="change-dataflow")] == [
        "change-dataflow"
    ] * 3


def test_a_token_is_read_as_rfc_7235_reads_it_and_only_a_tokens_shape_is_looked_up(portal):
    token = make_token(signed_in(portal, "viewer"))
    for header in (f"Bearer {token}", f"bearer {token}", f"Bearer   {token}  "):
        assert Api(portal).get("/api/v1/sources", headers={"Authorization": header}).status_code == 200, header
    assert prefix_of(token) == token[:12]
    for shape in (token[:-1], token + "x", "x" + token[1:], token[:12] + "-" + token[13:], "Bearer", ""):
        assert prefix_of(shape) is None, shape


def test_refusals_are_logged_and_calls_are_logged_with_the_token_never_with_it(portal, caplog):
    # A deployment's hook that logs what came in to the API (headers and all): the token never reaches its line.
    @portal.before_request
    def careless():
        if request.path.startswith("/api/v1/"):
            logging.getLogger("app.careless").info("headers: %s", dict(request.headers))

    token = make_token(signed_in(portal, "viewer"), name="logged")
    caplog.set_level(logging.INFO)

    assert Api(portal, token).get("/api/v1/sources").status_code == 200
    assert Api(portal, token[:-2] + "zz").get("/api/v1/sources").status_code == 401
    lines = [(r.name, r.getMessage(), getattr(r, "token", None)) for r in caplog.records]
    assert ("app.api.access", "API call", f"logged ({token[:12]})") in lines
    assert ("app.api.access", "API call refused: no valid token", None) in lines
    careless_lines = [message for name, message, _token in lines if name == "app.careless"]
    assert len(careless_lines) == 1 and all(
        token[13:] not in line and token[13:-2] not in line for line in careless_lines
    )


def test_the_throttle_counts_per_address_and_says_how_long_to_wait(portal):
    wrong = {"Authorization": "Bearer asw_00000000_" + "y" * 43}
    guesser, colleague = Api(portal), Api(portal)
    guesser.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    colleague.client.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    for _ in range(20):
        refused = guesser.get("/api/v1/sources", headers=wrong)
    assert refused.status_code == 401 and "API tokens page" in refused.get_json()["detail"]
    held = guesser.get("/api/v1/sources", headers=wrong)
    assert held.status_code == 429 and held.get_json()["title"] == "Too many refused calls"
    assert f"Wait {held.headers['Retry-After']} seconds" in held.get_json()["detail"]
    assert colleague.get("/api/v1/sources", headers=wrong).status_code == 401


def test_the_audit_names_a_tokens_person_by_email_only_when_the_name_is_one(portal, users):
    add_user(str(users), "eve@example.com", PASSWORD, ["g-creator"])
    for who, email in (("eve@example.com", "eve@example.com"), ("creator", None)):
        api = api_as(portal, who)
        assert api.post("/api/v1/connections", json=new_connection(name=f"By {who}")).status_code == 201
        entry = services.of(portal).store.audit.audit_entries(action="create")[0]
        assert entry["user"] == entry["subject"] == who and entry["email"] == email


def test_behind_a_proxy_a_token_of_a_person_the_portal_has_not_seen_is_refused(request):
    app = request.getfixturevalue("proxy_app")
    browser = app.test_client()
    browser.environ_base.update(HTTP_X_FORWARDED_EMAIL="ada@example.com", HTTP_X_FORWARDED_GROUPS="g-editor")
    token = make_token(browser)
    assert Api(app, token).get("/api/v1/connections?sandbox=prod").status_code == 200
    with services.of(app).store.engine.begin() as db:
        db.exec_driver_sql("DELETE FROM people")
    assert Api(app, token).get("/api/v1/connections?sandbox=prod").status_code == 401


def test_a_field_the_source_does_not_have_is_refused_not_ignored(portal, fresh_emulator):
    api = api_as(portal, "creator")
    misspelt = api.post("/api/v1/connections", json=new_connection(fields={**FIELDS, "encryptionMetod": "1"}))
    assert misspelt.status_code == 422
    assert misspelt.get_json()["errors"][0] == {
        "field": "fields.encryptionMetod",
        "message": "PostgreSQL has no field of that name.",
    }
    assert not fresh_emulator.creations()


def test_if_match_star_would_overwrite_unseen_and_is_refused(portal, fresh_emulator):
    api = api_as(portal, "editor")
    made = api.post("/api/v1/connections", json=new_connection()).get_json()
    star = api("PATCH", f"/api/v1/connections/{made['id']}?sandbox=prod", json={"name": "x"}, headers={"If-Match": "*"})
    assert star.status_code == 428 and not [r for r in fresh_emulator.received if r.method == "PATCH"]


def test_behind_a_proxy_a_page_with_fewer_groups_narrows_the_persons_tokens(request):
    app = request.getfixturevalue("proxy_app")
    browser = app.test_client()
    browser.environ_base.update(HTTP_X_FORWARDED_EMAIL="ada@example.com", HTTP_X_FORWARDED_GROUPS="g-editor")
    api = Api(app, make_token(browser))
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 200
    browser.environ_base.update(HTTP_X_FORWARDED_GROUPS="other")
    assert browser.get("/connections?sandbox=prod").status_code == 403
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 403


def test_with_single_sign_on_a_session_begun_before_tokens_keeps_its_groups_for_them(request):
    portal = request.getfixturevalue("oidc_app")
    person = client_for(portal, "editor")
    with services.of(portal).store.engine.begin() as db:
        db.exec_driver_sql("DELETE FROM people")  # as a session begun before this release has none
    api = Api(portal, make_token(person))
    assert api.get("/api/v1/connections?sandbox=prod").status_code == 200


def test_tokens_made_and_revoked_are_on_the_audit_of_an_admin_of_every_sandbox_only(portal):
    editor = signed_in(portal, "editor")
    token = make_token(editor, name="nightly")
    editor.post(f"/tokens/{token[:12]}/revoke")
    admin_trail = api_as(portal, "admin").get("/api/v1/audit").get_json()["items"]
    assert {"create-token", "revoke-token"} <= {e["action"] for e in admin_trail}
    assert "nightly (asw_" in signed_in(portal, "admin").get("/audit").get_data(as_text=True)
    editor_trail = Api(portal, make_token(editor)).get("/api/v1/audit").get_json()["items"]
    assert not {"create-token", "revoke-token"} & {e["action"] for e in editor_trail}


def test_the_audit_trail_pages_by_cursor(portal, fresh_emulator):
    api = api_as(portal, "admin")
    for i in range(3):
        assert api.post("/api/v1/connections", json=new_connection(name=f"Paged {i}")).status_code == 201
    store = services.of(portal).store
    for i in range(100):
        store.audit.record(action="rename", outcome="ok", sandbox="prod", connection_name=f"filler {i}")
    first = api.get("/api/v1/audit").get_json()
    assert len(first["items"]) == 100 and first["next_cursor"]
    rest = api.get(f"/api/v1/audit?cursor={first['next_cursor']}").get_json()
    assert rest["next_cursor"] is None
    names = [e["connection_name"] for e in first["items"] + rest["items"]]
    assert [n for n in names if n and n.startswith("Paged")] == ["Paged 2", "Paged 1", "Paged 0"]


def test_a_source_of_several_kinds_of_authentication_is_described_per_kind(portal, fresh_emulator):
    mysql = next(i for i, s in fresh_emulator.specs.items() if s["name"] == "mysql")
    api = api_as(portal, "viewer")
    listed = next(s for s in api.get("/api/v1/sources").get_json()["items"] if s["key"] == mysql)
    assert "Basic Authentication" in listed["auth_specs"] and len(listed["auth_specs"]) > 1
    assert api.get(f"/api/v1/sources/{mysql}").status_code == 404
    basic = api.get(f"/api/v1/sources/{mysql}?auth=Basic Authentication")
    assert basic.status_code == 200 and basic.get_json()["fields"]["properties"]["password"]["writeOnly"] is True
