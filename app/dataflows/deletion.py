"""Deleting a base connection with everything made from it, in the order Flow Service requires: each dataflow, then
the source connections, then the dataflows' target connections. A command, like the chain beside it: each step audited,
and a deletion stopped by a refusal goes on where it stopped when it is sent again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..adobe import AdobeError

log = logging.getLogger(__name__)


class DeleteMadeFrom:
    """Deletes what is made from a connection, with the given client and store; `record` puts each step on record
    (the audit trail's `record(action, outcome, **details)`)."""

    def __init__(self, dataflows, store, record: Callable[..., None]):
        self._dataflows, self._store, self._record = dataflows, store, record

    def run(self, connection: dict, dependents, sandbox: str) -> AdobeError | None:
        """Delete the dataflows and source connections in `dependents` (what Flow Service lists of the connection),
        then the target connections, kept in the store first: once their dataflows are gone, nothing leads to them.
        The first refusal stops it and is returned; None when everything went."""
        store, dataflows, record = self._store, self._dataflows, self._record
        flows = dependents.flows if dependents else []
        targets = [t for flow in flows for t in flow.get("targetConnectionIds") or [] if isinstance(t, str)]
        store.cleanups.remember_targets(connection["id"], sandbox, targets)
        steps = [("flows", flow.get("id"), flow.get("name"), "dataflow") for flow in flows]
        steps += [
            ("sourceConnections", item.get("id"), item.get("name"), "source connection")
            for item in (dependents.source_connections if dependents else [])
        ]
        steps += [
            ("targetConnections", target_id, None, "target connection")
            for target_id in store.cleanups.remembered_targets(connection["id"], sandbox)
        ]
        for kind, item_id, name, what in steps:
            try:
                deleted = dataflows.delete(sandbox, kind, item_id)
            except AdobeError as error:
                record(
                    "delete",
                    "failed",
                    sandbox=sandbox,
                    connection_name=name,
                    connection_id=item_id,
                    source=what,
                    detail=error.code or error.message[:200],
                    adobe_request_id=error.request_id,
                )
                error.message = (
                    f"Deleting the {what} {item_id} failed, so the deletion stopped there: "
                    f"{error.message} What is listed below is still in Flow Service; "
                    "send the form again to go on."
                )
                return error
            if kind == "targetConnections":
                store.cleanups.forget_target(connection["id"], item_id)
            record(
                "delete",
                "ok",
                sandbox=sandbox,
                connection_name=name,
                connection_id=item_id,
                source=what,
                detail=f"made from connection {connection['id']}",
                adobe_request_id=deleted.request_id,
            )
            log.info("deleted %s %s of connection %s", what, item_id, connection["id"])
        return None
