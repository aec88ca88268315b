"""Watching dataflows and telling people: the watcher's events (each once, scoped, late and recovered in emulator
time), their deliveries to a real webhook, Slack receiver and SMTP server on loopback (signed, retried, failed and
sent again), Adobe I/O Events' push, and the rules' pages."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from flask import Flask

from app import create_app, services
from app.config import Settings
from app.emulator import Emulator
from app.watch import channels
from app.watch.deliverer import Deliverer
from app.watch.sealing import Sealer, Unsealable
from app.watch.watcher import Watcher
from tests.helpers.dataflows import FLOW, Maker
from tests.helpers.receivers import Mailbox, Webhook

PG_SPEC = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
ALL_EVENTS = ["failed", "partial", "late", "recovered", "disabled"]


@pytest.fixture
def hook():
    receiver = Webhook()
    yield receiver
    receiver.stop()


@pytest.fixture
def watch_app(settings: Settings, fresh_emulator: Emulator) -> Flask:
    app = create_app(
        settings.replace(io_events_keys=fresh_emulator.url, alerts_to_loopback=True, alert_retry_seconds=0.05)
    )
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def base_connection(maker: Maker) -> str:
    answer = requests.post(
        f"{maker.emulator.url}{FLOW}/connections",
        headers=maker.headers,
        timeout=5,
        json={
            "name": "crm",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=db;Database=crm;Port=5432;UID=app;Password=pw"},
            },
            "connectionSpec": {"id": PG_SPEC, "version": "1.0"},
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def add_rule(client, url: str, sandbox: str = "prod", events=ALL_EVENTS, channel: str = "webhook", **extra) -> str:
    """Add a rule through the page; the signing secret it shows once (or "" for another channel)."""
    answer = client.post(
        "/alerts/new",
        data={
            "name": f"{channel} {sandbox}",
            "sandbox": sandbox,
            "source": "",
            "events": list(events),
            "channel": channel,
            "url": url,
            **extra,
        },
    )
    assert answer.status_code in (200, 303), answer.text
    found = re.search(r"whsec_[A-Za-z0-9_-]+", answer.text)
    return found.group(0) if found else ""


def advance(emulator: Emulator, seconds: int) -> None:
    assert requests.post(f"{emulator.url}/_emulator/clock", json={"advance": seconds}, timeout=5).ok


def watcher_of(app: Flask) -> Watcher:
    return Watcher(services.of(app), 60)


def test_a_failed_run_reaches_the_webhook_once_signed_with_counts_and_codes(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    secret = add_rule(client, hook.url)
    watcher, maker = watcher_of(watch_app), Maker(fresh_emulator)
    assert watcher.run_once() == {"prod": 0, "dev": 0}  # the first round learns, and tells nothing
    flow_id = maker.due_flow(base_connection(maker), ["failed"])
    assert watcher.run_once()["prod"] == 1
    assert watcher.run_once()["prod"] == 0  # the same run, seen again: no second event
    assert Deliverer(services.of(watch_app)).run_once() == 1
    [delivery] = hook.wait_for(1)
    assert hook.signed(delivery, secret)
    assert not hook.signed(delivery, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    said = delivery["json"]
    assert said["type"] == "failed" and said["sandbox"] == "prod" and said["dataflow"]["id"] == flow_id
    assert said["run"]["recordsRead"] == 100 and said["run"]["recordsFailed"] == 100
    assert said["run"]["errors"][0]["code"] == "CONNECTOR-2001-500"
    assert said["dataflow"]["url"].endswith(f"/dataflows/{flow_id}?sandbox=prod")
    assert Deliverer(services.of(watch_app)).run_once() == 0  # sent is sent


def test_two_replicas_watching_at_once_make_each_event_once(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    add_rule(client, hook.url)
    built = services.of(watch_app)
    # Two watchers with holders of their own, as two replicas: the lease lets one round at a time through, and a
    # round that slips through after the lease runs out finds the events made already.
    first, second = Watcher(built, 60, holder="replica-a"), Watcher(built, 60, holder="replica-b")
    first.run_once()
    maker = Maker(fresh_emulator)
    for name in ("one", "two", "three"):
        maker.due_flow(base_connection(maker), ["failed"], name=name)
    built.store.leases.release("watcher", "replica-a")
    rounds = [threading.Thread(target=w.run_once) for w in (first, second, first, second)]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join()
    built.store.leases.release("watcher", "replica-a")
    built.store.leases.release("watcher", "replica-b")
    second.run_once()
    senders = [Deliverer(built) for _ in range(3)]
    threads = [threading.Thread(target=s.run_once) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hook.wait_for(3)
    assert sorted(r["json"]["dataflow"]["name"] for r in hook.received) == ["one", "three", "two"]
    assert len(set(hook.seen_events())) == len(hook.received) == 3


def test_late_then_recovered_in_emulator_time_and_told_once_per_episode(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    add_rule(client, hook.url, events=["late", "recovered"])
    watcher, maker = watcher_of(watch_app), Maker(fresh_emulator)
    watcher.run_once()
    flow_id = maker.due_flow(base_connection(maker))
    watcher.run_once()
    assert (
        requests.post(
            f"{fresh_emulator.url}/_emulator/runs", json={"flowId": flow_id, "stalled": True}, timeout=5
        ).status_code
        == 201
    )
    advance(fresh_emulator, 10 * 60)
    assert watcher.run_once()["prod"] == 0  # one due time passed, within its grace (15 minutes)
    advance(fresh_emulator, 30 * 60)
    assert watcher.run_once()["prod"] == 1  # late
    advance(fresh_emulator, 60 * 60)
    assert watcher.run_once()["prod"] == 0  # still late: the same episode, told once
    page = client.get("/dataflows?health=late")
    assert page.status_code == 200 and flow_id in page.text
    assert (
        requests.post(
            f"{fresh_emulator.url}/_emulator/runs", json={"flowId": flow_id, "stalled": False}, timeout=5
        ).status_code
        == 201
    )
    advance(fresh_emulator, 15 * 60)
    assert watcher.run_once()["prod"] == 1  # recovered
    Deliverer(services.of(watch_app)).run_once()
    assert [r["json"]["type"] for r in hook.wait_for(2)] == ["late", "recovered"]
    assert hook.received[0]["json"]["lateSince"]


def test_a_rule_for_one_sandbox_never_fires_for_another(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    add_rule(client, hook.url, sandbox="dev")
    watcher = watcher_of(watch_app)
    watcher.run_once()
    prod = Maker(fresh_emulator)
    prod.due_flow(base_connection(prod), ["failed"])
    assert watcher.run_once() == {"prod": 1, "dev": 0}  # the event is made, and no rule matches it
    assert Deliverer(services.of(watch_app)).run_once() == 0 and hook.received == []
    dev = Maker(fresh_emulator, "dev")
    dev.due_flow(base_connection(dev), ["failed"])
    assert watcher.run_once()["dev"] == 1
    assert Deliverer(services.of(watch_app)).run_once() == 1
    assert [r["json"]["sandbox"] for r in hook.wait_for(1)] == ["dev"]


def test_disabled_and_partial_are_events_of_their_own(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    add_rule(client, hook.url)
    watcher, maker = watcher_of(watch_app), Maker(fresh_emulator)
    watcher.run_once()
    flow_id = maker.due_flow(base_connection(maker), ["partial"])
    watcher.run_once()
    disabled = requests.post(
        f"{fresh_emulator.url}{FLOW}/flows/{flow_id}/action", params={"op": "disable"}, headers=maker.headers, timeout=5
    )
    assert disabled.status_code == 200, disabled.text
    watcher.run_once()
    Deliverer(services.of(watch_app)).run_once()
    assert sorted(r["json"]["type"] for r in hook.wait_for(2)) == ["disabled", "partial"]


def test_a_failing_destination_is_retried_with_backoff_then_failed_and_sent_again(watch_app, fresh_emulator, hook):
    client = watch_app.test_client()
    add_rule(client, hook.url, events=["failed"])
    built = services.of(watch_app)
    watcher, maker, deliverer = watcher_of(watch_app), Maker(fresh_emulator), Deliverer(built)
    watcher.run_once()
    maker.due_flow(base_connection(maker), ["failed"])
    watcher.run_once()
    hook.answers = [503, 429]
    assert deliverer.run_once() == 0  # 503: waits a unit
    assert deliverer.run_once() == 0  # not due yet
    import time

    time.sleep(0.06)
    assert deliverer.run_once() == 0  # 429: waits two units
    time.sleep(0.12)
    assert deliverer.run_once() == 1
    assert [r["status"] for r in hook.received] == [503, 429, 200]
    assert len(set(hook.seen_events())) == 1  # the same event each try
    # A receiver that refuses (400) is not tried again: the delivery shows as failed, with its error.
    maker.due_flow(base_connection(maker), ["failed"], name="second")
    watcher.run_once()
    hook.answers = [400]
    assert deliverer.run_once() == 0
    page = client.get("/alerts")
    assert "answered 400" in page.text and "Send again" in page.text
    [failed] = built.store.alerts.deliveries(("failed",))
    client.post(f"/alerts/deliveries/{failed['event_id']}/{failed['rule_id']}/send")
    assert deliverer.run_once() == 1
    assert built.store.alerts.deliveries(("failed",)) == []
    assert "resend-alert" in {e["action"] for e in built.store.audit.audit_entries()}


def test_slack_and_email_say_what_happened_with_a_link(watch_app, settings, fresh_emulator, hook):
    mailbox = Mailbox()
    try:
        app = create_app(
            settings.replace(
                io_events_keys=fresh_emulator.url,
                alerts_to_loopback=True,
                smtp_url=mailbox.url,
                public_url="https://portal.example",
            )
        )
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        client = app.test_client()
        add_rule(client, hook.url, channel="slack", events=["failed"])
        add_rule(client, "", channel="email", events=["failed"], emails="oncall@example.com, data@example.com")
        watcher, maker = Watcher(services.of(app), 60), Maker(fresh_emulator)
        watcher.run_once()
        flow_id = maker.due_flow(base_connection(maker), ["failed"], name="Orders <b>&</b>")
        watcher.run_once()
        assert Deliverer(services.of(app)).run_once() == 2
        [slack] = hook.wait_for(1)
        assert set(slack["json"]) == {"text", "blocks"}
        section = slack["json"]["blocks"][1]["text"]["text"]
        assert "Orders &lt;b&gt;&amp;&lt;/b&gt;" in section and "CONNECTOR-2001-500" in section
        assert (
            f"https://portal.example/dataflows/{flow_id}?sandbox=prod"
            in slack["json"]["blocks"][2]["elements"][0]["text"]
        )
        [(to, message)] = mailbox.messages
        assert to == ["oncall@example.com", "data@example.com"]
        assert message["Subject"].startswith("[AEP] Dataflow run failed: Orders")
        assert f"https://portal.example/dataflows/{flow_id}?sandbox=prod" in message.get_content()
    finally:
        mailbox.stop()


def test_rules_keep_their_destination_sealed_and_secrets_out_of_pages_logs_and_audit(watch_app, hook, caplog):
    client = watch_app.test_client()
    slack_url = hook.url + "/T000/B000/abcdefSECRETtoken"
    secret = add_rule(client, hook.url)
    add_rule(client, slack_url, channel="slack")
    built = services.of(watch_app)
    rules = built.store.alerts.rules()
    assert all(
        rule["target"].startswith("v1.") and "SECRETtoken" not in rule["target"]
        for rule in rules
        if rule["channel"] != "email"
    )
    for path in ["/alerts", *(f"/alerts/{rule['id']}/edit" for rule in rules)]:
        page = client.get(path).text
        assert "SECRETtoken" not in page and secret not in page and "/hook" not in page
    entries = built.store.audit.audit_entries()
    assert {e["action"] for e in entries} == {"add-alert-rule"}
    assert all("SECRETtoken" not in str(e) and secret not in str(e) for e in entries)
    webhook_rule = next(rule for rule in rules if rule["channel"] == "webhook")
    # Sealed under another secret key, or moved to another rule, the destination does not open.
    with pytest.raises(Unsealable):
        Sealer("another key").open(webhook_rule["id"], webhook_rule["target"])
    with pytest.raises(Unsealable):
        built.sealer.open("0" * 20, webhook_rule["target"])
    # A test send goes out and is audited; nothing secret is logged on the way.
    client.post(f"/alerts/{webhook_rule['id']}/test")
    assert hook.wait_for(1)[0]["json"]["type"] == "test"
    assert "SECRETtoken" not in caplog.text and secret not in caplog.text
    # A new signing secret: shown once, and the old one stops verifying.
    renewed = re.search(r"whsec_[A-Za-z0-9_-]+", client.post(f"/alerts/{webhook_rule['id']}/secret").text).group(0)
    assert renewed != secret
    client.post(f"/alerts/{webhook_rule['id']}/test")
    latest = hook.wait_for(2)[-1]
    assert hook.signed(latest, renewed) and not hook.signed(latest, secret)


@pytest.mark.parametrize(
    ("url", "loopback", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data", True, "link-local"),
        ("http://[fe80::1]/x", True, "link-local"),
        ("http://127.0.0.1:9/x", False, "loopback"),
        ("ftp://example.com/x", True, "http"),
        ("https://user:pw@example.com/x", True, "password"),
        ("http://127.0.0.1:9/x", True, None),
    ],
)
def test_where_alerts_may_not_go(url, loopback, refused):
    problem = channels.check_destination(url, loopback)
    assert (problem is None) if refused is None else (refused in problem)


def test_a_rule_form_keeps_what_was_typed_and_says_what_is_wrong_per_field(watch_app):
    client = watch_app.test_client()
    answer = client.post(
        "/alerts/new",
        data={
            "name": "",
            "sandbox": "prod",
            "events": [],
            "channel": "email",
            "emails": "not-an-address",
            "flow_id": "bad id!",
        },
    )
    assert answer.status_code == 400
    page = answer.text
    assert "Give the rule a name." in page and "Choose at least one event." in page
    assert "WIZARD_SMTP_URL" in page and "letters, digits and dashes" in page
    assert 'value="bad id!"' in page
    refused = client.post(
        "/alerts/new",
        data={
            "name": "x",
            "sandbox": "prod",
            "events": ["failed"],
            "channel": "webhook",
            "url": "http://169.254.169.254/",
        },
    )
    # The address is named in the message, never kept in the field: a webhook's address may carry its secret.
    assert refused.status_code == 400 and "link-local" in refused.text
    assert 'value="http://169.254.169.254/"' not in refused.text and "169.254.169.254/" not in refused.text
    # Another sandbox than those offered is refused, not stored.
    assert (
        client.post(
            "/alerts/new",
            data={
                "name": "x",
                "sandbox": "elsewhere",
                "events": ["failed"],
                "channel": "webhook",
                "url": "http://127.0.0.1:9/",
            },
        ).status_code
        == 400
    )
    assert services.of(watch_app).store.alerts.rules() == []


@pytest.fixture
def portal(settings: Settings, fresh_emulator: Emulator):
    """The portal on a real loopback port, where the emulator's I/O Events can reach it."""
    from tests.helpers.live import LiveServer

    server = LiveServer(create_app(settings.replace(io_events_keys=fresh_emulator.url, alerts_to_loopback=True)))
    yield server
    server.stop()
    requests.delete(f"{fresh_emulator.url}/_emulator/events/webhooks", timeout=5)


def test_adobe_io_events_push_makes_the_same_event_once_with_the_watcher_as_fallback(portal, fresh_emulator, hook):
    import time

    client = portal.app.test_client()
    portal.app.config["WTF_CSRF_ENABLED"] = False
    add_rule(client, hook.url, events=["failed"])
    built = services.of(portal.app)
    watcher = Watcher(built, 60)
    watcher.run_once()
    # Registered as the Developer Console registers it: the challenge answered first.
    registered = requests.post(
        f"{fresh_emulator.url}/_emulator/events/webhooks", json={"url": portal.url + "/events/adobe"}, timeout=15
    )
    assert registered.status_code == 201, registered.text
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(base_connection(maker), ["failed"])
    requests.get(f"{fresh_emulator.url}{FLOW}/runs", headers=maker.headers, timeout=5)  # the run falls due
    deadline = time.monotonic() + 10
    while not built.store.alerts.recent_events() and time.monotonic() < deadline:
        time.sleep(0.05)
    [event] = built.store.alerts.recent_events()
    assert event["origin"] == "adobe" and event["flow_id"] == flow_id and event["kind"] == "failed"
    assert event["body"]["dataflow"]["name"] == "Customers every 15 minutes"
    assert watcher.run_once()["prod"] == 0  # the watcher sees the same run: nothing more
    assert Deliverer(built).run_once() == 1 and len(hook.wait_for(1)) == 1


@pytest.mark.parametrize("sign", ["wrong", "none"])
def test_an_unsigned_or_badly_signed_notification_is_refused_and_makes_nothing(portal, fresh_emulator, sign):
    import time

    built = services.of(portal.app)
    Watcher(built, 60).run_once()
    assert (
        requests.post(
            f"{fresh_emulator.url}/_emulator/events/webhooks",
            timeout=15,
            json={"url": portal.url + "/events/adobe", "sign": sign},
        ).status_code
        == 201
    )
    maker = Maker(fresh_emulator)
    maker.due_flow(base_connection(maker), ["failed"])
    requests.get(f"{fresh_emulator.url}{FLOW}/runs", headers=maker.headers, timeout=5)
    deadline = time.monotonic() + 10
    while not any(d.get("last_status") for d in fresh_emulator.event_deliveries) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [d["last_status"] for d in fresh_emulator.event_deliveries] == [401]
    assert built.store.alerts.recent_events() == []
    # A forged body posted by anyone: the same.
    forged = requests.post(
        portal.url + "/events/adobe",
        timeout=5,
        json={"event_id": "x", "event": {}},
        headers={"x-adobe-digital-signature-1": "AAAA", "x-adobe-public-key1-path": "/prod/keys/pub-key-x.pem"},
    )
    assert forged.status_code == 401
    # A key path that is not I/O Events' shape is never fetched (no request to another host or path).
    before = len(fresh_emulator.received)
    requests.post(
        portal.url + "/events/adobe",
        timeout=5,
        data=b"{}",
        headers={"x-adobe-digital-signature-1": "AAAA", "x-adobe-public-key1-path": "/../../etc/passwd"},
    )
    assert len(fresh_emulator.received) == before


def test_the_challenge_is_answered_and_nothing_else_is_echoed(portal):
    answer = requests.get(portal.url + "/events/adobe", params={"challenge": "8ec8d794-e0ab-42df"}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"challenge": "8ec8d794-e0ab-42df"}
    assert requests.get(portal.url + "/events/adobe", params={"challenge": "<script>"}, timeout=5).status_code == 400
