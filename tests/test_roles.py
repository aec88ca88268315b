"""Who may do what: WIZARD_ROLES, a route × role matrix in each sign-in mode, and the person behind each change."""

from __future__ import annotations

import re

import pytest
import requests

from app import create_app, services
from app.accounts import add_user
from app.config import ConfigError, Settings
from app.roles import Grant, parse_roles, role_in

from .helpers.dataflows import Maker
from .helpers.forms import connection_body, form_data
from .helpers.live import LiveServer, settings_for
from .helpers.oidc_provider import Provider

ROLES = "g-viewer=viewer@*;g-creator=creator@*;g-editor=editor@*;g-admin=admin@*;g-dev=creator@dev"
PEOPLE = {
    "viewer": "g-viewer",
    "creator": "g-creator",
    "editor": "g-editor",
    "admin": "g-admin",
    "devonly": "g-dev,other",
}
PASSWORD = "the portal password 42"
S3 = "ecadc60c-7455-4d87-84dc-2a0e293d997b"


# WIZARD_ROLES itself.


def test_roles_are_read_as_documented():
    grants = parse_roles("data-eng=creator@dev-*; data-eng=viewer@prod;platform=admin@*")
    assert grants == (
        Grant("data-eng", "creator", "dev-*"),
        Grant("data-eng", "viewer", "prod"),
        Grant("platform", "admin", "*"),
    )
    assert role_in(grants, {"data-eng"}, "dev-eu") == "creator"
    assert role_in(grants, {"data-eng"}, "prod") == "viewer"
    assert role_in(grants, {"data-eng"}, "staging") is None
    assert role_in(grants, {"data-eng", "platform"}, "prod") == "admin"  # the highest wins
    assert role_in(None, set(), "prod") == "admin"  # no WIZARD_ROLES: as before roles existed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("data-eng=boss@prod", "the roles are viewer, creator, editor, admin"),
        ("data-eng=viewer", "is not group=role@sandboxes"),
        ("=viewer@prod", "names no group"),
        ("data-eng=viewer@PROD EU", "write a sandbox name or a pattern"),
        (";;", "grants nothing"),
    ],
)
def test_a_wrong_roles_setting_stops_the_start_and_says_why(text, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        Settings.from_env(
            {"WIZARD_ROLES": text, "WIZARD_TRUSTED_USER_HEADER": "X-Forwarded-Email", "WIZARD_PROXY_COUNT": "1"}
        )


def test_roles_need_sign_in():
    with pytest.raises(ConfigError, match="people must sign in"):
        Settings.from_env({"WIZARD_ROLES": "a=viewer@*"})


# The matrix: every route and method, for each role and for nobody signed in.

# endpoint → (method, path, form data, the least role that gets through; None: open to all, even signed out)
MATRIX = {
    ("wizard.picker", "GET"): ("/", None, "signed-in"),
    ("wizard.source_form", "GET"): ("/sources/redshift", None, "creator"),
    ("wizard.source_form", "POST"): ("/sources/redshift", "form", "creator"),
    ("wizard.spec_form", "GET"): (
        "/sources/spec/26d738e0-8963-47ea-aadf-c60de735468a?auth=Basic Authentication",
        None,
        "creator",
    ),
    ("wizard.spec_form", "POST"): (
        "/sources/spec/26d738e0-8963-47ea-aadf-c60de735468a?auth=Basic Authentication",
        {"name": ""},
        "creator",
    ),
    ("wizard.namesakes", "GET"): ("/namesakes?sandbox=prod&name=Seen", None, "creator"),
    ("wizard.submission", "GET"): ("/submissions/" + "k" * 22, None, "creator"),
    ("connections.index", "GET"): ("/connections?sandbox=prod", None, "viewer"),
    ("connections.show", "GET"): ("/connections/{id}?sandbox=prod", None, "viewer"),
    ("connections.test", "GET"): ("/connections/{id}/test?sandbox=prod", None, "viewer"),
    ("connections.explore", "GET"): ("/connections/{id}/explore?sandbox=prod", None, "viewer"),
    ("connection_edit.rename", "GET"): ("/connections/{id}/edit?sandbox=prod", None, "editor"),
    ("connection_edit.rename", "POST"): ("/connections/{id}/edit?sandbox=prod", {"name": ""}, "editor"),
    ("connection_edit.rotate", "GET"): ("/connections/{id}/credentials?sandbox=prod", None, "editor"),
    ("connection_edit.rotate", "POST"): ("/connections/{id}/credentials?sandbox=prod", {"server": ""}, "editor"),
    ("connections.delete", "GET"): ("/connections/{id}/delete?sandbox=prod", None, "admin"),
    ("connections.delete", "POST"): ("/connections/{id}/delete?sandbox=prod", {"confirm_name": "nope"}, "admin"),
    ("dataflows.show", "GET"): ("/dataflows/{flow}?sandbox=prod", None, "viewer"),
    ("dataflows.set_state", "POST"): ("/dataflows/{flow}/state?sandbox=prod", {"enabled": "0"}, "editor"),
    ("dataflows.retry", "POST"): ("/dataflows/{flow}/runs/" + "0" * 36 + "/retry?sandbox=prod", {}, "editor"),
    ("dataflows.run_now", "POST"): ("/dataflows/{flow}/run?sandbox=prod", {}, "editor"),
    ("new_dataflow.start", "POST"): (
        "/connections/{id}/dataflows/new?sandbox=prod",
        {"table": "public.customers"},
        "creator",
    ),
    ("new_dataflow.dataset", "GET"): ("/dataflows/new/" + "d" * 32 + "/dataset", None, "creator"),
    ("new_dataflow.dataset", "POST"): ("/dataflows/new/" + "d" * 32 + "/dataset", {"dataset": "x"}, "creator"),
    ("new_dataflow.mapping", "GET"): ("/dataflows/new/" + "d" * 32 + "/mapping", None, "creator"),
    ("new_dataflow.mapping", "POST"): ("/dataflows/new/" + "d" * 32 + "/mapping", {}, "creator"),
    ("new_dataflow.schedule", "GET"): ("/dataflows/new/" + "d" * 32 + "/schedule", None, "creator"),
    ("new_dataflow.schedule", "POST"): ("/dataflows/new/" + "d" * 32 + "/schedule", {}, "creator"),
    ("dataflow_review.review", "GET"): ("/dataflows/new/" + "d" * 32 + "/review", None, "creator"),
    ("dataflow_review.create", "POST"): ("/dataflows/new/" + "d" * 32 + "/create", {}, "creator"),
    ("dataflow_review.remove", "POST"): ("/dataflows/new/" + "d" * 32 + "/remove", {}, "creator"),
    ("new_dataflow.discard", "POST"): ("/dataflows/new/" + "d" * 32 + "/discard", {}, "creator"),
    ("new_dataflow.drafts", "GET"): ("/dataflows/drafts", None, "creator"),
    ("dataflow_list.index", "GET"): ("/dataflows", None, "viewer"),
    ("dataflow_edit.edit", "GET"): ("/dataflows/{flow}/edit?sandbox=prod", None, "editor"),
    ("dataflow_edit.edit", "POST"): ("/dataflows/{flow}/edit?sandbox=prod", {"name": ""}, "editor"),
    ("alerts.index", "GET"): ("/alerts", None, "editor"),
    ("alerts.new", "GET"): ("/alerts/new", None, "editor"),
    ("alerts.new", "POST"): ("/alerts/new", {"name": ""}, "editor"),
    ("alerts.edit", "GET"): ("/alerts/" + "a" * 20 + "/edit", None, "editor"),
    ("alerts.edit", "POST"): ("/alerts/" + "a" * 20 + "/edit", {"name": ""}, "editor"),
    ("alerts.delete", "POST"): ("/alerts/" + "a" * 20 + "/delete", {}, "editor"),
    ("alerts.new_secret", "POST"): ("/alerts/" + "a" * 20 + "/secret", {}, "editor"),
    ("alerts.test", "POST"): ("/alerts/" + "a" * 20 + "/test", {}, "editor"),
    ("alerts.send_again", "POST"): ("/alerts/deliveries/" + "e" * 40 + "/" + "a" * 20 + "/send", {}, "editor"),
    ("adobe_events.challenge", "GET"): ("/events/adobe?challenge=abc", None, None),
    ("adobe_events.notification", "POST"): ("/events/adobe", {}, None),
    ("promote.index", "GET"): ("/promote?source=prod&target=dev&connection=Matrix", None, "viewer"),
    ("promote.apply", "POST"): ("/promote/apply", {"source": "prod", "target": "dev", "carried": "Matrix"}, "editor"),
    ("audit.index", "GET"): ("/audit", None, "viewer"),
    ("audit.export", "GET"): ("/audit.csv", None, "viewer"),
    ("setup.index", "GET"): ("/setup", None, "admin"),
    ("tokens.index", "GET"): ("/tokens", None, "signed-in"),
    ("tokens.index", "POST"): ("/tokens", {"name": ""}, "signed-in"),
    ("tokens.revoke", "POST"): ("/tokens/asw_00000000/revoke", {}, "signed-in"),
    ("credential_links.index", "GET"): ("/credential-links", None, "viewer"),
    ("credential_links.revoke", "POST"): ("/credential-links/" + "c" * 32 + "/revoke", {}, "viewer"),
    ("owner.enter", "GET"): ("/credentials/aswl_" + "0" * 43, None, None),
    ("owner.enter", "POST"): ("/credentials/aswl_" + "0" * 43, {"password": "x"}, None),
    ("api_docs.openapi", "GET"): ("/api/openapi.json", None, None),
    ("api_docs.reference", "GET"): ("/api/docs", None, None),
    ("api_docs.config_schema", "GET"): ("/api/config-schema.json", None, None),
    ("health.healthz", "GET"): ("/healthz", None, None),
    ("health.readyz", "GET"): ("/readyz", None, None),
    ("assets.static", "GET"): ("/static/style.css", None, None),
    ("auth.sign_in", "GET"): ("/sign-in", None, None),
    ("auth.sign_in", "POST"): ("/sign-in", {"username": "x", "password": "y"}, None),
    ("auth.sign_out", "POST"): ("/sign-out", {}, "signed-in"),
    ("auth.oidc_callback", "GET"): ("/sign-in/callback?code=x&state=y", None, None),
    ("auth.signed_out", "GET"): ("/signed-out?state=y", None, None),
}
ORDER = ["viewer", "creator", "editor", "admin"]


def test_every_route_and_method_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        # The API's routes have a matrix of their own, by token (tests/test_api.py).
        if not rule.endpoint.startswith("api.")
    }
    assert routes == set(MATRIX), "a new route needs a row in MATRIX"


def expected_pass(least: str | None, who: str | None) -> bool:
    if least is None:
        return True
    if who is None:
        return False
    return least == "signed-in" or ORDER.index(who) >= ORDER.index(least)


@pytest.fixture
def accounts_app(fresh_emulator, tmp_path):
    users = tmp_path / "users"
    for name, groups in PEOPLE.items():
        add_user(str(users), name, PASSWORD, groups.split(","))
    app = create_app(
        settings_for(
            fresh_emulator, auth="accounts", users_file=str(users), roles=parse_roles(ROLES), sandboxes=("prod", "dev")
        )
    )
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture
def proxy_app(fresh_emulator):
    app = create_app(
        settings_for(
            fresh_emulator,
            auth="proxy",
            trusted_user_header="X-Forwarded-Email",
            trusted_groups_header="X-Forwarded-Groups",
            proxy_count=1,
            roles=parse_roles(ROLES),
            sandboxes=("prod", "dev"),
        )
    )
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture
def oidc_app(fresh_emulator):
    provider = Provider()
    for name, groups in PEOPLE.items():
        provider.add_user(name, groups.split(","), email=f"{name}@example.com")
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
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    app.config["TEST_PROVIDER"] = provider
    server = LiveServer(app)
    app.config["TEST_SERVER"] = server
    yield app
    server.stop()
    provider.stop()


def client_for(app, who: str | None):
    client = app.test_client()
    if who is None:
        return client
    settings = app.config["SETTINGS"]
    if settings.auth == "oidc":
        # The whole sign-in over real HTTP (portal → provider → callback), then the same session in the client.
        app.config["TEST_PROVIDER"].login_as = who
        browser = requests.Session()
        answer = browser.get(app.config["TEST_SERVER"].url + "/audit", timeout=10)
        assert answer.status_code in (200, 403), answer.status_code
        client.set_cookie("session", browser.cookies["session"], domain="localhost")
        return client
    if settings.auth == "accounts":
        assert client.post("/sign-in", data={"username": who, "password": PASSWORD, "next": "/"}).status_code == 303
    else:
        client.environ_base.update(HTTP_X_FORWARDED_EMAIL=f"{who}@example.com", HTTP_X_FORWARDED_GROUPS=PEOPLE[who])
    return client


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["accounts", "proxy", "oidc"])
@pytest.mark.parametrize("who", [None, "viewer", "creator", "editor", "admin"])
def test_the_route_matrix(request, fresh_emulator, mode, who):
    app = request.getfixturevalue(f"{mode}_app")
    connection_id = services.of(app).connections.create_connection("prod", connection_body("Matrix")).id
    flow_id = Maker(fresh_emulator).flow(connection_id, "Matrix flow")
    _key, valid = form_data("redshift", name="")  # invalid on purpose: a pass is 400, never a creation
    for (endpoint, method), (path, data, least) in MATRIX.items():
        if endpoint == "auth.sign_out":
            continue  # signs the client out: checked last
        client = client_for(app, who)
        url = path.replace("{id}", connection_id).replace("{flow}", flow_id)
        response = client.open(url, method=method, data=valid if data == "form" else data)
        text = response.get_data(as_text=True)
        if least is None:
            # Open routes: a probe, a file, the sign-in page (a wrong password there is 401, as it should be).
            assert response.status_code != 403 and response.status_code < 500, (endpoint, method, who)
        elif expected_pass(least, who):
            assert response.status_code not in (401, 403) and not (
                response.status_code == 302 and "/sign-in" in response.headers.get("Location", "")
            ), (endpoint, method, who, response.status_code)
        elif who is None:
            assert response.status_code in (401, 302), (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method, who, response.status_code)
            assert f"needs the {least} role" in text and "Matrix" not in text
    assert not fresh_emulator.creations()[1:], "no connection was created by the matrix"
    assert not [r for r in fresh_emulator.received if r.method in ("PATCH", "DELETE")]
    if who:
        assert client_for(app, who).post("/sign-out").status_code in (200, 302, 303)


def test_forms_offer_only_the_sandboxes_the_person_may_create_in(accounts_app, fresh_emulator):
    client = client_for(accounts_app, "devonly")
    page = client.get("/sources/redshift").get_data(as_text=True)
    assert 'value="dev"' in page and 'value="prod"' not in page
    key, data = form_data("redshift", sandbox="prod")
    refused = client.post(f"/sources/{key}", data=data)
    assert refused.status_code == 400 and "Choose one of the sandboxes" in refused.get_data(as_text=True)
    assert not fresh_emulator.creations()
    assert client.post(f"/sources/{key}", data=form_data("redshift", sandbox="dev")[1]).status_code == 303
    # Viewing prod needs a role there too.
    assert client.get("/connections?sandbox=prod").status_code == 403


def test_the_audit_names_the_person_and_role_and_who_created_what(proxy_app, fresh_emulator):
    editor, admin = client_for(proxy_app, "editor"), client_for(proxy_app, "admin")
    location = editor.post("/sources/redshift", data=form_data("redshift", name="Audited")[1]).headers["Location"]
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", location).group(1)
    flow = services.of(proxy_app).connections
    editor.post(
        f"/connections/{connection_id}/edit?sandbox=prod",
        data={"name": "Audited 2", "description": "", "etag": flow.get_connection("prod", connection_id)["etag"]},
    )
    editor.post(
        f"/connections/{connection_id}/credentials?sandbox=prod",
        data={
            "etag": flow.get_connection("prod", connection_id)["etag"],
            "server": "rs.example.com",
            "port": "5439",
            "database": "dev",
            "username": "etl",
            "password": "n3w-password",
        },
    )
    admin.post(f"/connections/{connection_id}/delete?sandbox=prod", data={"confirm_name": "Audited 2"})
    entries = {e["action"]: e for e in services.of(proxy_app).store.audit.audit_entries()}
    assert set(entries) == {"create", "rename", "rotate", "delete"}
    for action, who, role in (
        ("create", "editor", "editor"),
        ("rename", "editor", "editor"),
        ("rotate", "editor", "editor"),
        ("delete", "admin", "admin"),
    ):
        entry = entries[action]
        assert entry["outcome"] == "ok" and entry["role"] == role
        assert entry["subject"] == entry["email"] == f"{who}@example.com"
        assert entry["adobe_request_id"]


def test_the_list_and_details_say_who_created_a_connection_here(accounts_app, fresh_emulator):
    creator = client_for(accounts_app, "creator")
    mine = creator.post("/sources/redshift", data=form_data("redshift", name="Made here")[1]).headers["Location"]
    mine_id = re.search(r"/connections/([0-9a-f-]{36})", mine).group(1)
    elsewhere = services.of(accounts_app).connections.create_connection("prod", connection_body("Made elsewhere")).id
    listing = creator.get("/connections?sandbox=prod").get_data(as_text=True)
    assert "by creator" in listing and "outside this portal" in listing
    assert "in this portal by creator" in creator.get(f"/connections/{mine_id}?sandbox=prod").get_data(as_text=True)
    assert "outside this portal" in creator.get(f"/connections/{elsewhere}?sandbox=prod").get_data(as_text=True)
    only_mine = creator.get("/connections?sandbox=prod&mine=1").get_data(as_text=True)
    assert "Made here" in only_mine and "Made elsewhere" not in only_mine
    queries = [r.query for r in fresh_emulator.received if r.method == "GET" and r.path.endswith("/connections")]
    assert any(f"property=id%3D%3D{mine_id}" in q for q in queries)  # a documented filter
    viewer_mine = client_for(accounts_app, "viewer").get("/connections?sandbox=prod&mine=1").get_data(as_text=True)
    assert "Made here" not in viewer_mine
    assert "You have created no connection here" in viewer_mine


def test_a_viewer_sees_only_the_audit_of_their_sandboxes(accounts_app, fresh_emulator):
    client_for(accounts_app, "devonly").post(
        "/sources/redshift", data=form_data("redshift", sandbox="dev", name="In dev")[1]
    )
    store = services.of(accounts_app).store
    store.audit.record(action="create", outcome="ok", sandbox="prod", connection_name="In prod", user="someone")
    viewer = client_for(accounts_app, "viewer").get("/audit").get_data(as_text=True)
    assert "In prod" in viewer and "In dev" in viewer
    devonly = client_for(accounts_app, "devonly")  # creator in dev, nothing in prod
    for page in (devonly.get("/audit").get_data(as_text=True), devonly.get("/audit.csv").get_data(as_text=True)):
        assert "In dev" in page and "In prod" not in page


def test_without_roles_everyone_is_admin_and_the_start_warns(fresh_emulator, tmp_path):
    import subprocess
    import sys

    from .helpers.servers import REPO, clean_env

    users = tmp_path / "users"
    add_user(str(users), "ada", PASSWORD)
    script = (
        "import logging, app.cli as cli; cli.logs.configure(); import sys; sys.argv=['x']; "
        "cli.gunicorn_options(); from app.config import Settings; s = Settings.from_env(); "
        "cli._warn_without_roles(s)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(
            AEP_CLIENT_ID="c",
            AEP_CLIENT_SECRET="s",
            AEP_ORG_ID="o@AdobeOrg",
            WIZARD_SECRET_KEY="k",
            WIZARD_USERS_FILE=str(users),
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("WIZARD_ROLES is not set") == 1


def test_without_sign_in_a_connection_made_here_says_so(client, fresh_emulator):
    location = client.post("/sources/redshift", data=form_data("redshift", name="Anonymous")[1]).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "in this portal" in page and "outside this portal" not in page
    assert "in this portal" in client.get("/connections").get_data(as_text=True)
