"""Adobe I/O Events for the emulator: webhook registrations with I/O Events' challenge, and the delivery of each flow
run's notification to them, signed and retried as I/O Events does it.

The documents: "Introduction to Adobe I/O Events Webhooks" (developer.adobe.com/events/docs/guides, GitHub
AdobeDocs/adobe-io-events `src/pages/guides/index.md`, its retry fragment `src/pages/common/retry-doc.md`), the
I/O Events FAQ (`src/pages/support/faq.md`) and "Signature Verification for Events" (`guides/sdk/…`); the payloads are
`notifications.py`'s. docs/emulator.md has a row for each behaviour.

- `POST /_emulator/events/webhooks {"url", "sandboxes"?, "sign"?, "failure_shape"?, "recipient_client_id"?}` stands
  for creating an event registration in the Developer Console: I/O Events first sends `GET <url>?challenge=<uuid>`
  and the webhook must answer 200 with the value (as `text/plain`, bare or in quotes as the guide prints it) or
  `{"challenge": value}` as `application/json`. Anything else, or no answer within the timeout, refuses the
  registration (400 `challenge_failed`); I/O Events' asynchronous validation (a POST of a `validationUrl`) is not
  emulated, our choice on the side of refusing. `DELETE` removes every registration and drops their pending retries.
- Every run the emulator makes (`runs.new_run`) is POSTed to each registration whose sandboxes include the run's, from
  a thread of its own: never in the request that made the run. Headers as the SDK page lists them: `user-agent:
  Adobe/1.0`, `x-adobe-delivery-id`, `x-adobe-event-code`, `x-adobe-event-id` (the payload's `event_id`),
  `x-adobe-provider`, `x-adobe-signature` (the older HMAC-SHA256 of the body with the client secret, Base64),
  `x-adobe-digital-signature-1`/`-2` (RSA-SHA256, PKCS#1 v1.5, over the raw body, Base64) and
  `x-adobe-public-key1-path`/`-2-path` (`/prod/keys/pub-key-<random>.pem`), `x-adobe-retry-count` on retries.
- The public keys: Adobe serves them at `https://static.adobeioevents.com/prod/keys/pub-key-….pem`; the emulator
  serves them at the same path on its own URL (`GET <emulator>/prod/keys/pub-key-….pem`, PEM SubjectPublicKeyInfo).
  Two RSA key pairs of its own, made when first needed and kept for its life, as Adobe's are "fixed".
- Retries: a delivery answered 429, or 500–599 but 505, or not answered within `events_timeout_seconds` (10, I/O
  Events' "within 10 seconds"), is tried again after 1, 2, 4, 8, then every 15 units, for 24 × 60 units; a unit is
  `events_retry_seconds` (60: I/O Events' minute; tests make it small). A 2xx is delivered; any other answer is not
  retried. Each delivery is kept in `state.event_deliveries` (url, event id, code, attempts, status, last status).
- Faults for the portal's negative tests, per registration: `"sign": "wrong"` (both signatures by a key the emulator
  does not serve, the HMAC with another secret), `"second"` (only signature 2 verifies: I/O Events counts an event
  valid when either does), `"none"` (no signature headers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Blueprint, Response, request

from . import notifications
from .errors import json_response

KEY_PATH = "/prod/keys/"
USER_AGENT = "Adobe/1.0"
# I/O Events' retry intervals, in its minutes: 1m, 2m, 4m, 8m, then 15m each, for 24 hours.
RETRY_UNITS = (1, 2, 4, 8, 15)
WINDOW_UNITS = 24 * 60
SIGN_MODES = ("right", "wrong", "second", "none")
FAILURE_SHAPES = ("messages", "event")
# What the emulator names its provider in `x-adobe-provider` (our choice: the payload's providerMetadata; Adobe's
# value for Platform notifications is not documented).
PROVIDER = notifications.PROVIDER_METADATA
_KEYS_LOCK = threading.Lock()


class Keys:
    """The emulator's two signing key pairs (served), and a third that signs the `wrong` fault (never served)."""

    def __init__(self):
        self.private = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
        alphabet = string.ascii_letters + string.digits
        self.paths = [f"{KEY_PATH}pub-key-{''.join(secrets.choice(alphabet) for _ in range(10))}.pem" for _ in range(2)]

    def pem(self, path: str) -> bytes | None:
        if path not in self.paths:
            return None
        return (
            self.private[self.paths.index(path)]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def signature(self, which: int, body: bytes) -> str:
        return base64.b64encode(self.private[which].sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def keys(state) -> Keys:
    """The state's key pairs, made on first use (a few hundred milliseconds), then kept across resets."""
    with _KEYS_LOCK:
        if state.event_keys is None:
            state.event_keys = Keys()
        return state.event_keys


def signature_headers(state, body: bytes, mode: str) -> dict:
    """The signature headers of a delivery of `body`, right or spoilt as `mode` says."""
    if mode == "none":
        return {}
    pairs = keys(state)
    forged = 2  # the key that is never served
    first, second = {"right": (0, 1), "wrong": (forged, forged), "second": (forged, 1)}[mode]
    secret = state.client_secret if mode == "right" else secrets.token_urlsafe(24)
    return {
        "x-adobe-signature": base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode(),
        "x-adobe-digital-signature-1": pairs.signature(first, body),
        "x-adobe-digital-signature-2": pairs.signature(second, body),
        "x-adobe-public-key1-path": pairs.paths[0],
        "x-adobe-public-key2-path": pairs.paths[1],
    }


def challenge_problem(state, url: str) -> str | None:
    """Send I/O Events' challenge to `url`; None when the webhook answered it, else what went wrong."""
    import requests  # here, not above: the built-in emulator runs in gunicorn's master, which gevent never patches

    value = str(uuid.uuid4())
    try:
        answer = requests.get(
            url,
            params={"challenge": value},
            headers={"user-agent": USER_AGENT},
            timeout=state.events_timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return f"no answer to GET ?challenge= ({type(error).__name__})"
    if answer.status_code != 200:
        return f"GET ?challenge= answered {answer.status_code}, not 200"
    mimetype = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    text = answer.text.strip()
    if mimetype == "application/json":
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if body == {"challenge": value} or body == value:
            return None
        return 'GET ?challenge= answered JSON other than {"challenge": <value>}'
    if mimetype == "text/plain" and text in (value, f'"{value}"'):
        return None
    return f"GET ?challenge= answered {mimetype or 'no content type'} without the challenge value as text/plain"


def events_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_events", __name__)

    @bp.post("/_emulator/events/webhooks")
    def register():
        spec = request.get_json(silent=True)
        problem = _registration_problem(spec)
        if problem:
            return json_response({"error": "bad_request", "message": problem}, 400)
        assert isinstance(spec, dict)  # _registration_problem refuses anything else
        refused = challenge_problem(state, spec["url"])
        if refused:
            return json_response({"error": "challenge_failed", "message": refused}, 400)
        hook = {
            "id": str(uuid.uuid4()),
            "url": spec["url"],
            "status": "ACTIVE",
            "sandboxes": [s.lower() for s in spec["sandboxes"]] if "sandboxes" in spec else None,
            "sign": spec.get("sign", "right"),
            "failure_shape": spec.get("failure_shape", "messages"),
            "recipient_client_id": spec.get("recipient_client_id", state.client_id),
            "public_key_paths": keys(state).paths,
        }
        with state._lock:
            state.event_webhooks.append(hook)
        return json_response(hook, 201)

    @bp.get("/_emulator/events/webhooks")
    def registrations():
        with state._lock:
            return json_response(list(state.event_webhooks))

    @bp.delete("/_emulator/events/webhooks")
    def unregister():
        with state._lock:
            state.event_webhooks.clear()
            stop_deliveries(state)
        return Response(status=204)

    @bp.get("/_emulator/events/deliveries")
    def deliveries():
        with state._lock:
            return json_response([dict(d) for d in state.event_deliveries])

    @bp.get(f"{KEY_PATH}<name>")
    def public_key(name):
        pem = keys(state).pem(f"{KEY_PATH}{name}")
        if pem is None:
            return Response(b"Not Found", status=404, mimetype="text/plain")
        return Response(pem, mimetype="text/plain")  # our choice of type: Adobe's is not documented

    return bp


def _registration_problem(spec) -> str | None:
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("url"), str)
        or not spec["url"].startswith(("http://", "https://"))
    ):
        return 'send {"url": "http(s)://…", "sandboxes": [...], "sign": …, "failure_shape": …}'
    unknown = set(spec) - {"url", "sandboxes", "sign", "failure_shape", "recipient_client_id"}
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))}"
    if "sandboxes" in spec and (
        not isinstance(spec["sandboxes"], list) or not all(isinstance(s, str) for s in spec["sandboxes"])
    ):
        return "sandboxes must be a list of sandbox names"
    if spec.get("sign", "right") not in SIGN_MODES:
        return f"sign must be one of {', '.join(SIGN_MODES)}"
    if spec.get("failure_shape", "messages") not in FAILURE_SHAPES:
        return f"failure_shape must be one of {', '.join(FAILURE_SHAPES)}"
    if not isinstance(spec.get("recipient_client_id", ""), str):
        return "recipient_client_id must be a string"
    return None


def stop_deliveries(state) -> None:
    """Drop every pending retry (the caller holds the state's lock): their threads stop at their next wait."""
    state.events_stop.set()
    state.events_stop = threading.Event()


def notify_run(state, run: dict, flow: dict) -> None:
    """Deliver the notification of `run`'s end to every registration that wants its sandbox, each from a thread."""
    with state._lock:
        hooks = [h for h in state.event_webhooks if h["sandboxes"] is None or run["sandboxName"] in h["sandboxes"]]
        stop = state.events_stop
    if not hooks:
        return
    event_id = str(uuid.uuid4())
    code = notifications.event_code(run)
    platform_url = getattr(state, "url", "https://platform.adobe.io")
    for hook in hooks:
        body = json.dumps(
            notifications.payload(run, flow, event_id, hook["recipient_client_id"], platform_url, hook["failure_shape"])
        ).encode()
        record = {
            "id": str(uuid.uuid4()),
            "webhook": hook["id"],
            "url": hook["url"],
            "event_id": event_id,
            "event_code": code,
            "run_id": run["id"],
            "flow_id": run["flowId"],
            "sign": hook["sign"],
            "attempts": 0,
            "status": "pending",
            "last_status": None,
            "last_error": None,
        }
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "user-agent": USER_AGENT,
            "accept-encoding": "deflate,compress,identity",
            "x-adobe-delivery-id": record["id"],
            "x-adobe-event-code": code,
            "x-adobe-event-id": event_id,
            "x-adobe-provider": PROVIDER,
            **signature_headers(state, body, hook["sign"]),
        }
        with state._lock:
            state.event_deliveries.append(record)
        threading.Thread(
            target=_deliver,
            args=(state, stop, record, body, headers),
            daemon=True,
            name=f"emulator-event-{record['id'][:8]}",
        ).start()


def _deliver(state, stop: threading.Event, record: dict, body: bytes, headers: dict) -> None:
    """POST one event to one webhook until a 2xx, an answer I/O Events does not retry, or 24 hours of retries."""
    import requests  # here, not above: see challenge_problem

    unit = state.events_retry_seconds
    waited = 0.0
    while not stop.is_set():
        attempt = record["attempts"] + 1
        sent = dict(headers, **({"x-adobe-retry-count": str(attempt - 1)} if attempt > 1 else {}))
        status, error = None, None
        try:
            answer = requests.post(
                record["url"], data=body, headers=sent, timeout=state.events_timeout_seconds, allow_redirects=False
            )
            status = answer.status_code
        except requests.RequestException as failure:
            error = f"no answer ({type(failure).__name__})"
        retried = status is None or status == 429 or (500 <= status <= 599 and status != 505)
        delay = unit * RETRY_UNITS[min(attempt - 1, len(RETRY_UNITS) - 1)]
        with state._lock:
            record.update(attempts=attempt, last_status=status, last_error=error, last_attempt_at=time.time())
            if status is not None and 200 <= status < 300:
                record["status"] = "delivered"
                return
            if not retried:
                record["status"] = "dropped"
                return
            if waited + delay > WINDOW_UNITS * unit:
                record["status"] = "dropped"
                record["last_error"] = (error or f"answered {status}") + "; retried for 24 hours"
                return
            record["status"] = "retrying"
        waited += delay
        stop.wait(delay)
