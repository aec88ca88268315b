"""Whether the portal can work now (what /readyz says): its own database answers, an IMS token can be had and Flow
Service answers. Each answer is reused a while, so that probes from every replica add no load."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .adobe import AdobeError
from .sources import SOURCES
from .store.health import StoreUnavailable

# A probe every few seconds from every replica must not turn into as many calls to Adobe.
READY_CACHE_SECONDS = 10.0
# The store is asked more often (our choice): an outage should take the replica out of rotation within seconds.
STORE_CACHE_SECONDS = 2.0


class _Kept:
    """One check's last answer (None when all is well, else the problem), reused for `seconds`."""

    def __init__(self, check: Callable[[], str | None], seconds: float):
        self._check, self._seconds = check, seconds
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._checked_at >= self._seconds:
                self._problem = self._check()
                self._checked_at = time.monotonic()
            return self._problem


class Readiness:
    """The store's and Adobe's last answers, each reused for its own while."""

    def __init__(self, connections, sandbox: str, store):
        self._connections, self._sandbox, self._store = connections, sandbox, store
        self._store_check = _Kept(self._check_store, STORE_CACHE_SECONDS)
        self._adobe_check = _Kept(self._check_adobe, READY_CACHE_SECONDS)

    def store_problem(self) -> str | None:
        """Why the portal's database cannot be used now, or None."""
        return self._store_check.problem()

    def problem(self) -> str | None:
        """Why the portal cannot work now (its database first, then Adobe), or None."""
        return self.store_problem() or self._adobe_check.problem()

    def _check_store(self) -> str | None:
        try:
            self._store.ping()
        except StoreUnavailable:
            return "The portal's database cannot be reached."
        return None

    def _check_adobe(self) -> str | None:
        spec_id = next(iter(SOURCES.values())).connection_spec_id
        try:
            self._connections.check_ready(self._sandbox, spec_id)
        except AdobeError as error:
            return error.message
        return None
