"""Single sign-on against an OpenID Certified provider nobody here wrote: panva's oidc-provider (tests/oidc_node).

Configured as strict providers are, it puts email and groups only in the userinfo answer, takes only
client_secret_post (or only basic), sends and announces RFC 9207's `iss`, and ends its own session at its
end_session_endpoint. Its sign-in and sign-out pages are the library's own, filled in as a person would.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import select

from app import create_app, services
from app.roles import parse_roles
from app.store.schema import sessions

from .helpers.certified_provider import CertifiedProvider, form_of, log_in
from .helpers.live import LiveServer, settings_for
from .helpers.servers import free_port

USERS = {
    "ada": {"email": "ada@example.com", "email_verified": True, "groups": ["g-admin"]},
    "vera": {"email": "vera@example.com", "email_verified": True, "groups": ["g-viewer"]},
}
ROLES = "g-viewer=viewer@*;g-admin=admin@*"


@pytest.fixture
def certified(fresh_emulator):
    """start(method): the wizard and a certified provider that registered it for that token endpoint method."""
    started = []

    def start(token_auth_method="client_secret_post"):
        port = free_port()
        # The wizard reads the discovery document on first use, so it may be built before the provider runs.
        server = LiveServer(
            create_app(
                settings_for(
                    fresh_emulator,
                    auth="oidc",
                    oidc_issuer=f"http://127.0.0.1:{port}",
                    oidc_client_id="aep-wizard",
                    oidc_client_secret="certified-client-secret-1",
                    oidc_scopes="openid email profile groups",
                    roles=parse_roles(ROLES),
                    sandboxes=("prod", "dev"),
                )
            )
        )
        started.append(server)
        provider = CertifiedProvider(server.url, USERS, port=port, token_auth_method=token_auth_method)
        started.append(provider)
        return provider, server

    yield start
    for thing in started:
        thing.stop()


def sign_in(server, who: str, browser=None) -> tuple[requests.Session, requests.Response]:
    """Open the portal, meet the provider's sign-in form, fill it in as `who`: the page the portal ends on."""
    browser = browser or requests.Session()
    form = browser.get(server.url + "/connections?sandbox=prod", timeout=15)
    return browser, log_in(browser, form, who)


def callback_of(server, who: str) -> tuple[requests.Session, str]:
    """Sign in at the provider but stop at the redirect back: the callback URL the portal has not yet seen."""
    browser = requests.Session()
    form = browser.get(server.url + "/sign-in", timeout=15)
    action, fields = form_of(form)
    answer = browser.post(
        action, data={**fields, "prompt": "login", "login": who, "password": "x"}, allow_redirects=False, timeout=15
    )
    while not answer.headers["Location"].startswith(server.url):
        answer = browser.get(
            requests.compat.urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=15
        )
    return browser, answer.headers["Location"]


def with_iss(url: str, iss: str | None) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items() if name != "iss"}
    if iss is not None:
        query["iss"] = iss
    return urlunsplit(parts._replace(query=urlencode(query)))


def stored_id_token(server) -> dict:
    """The claims of the one session's ID token, as the store keeps it for signing out (its payload, unchecked)."""
    with services.of(server.app).store.engine.connect() as db:
        [token] = db.execute(select(sessions.c.id_token)).scalars().all()
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_signing_in_at_a_certified_provider(certified, method):
    provider, server = certified(method)
    discovery = provider.discovery()
    assert discovery["token_endpoint_auth_methods_supported"] == [method]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    ada, page = sign_in(server, "ada")
    assert page.status_code == 200 and "Signed in as <strong>ada@example.com</strong>" in page.text
    # The ID token named ada by her subject alone: email and groups came from userinfo.
    claims = stored_id_token(server)
    assert claims["sub"] == "ada" and "email" not in claims and "groups" not in claims
    assert ada.get(server.url + "/sources/redshift", timeout=15).status_code == 200  # g-admin: admin
    vera, page = sign_in(server, "vera")
    assert "Signed in as <strong>vera@example.com</strong>" in page.text
    assert vera.get(server.url + "/sources/redshift", timeout=15).status_code == 403  # g-viewer: viewer


@pytest.mark.parametrize("iss", ["https://someone-else.example.com", None])
def test_a_callback_with_a_wrong_or_missing_iss_is_refused(certified, iss):
    provider, server = certified()
    browser, callback = callback_of(server, "ada")
    assert parse_qs(urlsplit(callback).query)["iss"] == [provider.issuer]  # the provider sends it
    page = browser.get(with_iss(callback, iss), timeout=15)
    assert page.status_code == 401 and "could not be accepted" in page.text
    assert browser.get(server.url + "/connections", allow_redirects=False, timeout=15).status_code == 302


def test_signing_out_ends_the_certified_providers_session_too(certified):
    provider, server = certified()
    browser, page = sign_in(server, "ada")
    assert "Signed in as <strong>ada@example.com</strong>" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    confirm = browser.post(server.url + "/sign-out", data={"csrf_token": token}, timeout=15)
    # The provider's own page asks to confirm (it checked our id_token_hint, client_id and the redirect URI).
    assert confirm.url.startswith(provider.issuer + "/session/end") and "op.logoutForm" in confirm.text
    action, fields = form_of(confirm)
    landed = browser.post(action, data={**fields, "logout": "yes"}, timeout=15)
    assert landed.url.startswith(server.url + "/signed-out?state=")
    assert "signed out of this portal and of your organisation's sign-in" in landed.text
    # The same browser: the provider asks again, and someone else signs in.
    _browser, page = sign_in(server, "vera", browser=browser)
    assert "Signed in as <strong>vera@example.com</strong>" in page.text


@pytest.mark.browser
def test_signing_in_and_out_at_a_certified_provider_in_chromium(page, certified):
    provider, server = certified()
    page.goto(server.url + "/connections?sandbox=prod")
    page.fill("input[name=login]", "ada")
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/connections?sandbox=prod")
    assert "Signed in as ada@example.com" in page.locator("header").inner_text()
    # The sign-out form's answer redirects to the provider: the page's CSP form-action must let it through.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(server.url + "/signed-out?**")
    assert "signed out of this portal and of your organisation's sign-in" in page.locator("main").inner_text()
    page.goto(server.url + "/connections?sandbox=prod")
    assert page.locator("input[name=login]").is_visible()  # asked again, not signed straight back in
