"""Everything the emulator remembers, in one place: tokens, connections, their secrets, dataflows and runs, datasets,
mapping sets, what it received, faults, emulator time, I/O Events' webhook registrations and deliveries.

It imports only the data it starts with (specs, seeds) and `Fault`, none of which imports it back: the route
modules are handed the state, and read and change it under `state._lock`.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import secrets
import threading
import time

from .faults import Fault
from .seeds import seed_datasets
from .specs import connection_specs

# Flow Service's path: its route modules serve under it, and `creations()` reads what was sent to it.
FLOW = "/data/foundation/flowservice"
# How many recent requests the emulator keeps (our choice): enough for any test or benchmark to read back what it
# sent, bounded so that a long-running emulator (the gunicorn master's) does not grow without end.
RECEIVED_KEPT = 5000


@dataclasses.dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes


class RecentRequests(collections.deque):
    """The last `RECEIVED_KEPT` requests, oldest first; a slice reads as a list, as tests take `received[since:]`."""

    def __init__(self):
        super().__init__(maxlen=RECEIVED_KEPT)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(itertools.islice(self, *index.indices(len(self))))
        return super().__getitem__(index)


class EmulatorState:
    """What IMS and the Platform APIs know; tests read and set it directly (a connection in use, a failing test)."""

    def __init__(
        self,
        *,
        client_id="aep-source-wizard-emulator",
        client_secret=None,
        org_id="EMULATOR0000000000000000@AdobeOrg",
        cloud="azure",
        token_lifetime=86399,
        sandboxes=("prod", "dev"),
        events_retry_seconds=60.0,
        events_timeout_seconds=10.0,
    ):
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.org_id = org_id
        self.cloud = cloud
        self.token_lifetime = token_lifetime
        # The sandboxes the organisation has: any other name is 2101-404, as Flow Service answers.
        self.sandboxes = frozenset(s.lower() for s in sandboxes)
        self.specs = connection_specs(cloud)
        self._lock = threading.Lock()
        # One tick at a time (app/emulator/runs.py): a read never lists runs while another request is still making
        # the runs it marked as made.
        self.tick_lock = threading.Lock()
        self.tokens: dict[str, tuple[str, float]] = {}
        self.token_fetches = 0
        self.connections: dict[str, dict] = {}
        # What Flow Service keeps but never returns: each connection's secret params.
        self.secrets: dict[str, dict] = {}
        # Connections a (pretend) dataflow uses: DELETE answers 1418-400, as for one a source connection uses.
        self.used_by_dataflows: set[str] = set()
        # The dataflow objects (source_target.py, flows.py), by id.
        self.source_connections: dict[str, dict] = {}
        self.target_connections: dict[str, dict] = {}
        self.flows: dict[str, dict] = {}
        # Catalog's datasets, by id, with the XDM schema each follows: a few in each sandbox.
        self.datasets: dict[str, dict] = seed_datasets(self.sandboxes, org_id)
        # Data Prep's mapping sets, by id: a flow's Mapping transformation names one of them.
        self.mapping_sets: dict[str, dict] = {}
        # Flow runs, by id, made as flows fall due (runs.py); the outcomes queued for each
        # flow's next runs ("success", "partial", "failed"; success when none is queued).
        self.runs: dict[str, dict] = {}
        self.run_outcomes: dict[str, list[str]] = {}
        # (flow id, due time) of every scheduled run made, so that each is made once.
        self.runs_made: set[tuple[str, float]] = set()
        # Flows whose due times pass with no run (POST /_emulator/runs {"stalled": true}): late, as a stuck flow is.
        self.stalled: set[str] = set()
        # Emulator time: the wall clock moved on by this many seconds (POST /_emulator/clock).
        self.clock_offset = 0.0
        # Connections whose test fails, as when the database refuses the credentials.
        self.failing_tests: set[str] = set()
        self.received = RecentRequests()
        self.faults: list[Fault] = []
        # Seconds every Platform API call waits before it is handled (POST /_emulator/latency), for benchmarks.
        self.latency = 0.0
        # Platform calls waiting out that latency now, and the most at once since the last reset: calls a page sends
        # side by side overlap there, calls sent one after another never do (tests/test_waits.py).
        self.in_flight = 0
        self.most_in_flight = 0
        # Adobe I/O Events (events.py): the webhooks registered, every delivery made to them (url, event id, attempts,
        # status, last status), the signing keys (made when first needed), and what stops pending retries. A retry
        # unit stands for I/O Events' minute (60 s; tests make it small); a webhook has this long to answer.
        self._events_settings = (events_retry_seconds, events_timeout_seconds)
        self.events_retry_seconds, self.events_timeout_seconds = self._events_settings
        self.event_webhooks: list[dict] = []
        self.event_deliveries: list[dict] = []
        self.event_keys = None
        self.events_stop = threading.Event()

    def now(self) -> float:
        """Emulator time, in seconds since the epoch."""
        return time.time() + self.clock_offset

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and path.endswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def receive(self, method: str, path: str, query: str, headers: dict, body: bytes) -> None:
        with self._lock:
            self.received.append(Received(method, path, query, headers, body))

    def creations(self) -> list[dict]:
        """The JSON bodies of every POST /connections received, in order."""
        return [json.loads(r.body) for r in self.received if r.method == "POST" and r.path == f"{FLOW}/connections"]

    def reset(self) -> None:
        with self._lock:
            self.tokens.clear()
            self.connections.clear()
            self.secrets.clear()
            self.used_by_dataflows.clear()
            for kept in (
                self.source_connections,
                self.target_connections,
                self.flows,
                self.mapping_sets,
                self.runs,
                self.run_outcomes,
                self.runs_made,
                self.stalled,
            ):
                kept.clear()
            self.datasets.clear()
            self.datasets.update(seed_datasets(self.sandboxes, self.org_id))
            self.clock_offset = 0.0
            self.latency = 0.0
            self.in_flight = self.most_in_flight = 0
            self.event_webhooks.clear()
            self.event_deliveries.clear()
            self.events_stop.set()  # pending retries end at their next wait
            self.events_stop = threading.Event()
            self.events_retry_seconds, self.events_timeout_seconds = self._events_settings
            self.failing_tests.clear()
            self.received.clear()
            self.faults.clear()
            self.token_fetches = 0
