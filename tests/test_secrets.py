"""Secrets never reach a page, a log line, a cookie or an error shown to a person."""

import base64
import json
import logging
import re
import sys
import zlib

import pytest
import requests

from app import services
from app.emulator import Fault

from .helpers.forms import form_data

PASSWORD = "Pw-9f83-unique;{}"
ROTATED = "Rotated-4b7e-unique"


def cookie_text(client) -> str:
    texts = []
    for cookie in client._cookies.values():
        value = cookie.value
        texts.append(value)
        payload = value.lstrip(".").split(".")[0]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            texts.append((zlib.decompress(raw) if value.startswith(".") else raw).decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - a cookie we cannot decode is still searched raw
            pass
    return "\n".join(texts)


@pytest.mark.parametrize(
    "fault",
    [
        None,
        Fault("POST", "/connections", status=400, body={"title": "Bad"}),
        Fault("POST", "/connections", status=503, body={}),
    ],
)
def test_no_secret_in_pages_logs_or_cookies(client, fresh_emulator, caplog, fault):
    caplog.set_level(logging.DEBUG)
    if fault:
        fresh_emulator.inject(fault)
    key, data = form_data("postgresql-basic", password=PASSWORD)
    response = client.post(f"/sources/{key}", data=data, follow_redirects=True)
    pages = response.get_data(as_text=True) + client.get(f"/sources/{key}").get_data(as_text=True)
    token = next(iter(fresh_emulator.tokens))
    for secret in (PASSWORD, fresh_emulator.client_secret, token):
        assert secret not in pages
        assert secret not in caplog.text
        assert secret not in cookie_text(client)


def test_pages_carry_security_headers(client):
    response = client.get("/sources/redshift")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_settings_repr_hides_the_client_secret(settings):
    assert settings.client_secret not in repr(settings)


def echo_of(text: str) -> dict:
    """A Flow Service refusal whose words repeat `text`."""
    return {
        "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
        "title": "Invalid request",
        "status": 400,
        "report": {"detailed-message": text, "request-id": "adobe-r1"},
        "errorMessage": text,
    }


def withheld(page: str) -> bool:
    return "not shown because it repeats a secret" in page and "400" in page and "FLOW-1100-400" in page


# A one-letter password is inside "permission"; a password equal to the database name is inside the host.
@pytest.mark.parametrize(
    ("password", "adobe_says"),
    [
        ("p", "Login failed: permission denied for user etl"),
        ("orders", "could not connect to host orders.db.example.com"),
        (PASSWORD, f"Login failed for password {PASSWORD}"),
    ],
)
def test_adobe_text_quoting_a_typed_secret_is_withheld_on_create(client, fresh_emulator, password, adobe_says):
    fresh_emulator.inject(Fault("POST", "/connections", status=400, body=echo_of(adobe_says)))
    key, data = form_data("postgresql-basic", password=password, database="orders")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert withheld(page) and "adobe-r1" in page
    assert adobe_says not in page and "ermission" not in page and "{PASSWORD}" not in page
    audit = client.get("/audit.csv").get_data(as_text=True)
    assert adobe_says not in audit and "ermission" not in audit


def test_adobe_text_without_a_secret_is_shown(client, fresh_emulator):
    fresh_emulator.inject(Fault("POST", "/connections", status=400, body=echo_of("The port is closed.")))
    key, data = form_data("postgresql-basic", password="Long-and-unrelated-77")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert "The port is closed." in page and not withheld(page)


def test_adobe_text_quoting_the_new_password_is_withheld_on_rotate(client, app, fresh_emulator):
    flow = services.of(app).connections
    key, data = form_data("postgresql-basic", password="first-password-1")
    created = client.post(f"/sources/{key}", data=data).headers["Location"]
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", created).group(1)
    etag = flow.get_connection("prod", connection_id)["etag"]
    fresh_emulator.inject(
        Fault("PATCH", f"/connections/{connection_id}", status=400, body=echo_of(f"password {ROTATED} is too weak"))
    )
    page = client.post(
        f"/connections/{connection_id}/credentials?sandbox=prod",
        data={
            "etag": etag,
            "method": "basic",
            "server": "pg.example.com",
            "port": "5432",
            "database": "orders",
            "username": "etl",
            "password": ROTATED,
            "sslMode": "Verify Full",
        },
    ).get_data(as_text=True)
    assert withheld(page) and ROTATED not in page and "too weak" not in page
    for export in (client.get("/audit").get_data(as_text=True), client.get("/audit.csv").get_data(as_text=True)):
        assert ROTATED not in export and "too weak" not in export


@pytest.mark.parametrize("path", ["test", "explore"])
def test_adobe_text_quoting_the_client_secret_is_withheld_on_test_and_explore(client, app, fresh_emulator, path):
    key, data = form_data("redshift")
    created = client.post(f"/sources/{key}", data=data).headers["Location"]
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", created).group(1)
    fresh_emulator.inject(
        Fault(
            "GET",
            f"/connections/{connection_id}/{path}",
            status=400,
            body=echo_of(f"client {fresh_emulator.client_secret} refused"),
        )
    )
    page = client.get(f"/connections/{connection_id}/{path}?sandbox=prod").get_data(as_text=True)
    assert withheld(page) and fresh_emulator.client_secret not in page and "refused" not in page


def test_adobe_text_quoting_a_secret_is_withheld_on_readyz(client, fresh_emulator):
    fresh_emulator.inject(
        Fault("GET", "/connectionSpecs/", status=400, times=5, body=echo_of(f"secret {fresh_emulator.client_secret}"))
    )
    fresh_emulator.inject(Fault("GET", "", status=400, times=5, body=echo_of(f"secret {fresh_emulator.client_secret}")))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    text = answer.get_data(as_text=True)
    assert fresh_emulator.client_secret not in text and "not shown because it repeats a secret" in text


def decoded_cookie(value: str) -> str:
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if value.startswith(".") else raw).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_whole_run_through_gunicorn_leaks_no_secret_anywhere(fresh_emulator, tmp_path):
    """Real mode against the emulator, built-in accounts: every page, header, cookie and log line is searched."""
    from app.accounts import add_user
    from app.emulator import Fault

    from .helpers.markup import csrf_token, submission_id
    from .helpers.servers import REPO, serve, wait_until_up

    portal_password = "portal-Pass-5e1f0c"
    users = tmp_path / "users"
    add_user(str(users), "ada", portal_password)
    url, process = serve(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        WIZARD_USERS_FILE=str(users),
        AEP_CLIENT_ID=fresh_emulator.client_id,
        AEP_CLIENT_SECRET=fresh_emulator.client_secret,
        AEP_ORG_ID=fresh_emulator.org_id,
        AEP_PLATFORM_URL=fresh_emulator.url,
        AEP_IMS_URL=fresh_emulator.url,
        AEP_SANDBOXES="prod,dev",
        WIZARD_SECRET_KEY="test-secret-key-4d1c",
        WEB_CONCURRENCY="2",
    )
    seen: list[str] = []
    session = requests.Session()

    def record(response):
        for item in response.history + [response]:
            seen.append(item.text)
            seen.extend(f"{name}: {value}" for name, value in item.headers.items())
            for cookie in item.cookies:
                seen.append(cookie.value)
                seen.append(decoded_cookie(cookie.value))
        return response

    def form_page(key):
        return record(session.get(f"{url}/sources/{key}", timeout=10)).text

    def submit(key, data, **headers):
        page = form_page(key)
        return record(
            session.post(
                f"{url}/sources/{key}",
                timeout=30,
                headers=headers,
                data={**data, "csrf_token": csrf_token(page), "submission_id": submission_id(page)},
            )
        )

    try:
        wait_until_up(url, process)
        sign_in_page = record(session.get(url + "/", timeout=10)).text
        record(
            session.post(
                url + "/sign-in",
                timeout=10,
                data={"csrf_token": csrf_token(sign_in_page), "username": "ada", "password": PASSWORD},
            )
        )
        sign_in_page = record(session.get(url + "/sign-in", timeout=10)).text
        record(
            session.post(
                url + "/sign-in",
                timeout=10,
                data={"csrf_token": csrf_token(sign_in_page), "username": "ada", "password": portal_password},
            )
        )
        created = submit(*form_data("postgresql-basic", password=PASSWORD))
        assert created.status_code == 200 and "/connections/" in created.url
        rotate_url = created.url.split("?")[0] + "/credentials?sandbox=prod"
        rotate_page = record(session.get(rotate_url, timeout=10)).text
        etag = re.search(r'name="etag" value="([^"]*)"', rotate_page).group(1).replace("&#34;", '"')
        rotated = record(
            session.post(
                rotate_url,
                timeout=10,
                data={
                    "csrf_token": csrf_token(rotate_page),
                    "etag": etag,
                    "method": "basic",
                    "server": "pg.example.com",
                    "port": "5432",
                    "database": "orders",
                    "username": "etl",
                    "password": ROTATED,
                    "sslMode": "Verify Full",
                },
            )
        )
        assert "New credentials sent" in rotated.text
        submit(*form_data("greenplum-fields", password=PASSWORD, port="99999"))
        fresh_emulator.inject(
            Fault(
                "POST",
                "/connections",
                status=400,
                body={
                    "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
                    "title": "Invalid request",
                    "status": 400,
                    "report": {"detailed-message": f"bad password {PASSWORD}"},
                },
            )
        )
        refused = submit(
            *form_data(
                "greenplum-string",
                connectionString="HOST=gp.example.com;PORT=5432;DB=orders;UID=etl;PWD={"
                + PASSWORD.replace("}", "}}")
                + "}",
            )
        )
        assert refused.status_code == 400 and "not shown because it repeats a secret" in refused.text
        fresh_emulator.inject(Fault("POST", "/connections", status=503, body={"error": "down"}))
        assert submit(*form_data("redshift", password=PASSWORD)).status_code == 502
        key, data = form_data("phoenix", password=PASSWORD)
        record(session.post(f"{url}/sources/{key}", data=data, timeout=10, headers={"Sec-Fetch-Site": "same-origin"}))
        record(session.get(url + "/readyz", timeout=10))
        record(session.get(url + "/no-such-page", timeout=10))
        assert created.headers["X-Request-Id"]
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]

    tokens = list(fresh_emulator.tokens)
    assert tokens, "the run fetched at least one token"
    searched = "\n".join(seen) + "\n" + output
    assert "ada" in searched and "repeats a secret" in searched  # the search covers what was said
    for secret in [
        PASSWORD,
        ROTATED,
        "Pw-9f83-unique",
        fresh_emulator.client_secret,
        portal_password,
        "test-secret-key-4d1c",
        *tokens,
    ]:
        assert secret not in searched

    lines = [line for line in output.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line of output is one JSON event
    assert all({"time", "level", "logger", "message"} <= event.keys() for event in events)
    access = [e for e in events if e["logger"] == "gunicorn.access"]
    assert any(e["request_id"] == created.headers["X-Request-Id"] for e in access)
    assert any(
        e["message"] == "signed in" and e.get("user") is None and e.get("signed_in_user") == "ada" for e in events
    )
    created_events = [e for e in events if e["message"].startswith("created postgresql")]
    assert created_events and created_events[0]["user"] == "ada" and created_events[0]["request_id"]


def test_a_traceback_in_the_log_is_scrubbed(portal_app_with_log, fresh_emulator):
    app_, stream = portal_app_with_log

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"boom with {fresh_emulator.client_secret}")

    def broken_with_password(*_args, **_kwargs):
        # A library that puts what it was given into its exception's message.
        raise RuntimeError(f"boom with {fresh_emulator.client_secret} and PWD={PASSWORD}")

    services.of(app_).connections.get_connection = broken
    services.of(app_).connections.create_connection = broken_with_password
    client = app_.test_client()
    assert client.get("/connections/abc").status_code == 500
    key, data = form_data("postgresql-basic", password=PASSWORD)
    assert client.post(f"/sources/{key}", data=data).status_code == 500
    logged = stream.getvalue()
    assert 'RuntimeError: boom with [redacted]"' in logged
    assert "RuntimeError: boom with [redacted] and PWD=[redacted]" in logged
    assert fresh_emulator.client_secret not in logged and PASSWORD not in logged
    event = json.loads(logged.splitlines()[-1])
    assert event["request_id"] and "Traceback" in event["exception"]


@pytest.fixture
def portal_app_with_log(settings):
    import io

    from app import create_app
    from app.logs import JsonFormatter

    app_ = create_app(settings)
    app_.config.update(WTF_CSRF_ENABLED=False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield app_, stream
    logging.getLogger().removeHandler(handler)


def test_the_scrubber_never_forgets_the_client_secret_or_the_secret_key(app, fresh_emulator, caplog):
    tokens = services.of(app).tokens
    for _ in range(100):  # more renewals than the registry keeps tokens
        tokens.invalidate(tokens.token())
    assert fresh_emulator.token_fetches >= 100
    caplog.set_level(logging.INFO)
    logging.getLogger("app.test").warning(
        "leak %s and %s and %s", fresh_emulator.client_secret, app.config["SECRET_KEY"], tokens.token()
    )
    assert fresh_emulator.client_secret not in caplog.text and app.config["SECRET_KEY"] not in caplog.text
    assert tokens.token() not in caplog.text and "[redacted]" in caplog.text
