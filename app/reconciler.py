"""Completing what a request left half done when its worker died (killed, restarted) or the database went away: a
submission still pending long after its claim, a dataflow draft left `creating` after its lease ran out.

It runs in every worker of every replica, and does its work in one at a time: each round it takes a lease in the
store (app/store/leases.py) and skips the round when another process holds it. A pending submission is completed from
what Adobe holds: the connection it was creating, found by its name, source and time, is recorded with an audit entry
as its person's; when Flow Service has none, the submission is marked failed, and nothing was made. A draft's chain is
looked up object by object (never created) and stopped, so its review page offers to continue or remove it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from urllib.parse import urlencode

from .adobe import AdobeError
from .dataflows.chain import LEASE_SECONDS, Chain, Stopped
from .dataflows.draft import Draft
from .store.health import StoreUnavailable

log = logging.getLogger(__name__)

LEASE = "reconciler"
# How often each process offers to run a round, and how long one may hold the lease (our choice).
EVERY_SECONDS, LEASE_FOR = 30.0, 120.0
# A submission pending this long after its claim (or its last change) has no request behind it any more: longer than
# a claim waits (120 s) and than any request's calls to Adobe (our choice).
PENDING_AFTER = 300.0
# A draft whose lease ended this long ago was left by a request that died (our choice: longer than its own lease).
ABANDONED_AFTER = 60.0
STOPPED = (
    "The request creating this dataflow stopped before it finished (its worker ended). What it made is listed "
    "below; continue with the same objects, or remove them."
)


class Reconciler:
    """One round at a time, in whichever process holds the lease."""

    def __init__(self, services, holder: str | None = None):
        self._services = services
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"

    def run_once(self) -> dict[str, int]:
        """One round, if this process takes the lease: how many submissions and drafts it completed."""
        store = self._services.store
        done = {"recorded": 0, "failed": 0, "drafts": 0}
        try:
            if not store.leases.take(LEASE, self.holder, LEASE_FOR):
                return done
            for pending in store.submissions.pending(PENDING_AFTER):
                outcome = self._submission(pending)
                if outcome:
                    done[outcome] += 1
            for key in store.drafts.abandoned(ABANDONED_AFTER):
                done["drafts"] += self._draft(key)
        except StoreUnavailable:
            return done  # the next round, once the database answers
        return done

    def _submission(self, pending: dict) -> str | None:
        """Complete one pending submission from what Flow Service holds: "recorded", "failed", or None (left)."""
        intent, key = pending["intent"], pending["key"]
        if not intent:
            return None  # claimed by a release that kept no intent: nothing to look for
        store, connections = self._services.store, self._services.connections
        try:
            found = connections.find_connections(
                intent["sandbox"], intent["name"], intent["spec_id"], created_since_ms=intent["started_ms"]
            )
        except AdobeError as error:
            log.warning("reconciling submission %s: looking it up failed (%s); next round", key[:8], error.code)
            return None
        entry = dict(
            intent.get("entry") or {},
            action="create",
            sandbox=intent["sandbox"],
            connection_name=intent["name"],
            source=intent.get("source"),
        )
        if found:
            newest = max(found, key=lambda item: item.get("createdAt") or 0)
            query = urlencode({"sandbox": intent["sandbox"], "created": key})
            recorded = store.submissions.finish(
                key,
                f"/connections/{newest['id']}?{query}",
                None,
                entry={
                    **entry,
                    "outcome": "ok",
                    "connection_id": newest["id"],
                    "detail": "recorded by the reconciler: the request creating it ended before recording it",
                },
            )
            log.info("reconciled submission %s: connection %s recorded", key[:8], newest["id"])
            return "recorded" if recorded else None
        failed = store.submissions.fail(
            key,
            entry={
                **entry,
                "outcome": "failed",
                "detail": "the request creating it ended before recording it; Flow Service has no such connection, so "
                "nothing was made",
            },
        )
        log.info("reconciled submission %s: nothing was made", key[:8])
        return "failed" if failed else None

    def _draft(self, key: str) -> int:
        """Stop one abandoned chain with what Adobe holds of it recorded; 1 when stopped."""
        store = self._services.store
        if not store.drafts.start_chain(key, LEASE_SECONDS):
            return 0  # a person's request took it over meanwhile
        draft = Draft.of(store.drafts.draft(key))
        if draft is None:
            return 0
        try:
            flow_spec = self._services.dataflows.flow_spec(draft.sandbox)
            Chain(self._services.dataflows, self._services.data_prep, store).recover(draft, flow_spec)
        except (AdobeError, Stopped) as error:
            log.warning(
                "reconciling draft %s: looking up its objects failed (%s); next round",
                key[:8],
                getattr(error, "code", None) or "stopped",
            )
        entry = {
            "action": "create-dataflow",
            "outcome": "failed",
            "sandbox": draft.sandbox,
            "user": draft.owner,
            "connection_id": draft.connection_id,
            "connection_name": (draft.plan.get("schedule") or {}).get("name"),
            "detail": "stopped by the reconciler: the request creating it ended midway",
        }
        store.drafts.end_chain(key, "stopped", STOPPED, entry=entry)
        log.info("reconciled draft %s: stopped with what was made recorded", key[:8])
        return 1


def start(services, every: float = EVERY_SECONDS) -> threading.Thread:
    """Run a round now and then in this process, for as long as it lives."""
    reconciler = Reconciler(services)
    stop = threading.Event()

    def loop():
        while not stop.wait(every * random.uniform(0.8, 1.2)):  # spread: workers do not all ask at once
            try:
                reconciler.run_once()
            except Exception:  # noqa: BLE001 - a round that fails must not end the loop; the next round tries again
                log.exception("reconciler round failed")

    thread = threading.Thread(target=loop, name="reconciler", daemon=True)
    thread.start()
    return thread
