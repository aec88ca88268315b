"""The Promote page: connections with their dataflows carried from one sandbox to another, the plan shown side by side
first (the same plan as the API's for the same file), credentials typed by the person, applied once."""

from __future__ import annotations

import re

from app import create_app
from app.config_file.promote import secret_name
from app.emulator import Fault
from app.roles import parse_roles

from . import test_api
from .helpers.api import PASSWORD, Api, make_token, signed_in
from .helpers.live import LiveServer, settings_for
from .test_config_apply import STRING, in_sandbox
from .test_config_export import BASIC, made

users, portal = test_api.users, test_api.portal
PICKED = "/promote?source=prod&target=dev&connection=Basic+one&connection=Orders+database"


def _digest(html: str) -> str:
    return re.search(r'name="digest" type="hidden" value="([^"]+)"', html).group(1)


def test_the_page_shows_the_apis_plan_then_applies_it_with_the_credentials_typed(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = signed_in(portal, "editor")
    listed = editor.get("/promote?source=prod&target=dev").get_data(as_text=True)
    assert 'value="Basic one"' in listed and "Show the plan" in listed and "Will be made" not in listed
    shown = editor.get(PICKED)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Will be made (3)" in html
    assert "Basic one: password" in html and "Orders database: connectionString" in html
    api = Api(portal, make_token(signed_in(portal, "editor")))
    text = api.get("/api/v1/config?sandbox=prod").get_data(as_text=True)
    planned = api.post("/api/v1/config/plan", json={"sandbox": "dev", "file": text}).get_json()
    assert _digest(html) == planned["digest"], "the page and the API plan alike for the same input"
    form = {
        "source": "prod",
        "target": "dev",
        "carried": "Basic one\r\nOrders database",
        "digest": _digest(html),
        secret_name("Basic one", "password"): BASIC["password"],
        secret_name("Orders database", "connectionString"): STRING,
    }
    done = editor.post("/promote/apply", data=form)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Applied to dev" in page and "failed" not in page
    assert len(in_sandbox(fresh_emulator, "connections")) == 2 and len(in_sandbox(fresh_emulator, "flows")) == 1
    for secret in (BASIC["password"], STRING, "api-s3cret-Pw"):
        assert secret not in html + page
    again = editor.get(PICKED).get_data(as_text=True)
    assert "No change (3)" in again and "Nothing to change" in again


def test_a_plan_that_changed_since_it_was_shown_is_not_applied(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = signed_in(portal, "editor")
    html = editor.get(PICKED).get_data(as_text=True)
    form = {"source": "prod", "target": "dev", "carried": "Basic one", "digest": _digest(html)}
    form[secret_name("Basic one", "password")] = "x"
    refused = editor.post("/promote/apply", data=form)
    assert refused.status_code == 409 and "changed since you read it" in refused.get_data(as_text=True)
    assert not in_sandbox(fresh_emulator, "connections")


def test_a_missing_credential_is_asked_for_next_to_its_field(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = signed_in(portal, "editor")
    html = editor.get(PICKED).get_data(as_text=True)
    form = {"source": "prod", "target": "dev", "carried": "Basic one\nOrders database", "digest": _digest(html)}
    refused = editor.post("/promote/apply", data=form)
    page = refused.get_data(as_text=True)
    said = "Type the password of Basic one, let its database owner type it, or leave that connection out."
    assert refused.status_code == 400 and said in page
    assert not in_sandbox(fresh_emulator, "connections")


def test_a_viewer_sees_the_plan_and_cannot_apply_it(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    viewer = signed_in(portal, "viewer")
    html = viewer.get(PICKED).get_data(as_text=True)
    assert "Will be made (3)" in html and "Applying needs the editor role in dev." in html
    assert 'name="digest"' not in html
    form = {"source": "prod", "target": "dev", "carried": "Basic one", "digest": "x"}
    assert viewer.post("/promote/apply", data=form).status_code == 403
    assert not in_sandbox(fresh_emulator, "connections")


def test_the_same_sandbox_twice_is_refused_next_to_the_field(portal):
    html = signed_in(portal, "editor").get("/promote?source=dev&target=dev").get_data(as_text=True)
    assert "Pick another sandbox than the one they come from." in html


def test_a_dataset_the_target_lacks_is_named_as_a_blocker(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    for dataset in fresh_emulator.datasets.values():
        if dataset["sandboxName"] == "dev" and dataset["name"] == "Loyalty members":
            dataset["name"] = "Loyalty members (dev)"
    html = signed_in(portal, "editor").get(PICKED).get_data(as_text=True)
    assert "Blocked (1)" in html and "no dataset named Loyalty members in this sandbox" in html


def test_promoting_works_without_javascript_and_by_keyboard_on_a_phone(browser, fresh_emulator, users):
    app = create_app(
        settings_for(fresh_emulator, auth="accounts", users_file=str(users), roles=parse_roles(test_api.ROLES))
    )
    app.config["WTF_CSRF_ENABLED"] = False  # for making prod's objects; the browser below sends its tokens
    made(Api(app, make_token(signed_in(app, "creator"))), fresh_emulator)
    app.config["WTF_CSRF_ENABLED"] = True
    server = LiveServer(app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url + "/sign-in")
        page.get_by_label("User name").fill("editor")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(server.url + "/promote")
        page.get_by_label("From sandbox").select_option("prod")
        page.get_by_label("To sandbox").select_option("dev")
        page.get_by_role("button", name="List the connections").click()
        page.get_by_label("Basic one").check()
        page.get_by_label("Orders database").check()
        page.get_by_role("button", name="Show the plan").click()
        page.wait_for_selector("text=Will be made (3)")
        page.get_by_label("Basic one: password").fill(BASIC["password"])
        page.get_by_label("Orders database: connectionString").fill(STRING)
        page.keyboard.press("Tab")  # from the last credential to the button that applies it, then Enter
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Applied to dev")
        assert "failed" not in page.content()
    finally:
        context.close()
        server.stop()
    assert len(in_sandbox(fresh_emulator, "connections")) == 2 and len(in_sandbox(fresh_emulator, "flows")) == 1


def test_adobe_failing_is_said_on_the_page_never_a_500(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = signed_in(portal, "editor")
    fresh_emulator.inject(Fault("GET", "/connections", status=500, body={"message": "down"}, times=20))
    listed = editor.get("/promote?source=prod&target=dev")
    fresh_emulator.faults.clear()
    assert listed.status_code == 502 and "Could not list the sandbox" in listed.get_data(as_text=True)
    fresh_emulator.inject(Fault("GET", "/dataSets", status=503, body={"message": "down"}, times=20))
    planned = editor.get(PICKED)
    fresh_emulator.faults.clear()
    assert planned.status_code == 502 and "Could not read the sandboxes" in planned.get_data(as_text=True)
