"""Once, and over nothing unseen, through the API: an `Idempotency-Key` header becomes the store's key for a creation
(the person's own: two people's keys never meet), a keyed hash of the call's body tells a repeat from another
request, and `If-Match` carries the ETag a change answers to."""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import g, request
from pydantic import BaseModel

from .. import services
from .problems import Problem

HEADER = ("Idempotency-Key", "Any text of 1 to 128 characters: a repeat returns the first result.", False)


def key(kind: str) -> str | None:
    """The store's key for this call's Idempotency-Key and what it creates (a connection, a dataflow), or None when
    none was sent; a 422 problem for a key that is not 1 to 128 printable characters."""
    sent = request.headers.get("Idempotency-Key")
    if sent is None:
        return None
    if not 1 <= len(sent) <= 128 or not sent.isprintable():
        raise Problem(
            422, "Check the headers", errors=[{"field": "Idempotency-Key", "message": "Send 1 to 128 characters."}]
        )
    return "api-" + hashlib.sha256(f"{kind}\n{g.get('user') or ''}\n{sent}".encode()).hexdigest()[:40]


def fingerprint(body: BaseModel) -> str:
    """A keyed hash of what the call asked for (its secrets included, never kept in clear)."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hmac.new(services.settings().secret_key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def if_match(what: str) -> str:
    """The ETag the call says it read (If-Match), or a 428 problem: none, or `*`, which would overwrite whatever a
    colleague changed meanwhile."""
    sent = (request.headers.get("If-Match") or "").strip()
    if not sent or sent == "*":
        raise Problem(
            428,
            "If-Match needed",
            f"Send the {what}'s ETag (from reading it) in If-Match, so that a change made meanwhile is not "
            "overwritten.",
            errors=[{"field": "If-Match", "message": "Send the ETag you read."}],
        )
    return sent


def reused() -> Problem:
    return Problem(
        422,
        "Idempotency-Key already used",
        "This Idempotency-Key was sent before with another body. Send a new key for a new request.",
        errors=[{"field": "Idempotency-Key", "message": "Already used for another request."}],
    )
