"""The emulator's Adobe I/O Events: the challenge before a registration, each run's notification POSTed to the
webhooks signed and retried as I/O Events does it; with the lists across a sandbox's flows and runs, a 429 fault, and
the update tutorial's mapping PATCH. A real webhook on loopback receives everything: no mocks.

`ROW_TRIGGERS` perform the rows of docs/emulator.md these behaviours add; tests/test_emulator_behaviours.py runs them
(imported when a row runs, as this module imports that one's helpers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.test_emulator_behaviours import DATA_PREP, Api, _flow, _flow_body, _mapping_body, _mapping_set, _source

FAST = 0.05  # seconds standing for I/O Events' minute in these tests


class Webhook:
    """A webhook on loopback: answers I/O Events' challenge as `challenge` says ("plain", "quoted", "json", "wrong",
    "html", or a status), answers POSTs with the queued `statuses` (200 once they run out) after `delay` seconds, and
    records every request it gets."""

    def __init__(self, challenge="plain", statuses=(), delay=0.0):
        self.challenge, self.statuses, self.delay = challenge, list(statuses), delay
        self.requests: list[dict] = []
        self._seen = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                value = parse_qs(urlsplit(self.path).query).get("challenge", [""])[0]
                hook._record(self, b"")
                kind = hook.challenge
                status, ctype, body = {
                    "plain": (200, "text/plain", value),
                    "quoted": (200, "text/plain", f'"{value}"'),
                    "json": (200, "application/json", json.dumps({"challenge": value})),
                    "wrong": (200, "text/plain", "not-the-value"),
                    "html": (200, "text/html", value),
                }.get(kind, (kind if isinstance(kind, int) else 200, "text/plain", value))
                self._answer(status, ctype, body.encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook._record(self, body)
                with hook._seen:
                    status = hook.statuses.pop(0) if hook.statuses else 200
                time.sleep(hook.delay)
                self._answer(status, "text/plain", b"ok")

            def _answer(self, status, ctype, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the emulator gave up waiting
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/aep"

    def _record(self, handler, body: bytes) -> None:
        with self._seen:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": handler.path,
                    "at": time.monotonic(),
                    "headers": {k.lower(): v for k, v in handler.headers.items()},
                    "body": body,
                }
            )
            self._seen.notify_all()

    @property
    def posts(self) -> list[dict]:
        with self._seen:
            return [r for r in self.requests if r["method"] == "POST"]

    def wait_posts(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._seen:
            while sum(r["method"] == "POST" for r in self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{count} POSTs expected, got {self.requests}"
                self._seen.wait(left)
            return [r for r in self.requests if r["method"] == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    made = []

    def make(**behaviour):
        made.append(Webhook(**behaviour))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


def register(emulator, url, **options):
    return requests.post(f"{emulator.url}/_emulator/events/webhooks", json={"url": url, **options}, timeout=15)


def verified(emulator, headers: dict, body: bytes) -> list[bool]:
    """Each digital signature checked as I/O Events' guide says: the PEM key at the header's path (on the emulator,
    standing for static.adobeioevents.com), RSA-SHA256 over the raw body, the signature Base64."""
    results = []
    for n in (1, 2):
        pem = requests.get(f"{emulator.url}{headers[f'x-adobe-public-key{n}-path']}", timeout=5)
        key = serialization.load_pem_public_key(pem.content)
        try:
            key.verify(
                base64.b64decode(headers[f"x-adobe-digital-signature-{n}"]), body, padding.PKCS1v15(), hashes.SHA256()
            )
            results.append(True)
        except InvalidSignature:
            results.append(False)
    return results


def due_run(api, outcome="success", start_offset=-5):
    """A flow due `start_offset` seconds from now, its first run ending as `outcome`; the run, once made."""
    source = _source(api)
    flow = api.call(
        "POST",
        "/flows",
        json=_flow_body(
            api,
            source,
            scheduleParams={"startTime": int(time.time()) + start_offset, "frequency": "minute", "interval": "15"},
        ),
    ).json()
    requests.post(f"{api.emulator.url}/_emulator/runs", json={"flowId": flow["id"], "outcomes": [outcome]}, timeout=5)
    runs = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"]
    return api.call("GET", f"/flows/{flow['id']}").json()["items"][0], runs


def delivery(emulator, run_id, settled=True, timeout=10.0) -> dict:
    """The emulator's record of the delivery of `run_id`'s notification, once it has settled (delivered or dropped)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [d for d in emulator.event_deliveries if d["run_id"] == run_id]
        if found and (not settled or found[0]["status"] in ("delivered", "dropped")):
            return found[0]
        assert time.monotonic() < deadline, emulator.event_deliveries
        time.sleep(0.02)


# The challenge.


@pytest.mark.parametrize("answer", ["plain", "quoted", "json"])
def test_a_webhook_that_answers_the_challenge_is_registered(fresh_emulator, webhook, answer):
    hook = webhook(challenge=answer)
    made = register(fresh_emulator, hook.url, sandboxes=["prod"])
    assert made.status_code == 201, made.text
    [challenge] = hook.requests
    assert challenge["method"] == "GET" and "challenge=" in challenge["path"]
    assert challenge["headers"]["user-agent"] == "Adobe/1.0"
    body = made.json()
    assert body["status"] == "ACTIVE" and body["sandboxes"] == ["prod"]
    assert all(p.startswith("/prod/keys/pub-key-") and p.endswith(".pem") for p in body["public_key_paths"])
    assert [h["url"] for h in fresh_emulator.event_webhooks] == [hook.url]


@pytest.mark.parametrize("answer", ["wrong", "html", 500, 404])
def test_a_webhook_that_fails_the_challenge_is_refused(fresh_emulator, webhook, answer):
    made = register(fresh_emulator, webhook(challenge=answer).url)
    assert made.status_code == 400 and made.json()["error"] == "challenge_failed", made.text
    assert fresh_emulator.event_webhooks == []


def test_a_webhook_that_does_not_answer_in_time_is_refused(fresh_emulator, webhook):
    fresh_emulator.events_timeout_seconds = 0.3
    slow = webhook()
    slow.server.RequestHandlerClass.do_GET = lambda handler: time.sleep(1)
    assert register(fresh_emulator, slow.url).json()["error"] == "challenge_failed"
    closed = webhook()
    closed.close()
    assert register(fresh_emulator, closed.url).json()["error"] == "challenge_failed"


def test_registrations_are_refused_when_malformed(fresh_emulator, webhook):
    url = webhook().url
    for spec in (
        {"url": "ftp://x"},
        {"url": url, "sign": "maybe"},
        {"url": url, "sandboxes": "prod"},
        {"url": url, "failure_shape": "other"},
        {"url": url, "retries": 3},
    ):
        answer = requests.post(f"{fresh_emulator.url}/_emulator/events/webhooks", json=spec, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"] == "bad_request", spec


# Deliveries.


def test_a_successful_run_is_delivered_signed_as_io_events_signs(fresh_emulator, webhook):
    api = Api(fresh_emulator)
    hook = webhook()
    assert register(fresh_emulator, hook.url).status_code == 201
    flow, [run] = due_run(api)
    [post] = hook.wait_posts(1)
    headers, body = post["headers"], post["body"]
    assert headers["content-type"].startswith("application/json") and headers["user-agent"] == "Adobe/1.0"
    assert headers["x-adobe-event-code"] == "sources_flow_run_success" and "x-adobe-retry-count" not in headers
    assert verified(fresh_emulator, headers, body) == [True, True]
    expected = hmac.new(fresh_emulator.client_secret.encode(), body, hashlib.sha256).digest()
    assert base64.b64decode(headers["x-adobe-signature"]) == expected
    event = json.loads(body)
    assert event["event_id"] == event["eventid"] == headers["x-adobe-event-id"]
    assert event["recipient_client_id"] == event["recipientclientid"] == fresh_emulator.client_id
    inner = event["event"]
    assert inner["header"]["_adobeio"] == {
        "imsOrgId": fresh_emulator.org_id,
        "providerMetadata": "platform_notifications",
        "eventCode": "sources_flow_run_success",
    }
    assert (inner["id"], inner["flowId"], inner["sandboxName"]) == (run["id"], flow["id"], "prod")
    assert inner["metrics"]["statusSummary"] == {"status": "success"}
    assert [a["id"] for a in inner["activities"]] == ["copyActivity", "promotionActivity"]
    assert inner["activities"][0]["sourceInfo"][0]["id"] == flow["sourceConnectionIds"][0]
    record = delivery(fresh_emulator, run["id"])
    assert (record["status"], record["attempts"], record["last_status"], record["event_id"]) == (
        "delivered",
        1,
        200,
        event["event_id"],
    )


def test_a_partial_run_is_a_success_that_carries_its_errors(fresh_emulator, webhook):
    hook = webhook()
    register(fresh_emulator, hook.url)
    _flow_made, [run] = due_run(Api(fresh_emulator), "partial")
    event = json.loads(hook.wait_posts(1)[0]["body"])
    status = event["event"]["metrics"]["statusSummary"]
    assert event["event"]["header"]["_adobeio"]["eventCode"] == "sources_flow_run_success"
    assert status["status"] == "success" and status["errors"][0]["code"] == "INGEST-1212-400"
    assert event["event"]["metrics"]["recordSummary"]["failedRecordCount"] == 3
    assert run["metrics"]["statusSummary"]["status"] == "success"


def _over_threshold(api):
    """A partial run (3 of 100 records failed) of a flow whose partial ingestion threshold is 2%: a failure."""
    hook = Webhook()
    try:
        register(api.emulator, hook.url)
        flow = api.call(
            "POST",
            "/flows",
            json=_flow_body(
                api,
                options={"partialIngestionPercent": 2},
                scheduleParams={"startTime": int(time.time()) - 5, "frequency": "minute", "interval": "15"},
            ),
        ).json()
        requests.post(
            f"{api.emulator.url}/_emulator/runs", json={"flowId": flow["id"], "outcomes": ["partial"]}, timeout=5
        )
        answer = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"})
        [run] = answer.json()["items"]
        assert run["metrics"]["statusSummary"]["status"] == "failed"
        assert run["metrics"]["recordSummary"]["failedRecordCount"] == 3
        assert hook.wait_posts(1)[0]["headers"]["x-adobe-event-code"] == "sources_flow_run_failure"
        return answer
    finally:
        hook.close()


def test_a_partial_run_over_its_flows_threshold_is_a_failure(fresh_emulator):
    _over_threshold(Api(fresh_emulator))
    # Under the threshold (5%), the same run succeeds.
    api = Api(fresh_emulator)
    flow = api.call(
        "POST",
        "/flows",
        json=_flow_body(
            api,
            options={"partialIngestionPercent": 5},
            scheduleParams={"startTime": int(time.time()) - 5, "frequency": "minute", "interval": "15"},
        ),
    ).json()
    requests.post(f"{api.emulator.url}/_emulator/runs", json={"flowId": flow["id"], "outcomes": ["partial"]}, timeout=5)
    [run] = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"]
    assert run["metrics"]["statusSummary"]["status"] == "success"


def test_a_failed_run_is_delivered_in_the_guides_failure_shape_or_the_event_envelope(fresh_emulator, webhook):
    printed, enveloped = webhook(), webhook()
    register(fresh_emulator, printed.url)
    register(fresh_emulator, enveloped.url, failure_shape="event")
    _flow_made, [run] = due_run(Api(fresh_emulator), "failed")
    [post] = printed.wait_posts(1)
    [message] = json.loads(post["body"])[0]["messages"]
    assert post["headers"]["x-adobe-event-code"] == "sources_flow_run_failure"
    assert message["_eventNotificationMeta"] == {
        "category": "Platform Notifications",
        "type": "sources_flow_run_failed",
    }
    assert message["schema"] == {"name": "run-notification", "version": "1.0"} and message["provider"] == "FlowService"
    assert message["value"]["id"] == run["id"]
    assert message["value"]["metrics"]["statusSummary"]["errors"][0]["code"] == "CONNECTOR-2001-500"
    assert message["value"]["activities"][1]["statusSummary"]["status"] == "failed"
    assert verified(fresh_emulator, post["headers"], post["body"]) == [True, True]
    other = json.loads(enveloped.wait_posts(1)[0]["body"])
    assert other["event"]["header"]["_adobeio"]["eventCode"] == "sources_flow_run_failure"
    assert other["event_id"] == post["headers"]["x-adobe-event-id"]  # one event, delivered to each registration


def test_deliveries_are_retried_after_1_2_4_units_on_429_and_5xx(fresh_emulator, webhook):
    fresh_emulator.events_retry_seconds = FAST
    hook = webhook(statuses=[503, 429, 500])
    register(fresh_emulator, hook.url)
    _flow_made, [run] = due_run(Api(fresh_emulator))
    posts = hook.wait_posts(4)
    assert [p["headers"].get("x-adobe-retry-count") for p in posts] == [None, "1", "2", "3"]
    assert len({p["headers"]["x-adobe-delivery-id"] for p in posts}) == 1
    assert len({p["body"] for p in posts}) == 1
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(posts)]
    assert [gap >= FAST * units * 0.9 for gap, units in zip(gaps, (1, 2, 4), strict=False)] == [True] * 3, gaps
    record = delivery(fresh_emulator, run["id"])
    assert (record["status"], record["attempts"], record["last_status"]) == ("delivered", 4, 200)


@pytest.mark.parametrize("status", [400, 404, 505, 302])
def test_other_answers_are_not_retried(fresh_emulator, webhook, status):
    fresh_emulator.events_retry_seconds = FAST
    hook = webhook(statuses=[status])
    register(fresh_emulator, hook.url)
    _flow_made, [run] = due_run(Api(fresh_emulator))
    record = delivery(fresh_emulator, run["id"])
    time.sleep(FAST * 3)
    assert (record["status"], record["attempts"], record["last_status"]) == ("dropped", 1, status)
    assert len(hook.posts) == 1


def test_a_webhook_that_does_not_answer_in_time_is_tried_again(fresh_emulator, webhook):
    fresh_emulator.events_retry_seconds = FAST
    fresh_emulator.events_timeout_seconds = 0.3
    hook = webhook(delay=0.6)
    register(fresh_emulator, hook.url)
    _flow_made, [run] = due_run(Api(fresh_emulator))
    hook.wait_posts(2)
    first = delivery(fresh_emulator, run["id"], settled=False)
    assert first["last_status"] is None and "no answer" in first["last_error"]


def test_retries_end_after_24_hours_of_units(fresh_emulator, webhook):
    fresh_emulator.events_retry_seconds = 0.001  # 24 hours = 1.44 s
    hook = webhook(statuses=[503] * 1000)
    register(fresh_emulator, hook.url)
    _flow_made, [run] = due_run(Api(fresh_emulator))
    record = delivery(fresh_emulator, run["id"], timeout=30)
    # 1 + 2 + 4 + 8 + 15 × n units fit in 1,440: 4 short waits, then 95 of 15, then the last try: 100 attempts.
    assert record["status"] == "dropped" and "24 hours" in record["last_error"]
    assert record["attempts"] == 100 == len(hook.posts)


def test_a_delivery_never_holds_up_the_request_that_made_the_run(fresh_emulator, webhook):
    hook = webhook(delay=1.5)
    register(fresh_emulator, hook.url)
    started = time.monotonic()
    _flow_made, [run] = due_run(Api(fresh_emulator))
    assert time.monotonic() - started < 1.2
    hook.wait_posts(1)
    assert delivery(fresh_emulator, run["id"], timeout=10)["status"] == "delivered"


@pytest.mark.parametrize("sign, valid", [("wrong", [False, False]), ("second", [False, True])])
def test_signature_faults(fresh_emulator, webhook, sign, valid):
    hook = webhook()
    register(fresh_emulator, hook.url, sign=sign)
    due_run(Api(fresh_emulator))
    [post] = hook.wait_posts(1)
    assert verified(fresh_emulator, post["headers"], post["body"]) == valid
    expected = hmac.new(fresh_emulator.client_secret.encode(), post["body"], hashlib.sha256).digest()
    assert base64.b64decode(post["headers"]["x-adobe-signature"]) != expected


def test_an_unsigned_delivery(fresh_emulator, webhook):
    hook = webhook()
    register(fresh_emulator, hook.url, sign="none")
    due_run(Api(fresh_emulator))
    headers = hook.wait_posts(1)[0]["headers"]
    assert not any(
        h.startswith(("x-adobe-digital-signature", "x-adobe-public-key", "x-adobe-signature")) for h in headers
    )
    assert headers["x-adobe-event-code"] == "sources_flow_run_success"


def test_the_public_keys_are_served_where_the_headers_point(fresh_emulator, webhook):
    made = register(fresh_emulator, webhook().url).json()
    for path in made["public_key_paths"]:
        answer = requests.get(f"{fresh_emulator.url}{path}", timeout=5)
        assert answer.status_code == 200 and answer.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert requests.get(f"{fresh_emulator.url}/prod/keys/pub-key-nope.pem", timeout=5).status_code == 404


def test_only_the_sandboxes_registered_are_delivered(fresh_emulator, webhook):
    dev_only, every = webhook(), webhook()
    register(fresh_emulator, dev_only.url, sandboxes=["dev"])
    register(fresh_emulator, every.url)
    due_run(Api(fresh_emulator))
    every.wait_posts(1)
    time.sleep(0.3)
    assert dev_only.posts == []
    assert [d["url"] for d in fresh_emulator.event_deliveries] == [every.url]


def test_moving_the_clock_on_makes_the_runs_and_sends_their_events(fresh_emulator, webhook):
    hook = webhook()
    register(fresh_emulator, hook.url)
    flow, runs = due_run(Api(fresh_emulator), start_offset=600)
    assert runs == []
    moved = requests.post(f"{fresh_emulator.url}/_emulator/clock", json={"advance": 900}, timeout=5)
    assert moved.status_code == 200
    event = json.loads(hook.wait_posts(1)[0]["body"])  # no question about flows or runs was asked
    assert event["event"]["flowId"] == flow["id"]


def test_deleting_the_registrations_drops_their_pending_retries(fresh_emulator, webhook):
    fresh_emulator.events_retry_seconds = 0.2
    hook = webhook(statuses=[503] * 10)
    register(fresh_emulator, hook.url)
    due_run(Api(fresh_emulator))
    hook.wait_posts(1)
    assert requests.delete(f"{fresh_emulator.url}/_emulator/events/webhooks", timeout=5).status_code == 204
    time.sleep(1)
    assert len(hook.posts) == 1 and fresh_emulator.event_webhooks == []
    listed = requests.get(f"{fresh_emulator.url}/_emulator/events/deliveries", timeout=5).json()
    assert listed[0]["status"] == "retrying" and listed[0]["attempts"] == 1


# Lists across a sandbox, 429, the update tutorial's mapping PATCH.


def _runs_across_flows(api):
    """Runs of three flows, read without a flowId the way a feed does: made since a moment, newest first, paged."""
    since = int(time.time() * 1000) - 60_000
    flows = [due_run(api, outcome)[0]["id"] for outcome in ("success", "failed", "partial")]
    requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5)
    seen, params = [], {"property": f"createdAt>{since}", "orderby": "-createdAt", "limit": "2"}
    first = page = api.call("GET", "/runs", params=params)
    while True:
        body = page.json()
        assert page.status_code == 200 and len(body["items"]) <= 2, page.text
        seen += body["items"]
        if "next" not in body["_links"]:
            break
        page = requests.get(
            f"{api.emulator.url}{FLOW_PATH}{body['_links']['next']['href']}", headers=api.headers(), timeout=5
        )
    assert len(seen) == 6 and len({r["id"] for r in seen}) == 6
    assert {r["flowId"] for r in seen} == set(flows)
    assert [r["createdAt"] for r in seen] == sorted((r["createdAt"] for r in seen), reverse=True)
    assert api.call("GET", "/runs", headers={"x-sandbox-name": "dev"}).json()["items"] == []
    return first


def _flows_paged(api):
    made = {_flow(api)[1]["id"] for _ in range(5)}

    seen, page = [], api.call("GET", "/flows", params={"limit": "2", "orderby": "createdAt"})
    first = page
    while True:
        seen += [f["id"] for f in page.json()["items"]]
        link = page.json()["_links"].get("next")
        if not link:
            break
        assert "continuationToken=" in link["href"] and "orderby=createdAt" in link["href"]
        page = requests.get(f"{api.emulator.url}{FLOW_PATH}{link['href']}", headers=api.headers(), timeout=5)
    assert len(seen) == 5 and set(seen) == made
    assert api.call("GET", "/flows", headers={"x-sandbox-name": "dev"}).json()["items"] == []
    return first


def _too_many_requests(api):
    queued = requests.post(
        f"{api.emulator.url}/_emulator/faults",
        timeout=5,
        json={"method": "GET", "path": "/runs", "status": 429, "headers": {"Retry-After": "10"}},
    )
    assert queued.status_code == 201
    answer = api.call("GET", "/runs")
    assert answer.headers["Retry-After"] == "10"
    assert api.call("GET", "/runs").status_code == 200  # once, as queued
    return answer


def _mapping_first_flow(api, order=("Mapping", "Copy")):
    params = {
        "Copy": {"deltaColumn": {"name": "created_at"}},
        "Mapping": {"mappingId": _mapping_set(api), "mappingVersion": 0},
    }
    body = _flow_body(api, transformations=[{"name": name, "params": params[name]} for name in order])
    made = api.call("POST", "/flows", json=body)
    assert made.status_code == 201, made.text
    return made.json()


ROWS = (("ATTRIBUTE", "email", "personalEmail.address"), ("STATIC", "x", "_id"))


def _new_version(api, set_id, *rows):
    """PUT a mapping set anew (Data Prep's "Update a mapping set"): its next version."""
    return api.at("PUT", f"{DATA_PREP}/mappingSets/{set_id}", json=_mapping_body(*(rows or ROWS)))


def _mapping_updated(api):
    set_id = _mapping_set(api)
    answer = _new_version(api, set_id)
    assert answer.json()["version"] == 1 and len(answer.json()["mappings"]) == 2
    older = api.at("GET", f"{DATA_PREP}/mappingSets/{set_id}", params={"version": 0}).json()
    assert older["version"] == 0 and len(older["mappings"]) == 1 and "versions" not in older
    assert api.at("GET", f"{DATA_PREP}/mappingSets/{set_id}", params={"version": 7}).status_code == 404
    assert _new_version(api, set_id, ("STATIC", "many", "_emulatortenant.points")).status_code == 400
    assert _new_version(api, "f" * 32).status_code == 404
    return answer


def _tutorial_mapping_patch(api, order=("Mapping", "Copy")):
    """The update tutorial's mapping change: `replace /transformations/0` with a whole Mapping transformation, to
    version 2 of a mapping set (updated twice), `"mappingVersion": 2` a number as the tutorial sends it."""
    flow = _mapping_first_flow(api, order)
    other = _mapping_set(api)
    for _ in range(2):
        assert _new_version(api, other).status_code == 200
    answer = api.call(
        "PATCH",
        f"/flows/{flow['id']}",
        headers={"If-Match": flow["etag"], "Content-Type": "application/json"},
        json=[
            {
                "op": "replace",
                "path": "/transformations/0",
                "value": {"name": "Mapping", "params": {"mappingId": other, "mappingVersion": 2}},
            }
        ],
    )
    if answer.status_code == 200:
        patched = api.call("GET", f"/flows/{flow['id']}").json()["items"][0]
        assert [t["name"] for t in patched["transformations"]] == list(order)
        assert patched["transformations"][0]["params"] == {"mappingId": other, "mappingVersion": 2}
    return answer


FLOW_PATH = "/data/foundation/flowservice"


def _events_keys(api):
    hook = Webhook()
    try:
        path = register(api.emulator, hook.url).json()["public_key_paths"][0]
        return requests.get(f"{api.emulator.url}{path}", timeout=5)
    finally:
        hook.close()


def _with_webhook(api, check, outcome="success", **behaviour):
    hook = Webhook(**{k: v for k, v in behaviour.items() if k in ("challenge", "statuses", "delay")})
    try:
        made = register(
            api.emulator,
            hook.url,
            **{k: v for k, v in behaviour.items() if k in ("sign", "failure_shape", "sandboxes")},
        )
        assert made.status_code == 201, made.text
        flow, _runs = due_run(api, outcome)
        check(api, hook, flow)
        return api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"})
    finally:
        hook.close()


def _check_success(api, hook, flow):
    [post] = hook.wait_posts(1)
    assert json.loads(post["body"])["event"]["header"]["_adobeio"]["eventCode"] == "sources_flow_run_success"
    assert verified(api.emulator, post["headers"], post["body"]) == [True, True]


def _check_failure(api, hook, flow):
    [post] = hook.wait_posts(1)
    assert json.loads(post["body"])[0]["messages"][0]["_eventNotificationMeta"]["type"] == "sources_flow_run_failed"


def _check_retried(api, hook, flow):
    posts = hook.wait_posts(3)
    assert [p["headers"].get("x-adobe-retry-count") for p in posts] == [None, "1", "2"]


def _check_wrong(api, hook, flow):
    [post] = hook.wait_posts(1)
    assert verified(api.emulator, post["headers"], post["body"]) == [False, False]


def _retried(api):
    api.emulator.events_retry_seconds = FAST
    return _with_webhook(api, _check_retried, statuses=[503, 429])


def _clock_sends(api):
    hook = Webhook()
    try:
        register(api.emulator, hook.url)
        due_run(api, start_offset=600)
        answer = requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 900}, timeout=5)
        hook.wait_posts(1)
        return answer
    finally:
        hook.close()


def _challenge_refused(api):
    hook = Webhook(challenge="wrong")
    try:
        return register(api.emulator, hook.url)
    finally:
        hook.close()


def _registered(api):
    hook = Webhook(challenge="json")
    try:
        return register(api.emulator, hook.url)
    finally:
        hook.close()


ROW_TRIGGERS = {
    "events-register": _registered,
    "events-challenge-refused": _challenge_refused,
    "events-keys": _events_keys,
    "events-success": lambda api: _with_webhook(api, _check_success),
    "events-failure": lambda api: _with_webhook(api, _check_failure, "failed"),
    "events-partial-threshold": _over_threshold,
    "events-retry": _retried,
    "events-sign-wrong": lambda api: _with_webhook(api, _check_wrong, sign="wrong"),
    "events-clock": _clock_sends,
    "runs-all-flows": _runs_across_flows,
    "flows-all-pages": _flows_paged,
    "fault-429": _too_many_requests,
    "dp-update": _mapping_updated,
    "flow-patch-tutorial-mapping": _tutorial_mapping_patch,
    "flow-patch-two-mappings": lambda api: _tutorial_mapping_patch(api, ("Copy", "Mapping")),
}


def test_a_429_fault_carries_retry_after(fresh_emulator):
    answer = _too_many_requests(Api(fresh_emulator))
    assert answer.status_code == 429
