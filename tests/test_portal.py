"""The shared portal: sign-in in each mode, the headers on every route, CSRF, sandboxes, throttling, sessions."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests
from flask.sessions import SecureCookieSessionInterface

from app import create_app, services
from app.accounts import add_user
from app.store import Store, database_url
from app.web.auth import safe_next
from app.web.throttle import FAILURE_WINDOW, FREE_FAILURES, FREE_FAILURES_PER_ADDRESS, MAX_WAIT

from .helpers.browser import assert_axe_clean
from .helpers.dataflows import Maker, Walk
from .helpers.forms import form_data
from .helpers.live import LiveServer, settings_for
from .helpers.markup import csrf_token

PASSWORD = "correct horse battery staple"
PROXY_HEADER = "X-Forwarded-Email"


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users"
    add_user(str(path), "ada", PASSWORD)
    return path


@pytest.fixture
def portal(fresh_emulator, users_file):
    """Start the wizard on loopback in a given sign-in mode; stop it afterwards."""
    servers = []

    def start(mode: str, **changes):
        auth = {
            "none": {},
            "proxy": {"auth": "proxy", "trusted_user_header": PROXY_HEADER, "proxy_count": 1},
            "accounts": {"auth": "accounts", "users_file": str(users_file)},
        }[mode]
        server = LiveServer(create_app(settings_for(fresh_emulator, **{**auth, **changes})))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def sign_in(
    url: str, name="ada", password=PASSWORD, next_path=None, session=None
) -> tuple[requests.Session, requests.Response]:
    session = session or requests.Session()
    page = session.get(url + "/sign-in", params={"next": next_path} if next_path else None, timeout=10)
    response = session.post(
        url + "/sign-in",
        timeout=10,
        allow_redirects=False,
        data={
            "csrf_token": csrf_token(page.text),
            "username": name,
            "password": password,
            "next": re.search(r'name="next" type="hidden" value="([^"]*)"', page.text).group(1),
        },
    )
    return session, response


def example_urls(app, connection_id: str, flow_id: str, draft: str = "d" * 32) -> dict[str, str]:
    """One concrete URL per route, so every route the app has is visited (`draft`: a dataflow draft's key)."""
    urls = {
        "wizard.picker": "/",
        "wizard.source_form": "/sources/postgresql",
        "wizard.spec_form": "/sources/spec/26d738e0-8963-47ea-aadf-c60de735468a?auth=Basic Authentication",
        "wizard.namesakes": "/namesakes?sandbox=prod&name=Existing",
        "wizard.submission": "/submissions/" + "k" * 22,
        "connections.index": "/connections?sandbox=prod",
        "connections.show": f"/connections/{connection_id}?sandbox=prod",
        "connections.test": f"/connections/{connection_id}/test?sandbox=prod",
        "connections.explore": f"/connections/{connection_id}/explore?sandbox=prod",
        "connection_edit.rename": f"/connections/{connection_id}/edit?sandbox=prod",
        "connection_edit.rotate": f"/connections/{connection_id}/credentials?sandbox=prod",
        "connections.delete": f"/connections/{connection_id}/delete?sandbox=prod",
        "dataflows.show": f"/dataflows/{flow_id}?sandbox=prod",
        "dataflows.set_state": f"/dataflows/{flow_id}/state?sandbox=prod",
        "dataflows.retry": f"/dataflows/{flow_id}/runs/{'0' * 36}/retry?sandbox=prod",
        "dataflows.run_now": f"/dataflows/{flow_id}/run?sandbox=prod",
        "new_dataflow.start": f"/connections/{connection_id}/dataflows/new?sandbox=prod",
        "new_dataflow.dataset": f"/dataflows/new/{draft}/dataset",
        "new_dataflow.mapping": f"/dataflows/new/{draft}/mapping",
        "new_dataflow.schedule": f"/dataflows/new/{draft}/schedule",
        "dataflow_review.review": f"/dataflows/new/{draft}/review",
        "dataflow_review.create": f"/dataflows/new/{draft}/create",
        "dataflow_review.remove": f"/dataflows/new/{draft}/remove",
        "new_dataflow.discard": f"/dataflows/new/{draft}/discard",
        "new_dataflow.drafts": "/dataflows/drafts",
        "dataflow_list.index": "/dataflows?sandbox=prod&health=failing",
        "dataflow_edit.edit": f"/dataflows/{flow_id}/edit?sandbox=prod",
        "alerts.index": "/alerts",
        "alerts.new": "/alerts/new",
        "alerts.edit": f"/alerts/{'a' * 20}/edit",
        "alerts.delete": f"/alerts/{'a' * 20}/delete",
        "alerts.new_secret": f"/alerts/{'a' * 20}/secret",
        "alerts.test": f"/alerts/{'a' * 20}/test",
        "alerts.send_again": f"/alerts/deliveries/{'e' * 40}/{'a' * 20}/send",
        "adobe_events.challenge": "/events/adobe?challenge=abc",
        "adobe_events.notification": "/events/adobe",
        "health.healthz": "/healthz",
        "health.readyz": "/readyz",
        "auth.sign_in": "/sign-in",
        "auth.sign_out": "/sign-out",
        "auth.oidc_callback": "/sign-in/callback",
        "auth.signed_out": "/signed-out",
        "assets.static": "/static/style.css",
        "audit.index": "/audit?action=create",
        "audit.export": "/audit.csv",
        "setup.index": "/setup",
        "tokens.index": "/tokens",
        "promote.index": "/promote",
        "promote.apply": "/promote/apply",
        "tokens.revoke": "/tokens/asw_00000000/revoke",
        "credential_links.index": "/credential-links",
        "credential_links.revoke": f"/credential-links/{'c' * 32}/revoke",
        "owner.enter": f"/credentials/aswl_{'0' * 43}",
        "api_docs.openapi": "/api/openapi.json",
        "api_docs.reference": "/api/docs",
        "api_docs.config_schema": "/api/config-schema.json",
        # The API's, each by its method (API_METHODS): the same paths a script calls.
        "api.list_connections": "/api/v1/connections?sandbox=prod",
        "api.create_connection": "/api/v1/connections",
        "api.get_connection": f"/api/v1/connections/{connection_id}?sandbox=prod",
        "api.rename_connection": f"/api/v1/connections/{connection_id}?sandbox=prod",
        "api.rotate_credentials": f"/api/v1/connections/{connection_id}/credentials?sandbox=prod",
        "api.test_connection": f"/api/v1/connections/{connection_id}/test?sandbox=prod",
        "api.explore_connection": f"/api/v1/connections/{connection_id}/explore?sandbox=prod",
        "api.delete_connection": f"/api/v1/connections/{connection_id}?sandbox=nosuch",
        "api.list_sources": "/api/v1/sources",
        "api.get_source": "/api/v1/sources/redshift",
        "api.audit_trail": "/api/v1/audit",
        "api.list_dataflows": "/api/v1/dataflows?sandbox=prod",
        "api.get_dataflow": f"/api/v1/dataflows/{flow_id}?sandbox=prod",
        "api.list_runs": f"/api/v1/dataflows/{flow_id}/runs?sandbox=prod",
        "api.enable_dataflow": f"/api/v1/dataflows/{flow_id}/enable?sandbox=prod",
        "api.disable_dataflow": f"/api/v1/dataflows/{flow_id}/disable?sandbox=nosuch",
        "api.run_dataflow": f"/api/v1/dataflows/{flow_id}/run?sandbox=nosuch",
        "api.retry_run": f"/api/v1/dataflows/{flow_id}/runs/{'0' * 36}/retry?sandbox=prod",
        "api.delete_dataflow": f"/api/v1/dataflows/{flow_id}?sandbox=nosuch",
        "api.change_dataflow": f"/api/v1/dataflows/{flow_id}?sandbox=nosuch",
        "api.create_dataflow": "/api/v1/dataflows",
        "api.export_config": "/api/v1/config?sandbox=prod",
        "api.plan_config": "/api/v1/config/plan",
        "api.apply_config": "/api/v1/config/apply",
    }
    assert set(urls) == {rule.endpoint for rule in app.url_map.iter_rules()}, "a new route needs a row here"
    return urls


EXISTING = {
    "name": "Existing",
    "auth": {
        "specName": "Basic Authentication",
        "params": {
            "server": "db.example.com",
            "port": "5432",
            "database": "d",
            "username": "u",
            "password": "p",
            "sslMode": "Verify Full",
        },
    },
    "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
}
OPEN = {
    "health.healthz",
    "health.readyz",
    "assets.static",
    "adobe_events.challenge",
    "api_docs.openapi",
    "api_docs.reference",
    "api_docs.config_schema",
}
# Adobe's push: no sign-in and no CSRF token, but a signature (test_watch.py); unsigned, it is 401 in every mode.
SIGNED = {"adobe_events.notification"}
# Routes of an object the example URL names but that does not exist: 404 to whoever may enter.
MISSING = {"alerts.edit"}
# A database owner's page, open to anyone (test_credential_links.py): a link that was never made is 404 in every mode.
NO_SUCH_LINK = {"owner.enter"}
# Only in single sign-on (test_oidc.py): elsewhere there is no such page.
SSO_ONLY = {"auth.oidc_callback", "auth.signed_out"}
POST_ONLY = {
    "auth.sign_out",
    "dataflows.set_state",
    "dataflows.retry",
    "dataflows.run_now",
    "new_dataflow.start",
    "dataflow_review.create",
    "dataflow_review.remove",
    "new_dataflow.discard",
    "alerts.delete",
    "alerts.new_secret",
    "alerts.test",
    "alerts.send_again",
    "tokens.revoke",
    "promote.apply",
    "credential_links.revoke",
}


def check_headers(response: requests.Response, endpoint: str) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    if endpoint == "wizard.namesakes":
        assert response.headers["Cache-Control"] in ("private, max-age=30", "no-store")  # no-store: refused
    elif endpoint != "assets.static":
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "mode, signed_in", [("none", False), ("proxy", False), ("proxy", True), ("accounts", False), ("accounts", True)]
)
def test_every_route_answers_as_the_mode_says_with_headers(portal, fresh_emulator, mode, signed_in):
    server = portal(mode)
    app_ = server.app
    created = services.of(app_).connections.create_connection("prod", EXISTING)
    session = requests.Session()
    if mode == "accounts" and signed_in:
        session, _ = sign_in(server.url)
    if mode == "proxy" and signed_in:
        session.headers[PROXY_HEADER] = "ada@example.com"
    may_enter = mode == "none" or signed_in
    flow_id = Maker(fresh_emulator).flow(created.id)
    draft = "d" * 32
    if may_enter:  # a draft of this person's, up to its review
        walk = Walk(server.url, created.id, session=session)
        walk.dataset(fresh_emulator)
        assert walk.mapping().status_code == 302 and walk.schedule().status_code == 302
        draft = walk.key
    for endpoint, path in example_urls(app_, created.id, flow_id, draft).items():
        if endpoint.startswith("api."):
            # Tokens alone open the API: a signed-in browser's cookie or the proxy's header is not read for it.
            method = next(iter(app_.url_map._rules_by_endpoint[endpoint][0].methods - {"HEAD", "OPTIONS"}))
            response = session.request(method, server.url + path, allow_redirects=False, timeout=10)
            check_headers(response, endpoint)
            if mode == "none":
                assert response.status_code not in (401, 403) and response.status_code < 500, endpoint
            else:
                # 401; past 20 refused calls from this address, the throttle's 429.
                assert response.status_code in (401, 429), (endpoint, response.status_code)
                assert (
                    response.headers["Content-Type"] == "application/problem+json" and "Existing" not in response.text
                )
            assert "Set-Cookie" not in response.headers
            continue
        if endpoint in SIGNED:
            response = session.post(server.url + path, data=b"{}", allow_redirects=False, timeout=10)
            check_headers(response, endpoint)
            assert response.status_code == 401, endpoint
            continue
        if endpoint in POST_ONLY:
            response = session.post(server.url + path, allow_redirects=False, timeout=10)
            check_headers(response, endpoint)
            assert response.status_code == 400, f"{endpoint}: a POST without a CSRF token"
            response = session.get(server.url + path, allow_redirects=False, timeout=10)
            assert response.status_code in (401, 302, 405), endpoint
            continue
        response = session.get(server.url + path, allow_redirects=False, timeout=10)
        check_headers(response, endpoint)
        if endpoint in SSO_ONLY or endpoint in NO_SUCH_LINK:
            assert response.status_code == 404, endpoint
        elif endpoint == "auth.sign_in":
            if mode == "accounts":
                assert response.status_code == 200 and "<h1>Sign in</h1>" in response.text
            else:
                assert response.status_code == 302 and response.headers["Location"] == "/"
        elif endpoint in MISSING and may_enter:
            assert response.status_code == 404, endpoint
        elif endpoint in OPEN or may_enter:
            assert response.status_code == 200, endpoint
        elif mode == "proxy":
            assert response.status_code == 401, endpoint
            assert "sign-in proxy" in response.text and "Existing" not in response.text
        else:
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/sign-in?next=")
        if (
            response.status_code == 200
            and "text/html" in response.headers["Content-Type"]
            and signed_in
            and endpoint != "audit.export"
        ):
            assert ("ada@example.com" if mode == "proxy" else ">ada<") in response.text


def test_a_signed_out_visitor_lands_where_they_were_going(portal):
    server = portal("accounts")
    first = requests.get(server.url + "/sources/redshift", allow_redirects=False, timeout=10)
    assert first.headers["Location"] == "/sign-in?next=/sources/redshift"
    _, response = sign_in(server.url, next_path="/sources/redshift")
    assert response.status_code == 303 and response.headers["Location"] == "/sources/redshift"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "", None])
def test_sign_in_never_redirects_off_the_site(portal, target):
    server = portal("accounts")
    _, response = sign_in(server.url, next_path=target)
    assert response.headers["Location"] == "/"


def test_a_wrong_password_is_refused_and_the_name_kept(portal):
    server = portal("accounts")
    session, response = sign_in(server.url, password="wrong password")
    assert response.status_code == 401
    assert "do not match" in response.text and 'value="ada"' in response.text
    assert "wrong password" not in response.text
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 302


def test_unknown_names_get_the_same_answer_as_wrong_passwords(portal):
    server = portal("accounts")
    _, unknown = sign_in(server.url, name="nobody", password="x")
    _, wrong = sign_in(server.url, name="ada", password="x")
    assert unknown.status_code == wrong.status_code == 401
    assert "do not match" in unknown.text and "do not match" in wrong.text


def test_repeated_failures_slow_sign_in_down(portal):
    server = portal("accounts")
    for _ in range(FREE_FAILURES):
        assert sign_in(server.url, password="guess")[1].status_code == 401
    session, response = sign_in(server.url)  # even the right password waits its turn
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Wait 1 seconds" in response.text or "Wait " in response.text
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 302
    time.sleep(int(response.headers["Retry-After"]) + 0.1)
    assert sign_in(server.url)[1].status_code == 303


def test_the_wait_grows_with_each_failure_and_is_forgotten_after_the_window(tmp_path):
    store = Store(database_url(str(tmp_path), None))
    limits = {"name:ada|address:1.2.3.4": FREE_FAILURES, "address:1.2.3.4": FREE_FAILURES_PER_ADDRESS}
    now = 1000.0
    assert [store.sessions.sign_in_attempt(limits, now, FAILURE_WINDOW, MAX_WAIT) for _ in range(FREE_FAILURES)] == [
        0
    ] * FREE_FAILURES
    waits = []
    for _ in range(5):
        wait = store.sessions.sign_in_attempt(limits, now, FAILURE_WINDOW, MAX_WAIT)
        waits.append(wait)
        now += wait
        assert store.sessions.sign_in_attempt(limits, now, FAILURE_WINDOW, MAX_WAIT) == 0  # its turn came: counted
    assert waits == [1, 2, 4, 8, 16]
    now += FAILURE_WINDOW + 1
    assert store.sessions.sign_in_attempt(limits, now, FAILURE_WINDOW, MAX_WAIT) == 0


def from_address(address: str) -> requests.Session:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    return session


def test_a_strangers_failures_do_not_lock_the_real_user_out(portal):
    server = portal("accounts", proxy_count=1)
    for _ in range(FREE_FAILURES * 3):
        _, response = sign_in(server.url, password="guess", session=from_address("203.0.113.66"))
    assert response.status_code == 429  # the stranger waits
    assert sign_in(server.url, session=from_address("198.51.100.7"))[1].status_code == 303  # ada does not


def test_one_address_guessing_many_names_is_slowed_down(portal):
    server = portal("accounts", proxy_count=1)
    statuses = [
        sign_in(server.url, name=f"user{n}", password="guess", session=from_address("203.0.113.9"))[1].status_code
        for n in range(FREE_FAILURES_PER_ADDRESS + 1)
    ]
    assert statuses[:FREE_FAILURES_PER_ADDRESS] == [401] * FREE_FAILURES_PER_ADDRESS and statuses[-1] == 429


def test_right_passwords_from_one_address_do_not_add_up(portal):
    server = portal("accounts", proxy_count=1)
    for _ in range(FREE_FAILURES_PER_ADDRESS + 3):  # a team behind one address, signing in all morning
        assert sign_in(server.url, session=from_address("192.0.2.1"))[1].status_code == 303


def test_a_copied_cookie_opens_nothing_after_sign_out(portal):
    server = portal("accounts")
    session, _ = sign_in(server.url)
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    assert copy.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 200
    page = session.get(server.url + "/", timeout=10).text
    assert (
        session.post(
            server.url + "/sign-out", data={"csrf_token": csrf_token_any(page)}, timeout=10, allow_redirects=False
        ).status_code
        == 303
    )
    answer = copy.get(server.url + "/connections", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    assert "Your session has ended" in copy.get(server.url + answer.headers["Location"], timeout=10).text


def test_sign_out_ends_the_session_and_needs_the_token(portal):
    server = portal("accounts")
    session, _ = sign_in(server.url)
    page = session.get(server.url + "/", timeout=10)
    assert session.post(server.url + "/sign-out", timeout=10).status_code == 400  # no CSRF token
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 200
    out = session.post(
        server.url + "/sign-out", data={"csrf_token": csrf_token_any(page.text)}, allow_redirects=False, timeout=10
    )
    assert out.status_code == 303 and out.headers["Location"] == "/sign-in"
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 302


def csrf_token_any(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_sessions_expire(portal):
    server = portal("accounts", session_hours=1 / 3600)
    session, _ = sign_in(server.url)
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 200
    time.sleep(1.2)
    response = session.get(server.url + "/sources/redshift", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and "ended=1" in response.headers["Location"]
    assert "Your session has ended" in session.get(server.url + response.headers["Location"], timeout=10).text


def test_a_new_password_ends_sessions_signed_in_with_the_old_one(portal, users_file):
    server = portal("accounts")
    session, _ = sign_in(server.url)
    add_user(str(users_file), "ada", "a brand new password")
    assert session.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 302
    assert sign_in(server.url, password="a brand new password")[1].status_code == 303


def test_a_session_cookie_from_another_key_is_not_accepted(portal, fresh_emulator):
    server = portal("accounts")
    session, _ = sign_in(server.url)
    other = portal("accounts", secret_key="another-key")
    assert session.get(other.url + "/", allow_redirects=False, timeout=10).status_code == 302


def test_session_cookies_are_compressed_only_when_it_pays_and_read_either_way(portal):
    server = portal("accounts", secret_key="cookie-key")
    session, _ = sign_in(server.url)
    value = session.cookies["session"]
    assert not value.startswith(".")  # a few dozen bytes: written without zlib
    # A cookie as Flask's own interface writes it (zlib, a leading "."), holding a long message: still read.
    stock = SecureCookieSessionInterface().get_signing_serializer(server.app)
    data = stock.loads(value)
    data["_flashes"] = [("message", "A message long enough to be worth compressing. " * 6)]
    session.cookies.set("session", stock.dumps(data), domain=urlsplit(server.url).hostname)
    assert session.cookies["session"].startswith(".")
    page = session.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and "worth compressing" in page.text
    # The portal's own long cookie is compressed too.
    data["_flashes"] = [("message", "x" * 300)]
    assert server.app.session_interface.get_signing_serializer(server.app).dumps(data).startswith(".")


def test_over_https_cookies_are_secure_and_hsts_is_sent(portal):
    server = portal("accounts", proxy_count=1)
    https = {"X-Forwarded-Proto": "https"}
    page = requests.get(server.url + "/sign-in", headers=https, timeout=10)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = requests.get(server.url + "/sign-in", timeout=10)
    assert "Strict-Transport-Security" not in plain.headers
    assert "Secure" not in plain.headers["Set-Cookie"] and "HttpOnly" in plain.headers["Set-Cookie"]


def test_without_a_proxy_count_forwarded_proto_is_not_believed(portal):
    server = portal("accounts", proxy_count=0)
    page = requests.get(server.url + "/sign-in", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "Strict-Transport-Security" not in page.headers


@pytest.mark.parametrize(
    "path",
    [
        "/sources/postgresql",
        "/sources/greenplum",
        "/sources/redshift",
        "/sources/phoenix",
        "/sign-in",
        "/sign-out",
        "/connections/{id}/edit",
        "/connections/{id}/credentials",
        "/connections/{id}/delete",
    ],
)
def test_every_form_refuses_a_post_without_its_csrf_token(portal, fresh_emulator, path):
    server = portal("none")
    created = services.of(server.app).connections.create_connection("prod", EXISTING)
    response = requests.post(
        server.url + path.format(id=created.id),
        allow_redirects=False,
        timeout=10,
        data={"username": "ada", "password": PASSWORD, "name": "x", "confirm_name": "Existing"},
    )
    assert response.status_code == 400
    assert "Form expired" in response.text
    assert len(fresh_emulator.creations()) == 1
    assert [r.method for r in fresh_emulator.received if r.method in ("PATCH", "DELETE")] == []


def test_a_forged_sandbox_is_refused(portal, fresh_emulator):
    server = portal("none")
    session = requests.Session()
    page = session.get(server.url + "/sources/redshift", timeout=10)
    key, data = form_data("redshift", sandbox="finance-prod")
    response = session.post(
        server.url + f"/sources/{key}",
        data={**data, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
    assert "Choose one of the sandboxes this portal may use" in response.text
    assert not fresh_emulator.creations()
    assert session.get(server.url + "/connections/abc?sandbox=finance-prod", timeout=10).status_code == 404


def test_pages_name_the_request_id_a_person_can_quote(portal):
    server = portal("none")
    response = requests.get(server.url + "/no/such/page", timeout=10)
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] in response.text
    assert "Traceback" not in response.text and "werkzeug" not in response.text.lower()


def test_a_request_id_is_taken_from_a_counted_proxy_only(portal):
    offered = {"X-Request-Id": "proxy-id-12345678"}
    direct = requests.get(portal("none").url + "/healthz", headers=offered, timeout=10)
    assert direct.headers["X-Request-Id"] != "proxy-id-12345678"
    proxied = requests.get(portal("none", proxy_count=1).url + "/healthz", headers=offered, timeout=10)
    assert proxied.headers["X-Request-Id"] == "proxy-id-12345678"
    forged = requests.get(
        portal("none", proxy_count=1).url + "/healthz",
        timeout=10,
        headers={"X-Request-Id": "<script>alert(1)</script>"},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-Id"])


def test_an_unexpected_error_gets_a_page_that_leaks_nothing(portal, fresh_emulator):
    server = portal("none")
    app_ = server.app

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"boom with {fresh_emulator.client_secret}")

    services.of(app_).connections.get_connection = broken
    response = requests.get(server.url + "/connections/abc", timeout=10)
    assert response.status_code == 500
    assert "Something went wrong" in response.text and response.headers["X-Request-Id"] in response.text
    assert "boom" not in response.text and "RuntimeError" not in response.text


def test_readyz_says_what_is_wrong_when_adobe_cannot_be_reached(portal, fresh_emulator):
    server = portal("none", ims_url="http://127.0.0.1:9")
    response = requests.get(server.url + "/readyz", timeout=30)
    assert response.status_code == 503
    assert response.json()["status"] == "not ready" and "IMS" in response.json()["problem"]
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_readyz_checks_flow_service_too(portal, fresh_emulator):
    from app.emulator import Fault
    from app.sources import SOURCES

    spec_id = next(iter(SOURCES.values())).connection_spec_id
    fresh_emulator.inject(Fault("GET", f"/connectionSpecs/{spec_id}", status=503, body={}, times=5))
    server = portal("none")
    response = requests.get(server.url + "/readyz", timeout=30)
    assert response.status_code == 503 and "connection spec" in response.json()["problem"]
    assert fresh_emulator.token_fetches >= 1


def test_safe_next_keeps_paths_and_queries():
    with create_app(settings_for_offline()).test_request_context():
        assert safe_next("/connections/abc?sandbox=dev") == "/connections/abc?sandbox=dev"
        assert safe_next("javascript:alert(1)") == "/"


def settings_for_offline():
    from app.config import Settings

    return Settings.from_env({})


@pytest.mark.browser
def test_sign_in_and_out_in_the_browser(page, portal, fresh_emulator):
    server = portal("accounts")
    page.goto(f"{server.url}/sources/redshift")
    assert page.url.endswith("/sign-in?next=/sources/redshift")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    assert page.title().startswith("Error: Sign in")
    assert page.get_by_label("User name").input_value() == "ada"
    assert page.get_by_label("Password").input_value() == ""
    assert_axe_clean(page, "the sign-in form after a wrong password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/sources/redshift")
    assert page.locator("header .user").inner_text() == "Signed in as ada"
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/sign-in")
    page.goto(f"{server.url}/")
    assert "/sign-in" in page.url
    cookies = page.context.cookies()
    assert all(c["httpOnly"] and c["sameSite"] == "Lax" for c in cookies)
