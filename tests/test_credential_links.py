"""Credential links: a connection prepared by one person whose database owner types the password through a one-time
link; the connection is made once, tested, and marked as entered by the owner. Each attack on a link is performed: a
reused link, an expired one, a guessed one, a revoked one, a tampered form, two sends at once and a flood of tries."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from sqlalchemy import update

from app import create_app, logs, services
from app.roles import parse_roles
from app.store.schema import credential_links

from . import test_api, test_watch
from .helpers.api import signed_in
from .helpers.live import settings_for
from .test_config_apply import in_sandbox

users, portal = test_api.users, test_api.portal
watch_app = test_watch.watch_app
LINK = re.compile(r'id="new-link">([^<]+)<')
OWNERS_PASSWORD = "owner-Typed-pw-7;{x}"
PREPARED = {
    "name": "Orders from the owner",
    "description": "Nightly orders",
    "sandbox": "prod",
    "method": "basic",
    "server": "pg.example.com",
    "port": "5432",
    "database": "orders",
    "username": "etl",
    "sslMode": "Verify Full",
    "typed_by": "owner",
    "duplicate_ok": "1",
}


def asked_for(client, **changes) -> str:
    """The path of a link a person makes on PostgreSQL's form, leaving the password to the owner."""
    answer = client.post("/sources/postgresql", data={**PREPARED, **changes})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 201, html[:3000]
    found = LINK.search(html)
    assert found, html[:3000]
    return "/" + found.group(1).split("/", 3)[3]


def accounts_app(emulator, users, testing: bool = True, **settings):
    """The portal with built-in accounts and test_api's roles; `testing`: the test client, CSRF off."""
    app = create_app(
        settings_for(emulator, auth="accounts", users_file=str(users), roles=parse_roles(test_api.ROLES), **settings)
    )
    if testing:
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def connections_of(emulator) -> list[dict]:
    return in_sandbox(emulator, "connections", "prod")


def test_the_owner_types_the_password_and_the_requester_never_sees_it(portal, fresh_emulator):
    creator = signed_in(portal, "creator")
    path = asked_for(creator)
    assert path.startswith("/credentials/aswl_") and not connections_of(fresh_emulator)
    (kept,) = services.of(portal).store.links.listed()
    assert kept["fields"] == ["password"] and "password" not in kept["prepared"] and "token_hash" not in kept
    assert kept["prepared"]["server"] == "pg.example.com" and path.rsplit("/", 1)[1] not in repr(kept)
    owner = portal.test_client()  # no account
    shown = owner.get(path)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "creator" in html and "Orders from the owner" in html
    assert 'name="password"' in html and 'name="server"' not in html and "pg.example.com" in html
    assert 'href="/connections' not in html, "no navigation for someone without an account"
    done = owner.post(path, data={"password": OWNERS_PASSWORD})
    page = done.get_data(as_text=True)
    assert done.status_code == 201 and "The test passed" in page
    (made,) = connections_of(fresh_emulator)
    (sent,) = fresh_emulator.creations()
    params = sent["auth"]["params"]
    assert params["password"] == OWNERS_PASSWORD and params["server"] == "pg.example.com"
    assert owner.get(path).status_code == 404, "a link works once"
    assert owner.post(path, data={"password": "again"}).status_code == 404
    listed = creator.get("/credential-links").get_data(as_text=True)
    shown_connection = creator.get(f"/connections/{made['id']}?sandbox=prod").get_data(as_text=True)
    assert "credentials entered by the owner" in listed and "test ok" in listed
    assert "entered by the database owner" in shown_connection
    entries = services.of(portal).store.audit.audit_entries()
    actions = [e["action"] for e in entries]
    assert {"request-credentials", "use-credential-link", "create"} <= set(actions)
    assert all(e["user"] == "creator" for e in entries)
    seen = page + html + listed + shown_connection + repr(entries)
    assert OWNERS_PASSWORD not in seen and "owner-Typed" not in seen


def test_a_wrong_used_revoked_or_expired_link_is_the_same_404(portal, fresh_emulator):
    creator = signed_in(portal, "creator")
    used, revoked, expired = asked_for(creator), asked_for(creator), asked_for(creator)
    anyone = portal.test_client()
    assert anyone.post(used, data={"password": OWNERS_PASSWORD}).status_code == 201
    (revoked_id,) = [k["id"] for k in services.of(portal).store.links.listed() if not k["used_at"]][1:2]
    assert creator.post(f"/credential-links/{revoked_id}/revoke").status_code == 303
    store = services.of(portal).store
    with store.engine.begin() as db:
        live = [k["id"] for k in store.links.listed() if not k["used_at"] and not k["revoked_at"]]
        db.execute(update(credential_links).where(credential_links.c.id.in_(live)).values(expires_at=time.time() - 1))
    guessed = "/credentials/aswl_" + "A" * 43
    bodies = set()
    for path in (used, revoked, expired, guessed, "/credentials/nothing"):
        answer = anyone.get(path)
        assert answer.status_code == 404
        bodies.add(re.sub(r"<code>[0-9a-f]{32}</code>", "", answer.get_data(as_text=True)))
        assert anyone.post(path, data={"password": "x"}).status_code == 404
    assert len(bodies) == 1, "nothing tells one failure from another"
    assert len(connections_of(fresh_emulator)) == 1


def test_a_tampered_form_changes_nothing_and_sends_nothing(portal, fresh_emulator):
    path = asked_for(signed_in(portal, "creator"))
    owner = portal.test_client()
    for tampered in ({"server": "evil.example.com"}, {"sandbox": "dev"}, {"name": "Other"}, {"method": "fields"}):
        refused = owner.post(path, data={"password": OWNERS_PASSWORD, **tampered})
        assert refused.status_code == 400 and "takes only the fields it shows" in refused.get_data(as_text=True)
    assert not connections_of(fresh_emulator) and not in_sandbox(fresh_emulator, "connections", "dev")
    assert owner.post(path, data={"password": OWNERS_PASSWORD}).status_code == 201, "the link still works"


def test_an_empty_password_is_asked_again_next_to_its_field_and_the_link_still_works(portal, fresh_emulator):
    path = asked_for(signed_in(portal, "creator"))
    owner = portal.test_client()
    refused = owner.post(path, data={"password": ""})
    assert refused.status_code == 400 and 'id="password-error"' in refused.get_data(as_text=True)
    assert not connections_of(fresh_emulator)
    assert owner.post(path, data={"password": OWNERS_PASSWORD}).status_code == 201


def test_a_link_sent_twice_at_once_makes_one_connection(portal, fresh_emulator):
    path = asked_for(signed_in(portal, "creator"))
    fresh_emulator.latency = 0.3
    answers: list[int] = []

    def send():
        answers.append(portal.test_client().post(path, data={"password": OWNERS_PASSWORD}).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fresh_emulator.latency = 0
    assert sorted(answers) == [201, 404, 404] and len(connections_of(fresh_emulator)) == 1


def test_a_form_sent_twice_makes_one_link(portal):
    creator = signed_in(portal, "creator")
    asked_for(creator, submission_id="same-submission-1234")
    again = creator.post("/sources/postgresql", data={**PREPARED, "submission_id": "same-submission-1234"})
    assert again.status_code == 303 and len(services.of(portal).store.links.listed()) == 1


def test_everything_but_the_secrets_is_checked_before_a_link_is_made(portal):
    creator = signed_in(portal, "creator")
    refused = creator.post("/sources/postgresql", data={**PREPARED, "server": "http://pg.example.com:5432/x"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="server-error"' in html and 'id="password-error"' not in html
    assert not services.of(portal).store.links.listed()


def test_a_flood_of_tries_must_wait(portal, fresh_emulator):
    anyone = portal.test_client()
    answers = [anyone.get("/credentials/aswl_" + f"{n:043d}").status_code for n in range(22)]
    assert answers[:20] == [404] * 20 and answers[-1] == 429
    waited = anyone.get("/credentials/aswl_" + "B" * 43)
    assert waited.status_code == 429 and int(waited.headers["Retry-After"]) >= 1


def test_a_requester_who_lost_the_role_sends_nothing(portal, fresh_emulator, users):
    path = asked_for(signed_in(portal, "devonly"), sandbox="dev")
    test_api.add_user(str(users), "devonly", test_api.PASSWORD, ["g-viewer"])
    refused = portal.test_client().post(path, data={"password": OWNERS_PASSWORD})
    assert refused.status_code == 403 and "may no longer" in refused.get_data(as_text=True)
    assert not in_sandbox(fresh_emulator, "connections", "dev")


def test_the_owner_rotates_the_credentials_of_a_connection(portal, fresh_emulator):
    creator = signed_in(portal, "creator")
    creator.post(path := asked_for(creator), data={})  # nothing typed yet: refused, link kept
    portal.test_client().post(path, data={"password": OWNERS_PASSWORD})
    (made,) = connections_of(fresh_emulator)
    editor = signed_in(portal, "editor")
    rotate = f"/connections/{made['id']}/credentials?sandbox=prod"
    page = editor.post(rotate, data={**PREPARED, "etag": made["etag"], "typed_by": "owner"})
    html = page.get_data(as_text=True)
    assert page.status_code == 201, html[:3000]
    path = "/" + LINK.search(html).group(1).split("/", 3)[3]
    done = portal.test_client().post(path, data={"password": "rotated-Pw-9", "expires_on": "2027-03-01"})
    assert done.status_code == 200 and "given new credentials" in done.get_data(as_text=True)
    (rotated,) = connections_of(fresh_emulator)
    (patch,) = [json.loads(r.body) for r in fresh_emulator.received if r.method == "PATCH"]
    assert rotated["id"] == made["id"] and patch[0]["value"]["password"] == "rotated-Pw-9"
    shown = editor.get(f"/connections/{made['id']}?sandbox=prod").get_data(as_text=True)
    assert "entered by the database owner" in shown and "expire" in shown and "rotated-Pw" not in shown


def test_with_sign_in_required_the_link_opens_only_after_signing_in(fresh_emulator, users):
    app = accounts_app(fresh_emulator, users, credential_link_sign_in=True)
    path = asked_for(signed_in(app, "creator"))
    anonymous = app.test_client()
    sent_away = anonymous.get(path)
    assert sent_away.status_code == 302 and "/sign-in" in sent_away.headers["Location"]
    assert anonymous.post(path, data={"password": OWNERS_PASSWORD}).status_code == 401
    assert signed_in(app, "viewer").post(path, data={"password": OWNERS_PASSWORD}).status_code == 201


def test_no_link_reaches_a_log_line(portal, capfd):
    path = asked_for(signed_in(portal, "creator"))
    token = path.rsplit("/", 1)[1]
    anyone = portal.test_client()
    anyone.get(path)
    anyone.post(path, data={"password": OWNERS_PASSWORD})
    anyone.get(path)
    time.sleep(0.05)
    out, err = capfd.readouterr()
    assert token[5:] not in out + err and token[5:25] not in out + err and OWNERS_PASSWORD not in out + err
    assert logs.scrub(f"GET {path} 404") == "GET /credentials/aswl_[redacted] 404"


def test_the_owners_page_has_the_portals_headers_and_no_referrer(portal):
    path = asked_for(signed_in(portal, "creator"))
    shown = portal.test_client().get(path)
    assert shown.headers["Referrer-Policy"] == "no-referrer" and shown.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in shown.headers["Content-Security-Policy"]
    assert not re.search(r'(src|href)="https?://', shown.get_data(as_text=True)), "no third-party request"


@pytest.mark.parametrize("hours", ["0", "721", "soon"])
def test_the_links_lifetime_is_checked_at_start(hours):
    from app.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="WIZARD_CREDENTIAL_LINK_HOURS"):
        Settings.from_env({"WIZARD_CREDENTIAL_LINK_HOURS": hours})


def test_in_chromium_two_steps_of_the_requester_and_one_of_the_owner(browser, fresh_emulator, users):
    from .helpers.browser import assert_axe_clean
    from .helpers.live import LiveServer

    app = accounts_app(fresh_emulator, users, testing=False)
    server = LiveServer(app)
    try:
        requester = browser.new_context(viewport={"width": 390, "height": 844})
        page = requester.new_page()
        page.goto(server.url + "/sign-in")
        page.get_by_label("User name").fill("creator")
        page.get_by_label("Password", exact=True).fill(test_api.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server.url + "/")
        # Step one: everything but the password, and the owner to type it.
        page.goto(server.url + "/sources/postgresql")
        page.get_by_label("Connection name").fill("Orders typed by their owner")
        page.get_by_label("Basic authentication").check()
        page.get_by_label("Server", exact=True).fill("pg.example.com")
        page.get_by_label("Database", exact=True).fill("orders")
        page.get_by_label("Username", exact=True).fill("etl")
        page.get_by_label("Verify Full — as Verify Ca").check()
        page.get_by_label("The database owner types them").check()
        page.get_by_role("button", name="Create connection").click()
        link = page.locator("#new-link").inner_text()
        assert link.startswith(server.url + "/credentials/aswl_") and not fresh_emulator.connections
        assert_axe_clean(page, "the link made, at 390 px")
        # The owner's one step, by keyboard, in a browser of their own with no account.
        owner = browser.new_context(viewport={"width": 1440, "height": 900})
        theirs = owner.new_page()
        theirs.goto(link)
        assert "creator" in theirs.locator("main").inner_text()
        assert_axe_clean(theirs, "the owner's page, at 1440 px")
        theirs.get_by_label("Password", exact=True).fill(OWNERS_PASSWORD)
        theirs.keyboard.press("Enter")
        theirs.wait_for_selector("text=The test passed")
        (sent,) = fresh_emulator.creations()
        assert sent["auth"]["params"]["password"] == OWNERS_PASSWORD
        # Replayed after use, in the owner's browser and in another.
        theirs.goto(link)
        assert theirs.title().startswith("Page not found")
        other = browser.new_context()
        replay = other.new_page()
        replay.goto(link)
        assert replay.title().startswith("Page not found")
        # Step two: the requester sees the connection, marked, and never the password.
        page.goto(server.url + "/credential-links")
        assert "credentials entered by the owner" in page.locator("main").inner_text()
        page.get_by_role("link", name="Orders typed by their owner").click()
        assert "entered by the database owner" in page.locator("#credentials-set").inner_text()
        assert OWNERS_PASSWORD not in page.content()
        for context in (requester, owner, other):
            context.close()
    finally:
        server.stop()


ASKED = (
    "apiVersion: aep-source-wizard/v1\n"
    "connections:\n"
    "  - name: Asked\n"
    "    source: postgresql\n"
    "    fields: {method: basic, server: db.example.com, port: 5432, database: d, username: u, password: ask}\n"
)


def test_a_secret_written_ask_gives_a_link_once_and_applying_after_the_owner_goes_on(portal, fresh_emulator):
    from .helpers.api import Api, make_token
    from .test_config_apply import actions, apply, plan

    editor = Api(portal, make_token(signed_in(portal, "editor")))
    first = apply(editor, ASKED).get_json()
    (waiting,) = first["results"]
    assert waiting["outcome"] == "pending" and waiting["link"].startswith("http://localhost/credentials/aswl_")
    again = apply(editor, ASKED).get_json()["results"][0]
    assert again["outcome"] == "pending" and again["link"] is None and "earlier apply" in again["message"]
    entries = services.of(portal).store.audit.audit_entries()
    assert waiting["link"] not in repr(entries) and waiting["link"][-43:] not in repr(entries)
    owner = portal.test_client()
    path = "/" + waiting["link"].split("/", 3)[3]
    assert "u" in owner.get(path).get_data(as_text=True)
    assert owner.post(path, data={"password": OWNERS_PASSWORD}).status_code == 201
    (made,) = in_sandbox(fresh_emulator, "connections", "dev")
    assert made["name"] == "Asked" and fresh_emulator.creations()[0]["auth"]["params"]["password"] == OWNERS_PASSWORD
    assert actions(plan(editor, ASKED)) == {("connection", "Asked"): "none"}, "applying again goes on from there"


def test_promote_leaves_a_credential_to_its_owner_by_a_link(portal, fresh_emulator):
    from app.config_file.promote import owner_name, secret_name

    from .helpers.api import Api, make_token
    from .test_config_apply import STRING
    from .test_config_export import made
    from .test_promote import PICKED, _digest

    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = signed_in(portal, "editor")
    html = editor.get(PICKED).get_data(as_text=True)
    assert "The database owner of Basic one types its credentials" in html
    form = {
        "source": "prod",
        "target": "dev",
        "carried": "Basic one\nOrders database",
        "digest": _digest(html),
        owner_name("Basic one"): "y",
        secret_name("Orders database", "connectionString"): STRING,
    }
    done = editor.post("/promote/apply", data=form)
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page[:3000]
    link = re.search(r'<code class="copyable">(http://localhost/credentials/aswl_[^<]+)</code>', page).group(1)
    assert [c["name"] for c in in_sandbox(fresh_emulator, "connections")] == ["Orders database"]
    path = "/" + link.split("/", 3)[3]
    assert portal.test_client().post(path, data={"password": OWNERS_PASSWORD}).status_code == 201
    assert sorted(c["name"] for c in in_sandbox(fresh_emulator, "connections")) == ["Basic one", "Orders database"]
    assert OWNERS_PASSWORD not in page and STRING not in page


def test_the_alert_rules_tell_of_the_owners_entry_and_a_week_before_the_credentials_expire(fresh_emulator, users):
    import datetime

    from app.watch.deliverer import Deliverer
    from app.watch.watcher import Watcher

    from .helpers.receivers import Webhook
    from .test_watch import add_rule

    app = accounts_app(fresh_emulator, users, alerts_to_loopback=True, alert_retry_seconds=0.05)
    hook = Webhook()
    try:
        add_rule(signed_in(app, "editor"), hook.url, events=["credentials-entered", "credentials-expiring"])
        creator = signed_in(app, "creator")
        soon = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=3)).isoformat()
        later = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=30)).isoformat()
        owner = app.test_client()
        assert owner.post(asked_for(creator), data={"password": OWNERS_PASSWORD, "expires_on": soon}).status_code == 201
        assert (
            owner.post(asked_for(creator), data={"password": OWNERS_PASSWORD, "expires_on": later}).status_code == 201
        )
        watcher = Watcher(services.of(app), 60)
        watcher.run_once()
        watcher.run_once()  # a reminder goes once
        assert Deliverer(services.of(app)).run_once() == 3
        sent = sorted((d["json"] for d in hook.wait_for(3)), key=lambda said: said["type"])
        assert [said["type"] for said in sent] == ["credentials-entered"] * 2 + ["credentials-expiring"]
        entered, expiring = sent[0], sent[2]
        assert entered["requestedBy"] == "creator" and entered["test"] == "ok" and entered["dataflow"] is None
        assert entered["connection"]["name"] == "Orders from the owner"
        assert re.search(r"/connections/[0-9a-f-]{36}\?sandbox=prod$", expiring["connection"]["url"])
        assert expiring["expiresAt"] == soon + "T00:00:00Z" and "expire" in expiring["summary"]
        assert OWNERS_PASSWORD not in repr(hook.received)
    finally:
        hook.stop()


def test_runs_that_all_failed_copying_from_the_source_point_at_the_credentials(watch_app, fresh_emulator):
    from app.watch.watcher import Watcher

    from .helpers.dataflows import Maker
    from .test_watch import advance, base_connection

    maker = Maker(fresh_emulator)
    connection_id = base_connection(maker)
    watcher = Watcher(services.of(watch_app), 60)
    watcher.run_once()
    suspect = maker.due_flow(connection_id, ["copy-failed", "copy-failed"], name="Refused twice")
    other = maker.due_flow(connection_id, ["failed", "copy-failed"], name="Failed otherwise")
    advance(fresh_emulator, 15 * 60)
    watcher.run_once()
    client = watch_app.test_client()
    flow_page = client.get(f"/dataflows/{suspect}?sandbox=prod").get_data(as_text=True)
    assert 'id="credentials-suspect"' in flow_page and f"/connections/{connection_id}/credentials" in flow_page
    assert 'id="credentials-suspect"' not in client.get(f"/dataflows/{other}?sandbox=prod").get_data(as_text=True)
    connection_page = client.get(f"/connections/{connection_id}?sandbox=prod").get_data(as_text=True)
    hint = connection_page.split('id="credentials-suspect"', 1)[1].split("</div>", 1)[0]
    assert "Refused twice" in hint and "Failed otherwise" not in hint


@pytest.mark.parametrize(
    "statuses, suspect",
    [
        ([("failed", "CONNECTOR-1001-500"), ("failed", "CONNECTOR-1001-500")], True),
        ([("processing", None), ("failed", "CONNECTOR-1001-500"), ("failed", "CONNECTOR-1001-500")], True),
        ([("failed", "CONNECTOR-1001-500")], False),
        ([("failed", "CONNECTOR-1001-500"), ("success", None), ("failed", "CONNECTOR-1001-500")], False),
        ([("failed", "CONNECTOR-1001-500"), ("failed", "CONNECTOR-2001-500")], False),
        ([("success", None), ("failed", "CONNECTOR-1001-500"), ("failed", "CONNECTOR-1001-500")], False),
    ],
)
def test_only_the_newest_ended_runs_all_failing_to_copy_are_suspect(statuses, suspect):
    from app.watch.health import credentials_suspect

    rows = [{"status": status, "errors": json.dumps([{"code": code}] if code else [])} for status, code in statuses]
    assert credentials_suspect(rows) is suspect
    assert credentials_suspect([{**row, "errors": json.loads(row["errors"])} for row in rows]) is suspect
