"""The watcher: every WIZARD_WATCH_SECONDS, in whichever process holds its lease (one across all workers and
replicas), it reads each sandbox's dataflows and the runs since it last read (two listings per sandbox, the sandboxes
side by side), keeps them in the store, and turns what changed into events: a run failed or ingested part, a dataflow
late, recovered, or disabled; and, from the store alone, connections whose credentials expire within a week. Each
event is made once (app/watch/rules.py), whoever sees it first.

Where it has read up to is kept in the store, so a restart loses nothing; its first round in a sandbox learns the
last day without telling about it (our choice: a new portal does not page anyone about yesterday). A 429 or any
other failure of Adobe's ends the round for that sandbox and doubles the wait before the next (up to ten minutes),
so the watcher slows down rather than adds to the load.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time

from ..adobe import AdobeError
from ..store.health import StoreUnavailable
from ..together import side_by_side
from . import health
from .rules import Events, body, source_spec

log = logging.getLogger(__name__)

LEASE = "watcher"
# What the first round in a sandbox reads back (ms): the day the dataflows page counts records over.
FIRST_LOOK_MS = 86_400_000
# How far before the newest run read the next round reads again (our choice: a run Flow Service lists a little after
# the time it is dated is still seen; reading a run twice changes nothing).
OVERLAP_MS = 5 * 60_000
# How long before credentials expire (as their owner said) "credentials expire soon" goes out.
REMIND_BEFORE = 7 * 86400.0
# The longest wait between rounds after failures (our choice).
MOST_BACKOFF = 600.0


class Watcher:
    """Rounds of reading and telling, in whichever process holds the lease."""

    def __init__(self, services, every: float, holder: str | None = None, clock=time.time):
        self._services = services
        self.every = every
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"
        self._clock = clock
        self.failures = 0

    @property
    def events(self) -> Events:
        return Events(self._services.store)

    def run_once(self) -> dict[str, int]:
        """One round, if this process holds (or takes) the lease: the events it made, per sandbox."""
        store = self._services.store
        told: dict[str, int] = {}
        try:
            if not store.leases.take(LEASE, self.holder, max(2 * self.every, 10.0)):
                return told
            for sandbox in self._remind():
                told[sandbox] = told.get(sandbox, 0) + 1
            sandboxes = self._services.settings.sandboxes
            reads = side_by_side([lambda s=sandbox: self._read(s) for sandbox in sandboxes])
            failed = False
            for sandbox, read in zip(sandboxes, reads, strict=True):
                if isinstance(read, AdobeError):
                    log.warning("watching sandbox %s: %s (next round)", sandbox, read.code or read.status)
                    failed = True
                    continue
                if isinstance(read, Exception):
                    raise read
                told[sandbox] = told.get(sandbox, 0) + self._take_in(sandbox, *read)
            self.failures = self.failures + 1 if failed else 0
            store.watch.forget_old(int(self._clock() * 1000))
            store.alerts.forget_old()
        except StoreUnavailable:
            self.failures += 1
        return told

    def _remind(self) -> list[str]:
        """ "Credentials expire soon", once per connection and expiry, a week before the date its owner gave: the
        sandbox of each event made."""
        store, told = self._services.store, []
        for due in store.links.expiring(before=self._clock() + REMIND_BEFORE):
            about = {"id": due["connection_id"], "name": due["connection_name"], "source": due["source"] or None}
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(due["expires_at"]))
            key = (due["connection_id"], str(due["expires_at"]))
            if self.events.tell_about_connection("credentials-expiring", key, due["sandbox"], about, expiresAt=expires):
                told.append(due["sandbox"])
            store.links.reminded(due["connection_id"], due["expires_at"])
        return told

    def wait(self) -> float:
        """Seconds until the next round: the interval, doubled after each round Adobe or the store failed."""
        return min(self.every * (2 ** min(self.failures, 10)), max(MOST_BACKOFF, self.every))

    def _read(self, sandbox: str):
        """The sandbox's dataflows and its runs since the cursor, read side by side."""
        dataflows = self._services.dataflows
        cursor = self._services.store.watch.cursor(sandbox)
        since = cursor if cursor is not None else int(self._clock() * 1000) - FIRST_LOOK_MS
        flows, runs = side_by_side(
            [lambda: dataflows.sandbox_flows(sandbox), lambda: dataflows.sandbox_runs(sandbox, since)]
        )
        for outcome in (flows, runs):
            if isinstance(outcome, Exception):
                raise outcome
        return flows, runs, cursor is None

    def _take_in(self, sandbox: str, flows, runs, first: bool) -> int:
        """Keep what was read and make the events it shows; the number made."""
        store = self._services.store
        now = (flows.clock_ms or runs.clock_ms or int(self._clock() * 1000)) / 1000
        rows = [row for row in (health.run_row(run, sandbox) for run in runs.items) if row]
        store.watch.keep_runs(rows, noticed=first)
        by_id = {flow["id"]: flow for flow in flows.items if isinstance(flow.get("id"), str)}
        known = store.watch.flows(sandbox)
        told = 0
        for flow_id, flow in by_id.items():
            before = known.get(flow_id)
            if before and before["state"] == "enabled" and flow.get("state") == "disabled":
                told += self.events.tell(
                    "disabled",
                    (flow_id, str(flow.get("updatedAt") or flow.get("etag"))),
                    sandbox,
                    flow,
                    body("disabled", sandbox, flow),
                    "watcher",
                )
            store.watch.keep_flow(
                flow_id,
                sandbox,
                name=str(flow.get("name") or "")[:256],
                state=str(flow.get("state") or "")[:16],
                source_spec=(source_spec(flow) or "")[:64] or None,
            )
        for row in store.watch.unnoticed(sandbox, health.FINAL):
            told += self.notice(sandbox, row, by_id.get(row["flow_id"]) or {"id": row["flow_id"]}, "watcher")
        told += self._lateness(sandbox, by_id, now, first)
        if not runs.complete:
            log.warning("watching sandbox %s: more runs than one round reads; the oldest were skipped", sandbox)
        store.watch.set_cursor(sandbox, self._next_cursor(rows, runs, now))
        return told

    @staticmethod
    def _next_cursor(rows: list[dict], runs, now: float) -> int:
        """Where the next round reads from: before the oldest run still going, else a little before the newest."""
        going = [row["created_ms"] for row in rows if row["status"] not in health.FINAL]
        if going:
            return min(going) - 1
        newest = max((row["created_ms"] for row in rows), default=0)
        return max(newest - OVERLAP_MS, 0) if newest else int(now * 1000) - OVERLAP_MS

    def notice(self, sandbox: str, row: dict, flow: dict, origin: str) -> int:
        """Turn one final run into its events (failed, partial, recovered), once, whoever notices it first."""
        store = self._services.store
        if not store.watch.notice(row["run_id"]):
            return 0
        known = store.watch.flow(row["flow_id"]) or {}
        failures, late_after = known.get("failures_in_row") or 0, known.get("late_after")
        flow = {**flow, "name": flow.get("name") or known.get("name")}
        errors = json.loads(row.get("errors") or "[]") if isinstance(row.get("errors"), str) else row.get("errors")
        told = 0
        if row["status"] in ("failed", "partial"):
            told += self.events.tell(
                row["status"],
                (row["run_id"],),
                sandbox,
                flow,
                body(row["status"], sandbox, flow, row, errors=errors),
                origin,
                run_id=row["run_id"],
            )
        if row["status"] != "failed" and (failures or late_after):
            told += self.events.tell(
                "recovered",
                (row["run_id"],),
                sandbox,
                flow,
                body("recovered", sandbox, flow, row, errors=errors),
                origin,
                run_id=row["run_id"],
            )
        store.watch.keep_flow(
            row["flow_id"], sandbox, failures_in_row=failures + 1 if row["status"] == "failed" else 0, late_after=None
        )
        return told

    def _lateness(self, sandbox: str, by_id: dict[str, dict], now: float, first: bool) -> int:
        """A "late" event per dataflow and episode: no run since a due time more than its grace ago."""
        store = self._services.store
        newest = store.watch.newest([sandbox])
        known = store.watch.flows(sandbox)
        told = 0
        for flow_id, flow in by_id.items():
            kept = newest.get(flow_id) or {}
            late = health.late_since(flow, now, health.last_run_ms(flow, kept.get("created_ms")))
            if late is None:
                continue
            episode = str((flow.get("lastRunDetails") or {}).get("id") or kept.get("created_ms") or "never")[:64]
            if (known.get(flow_id) or {}).get("late_after") == episode:
                continue
            store.watch.keep_flow(flow_id, sandbox, late_after=episode)
            if not first:
                told += self.events.tell(
                    "late", (flow_id, episode), sandbox, flow, body("late", sandbox, flow, late_since=late), "watcher"
                )
        return told


def start(services, every: float) -> threading.Thread:
    """Run rounds in this process for as long as it lives (each round only where the lease is held)."""
    watcher = Watcher(services, every)

    def loop():
        wait = every * random.uniform(0.1, 1.0)  # spread: workers starting together do not all ask at once
        while True:
            time.sleep(wait)
            try:
                watcher.run_once()
            except Exception:
                log.exception("watcher round failed")
                watcher.failures += 1
            wait = watcher.wait()

    thread = threading.Thread(target=loop, name="watcher", daemon=True)
    thread.start()
    return thread
