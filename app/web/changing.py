"""Changing and deleting a connection: the commands the pages and the API share, each sent once and put on record.

`update` sends a JSON Patch guarded by the etag the person (or script) saw; `delete` removes what is made from the
connection first (its dataflows, their source and target connections), then the connection.
"""

from __future__ import annotations

import logging
import re

from .. import services
from ..adobe import AdobeError
from ..adobe.errors import STALE
from ..dataflows.deletion import DeleteMadeFrom
from . import audit, creating

log = logging.getLogger(__name__)

# What an etag looks like on the wire: visible ASCII, quotes included.
ETAG = re.compile(r"^[\x21-\x7e]{1,200}$")
STALE_MESSAGE = (
    "Someone changed this connection after you opened this page, so your change was not sent. "
    "Compare, then choose: save yours over theirs, or start again from theirs."
)
IN_USE_MESSAGE = (
    "A dataflow still uses this connection, so Flow Service kept it. Delete the connection's dataflows and their "
    "source connections first, then delete the connection."
)


def _on_record(connection: dict, source, sandbox: str) -> dict:
    return dict(
        sandbox=sandbox,
        connection_name=connection.get("name"),
        connection_id=connection["id"],
        source=source.title if source else None,
    )


def update(connection: dict, source, sandbox: str, etag: str, operations: list[dict]):
    """PATCH the connection with `etag`: Adobe's answer (`Changed`), or the AdobeError that refused it (a stale etag
    among them: `error.stale`). Rename or rotate goes on record either way."""
    action = "rotate" if operations[0]["path"] == "/auth/params" else "rename"
    try:
        if not ETAG.match(etag or ""):
            # A change without a readable etag cannot show that its sender saw the current state.
            raise AdobeError(STALE_MESSAGE, status=409, code=STALE)
        changed = services.connections().update_connection(sandbox, connection["id"], etag, operations)
    except AdobeError as error:
        audit.record(
            action,
            "failed",
            detail=error.code or error.message[:200],
            adobe_request_id=error.request_id,
            **_on_record(connection, source, sandbox),
        )
        if not error.stale:
            log.warning("update of %s failed: %s (request-id %s)", connection["id"], error.code, error.request_id)
        return error
    if action == "rotate":
        spec_id = (connection.get("connectionSpec") or {}).get("id")
        creating.credentials_set({"id": connection["id"], "name": connection.get("name"), "source": spec_id}, sandbox)
    audit.record(
        action,
        "ok",
        detail=f"now named {operations[0]['value']}" if action == "rename" else None,
        adobe_request_id=changed.request_id,
        **_on_record(connection, source, sandbox),
    )
    log.info("%s connection %s in sandbox %s", action, connection["id"], sandbox)
    return changed


def delete(connection: dict, source, sandbox: str, dependents) -> AdobeError | None:
    """Delete what `dependents` lists (and target connections left from before), then the connection: None when all
    went, else the first refusal (sending again goes on from there)."""
    store = services.store()
    if dependents or store.cleanups.remembered_targets(connection["id"], sandbox):
        failed = DeleteMadeFrom(services.dataflows(), store, audit.record).run(connection, dependents, sandbox)
        if failed:
            return failed
    try:
        deleted = services.connections().delete_connection(sandbox, connection["id"])
    except AdobeError as error:
        if error.in_use:
            error.message = IN_USE_MESSAGE
        audit.record(
            "delete",
            "failed",
            detail=error.code or error.message[:200],
            adobe_request_id=error.request_id,
            **_on_record(connection, source, sandbox),
        )
        log.warning("deleting %s failed: %s (request-id %s)", connection["id"], error.code, error.request_id)
        return error
    store.cleanups.forget_cleanup(connection["id"])
    audit.record("delete", "ok", adobe_request_id=deleted.request_id, **_on_record(connection, source, sandbox))
    log.info("deleted connection %s (%s) in sandbox %s", connection["id"], connection.get("name"), sandbox)
    return None
