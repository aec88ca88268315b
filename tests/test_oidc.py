"""Single sign-on with OpenID Connect against a real provider on loopback: each role in Chromium, every bad token
refused.

The strict cases (claims only at userinfo, client_secret_post, RFC 9207 `iss`, RP-Initiated Logout) run here
against our provider's strict modes, and in test_oidc_certified.py against a certified provider nobody here wrote.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app import create_app, services
from app.config import ConfigError, Settings
from app.roles import parse_roles
from app.web.sso import SignInRefused, token_auth_method

from .helpers.forms import form_data
from .helpers.live import LiveServer, settings_for
from .helpers.oidc_provider import Provider

ROLES = "g-viewer=viewer@*;g-creator=creator@dev;g-editor=editor@*;g-admin=admin@*"


@pytest.fixture
def provider():
    provider = Provider()
    for name, groups in {
        "vera": ["g-viewer"],
        "cora": ["g-creator", "g-viewer"],
        "eddie": ["g-editor"],
        "ada": ["g-admin"],
        "nobody": [],
    }.items():
        provider.add_user(name, groups)
    yield provider
    provider.stop()


@pytest.fixture
def sso(provider, fresh_emulator):
    app = create_app(
        settings_for(
            fresh_emulator,
            auth="oidc",
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret,
            roles=parse_roles(ROLES),
            sandboxes=("prod", "dev"),
        )
    )
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def strict_portal(fresh_emulator):
    """portal(**provider options, settings=…): our provider in the strict modes asked for, and the wizard using it."""
    started = []

    def start(settings=None, **options):
        provider = Provider(**options)
        for name, groups in {"vera": ["g-viewer"], "ada": ["g-admin"]}.items():
            provider.add_user(name, groups)
        server = LiveServer(
            create_app(
                settings_for(
                    fresh_emulator,
                    auth="oidc",
                    oidc_issuer=provider.issuer,
                    oidc_client_id=provider.client_id,
                    oidc_client_secret=provider.client_secret,
                    roles=parse_roles(ROLES),
                    sandboxes=("prod", "dev"),
                    **(settings or {}),
                )
            )
        )
        started.append((provider, server))
        return provider, server

    yield start
    for provider, server in started:
        server.stop()
        provider.stop()


def sign_in(server, provider, who: str, session=None):
    """Follow the whole dance over HTTP: portal → provider → callback; the last answer."""
    provider.login_as = who
    session = session or requests.Session()
    return session, session.get(server.url + "/connections?sandbox=prod", timeout=10)


def test_single_sign_on_is_configured_from_the_environment(provider):
    settings = Settings.from_env(
        {
            "WIZARD_OIDC_ISSUER": provider.issuer,
            "WIZARD_OIDC_CLIENT_ID": "c",
            "WIZARD_OIDC_CLIENT_SECRET": "s",
            "WIZARD_OIDC_GROUPS_CLAIM": "roles",
        }
    )
    assert settings.auth == "oidc" and settings.oidc_groups_claim == "roles"
    with pytest.raises(ConfigError, match="WIZARD_OIDC_CLIENT_SECRET"):
        Settings.from_env({"WIZARD_OIDC_ISSUER": provider.issuer, "WIZARD_OIDC_CLIENT_ID": "c"})
    with pytest.raises(ConfigError, match="Choose one sign-in"):
        Settings.from_env(
            {
                "WIZARD_OIDC_ISSUER": provider.issuer,
                "WIZARD_OIDC_CLIENT_ID": "c",
                "WIZARD_OIDC_CLIENT_SECRET": "s",
                "WIZARD_USERS_FILE": "/etc/passwd",
            }
        )


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
    created = session.post(
        sso.url + "/sources/redshift",
        allow_redirects=False,
        timeout=10,
        data={**form_data("redshift", name="By SSO")[1], "csrf_token": csrf, "submission_id": submission},
    )
    assert created.status_code == 303
    entry = services.of(sso.app).store.audit.audit_entries()[0]
    assert (entry["user"], entry["subject"], entry["email"], entry["role"]) == (
        "ada@example.com",
        "sub-ada",
        "ada@example.com",
        "admin",
    )


@pytest.mark.browser
@pytest.mark.parametrize(
    ("who", "sees", "refused"),
    [
        ("vera", ["Connections in prod"], "/sources/redshift"),
        ("cora", ["Connections in prod"], "/connections/{id}/edit?sandbox=prod"),
        ("eddie", ["Change the name or description"], "/connections/{id}/delete?sandbox=prod"),
        ("ada", ["Delete"], None),
    ],
)
def test_signing_in_with_each_role_in_chromium(page, sso, provider, fresh_emulator, who, sees, refused):
    connection_id = (
        services.of(sso.app)
        .connections.create_connection(
            "prod",
            {
                "name": "Seen",
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
                "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff", "version": "1.0"},
            },
        )
        .id
    )
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


# Strict providers: each case fails on a portal that does not do what it says.


def test_the_token_endpoint_method_is_a_setting_checked_at_start_up(provider):
    base = {"WIZARD_OIDC_ISSUER": provider.issuer, "WIZARD_OIDC_CLIENT_ID": "c", "WIZARD_OIDC_CLIENT_SECRET": "s"}
    assert Settings.from_env(base).oidc_token_auth_method == ""
    assert (
        Settings.from_env({**base, "WIZARD_OIDC_TOKEN_AUTH_METHOD": "client_secret_post"}).oidc_token_auth_method
        == "client_secret_post"
    )
    with pytest.raises(ConfigError, match="WIZARD_OIDC_TOKEN_AUTH_METHOD .* client_secret_basic or client_secret_post"):
        Settings.from_env({**base, "WIZARD_OIDC_TOKEN_AUTH_METHOD": "private_key_jwt"})
    with pytest.raises(ConfigError, match="goes with WIZARD_OIDC_ISSUER"):
        Settings.from_env({"WIZARD_OIDC_TOKEN_AUTH_METHOD": "client_secret_post"})


def test_the_method_comes_from_the_discovery_document_preferring_basic():
    assert token_auth_method("", {}) == "client_secret_basic"  # absent: OpenID Connect's default
    assert (
        token_auth_method("", {"token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]})
        == "client_secret_basic"
    )
    assert (
        token_auth_method("", {"token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"]})
        == "client_secret_post"
    )
    assert token_auth_method("client_secret_post", {}) == "client_secret_post"
    with pytest.raises(SignInRefused, match="private_key_jwt"):
        token_auth_method("", {"token_endpoint_auth_methods_supported": ["private_key_jwt"]})


@pytest.mark.parametrize(
    ("offered", "setting", "used"),
    [
        (("client_secret_post",), "", "client_secret_post"),
        (("client_secret_basic", "client_secret_post"), "", "client_secret_basic"),
        (("client_secret_basic", "client_secret_post"), "client_secret_post", "client_secret_post"),
    ],
)
def test_the_token_endpoint_is_called_as_the_client_is_registered(strict_portal, offered, setting, used):
    provider, server = strict_portal(
        auth_methods=offered, settings={"oidc_token_auth_method": setting} if setting else None
    )
    _session, page = sign_in(server, provider, "ada")
    assert page.status_code == 200 and "Signed in as <strong>ada@example.com</strong>" in page.text
    assert provider.token_auth_used == [used]


def test_a_provider_with_no_method_we_have_says_so_at_sign_in(strict_portal, caplog):
    provider, server = strict_portal(auth_methods=("private_key_jwt",))
    with caplog.at_level(logging.ERROR):
        page = requests.get(server.url + "/sign-in", timeout=10)
    assert page.status_code == 503 and "Single sign-on is not working" in page.text
    assert "offers none of client_secret_basic and client_secret_post" in caplog.text
    assert provider.token_requests == 0


def test_claims_that_only_userinfo_gives_name_the_person_and_grant_their_roles(strict_portal):
    provider, server = strict_portal(claims_in_userinfo=True)
    session, page = sign_in(server, provider, "vera")
    assert page.status_code == 200 and "Signed in as <strong>vera@example.com</strong>" in page.text
    assert provider.userinfo_requests == 1
    assert session.get(server.url + "/sources/redshift", timeout=10).status_code == 403  # a viewer, not more
    ada, page = sign_in(server, provider, "ada")
    assert "Signed in as <strong>ada@example.com</strong>" in page.text
    assert ada.get(server.url + "/sources/redshift", timeout=10).status_code == 200


def test_userinfo_is_not_asked_when_the_id_token_has_the_claims(strict_portal):
    provider, server = strict_portal(claims_in_userinfo=False)
    _session, page = sign_in(server, provider, "ada")
    assert "Signed in as <strong>ada@example.com</strong>" in page.text and provider.userinfo_requests == 0


def test_a_userinfo_answer_about_another_subject_is_refused(strict_portal):
    provider, server = strict_portal(claims_in_userinfo=True)
    provider.spoil = "userinfo-subject"
    session, page = sign_in(server, provider, "ada")
    assert page.status_code == 401 and "could not be accepted" in page.text
    assert session.get(server.url + "/connections", allow_redirects=False, timeout=10).status_code == 302


@pytest.mark.parametrize("announced", [True, False])
def test_the_iss_parameter_must_name_our_issuer(strict_portal, announced):
    provider, server = strict_portal(iss_parameter=announced)
    provider.spoil = "iss"
    _session, page = sign_in(server, provider, "ada")
    assert page.status_code == 401 and "Signed in as" not in page.text
    assert provider.token_requests == 0  # refused before the code went anywhere


def test_an_announced_iss_parameter_must_be_there(strict_portal):
    provider, server = strict_portal(iss_parameter=True)
    provider.spoil = "no-iss"
    _session, page = sign_in(server, provider, "ada")
    assert page.status_code == 401 and provider.token_requests == 0
    provider.spoil = None
    _session, page = sign_in(server, provider, "ada")
    assert "Signed in as <strong>ada@example.com</strong>" in page.text


def test_a_version_3_store_gains_the_id_token_column(tmp_path):
    """The sessions table keeps the ID token for signing out; an older store is brought up to date in place."""
    from sqlalchemy import text

    from app.store import Store, database_url

    url = database_url(str(tmp_path), None)
    old = Store(url)
    old.sessions.start_session("before", "ada", None, 3600)
    with old.engine.begin() as db:
        # As a release of schema version 3 left it, before schema revisions: no id_token, no alembic_version.
        db.execute(text("ALTER TABLE sessions DROP COLUMN id_token"))
        db.execute(text("DROP TABLE alembic_version"))
        db.execute(text("DELETE FROM schema_version"))
        db.execute(text("INSERT INTO schema_version (version) VALUES (3)"))
    old.engine.dispose()
    store = Store(url)
    assert store.sessions.session("before")["user"] == "ada"  # kept through the migration
    store.sessions.start_session(
        "after", "ada@example.com", None, 3600, subject="sub-ada", id_token="header.claims.sig"
    )
    assert store.sessions.session("after")["id_token"] == "header.claims.sig"
    store.sessions.end_session("after")
    assert store.sessions.session("after") is None
    store.engine.dispose()


def sign_out(server, session) -> requests.Response:
    page = session.get(server.url + "/connections?sandbox=prod", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # the header's sign-out form
    return session.post(server.url + "/sign-out", data={"csrf_token": token}, timeout=10)


def test_signing_out_ends_the_providers_session_so_someone_else_can_sign_in(strict_portal):
    provider, server = strict_portal(strict=True)
    browser, page = sign_in(server, provider, "ada")
    assert "Signed in as <strong>ada@example.com</strong>" in page.text and provider.logins == 1
    landed = sign_out(server, browser)
    assert landed.status_code == 200 and landed.url.startswith(server.url + "/signed-out?state=")
    assert "signed out of this portal and of your organisation" in landed.text
    [logout] = provider.logouts
    # The hint was the ID token issued to ada (the provider checked its signature), with our client and a state.
    assert logout["sub"] == "sub-ada" and logout["client_id"] == provider.client_id and logout["state"]
    assert logout["post_logout_redirect_uri"] == server.url + "/signed-out"
    # The same browser: the provider asks who it is, and this time it is vera.
    _browser, page = sign_in(server, provider, "vera", session=browser)
    assert "Signed in as <strong>vera@example.com</strong>" in page.text and provider.logins == 2


def test_the_signed_out_page_needs_no_sign_in_and_sends_nobody_to_the_provider(strict_portal):
    provider, server = strict_portal(strict=True)
    page = requests.get(server.url + "/signed-out?state=forged", allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "You are signed out of this portal." in page.text
    assert "organisation's sign-in" not in page.text  # a forged state proves nothing about the provider
    assert provider.logins == 0 and provider.token_requests == 0
    # Someone signed in who follows a link there is not told they are signed out.
    browser, _ = sign_in(server, provider, "ada")
    stays = browser.get(server.url + "/signed-out", allow_redirects=False, timeout=10)
    assert stays.status_code == 303 and stays.headers["Location"] == "/"


def test_without_an_end_session_endpoint_signing_out_ends_only_the_portal_session(strict_portal):
    provider, server = strict_portal(end_session=False)
    browser, _ = sign_in(server, provider, "ada")
    landed = sign_out(server, browser)
    assert landed.status_code == 200 and landed.url == server.url + "/sign-out"
    assert "You are signed out of this portal." in landed.text and not provider.logouts


def test_no_token_reaches_a_page_a_cookie_or_a_log(strict_portal, caplog):
    from .test_secrets import decoded_cookie

    provider, server = strict_portal(strict=True)
    seen = []
    with caplog.at_level(logging.DEBUG):
        browser, page = sign_in(server, provider, "ada")
        seen += [page.text, *(r.headers.get("Location", "") for r in page.history)]
        seen += [decoded_cookie(c.value) for c in browser.cookies if c.name == "session"]
        landed = sign_out(server, browser)
        # The provider's own URL carries the hint, as RP-Initiated Logout says; no page of ours does.
        seen += [
            landed.text,
            *(
                r.headers.get("Location", "")
                for r in landed.history
                if not r.headers.get("Location", "").startswith(provider.issuer)
            ),
        ]
    # The portal's own log lines and Authlib's (the test's HTTP client and the provider log their URLs).
    logged = "\n".join(
        record.getMessage() for record in caplog.records if record.name.split(".")[0] in ("app", "authlib")
    )
    assert "signed in with single sign-on" in logged
    tokens = [*provider.access_tokens, *provider.id_tokens, provider.client_secret]
    assert len(tokens) == 3
    for token in tokens:
        assert token not in logged
        assert not any(token in text for text in seen)


def test_the_sign_out_form_may_lead_to_the_provider_and_nowhere_else(strict_portal, monkeypatch):
    """Browsers hold a form's redirects to the page's CSP form-action: signing out goes on to the provider."""
    provider, server = strict_portal(strict=True)
    policy = requests.get(server.url + "/healthz", timeout=10).headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy
    browser, _ = sign_in(server, provider, "ada")
    # Once discovery named an end_session_endpoint elsewhere, that origin is let in too; a value that would
    # add a directive is not.
    metadata = services.of(server.app).oidc.server_metadata
    monkeypatch.setitem(metadata, "end_session_endpoint", "https://logout.example.com:8443/end")
    policy = browser.get(server.url + "/healthz", timeout=10).headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer} https://logout.example.com:8443;" in policy
    monkeypatch.setitem(metadata, "end_session_endpoint", "https://evil.example.com; script-src *")
    policy = browser.get(server.url + "/healthz", timeout=10).headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy and "evil" not in policy


@pytest.mark.browser
def test_signing_out_in_chromium_lets_someone_else_sign_in(page, strict_portal):
    provider, server = strict_portal(strict=True)
    provider.login_as = "ada"
    page.goto(f"{server.url}/connections?sandbox=prod")
    assert "Signed in as ada@example.com" in page.locator("header").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/signed-out?**")
    assert "signed out of this portal and of your organisation's sign-in" in page.locator("main").inner_text()
    provider.login_as = "vera"
    page.goto(f"{server.url}/connections?sandbox=prod")
    assert "Signed in as vera@example.com" in page.locator("header").inner_text()
    assert [logout["sub"] for logout in provider.logouts] == ["sub-ada"]
