"""Attacks on a shared portal, each performed: other sources' connections, huge numbers, open redirects, forged
headers."""

from __future__ import annotations

import time

import pytest
import requests

from app import create_app, services
from app.web.auth import safe_next

from .helpers.forms import form_data

S3 = "ecadc60c-7455-4d87-84dc-2a0e293d997b"
MYSQL = "26d738e0-8963-47ea-aadf-c60de735468a"


def s3_connection(app) -> str:
    """An Amazon S3 connection made outside the portal with the same technical account."""
    return (
        services.of(app)
        .connections.create_connection(
            "prod",
            {
                "name": "Landing bucket",
                "auth": {
                    "specName": "Access Key",
                    "params": {"s3AccessKey": "AKIAEXAMPLE", "s3SecretKey": "s3-secret-key"},
                },
                "connectionSpec": {"id": S3, "version": "1.0"},
            },
        )
        .id
    )


# Scope: the portal writes only to connections of the sources it offers.


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "edit", None),
        ("POST", "edit", {"name": "hijacked", "description": "", "etag": '"x"'}),
        ("GET", "credentials", None),
        ("POST", "credentials", {"s3AccessKey": "a", "s3SecretKey": "b", "etag": '"x"'}),
        ("GET", "delete", None),
        ("POST", "delete", {"confirm_name": "Landing bucket"}),
    ],
)
def test_another_sources_connection_is_read_only(app, client, fresh_emulator, method, path, data):
    connection_id = s3_connection(app)
    response = client.open(f"/connections/{connection_id}/{path}?sandbox=prod", method=method, data=data)
    assert response.status_code == 403 and "read-only" in response.get_data(as_text=True)
    assert not [r for r in fresh_emulator.received if r.method in ("PATCH", "DELETE")]
    assert fresh_emulator.connections[connection_id]["name"] == "Landing bucket"


def test_another_sources_connection_can_be_looked_at(app, client, fresh_emulator):
    connection_id = s3_connection(app)
    page = client.get(f"/connections/{connection_id}?sandbox=prod").get_data(as_text=True)
    assert "Landing bucket" in page and "read-only here" in page
    assert f"/connections/{connection_id}/delete" not in page and "s3-secret-key" not in page


def test_a_database_spec_connection_may_still_be_changed(app, client, fresh_emulator):
    created = services.of(app).connections.create_connection(
        "prod",
        {
            "name": "MySQL one",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=m;Port=3306;Database=d;UID=u;PWD=p"},
            },
            "connectionSpec": {"id": MYSQL, "version": "1.0"},
        },
    )
    assert client.get(f"/connections/{created.id}/edit?sandbox=prod").status_code == 200


# Numbers are parsed with bounded cost.

NUMBERS = {
    "name": "Numbers",
    "type": "BasicAuthentication",
    "spec": {
        "type": "object",
        "required": ["host"],
        "properties": {
            "host": {"type": "string"},
            "queryTimeout": {"type": "number", "minimum": 0},
            "retries": {"type": "integer", "maximum": 10},
        },
    },
}


@pytest.mark.parametrize(
    "value",
    [
        "1e1000000",
        "9" * 5000,
        "1" + "0" * 100,
        "1.5e308",
        "٣",
        "0x10",
        "1_000",
        "-" + "9" * 40,
        "1." + "0" * 60,
        "NaN",
        "Infinity",
    ],
)
@pytest.mark.parametrize("field", ["queryTimeout", "retries"])
def test_huge_or_odd_numbers_are_refused_at_once(app, field, value):
    from app.sources.generic import form_class_for

    form_class = form_class_for(NUMBERS)
    with app.test_request_context(
        method="POST", data={"name": "n", "sandbox": "prod", "host": "db.example.com", field: value}
    ):
        started = time.monotonic()
        form = form_class(sandboxes=("prod",))
        assert not form.validate()
        assert time.monotonic() - started < 0.5
        assert "at most 15 digits" in form[field].errors[0]
        assert value not in form[field].errors[0]


def test_a_port_of_any_length_is_refused_at_once(client, fresh_emulator):
    started = time.monotonic()
    key, data = form_data("redshift", port="9" * 60000)
    response = client.post(f"/sources/{key}", data=data)
    assert time.monotonic() - started < 1.0 and response.status_code == 400
    assert not fresh_emulator.creations()


# `next` cannot leave the site.


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.com",
        "/\r/x",
        "/\n/evil.com",
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        " //evil.com",
        "https://evil.com",
        "javascript:alert(1)",
        "/\x00/evil.com",
        "\x01//evil.com",
        "/" + "a" * 5000,
        "evil.com",
    ],
)
def test_next_never_leaves_the_site(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/connections?sandbox=dev", "/connections?sandbox=dev"),
        ("/audit", "/audit"),
        ("/con\tnections", "/connections"),
    ],
)
def test_next_keeps_a_path_on_this_site(app, target, kept):
    with app.test_request_context():
        assert safe_next(target) == kept


@pytest.mark.parametrize("target", ["/%09/evil.com", "/%0d/x", "/%0a/x", "%2F%2Fevil.com"])
def test_sign_in_redirects_only_on_this_site(accounts_client, target):
    client, password = accounts_client
    page = client.get(f"/sign-in?next={target}")
    assert page.status_code == 200
    answer = client.post(
        "/sign-in",
        data={
            "username": "ada",
            "password": password,
            "next": target.replace("%09", "\t").replace("%0d", "\r").replace("%0a", "\n").replace("%2F", "/"),
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


@pytest.fixture
def accounts_client(settings, tmp_path):
    from app.accounts import add_user

    users = tmp_path / "users"
    add_user(str(users), "ada", "correct-horse-battery")
    app = create_app(settings.replace(auth="accounts", users_file=str(users)))
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app.test_client(), "correct-horse-battery"


# Forwarded headers are believed only as configured.


def test_forwarded_prefix_and_port_are_never_believed(settings):
    app = create_app(settings.replace(proxy_count=1))
    app.config.update(TESTING=True)
    page = app.test_client().get(
        "/sources/redshift",
        headers={
            "X-Forwarded-Prefix": "/evil",
            "X-Forwarded-Port": "6666",
            "X-Forwarded-Host": "portal.example.com",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    text = page.get_data(as_text=True)
    assert "/evil" not in text and "6666" not in text
    assert page.headers.get("Strict-Transport-Security")  # Proto is believed from the one counted hop


def test_gunicorn_believes_no_forwarded_proto():
    from app import gunicorn_conf

    assert gunicorn_conf.forwarded_allow_ips == "" and gunicorn_conf.secure_scheme_headers == {}


# No 500 from odd input.


@pytest.mark.parametrize(
    "path",
    [
        "/audit?_method=POST",
        "/audit?user=%00",
        "/audit?text=%00%00",
        "/audit?sandbox=" + "é" * 3000,
        "/audit.csv?text=%00",
        "/connections?name=%00",
        "/connections?name=" + "x" * 5000,
        "/connections?page=%E2%9C%93",
        "/?q=%00" + "é" * 500,
    ],
)
def test_odd_query_parameters_get_a_page_not_a_500(client, fresh_emulator, path):
    assert client.get(path).status_code < 500


def test_a_connection_without_created_at_is_shown(app, client, fresh_emulator):
    key, data = form_data("redshift", name="Undated")
    location = client.post(f"/sources/{key}", data=data).headers["Location"]
    for connection in fresh_emulator.connections.values():
        connection.pop("createdAt")
    assert client.get(location).status_code == 200
    page = client.get("/connections").get_data(as_text=True)
    assert "Undated" in page
    assert client.get("/connections?name=undated").status_code == 200
    data["submission_id"] = "u" * 20
    del data["duplicate_ok"]
    assert client.post(f"/sources/{key}", data=data).status_code == 409  # the namesake check reads it too


def test_a_page_with_a_csrf_token_is_never_compressed_and_others_are(live_server):
    # BREACH: a compressed page holding a token next to text an attacker chooses (?q=) leaks the token by size.
    gz = {"Accept-Encoding": "gzip"}
    form = requests.get(live_server.url + "/sources/redshift?q=csrf_token", headers=gz, timeout=10)
    assert 'name="csrf_token"' in form.text and "Content-Encoding" not in form.headers
    picker = requests.get(live_server.url + "/?q=guess", headers=gz, timeout=10)
    assert picker.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in picker.headers["Vary"]
    assert 'name="csrf_token"' not in picker.text and "guess" in picker.text
    plain = requests.get(live_server.url + "/", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert (
        "Content-Encoding" not in plain.headers and plain.text == requests.get(live_server.url + "/", timeout=10).text
    )
