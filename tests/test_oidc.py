"""Single sign-on with OpenID Connect against a real provider on loopback: each role in Chromium, every bad token refused."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app import create_app
from app.config import ConfigError, Settings
from app.roles import parse_roles

from .conftest import LiveServer, settings_for
from .forms import form_data
from .oidc_provider import Provider

ROLES = "g-viewer=viewer@*;g-creator=creator@dev;g-editor=editor@*;g-admin=admin@*"


@pytest.fixture
def provider():
    provider = Provider()
    for name, groups in {"vera": ["g-viewer"], "cora": ["g-creator", "g-viewer"], "eddie": ["g-editor"],
                         "ada": ["g-admin"], "nobody": []}.items():
        provider.add_user(name, groups)
    yield provider
    provider.stop()


@pytest.fixture
def sso(provider, fresh_emulator):
    app = create_app(settings_for(fresh_emulator, auth="oidc", oidc_issuer=provider.issuer,
                                  oidc_client_id=provider.client_id, oidc_client_secret=provider.client_secret,
                                  roles=parse_roles(ROLES), sandboxes=("prod", "dev")))
    server = LiveServer(app)
    yield server
    server.stop()


def sign_in(server, provider, who: str, session=None):
    """Follow the whole dance over HTTP: portal → provider → callback; the last answer."""
    provider.login_as = who
    session = session or requests.Session()
    return session, session.get(server.url + "/connections?sandbox=prod", timeout=10)


def test_single_sign_on_is_configured_from_the_environment(provider):
    settings = Settings.from_env({"WIZARD_OIDC_ISSUER": provider.issuer, "WIZARD_OIDC_CLIENT_ID": "c",
                                  "WIZARD_OIDC_CLIENT_SECRET": "s", "WIZARD_OIDC_GROUPS_CLAIM": "roles"})
    assert settings.auth == "oidc" and settings.oidc_groups_claim == "roles"
    with pytest.raises(ConfigError, match="WIZARD_OIDC_CLIENT_SECRET"):
        Settings.from_env({"WIZARD_OIDC_ISSUER": provider.issuer, "WIZARD_OIDC_CLIENT_ID": "c"})
    with pytest.raises(ConfigError, match="Choose one sign-in"):
        Settings.from_env({"WIZARD_OIDC_ISSUER": provider.issuer, "WIZARD_OIDC_CLIENT_ID": "c",
                           "WIZARD_OIDC_CLIENT_SECRET": "s", "WIZARD_USERS_FILE": "/etc/passwd"})


def test_the_authorization_request_uses_pkce_state_and_nonce(sso, provider):
    first = requests.get(sso.url + "/connections", allow_redirects=False, timeout=10)
    to_sign_in = requests.get(sso.url + first.headers["Location"], allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(to_sign_in.headers["Location"]).query)
    assert to_sign_in.headers["Location"].startswith(provider.issuer + "/authorize")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == [sso.url + "/sign-in/callback"]


def test_a_person_signs_in_and_their_groups_decide(sso, provider, fresh_emulator):
    session, page = sign_in(sso, provider, "vera")
    assert page.status_code == 200 and "Signed in as <strong>vera@example.com</strong>" in page.text
    assert session.get(sso.url + "/sources/redshift", timeout=10).status_code == 403  # a viewer creates nothing
    cora, _ = sign_in(sso, provider, "cora")
    form = cora.get(sso.url + "/sources/redshift", timeout=10).text
    assert 'value="dev"' in form and 'value="prod"' not in form
    nobody, page = sign_in(sso, provider, "nobody")
    assert page.status_code == 403 and "needs the viewer role" in page.text


@pytest.mark.parametrize("spoil", ["signature", "expired", "nonce", "issuer", "audience"])
def test_a_bad_id_token_is_refused(sso, provider, fresh_emulator, spoil):
    provider.spoil = spoil
    session, page = sign_in(sso, provider, "ada")
    assert page.status_code == 401 and "could not be accepted" in page.text
    assert "Signed in as" not in page.text
    assert session.get(sso.url + "/connections", allow_redirects=False, timeout=10).status_code == 302
    assert not fresh_emulator.creations()


def test_a_wrong_state_is_refused(sso, provider):
    provider.login_as = "ada"
    session = requests.Session()
    to_provider = session.get(sso.url + "/sign-in", allow_redirects=False, timeout=10).headers["Location"]
    back = session.get(to_provider, allow_redirects=False, timeout=10).headers["Location"]
    forged = re.sub(r"state=[^&]+", "state=forged-state", back)
    assert session.get(forged, timeout=10).status_code == 401
    assert provider.token_requests == 0  # the code was never even exchanged


def test_a_replayed_code_is_refused(sso, provider):
    provider.login_as = "ada"
    victim = requests.Session()
    to_provider = victim.get(sso.url + "/sign-in", allow_redirects=False, timeout=10).headers["Location"]
    back = victim.get(to_provider, allow_redirects=False, timeout=10).headers["Location"]
    assert victim.get(back, allow_redirects=False, timeout=10).status_code == 303  # signed in
    # The same callback URL again, in the victim's browser or in another one: refused both ways.
    assert victim.get(back, timeout=10).status_code == 401
    attacker = requests.Session()
    assert attacker.get(back, timeout=10).status_code == 401
    assert attacker.get(sso.url + "/connections", allow_redirects=False, timeout=10).status_code == 302


def test_an_unverified_email_names_nobody(sso, provider):
    provider.add_user("mallory", ["g-viewer"], email="ada@example.com", verified=False)
    _session, page = sign_in(sso, provider, "mallory")
    assert page.status_code == 200 and "Signed in as <strong>sub-mallory</strong>" in page.text


def test_the_audit_names_the_person_from_the_provider(sso, provider, fresh_emulator):
    session, _ = sign_in(sso, provider, "ada")
    page = session.get(sso.url + "/sources/redshift", timeout=10).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    submission = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    created = session.post(sso.url + "/sources/redshift", allow_redirects=False, timeout=10, data={
        **form_data("redshift", name="By SSO")[1], "csrf_token": csrf, "submission_id": submission})
    assert created.status_code == 303
    entry = sso.app.extensions["store"].audit_entries()[0]
    assert (entry["user"], entry["subject"], entry["email"], entry["role"]) == (
        "ada@example.com", "sub-ada", "ada@example.com", "admin")


@pytest.mark.browser
@pytest.mark.parametrize(("who", "sees", "refused"), [
    ("vera", ["Connections in prod"], "/sources/redshift"),
    ("cora", ["Connections in prod"], "/connections/{id}/edit?sandbox=prod"),
    ("eddie", ["Change the name or description"], "/connections/{id}/delete?sandbox=prod"),
    ("ada", ["Delete"], None),
])
def test_signing_in_with_each_role_in_chromium(page, sso, provider, fresh_emulator, who, sees, refused):
    connection_id = sso.app.extensions["flow_service"].create_connection("prod", {
        "name": "Seen", "auth": {"specName": "Basic Authentication", "params": {
            "server": "rs.example.com", "port": "5439", "database": "dev", "username": "u", "password": "p"}},
        "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff", "version": "1.0"}}).id
    provider.login_as = who
    page.goto(f"{sso.url}/connections/{connection_id}?sandbox=prod")
    page.wait_for_url(f"**/connections/{connection_id}?sandbox=prod")
    assert f"Signed in as {who}@example.com" in page.locator("header").inner_text()
    page.goto(f"{sso.url}/connections?sandbox=prod")
    text = page.locator("main").inner_text()
    assert "Seen" in text
    page.goto(f"{sso.url}/connections/{connection_id}?sandbox=prod")
    for words in sees:
        assert words in page.locator("body").inner_text()
    if refused:
        response = page.goto(sso.url + refused.replace("{id}", connection_id))
        assert response.status == 403 and "Not allowed for your role" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out" in page.locator("main").inner_text()
