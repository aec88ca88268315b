"""Whether the portal can work now: an IMS token can be had and Flow Service answers (what /readyz says)."""

from __future__ import annotations

import threading
import time

from .adobe import AdobeError
from .sources import SOURCES

# A probe every few seconds from every replica must not turn into as many calls to Adobe.
READY_CACHE_SECONDS = 10.0


class Readiness:
    """The last readiness check's answer, reused for READY_CACHE_SECONDS."""

    def __init__(self, flow_service, sandbox: str):
        self._flow_service = flow_service
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._checked_at >= READY_CACHE_SECONDS:
                self._problem = self._check()
                self._checked_at = time.monotonic()
            return self._problem

    def _check(self) -> str | None:
        spec_id = next(iter(SOURCES.values())).connection_spec_id
        try:
            self._flow_service.check_ready(self._sandbox, spec_id)
        except AdobeError as error:
            return error.message
        return None
