"""Alert destinations kept sealed, and webhook signing secrets derived rather than kept.

A webhook's or Slack's URL is a secret (Slack's holds its token). The store keeps it sealed with AES-256-GCM under a
key derived (HKDF-SHA256) from WIZARD_SECRET_KEY, so the database alone gives nothing away; a different secret key
makes it unreadable, and the Alerts page asks for the destination again. A webhook's signing secret is never kept:
it is derived from WIZARD_SECRET_KEY, the rule's id and a random salt sealed with the URL, shown once when made, and
made anew (a new salt) on request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix that names a signing secret, not one


class Unsealable(Exception):
    """A destination sealed under another WIZARD_SECRET_KEY (or tampered with)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals and opens destinations, and derives signing secrets, under one secret key."""

    def __init__(self, secret_key: str):
        material = secret_key.encode()
        self._aead = AESGCM(
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aep-source-wizard alert destinations").derive(
                material
            )
        )
        self._signing = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"aep-source-wizard webhook signing"
        ).derive(material)

    def seal(self, rule_id: str, destination: dict) -> str:
        """The destination (a dict: url, salt…) sealed, bound to its rule (a sealed value moved to another rule does
        not open)."""
        nonce = os.urandom(12)
        return PREFIX + _b64(nonce + self._aead.encrypt(nonce, json.dumps(destination).encode(), rule_id.encode()))

    def open(self, rule_id: str, sealed: str) -> dict:
        if not sealed.startswith(PREFIX):
            raise Unsealable("not a sealed destination")
        try:
            raw = _unb64(sealed[len(PREFIX) :])
            return json.loads(self._aead.decrypt(raw[:12], raw[12:], rule_id.encode()))
        except (InvalidTag, ValueError) as error:
            raise Unsealable("sealed under another secret key") from error

    def signing_secret(self, rule_id: str, salt: str) -> str:
        """The webhook signing secret of a rule: what its receiver checks `X-Wizard-Signature` with."""
        digest = hmac.new(self._signing, f"{rule_id}\x1f{salt}".encode(), hashlib.sha256).digest()
        return SECRET_PREFIX + _b64(digest)


def new_salt() -> str:
    return secrets.token_urlsafe(16)
