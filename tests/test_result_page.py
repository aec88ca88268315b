"""The page after creating: the same on every worker, and a curl that gives back exactly what Flow Service got."""

from __future__ import annotations

import html
import json
import re
import shlex

import pytest

from app import create_app, services
from app.sources.connection_string import quote_value

from .helpers.forms import form_data

AWKWARD_PASSWORDS = ["p", "p;a}ss{=", 'q"uo\\te', " edge ", "ünï ✓", "{PASSWORD}", "}}"]


def curl_of(page: str) -> str:
    return html.unescape(re.search(r'<pre id="curl"[^>]*>(.*?)</pre>', page, re.S).group(1))


def body_of(curl: str) -> dict:
    words = shlex.split(curl.replace("\\\n", " "))
    return json.loads(words[words.index("-d") + 1])


def restored(shown: dict, secrets: dict[str, str]) -> dict:
    """`shown` with each placeholder replaced by what it stands for."""
    params = {}
    for name, value in shown["auth"]["params"].items():
        if isinstance(value, str):
            for placeholder, secret in secrets.items():
                value = value.replace(placeholder, secret)
        params[name] = value
    return {**shown, "auth": {**shown["auth"], "params": params}}


@pytest.mark.parametrize("password", AWKWARD_PASSWORDS)
@pytest.mark.parametrize("variant", ["greenplum-fields", "postgresql-fields", "postgresql-basic", "redshift"])
def test_the_curl_gives_back_exactly_what_flow_service_received(client, fresh_emulator, variant, password):
    key, data = form_data(variant, password=password)
    response = client.post(f"/sources/{key}", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Connection created" in page, page[:3000]
    shown = body_of(curl_of(page))
    sent = fresh_emulator.creations()[-1]
    in_string = "connectionString" in sent["auth"]["params"]
    # In a connection string the placeholder stands for the value as the string carries it.
    secrets = {"{PASSWORD}": quote_value(password) if in_string else password}
    assert restored(shown, secrets) == sent
    if password not in ("{PASSWORD}", "}}", "p"):
        assert password not in curl_of(page)


def test_every_secret_looking_key_of_a_pasted_string_is_redacted(client, fresh_emulator):
    pasted = (
        "Server=pg.example.com;Database=orders;Port=5432;UID=etl;Password=pw-one;"
        "KeyStorePassword=ks-two;TrustStorePassword=ts-three;AuthToken=tok-four;EncryptionMethod=1"
    )
    key, data = form_data("postgresql-string", connectionString=pasted)
    page = client.post(f"/sources/{key}", data=data, follow_redirects=True).get_data(as_text=True)
    curl = curl_of(page)
    for secret in ("pw-one", "ks-two", "ts-three", "tok-four"):
        assert secret not in page
    for placeholder in ("{PASSWORD}", "{KEY_STORE_PASSWORD}", "{TRUST_STORE_PASSWORD}", "{AUTH_TOKEN}"):
        assert placeholder in curl
    secrets = {
        "{PASSWORD}": "pw-one",
        "{KEY_STORE_PASSWORD}": "ks-two",
        "{TRUST_STORE_PASSWORD}": "ts-three",
        "{AUTH_TOKEN}": "tok-four",
    }
    assert restored(body_of(curl), secrets) == fresh_emulator.creations()[-1]
    assert "EncryptionMethod=1" in curl


def test_another_worker_shows_the_same_created_page(settings, fresh_emulator):
    first, second = create_app(settings), create_app(settings)  # two workers over one store
    for worker in (first, second):
        worker.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    key, data = form_data("redshift", name="Shared result")
    location = first.test_client().post(f"/sources/{key}", data=data).headers["Location"]
    assert "created=" in location
    page = second.test_client().get(location).get_data(as_text=True)
    assert "Connection created" in page and "curl -X POST" in page and "Shared result" in page


def test_only_the_redirect_after_creating_says_created(client, app, fresh_emulator):
    key, data = form_data("redshift", name="Before")
    location = client.post(f"/sources/{key}", data=data).headers["Location"]
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", location).group(1)
    plain = client.get(f"/connections/{connection_id}?sandbox=prod").get_data(as_text=True)
    assert "Connection created" not in plain and "curl -X POST" not in plain
    flow = services.of(app).connections
    flow.update_connection(
        "prod",
        connection_id,
        flow.get_connection("prod", connection_id)["etag"],
        [{"op": "replace", "path": "/name", "value": "After"}],
    )
    assert "After" in client.get(f"/connections/{connection_id}?sandbox=prod").get_data(as_text=True)
    # Another connection's page cannot borrow this submission's result.
    other = client.post(f"/sources/{key}", data={**data, "name": "Other", "submission_id": "o" * 20})
    other_id = re.search(r"/connections/([0-9a-f-]{36})", other.headers["Location"]).group(1)
    borrowed = location.replace(connection_id, other_id)
    assert "Connection created" not in client.get(borrowed).get_data(as_text=True)
