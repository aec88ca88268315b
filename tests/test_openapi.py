"""What the client sends and what the emulator answers conform to Adobe's Flow Service OpenAPI spec."""

import jsonschema
import pytest
import requests

from app.adobe import AdobeError
from app.adobe.connections import Connections
from app.adobe.gateway import Gateway
from app.adobe.http import make_session
from app.adobe.ims import TokenProvider
from app.sources import SOURCES

from .helpers.forms import VARIANTS, form_data
from .helpers.openapi_check import FLOW_ERROR, Checked, load_openapi


@pytest.fixture(scope="module")
def openapi():
    return load_openapi()


@pytest.fixture
def checked_client(fresh_emulator, openapi):
    checker = Checked(openapi)
    session = make_session()
    session.observers.append(checker)
    tokens = TokenProvider(
        make_session(), fresh_emulator.url, fresh_emulator.client_id, fresh_emulator.client_secret, ["openid"], (2, 2)
    )
    gateway = Gateway(fresh_emulator.url, tokens, fresh_emulator.client_id, fresh_emulator.org_id, session, (2, 2))
    return Connections(gateway), checker


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_create_and_read_back_conform_for_every_source(app, checked_client, variant):
    client, checker = checked_client
    key, data = form_data(variant)
    with app.test_request_context(method="POST", data=data):
        form = SOURCES[key].make_form(sandboxes=("prod",), cloud="azure")
        assert form.validate(), form.errors
        body = SOURCES[key].request_body(form)
    created = client.create_connection("prod", body)
    connection = client.get_connection("prod", created.id)
    assert connection["id"] == created.id and connection["etag"] == created.etag
    assert client.find_connections("prod", body["name"], body["connectionSpec"]["id"])[0]["id"] == created.id
    assert checker.checked == [("POST", 201), ("GET", 200), ("GET", 200)]


def test_connection_specs_and_errors_conform(checked_client, fresh_emulator):
    client, checker = checked_client
    gateway = client._gateway
    token = gateway.tokens.token()
    for path in ["/connectionSpecs", f"/connectionSpecs/{SOURCES['phoenix'].connection_spec_id}"]:
        response = gateway.session.request(
            "GET", gateway.base_url + path, headers=gateway.headers("prod", token), timeout=(5, 5)
        )
        assert response.status_code == 200
        specs = response.json()["items"]
        for spec in specs:
            # The data lake's spec is a target's, with no authSpec (as Adobe prints it): it names no secret.
            for auth_spec in spec.get("authSpec") or []:
                jsonschema.Draft7Validator.check_schema(auth_spec["spec"])
                secrets = {k for k, v in auth_spec["spec"]["properties"].items() if v.get("format") == "password"}
                # Every spec asks for at least one secret, and marks each the way the docs list them.
                assert secrets and secrets <= {
                    "password",
                    "connectionString",
                    "privateKey",
                    "privateKeyPassphrase",
                    "accessToken",
                    "s3SecretKey",
                }
    with pytest.raises(AdobeError):
        client.get_connection("prod", "0" * 36)
    bad = {
        "name": "x",
        "auth": {"specName": "Nope", "params": {}},
        "connectionSpec": {"id": SOURCES["redshift"].connection_spec_id, "version": "1.0"},
    }
    with pytest.raises(AdobeError):
        client.create_connection("prod", bad)
    assert checker.checked == [("GET", 200), ("GET", 200), ("GET", 404), ("POST", 400)]


def test_gateway_refusals_conform(fresh_emulator, openapi):
    checker = Checked(openapi)
    session = requests.Session()
    session.hooks["response"].append(checker)
    url = fresh_emulator.url + "/data/foundation/flowservice/connections"
    headers = {
        "Authorization": "Bearer not-a-token",
        "x-api-key": "k",
        "x-gw-ims-org-id": "o",
        "x-sandbox-name": "prod",
    }
    assert session.get(url, headers=headers, timeout=5).json() == {
        "error_code": "401013",
        "message": "Oauth token is not valid",
    }
    assert checker.checked == [("GET", 401)]


def test_the_checker_itself_rejects_a_request_without_required_headers(fresh_emulator, openapi):
    checker = Checked(openapi)
    session = requests.Session()
    session.hooks["response"].append(checker)
    with pytest.raises(Exception, match="x-api-key|Missing required"):
        session.get(fresh_emulator.url + "/data/foundation/flowservice/connections", timeout=5)


def test_managing_a_connection_conforms(checked_client, fresh_emulator):
    client, checker = checked_client
    body = {
        "name": "Managed",
        "auth": {
            "specName": "Basic Authentication",
            "params": {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "u", "password": "p"},
        },
        "connectionSpec": {"id": SOURCES["redshift"].connection_spec_id, "version": "1.0"},
    }
    ids = [client.create_connection("prod", {**body, "name": f"Managed {n}"}).id for n in range(3)]
    spec_ids = [s.connection_spec_id for s in SOURCES.values()]
    first, token = client.list_connections("prod", spec_ids, limit=2)
    second, last = client.list_connections("prod", spec_ids, limit=2, continuation=token)
    assert len(first) == 2 and len(second) == 1 and last is None
    assert {c["id"] for c in first + second} == set(ids)
    assert [c["name"] for c in client.search_connections("prod", spec_ids, "managed 1").items] == ["Managed 1"]
    assert client.test_connection("prod", ids[0]) is True
    tables = client.explore("prod", ids[0])
    assert client.explore("prod", ids[0], tables[0]["path"])
    connection = client.get_connection("prod", ids[0])
    etag = client.update_connection(
        "prod",
        ids[0],
        connection["etag"],
        [{"op": "replace", "path": "/auth/params", "value": {**body["auth"]["params"], "password": "new"}}],
    ).etag
    assert fresh_emulator.secrets[ids[0]]["password"] == "new"
    with pytest.raises(AdobeError) as stale:
        client.update_connection("prod", ids[0], connection["etag"], [{"op": "replace", "path": "/name", "value": "x"}])
    assert stale.value.code == "FLOW-1404-412"
    fresh_emulator.used_by_dataflows.add(ids[1])
    with pytest.raises(AdobeError) as used:
        client.delete_connection("prod", ids[1])
    assert used.value.code == "FLOW-1418-400"
    client.delete_connection("prod", ids[0])
    assert ids[0] not in fresh_emulator.connections and etag
    statuses = [status for _method, status in checker.checked]
    assert ("PATCH", 200) in checker.checked and ("PATCH", 412) in checker.checked
    assert ("DELETE", 204) in checker.checked and ("DELETE", 400) in checker.checked
    assert statuses.count(200) >= 8


def test_a_patch_without_if_match_is_refused_in_adobes_shape(checked_client, fresh_emulator):
    client, checker = checked_client
    created = client.create_connection(
        "prod",
        {
            "name": "No etag",
            "auth": {
                "specName": "Basic Authentication",
                "params": {
                    "server": "rs.example.com",
                    "port": "5439",
                    "database": "dev",
                    "username": "u",
                    "password": "p",
                },
            },
            "connectionSpec": {"id": SOURCES["redshift"].connection_spec_id, "version": "1.0"},
        },
    )
    # Sent past the checker: the spec itself calls this request invalid (if-match is required).
    response = requests.patch(
        f"{client.base_url}/connections/{created.id}",
        timeout=5,
        headers=client._gateway.headers("prod", client._gateway.tokens.token(), json_body=True),
        json=[{"op": "replace", "path": "/name", "value": "x"}],
    )
    assert response.status_code == 400 and response.json()["type"].endswith("FLOW-1403-400")
    jsonschema.validate(response.json(), FLOW_ERROR)
    with pytest.raises(ValueError):
        client.update_connection("prod", created.id, "", [{"op": "replace", "path": "/name", "value": "x"}])
