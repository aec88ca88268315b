"""Creating a connection from a checked form, exactly once per key: the command the form page and the API share.

A key (the form's submission id, or an API call's Idempotency-Key) is claimed in the store before anything is sent;
a second request with the same key gets the first one's result. Adobe's refusal, a namesake the person did not
accept, or an exception releases the claim, so the same key may be sent again at once. The store records the result
and the audit entry together; when the store is away after Adobe made the connection, both are kept until it answers
(app/late_records.py).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import time

from flask import g, url_for

from .. import services
from ..adobe import AdobeError
from ..store.health import StoreUnavailable
from . import audit

log = logging.getLogger(__name__)

# The id in a finished submission's result (the created connection's page).
RESULT_ID = re.compile(r"/connections/([A-Za-z0-9-]{1,64})\?")


@dataclasses.dataclass
class Outcome:
    """What creating came to: `kind` is created, late (made, recorded once the store answers), earlier (this key's
    first request made it), namesakes (connections of that name exist, nothing sent) or refused (Adobe said no)."""

    kind: str
    result_url: str | None = None
    connection_id: str | None = None
    namesakes: list[dict] = dataclasses.field(default_factory=list)
    error: AdobeError | None = None
    request_id: str | None = None
    recovered: bool = False
    etag: str | None = None

    @classmethod
    def earlier(cls, result_url: str) -> Outcome:
        found = RESULT_ID.search(result_url)
        return cls("earlier", result_url=result_url, connection_id=found.group(1) if found else None)


def new_key() -> str:
    """A key for a request that sent none: it is made once, and a repeat is a new request."""
    return secrets.token_urlsafe(16)


def namesakes_of(sandbox: str, name: str) -> list[dict]:
    """Connections already called `name` in the sandbox; none when Flow Service cannot say (the check only advises)."""
    try:
        return services.connections().find_connections(sandbox, name)
    except AdobeError as error:
        log.warning("could not look for connections named like the new one: %s", error.code)
        return []


def create(source, form, key: str, *, check_namesakes: bool, fingerprint: str | None = None) -> Outcome:
    """Create the connection a validated form describes, once for `key`. `fingerprint` (a keyed hash of what was
    asked) is kept with the claim, so that a repeat of the key can be told apart from a different request."""
    store = services.store()
    body = source.request_body(form)
    sandbox = form.sandbox.data
    # What this submission creates, kept with its claim: should this request die after Adobe answers, the reconciler
    # finds the connection by these and records it as this person's (app/reconciler.py).
    intent = {
        "sandbox": sandbox,
        "name": body["name"],
        "spec_id": source.connection_spec_id,
        "source": source.title,
        "started_ms": int(time.time() * 1000),
        "entry": audit.entry("create", "ok", sandbox=sandbox, connection_name=body["name"], source=source.title),
        **({"fingerprint": fingerprint} if fingerprint else {}),
    }
    token = secrets.token_hex(12)
    try:
        earlier = store.submissions.claim(key, intent, token=token)
    except StoreUnavailable:
        services.late().release_later(key, token)  # the claim may have been made before the store went
        raise
    if earlier:
        return Outcome.earlier(earlier)
    outcome = None
    try:
        outcome = _create(source, key, body, sandbox, check_namesakes)
        return outcome
    finally:
        # On every other path (a namesake warning, Adobe's refusal, an exception) the claim is still pending:
        # release it, so the same key may be sent again at once. A finished claim keeps its result.
        if outcome is None or outcome.kind not in ("created", "late"):
            release(key, token)


def release(key: str, token: str) -> None:
    """Give the claim back; when the store is away, as soon as it answers (a second send waits for it meanwhile)."""
    try:
        services.store().submissions.release(key, token)
    except StoreUnavailable:
        services.late().release_later(key, token)


def _create(source, key: str, body: dict, sandbox: str, check_namesakes: bool) -> Outcome:
    namesakes = namesakes_of(sandbox, body["name"]) if check_namesakes else []
    if namesakes:
        return Outcome("namesakes", namesakes=namesakes)
    try:
        created = services.connections().create_connection(sandbox, body)
    except AdobeError as error:
        log.warning("creating a %s connection failed: %s (request-id %s)", source.title, error.code, error.request_id)
        audit.record(
            "create",
            "failed",
            sandbox=sandbox,
            connection_name=body["name"],
            source=source.title,
            detail=error.code or error.message[:200],
            adobe_request_id=error.request_id,
        )
        return Outcome("refused", error=error)
    result = url_for("connections.show", connection_id=created.id, sandbox=sandbox, created=key)
    curl = services.connections().curl_for_create(sandbox, source.redacted_body(body))
    # The submission's result and its audit entry in one transaction: both are on record, or neither.
    entry = audit.entry(
        "create",
        "ok",
        sandbox=sandbox,
        connection_name=body["name"],
        connection_id=created.id,
        source=source.title,
        detail="found after a lost answer" if created.recovered else None,
        adobe_request_id=created.request_id,
    )
    try:
        services.store().submissions.finish(key, result, curl, entry=entry)
    except StoreUnavailable:
        # Adobe made it; the store will have it as soon as it answers. The claim stays pending, so a resend waits
        # for this one's outcome.
        services.late().keep(key, result, curl, entry)
        return _made("late", result, created)
    credentials_set({"id": created.id, "name": body["name"], "source": source.connection_spec_id}, sandbox)
    log.info(
        "created %s connection %s in sandbox %s",
        source.key if source.key != "spec" else source.title,
        created.id,
        sandbox,
    )
    return _made("created", result, created)


def credentials_set(connection: dict, sandbox: str) -> None:
    """When and by whom the credentials of a connection ({id, name, source}) were set, for its page (advisory: the
    store away loses it)."""
    try:
        services.store().links.credentials_set(connection, sandbox, g.get("user"), by_owner=False)
    except StoreUnavailable:
        log.warning("could not record when the credentials of %s were set", connection["id"])


def _made(kind: str, result: str, created) -> Outcome:
    return Outcome(
        kind,
        result_url=result,
        connection_id=created.id,
        request_id=created.request_id,
        recovered=created.recovered,
        etag=created.etag,
    )
