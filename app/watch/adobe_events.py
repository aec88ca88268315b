"""Adobe I/O Events' flow run notifications (`sources_flow_run_success`, `sources_flow_run_failure`), as Adobe's "Flow
run notifications" guide prints them, checked as the I/O Events guide says ("Adobe I/O Events Digital Signature").

A delivery carries two signatures (`x-adobe-digital-signature-1`, `-2`: RSA-SHA256 over the raw body, Base64) and
the paths of the public keys that check them (`x-adobe-public-key1-path`, `-2-path`); a key is fetched from I/O
Events' own domain only (static.adobeioevents.com, never a host the request names), kept for at most 24 hours, and
the delivery is genuine when either signature verifies. The payload's recipient client id, when present, must be
the portal's own.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time

import urllib3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The key paths I/O Events sends ("/prod/keys/pub-key-<random-uuid>.pem").
KEY_PATH = re.compile(r"^/prod/keys/pub-key-[A-Za-z0-9_-]{1,64}\.pem$")
# How long a key is kept: the guide's "not more than 24h".
KEY_SECONDS = 24 * 3600
# What a challenge may be (the guide's example is a UUID; our choice: a short token of URL-safe characters).
CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_POOL = urllib3.PoolManager(retries=urllib3.Retry(total=2, backoff_factor=0.2), timeout=urllib3.Timeout(5.0, 5.0))


class Keys:
    """I/O Events' public keys, fetched from its domain and kept for KEY_SECONDS (in each process: they are public)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._kept: dict[str, tuple[float, rsa.RSAPublicKey]] = {}
        self._lock = threading.Lock()

    def key(self, path: str) -> rsa.RSAPublicKey | None:
        if not KEY_PATH.match(path or ""):
            return None
        with self._lock:
            kept = self._kept.get(path)
        if kept and kept[0] > time.monotonic():
            return kept[1]
        try:
            answer = _POOL.request("GET", self.base_url + path, redirect=False)
        except urllib3.exceptions.HTTPError:
            return None
        if answer.status != 200:
            return None
        try:
            key = serialization.load_pem_public_key(answer.data)
        except ValueError:
            return None
        if not isinstance(key, rsa.RSAPublicKey):
            return None
        with self._lock:
            self._kept[path] = (time.monotonic() + KEY_SECONDS, key)
        return key


def genuine(keys: Keys, body: bytes, headers) -> bool:
    """Whether either of the delivery's digital signatures verifies with the key its path names."""
    for number in ("1", "2"):
        signature, path = (
            headers.get(f"x-adobe-digital-signature-{number}"),
            headers.get(f"x-adobe-public-key{number}-path"),
        )
        if not signature or not path:
            continue
        key = keys.key(path)
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(signature, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            continue
        return True
    return False


def runs_in(payload, client_id: str) -> list[dict]:
    """The runs a notification tells of, in either of the guide's shapes: `{event_id, event: {run…}}` (its success) or
    `[{"messages": [{…, "value": {run…}}]}]` (its failure); a payload for another client tells of none."""
    items = payload if isinstance(payload, list) else [payload]
    runs = []
    for item in items:
        if not isinstance(item, dict):
            continue
        recipient = item.get("recipientclientid") or item.get("recipient_client_id")
        if recipient is not None and recipient != client_id:
            continue
        if isinstance(item.get("event"), dict):
            runs.append(item["event"])
        for message in item.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("value"), dict):
                runs.append(message["value"])
    return [
        run
        for run in runs
        if isinstance(run.get("id"), str)
        and isinstance(run.get("flowId"), str)
        and isinstance(run.get("sandboxName"), str)
    ]
