"""Every other database source: forms built from the emulator's connection specs, over real HTTP."""

from __future__ import annotations

import re

import jsonschema
import pytest
import requests

from app.adobe.spec_catalog import is_database
from app.emulator import Fault
from app.emulator.specs import connection_specs
from app.sources import SOURCES
from app.sources.generic import form_class_for

from .helpers.browser import assert_axe_clean
from .helpers.forms import form_data
from .helpers.markup import csrf_token, field_error, submission_id

SPECS = connection_specs("azure")
CURATED_IDS = {source.connection_spec_id for source in SOURCES.values()}
GENERIC = [
    (spec, auth)
    for spec in SPECS.values()
    if spec["id"] not in CURATED_IDS and is_database(spec)
    for auth in spec["authSpec"]
]
MYSQL = "26d738e0-8963-47ea-aadf-c60de735468a"


def valid_value(name: str, schema: dict):
    """A value a person would type for this param, as the form posts it."""
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "boolean":
        return "y"
    if schema.get("type") in ("integer", "number"):
        return str(schema.get("default", schema.get("minimum", 443)))
    if schema.get("format") == "password":
        return "S3cret;{pw}" if name != "connectionString" else documented_string(schema)
    if name in ("host", "server"):
        return "db.example.com"
    if name == "port":
        return "5432"
    if schema.get("pattern") == "^https://":
        return "https://adb-1234567890123456.7.azuredatabricks.net"
    return f"{name}-value"


def documented_string(schema: dict) -> str:
    """A connection string of the shape the param's description gives (Server={SERVER};Port={PORT};…)."""
    values = {"SERVER": "db.example.com", "HOST": "db.example.com", "PORT": "5432", "PASSWORD": "{S3cret;pw}"}
    shape = schema["description"].split(": ", 1)[1]
    return re.sub(r"\{([A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(1).lower()), shape)


def filled(auth: dict, **changes) -> dict:
    properties = auth["spec"]["properties"]
    data = {"name": f"Generic {auth['name']}", "description": "", "sandbox": "prod", "duplicate_ok": "1"}
    data.update({name: valid_value(name, schema) for name, schema in properties.items()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def form_url(server, spec, auth) -> str:
    return f"{server.url}/sources/spec/{spec['id']}?auth={requests.utils.quote(auth['name'])}"


def submit(session, url, data):
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text[:300]
    return session.post(
        url,
        allow_redirects=False,
        timeout=10,
        data={**data, "csrf_token": csrf_token(page.text), "submission_id": submission_id(page.text)},
    )


@pytest.mark.parametrize("spec, auth", GENERIC, ids=[f"{s['name']}-{a['name']}" for s, a in GENERIC])
def test_a_generated_form_creates_a_connection_that_passes_the_schema(live_server, fresh_emulator, spec, auth):
    response = submit(requests.Session(), form_url(live_server, spec, auth), filled(auth))
    assert response.status_code == 303, re.findall(r'class="error" id="([^"]+)">(.*?)</p>', response.text)
    sent = fresh_emulator.creations()[-1]
    assert sent["connectionSpec"] == {"id": spec["id"], "version": "1.0"}
    assert sent["auth"]["specName"] == auth["name"]
    jsonschema.validate(sent["auth"]["params"], auth["spec"])
    for name, schema in auth["spec"]["properties"].items():
        if schema.get("type") == "integer":
            assert isinstance(sent["auth"]["params"][name], int)
        if schema.get("type") == "boolean":
            assert sent["auth"]["params"][name] is True
    result = requests.get(live_server.url + response.headers["Location"], timeout=10).text
    for schema in auth["spec"]["properties"].values():
        if schema.get("format") == "password":
            assert "S3cret" not in result  # the curl command shows a placeholder instead


@pytest.mark.parametrize(
    "spec, auth, field",
    [
        (spec, auth, name)
        for spec, auth in GENERIC
        for name in auth["spec"]["required"]
        if auth["spec"]["properties"][name].get("type") != "boolean"
    ],
)
def test_each_required_field_left_empty_gets_its_message(live_server, fresh_emulator, spec, auth, field):
    response = submit(requests.Session(), form_url(live_server, spec, auth), filled(auth, **{field: ""}))
    assert response.status_code == 400
    assert re.search(r"required|Enter the|Choose the", field_error(response.text, field))
    assert not fresh_emulator.creations()


@pytest.mark.parametrize(
    "spec_id, auth_name, field, value, message",
    [
        ("b2e08744-4f1a-40ce-af30-7abac3e23cf3", "KeyPair Authentication", "account", "", "Enter the account"),
        (
            "e9d7ec6b-0873-4e57-ad21-b3a7c65e310b",
            "Access Token Authentication",
            "domain",
            "adb-1.azuredatabricks.net",
            "does not have the form",
        ),
        (MYSQL, "Basic Authentication", "sslMode", "SOMETIMES", "Choose one of the listed values"),
        (MYSQL, "Basic Authentication", "port", "http", "Enter the port as a whole number"),
        (MYSQL, "Basic Authentication", "server", "https://db.example.com", "not a URL"),
        ("09182899-b429-40c9-a15a-bf3ddbc8ced7", "Basic Authentication", "server", "db.example.com:99999", "port"),
    ],
)
def test_a_wrong_value_gets_its_message(live_server, fresh_emulator, spec_id, auth_name, field, value, message):
    auth = next(a for a in SPECS[spec_id]["authSpec"] if a["name"] == auth_name)
    response = submit(requests.Session(), form_url(live_server, SPECS[spec_id], auth), filled(auth, **{field: value}))
    assert response.status_code == 400
    assert message.lower() in field_error(response.text, field).lower()
    assert not fresh_emulator.creations()


def test_every_mistake_is_reported_in_one_round(live_server, fresh_emulator):
    auth = next(a for a in SPECS[MYSQL]["authSpec"] if a["name"] == "Basic Authentication")
    response = submit(
        requests.Session(),
        form_url(live_server, SPECS[MYSQL], auth),
        filled(auth, server="https://db.example.com", port="http", database="", username=""),
    )
    assert response.status_code == 400
    assert "not a URL" in field_error(response.text, "server")
    assert "whole number" in field_error(response.text, "port")
    assert "Enter the database" in field_error(response.text, "database")
    assert "Enter the username" in field_error(response.text, "username")
    assert "4 things need fixing" in response.text


@pytest.mark.parametrize(
    "value, message",
    [
        ("this is not a connection string", "Part 1 is not a key=value pair"),
        ("Server=db.example.com;UID=etl;PWD=pw", "no value for Port, Database; add Port=…; Database=…"),
        ("Server=https://db.example.com;Port=3306;Database=shop;UID=etl;PWD=pw", "Server: Enter only the host name"),
        ("Server=db.example.com;Port=99999;Database=shop;UID=etl;PWD=pw", "Port: Enter the port"),
        (
            "mysql://etl:pw@db.example.com:3306/shop",
            "This is a URI connection string; Flow Service reads only "
            "key=value; strings. Write it as Server=…;Port=…;Database=…;UID=…;PWD=….",
        ),
    ],
)
def test_a_generic_connection_string_is_checked_against_its_documented_keys(
    live_server, fresh_emulator, value, message
):
    auth = next(a for a in SPECS[MYSQL]["authSpec"] if a["name"] == "Connection String Based Authentication")
    response = submit(
        requests.Session(), form_url(live_server, SPECS[MYSQL], auth), filled(auth, connectionString=value)
    )
    assert response.status_code == 400
    assert message in field_error(response.text, "connectionString")
    assert value not in response.text  # a secret field: what was pasted is never sent back
    assert not fresh_emulator.creations()


def test_a_wrong_number_type_gets_its_message(live_server, fresh_emulator):
    from app.emulator.specs import connection_specs as specs_for

    aws = specs_for("aws")["b2e08744-4f1a-40ce-af30-7abac3e23cf3"]["authSpec"][0]
    form = form_class_for(aws)
    with live_server_app_context(live_server, method="POST", data=filled(aws, port="four")):
        bound = form(sandboxes=("prod",))
        assert not bound.validate()
        assert bound.port.errors == ["Enter a whole number of at most 15 digits, such as 42."]


def live_server_app_context(server, **kwargs):
    app = server.app
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_request_context(**kwargs)


def test_the_builder_renders_every_kind_of_field(app):
    auth = {
        "name": "Every Keyword",
        "spec": {
            "type": "object",
            "required": ["host", "secretKey", "retries"],
            "properties": {
                "host": {"type": "string", "description": "Where it runs."},
                "secretKey": {"type": "string", "format": "password", "description": "The key."},
                "retries": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
                "ratio": {"type": "number", "minimum": 0},
                "useTls": {"type": "boolean", "default": True, "description": "Encrypt."},
                "region": {"type": "string", "enum": ["eu", "us"], "default": "us"},
                "notes": {"type": "string", "maxLength": 10},
            },
        },
    }
    with app.test_request_context():
        form = form_class_for(auth)(sandboxes=("prod",))
        html = {name: str(form[name]()) for name in auth["spec"]["properties"]}
        assert 'type="text"' in html["host"] and form.host.description == "Where it runs."
        assert form.ratio.description == "Optional: leave empty if unused."
        assert 'type="password"' in html["secretKey"]
        assert 'type="number"' in html["retries"] and 'min="1"' in html["retries"] and 'max="5"' in html["retries"]
        assert 'value="3"' in html["retries"]
        assert 'type="number"' in html["ratio"] and 'step="any"' in html["ratio"]
        assert 'type="checkbox"' in html["useTls"] and "checked" in html["useTls"]
        assert "<select" in html["region"] and '<option selected value="us">' in html["region"]
        assert 'maxlength="10"' in html["notes"]
        assert form.host.flags.required and not form.ratio.flags.required
        assert [g[0] for g in form.groups] == ["Connection", "Every Keyword"]
        assert form.retries.label.text == "Retries" and form.secretKey.label.text == "Secret key"
    with app.test_request_context(
        method="POST",
        data={
            "name": "n",
            "sandbox": "prod",
            "host": "h.example.com",
            "secretKey": "k",
            "retries": "9",
            "ratio": "0.5",
        },
    ):
        form = form_class_for(auth)(sandboxes=("prod",))
        assert not form.validate()
        assert form.retries.errors == ["Enter a number from 1 to 5."]
        assert form.params()["ratio"] == 0.5 and form.params()["useTls"] is False


def test_the_picker_lists_database_sources_only_and_searches(live_server, fresh_emulator):
    page = requests.get(live_server.url + "/", timeout=10).text
    for spec, _auth in GENERIC:
        assert f"/sources/spec/{spec['id']}" in page
    assert "Amazon S3" not in page  # not a database
    for source in SOURCES.values():
        assert f"/sources/{source.key}" in page and f"/sources/spec/{source.connection_spec_id}" not in page
    found = requests.get(live_server.url + "/", params={"q": "sql"}, timeout=10).text
    assert "MySQL" in found and "Microsoft SQL Server" in found and "PostgreSQL" in found
    assert "Snowflake" not in found and "Teradata" not in found
    fetches = [r for r in fresh_emulator.received if r.path.endswith("/connectionSpecs")]
    assert len(fetches) == 1  # the second page came from the cache


def test_a_curated_spec_never_shows_the_generic_form(live_server):
    response = requests.get(
        f"{live_server.url}/sources/spec/{SOURCES['redshift'].connection_spec_id}", allow_redirects=False, timeout=10
    )
    assert response.status_code == 302 and response.headers["Location"] == "/sources/redshift"


def test_several_auth_specs_are_chosen_first(live_server):
    page = requests.get(f"{live_server.url}/sources/spec/{MYSQL}", timeout=10)
    assert page.status_code == 200
    assert "Connection String Based Authentication" in page.text and "Basic Authentication" in page.text
    unknown = requests.get(f"{live_server.url}/sources/spec/{MYSQL}?auth=Magic", timeout=10)
    assert unknown.status_code == 404 and "no authentication called" in unknown.text
    assert requests.get(f"{live_server.url}/sources/spec/not-a-spec", timeout=10).status_code == 404


def test_when_specs_cannot_be_fetched_the_curated_four_still_work(live_server, fresh_emulator):
    fresh_emulator.inject(Fault("GET", "/connectionSpecs", status=503, body={"error": "down"}, times=100))
    page = requests.get(live_server.url + "/", timeout=10)
    assert page.status_code == 200
    assert "Only the sources above are available right now" in page.text and "503" in page.text
    assert all(f"/sources/{key}" in page.text for key in SOURCES)
    assert requests.get(f"{live_server.url}/sources/spec/{MYSQL}", timeout=10).status_code == 502
    session = requests.Session()
    key, data = form_data("redshift")
    form = session.get(f"{live_server.url}/sources/{key}", timeout=10).text
    created = session.post(
        f"{live_server.url}/sources/{key}",
        allow_redirects=False,
        timeout=10,
        data={**data, "csrf_token": csrf_token(form), "submission_id": submission_id(form)},
    )
    assert created.status_code == 303


@pytest.mark.browser
def test_create_a_mysql_connection_through_the_generic_form(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/")
    page.get_by_label("Find a source").fill("mysql")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="MySQL").click()
    page.get_by_role("link", name="Basic Authentication").click()
    assert_axe_clean(page, "the MySQL form")
    page.get_by_label("Connection name").fill("Shop MySQL")
    page.get_by_label("Server", exact=True).fill("mysql.example.com")
    page.get_by_label("Port", exact=True).fill("3306")
    page.get_by_label("Database", exact=True).fill("shop")
    page.get_by_label("Username", exact=True).fill("etl")
    page.get_by_label("Password", exact=True).fill("my-Secret-1")
    page.get_by_label("SSL mode").select_option("REQUIRED")
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    assert "MySQL connection created" in page.locator("h1").inner_text()
    sent = fresh_emulator.creations()[0]["auth"]
    assert sent == {
        "specName": "Basic Authentication",
        "params": {
            "server": "mysql.example.com",
            "port": "3306",
            "database": "shop",
            "username": "etl",
            "password": "my-Secret-1",
            "sslMode": "REQUIRED",
        },
    }
    assert "my-Secret-1" not in page.content()


def test_a_generic_connection_is_listed_shown_masked_and_rotated(live_server, fresh_emulator):
    databricks = SPECS["e9d7ec6b-0873-4e57-ad21-b3a7c65e310b"]
    auth = databricks["authSpec"][0]
    session = requests.Session()
    created = submit(session, form_url(live_server, databricks, auth), filled(auth, name="Lakehouse"))
    connection_url = live_server.url + created.headers["Location"].split("?")[0]
    listing = session.get(live_server.url + "/connections", timeout=10).text
    assert "Lakehouse" in listing and "Azure Databricks" in listing
    detail = session.get(connection_url, timeout=10).text
    assert "accessToken" in detail and "S3cret" not in detail and "clusterId-value" in detail
    form = session.get(connection_url + "/credentials", timeout=10).text
    assert 'value="clusterId-value"' in form and "S3cret" not in form
    etag = re.search(r'name="etag" value="([^"]*)"', form).group(1).replace("&#34;", '"')
    rotated = session.post(
        connection_url + "/credentials",
        allow_redirects=False,
        timeout=10,
        data={**filled(auth, accessToken="dapi-new-token-1"), "csrf_token": csrf_token(form), "etag": etag},
    )
    assert rotated.status_code == 303
    connection_id = connection_url.rsplit("/", 1)[1]
    assert fresh_emulator.secrets[connection_id]["accessToken"] == "dapi-new-token-1"


def test_the_spec_cache_lasts_as_configured(fresh_emulator):
    from app import create_app

    from .helpers.live import settings_for

    for seconds, fetches in ((0, 2), (3600, 1)):
        fresh_emulator.reset()
        client = create_app(settings_for(fresh_emulator, spec_cache_seconds=seconds)).test_client()
        assert client.get("/").status_code == 200 and client.get("/").status_code == 200
        assert len([r for r in fresh_emulator.received if r.path.endswith("/connectionSpecs")]) == fetches
