"""One connection per form submission, however many times the browser sends it."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class SubmissionLedger:
    """Remembers which form submissions were sent to Flow Service and where they led.

    Each rendered form carries a random submission id. The first POST with an id
    claims it; a second POST with the same id (a double click, a resend after a
    slow answer) waits for the first and gets its result instead of creating a
    second connection. A failed attempt releases the id so the person can retry.
    """

    def __init__(self, capacity: int = 2048, ttl: float = 3600.0):
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, dict] = OrderedDict()
        self._capacity = capacity
        self._ttl = ttl

    def claim(self, submission_id: str, timeout: float = 120.0) -> str | None:
        """Claim `submission_id`; None when the caller should proceed, else the earlier result URL.

        If another request holds the claim, wait for it to finish first.
        """
        while True:
            with self._lock:
                self._expire()
                entry = self._entries.get(submission_id)
                if entry is None:
                    self._entries[submission_id] = {"done": threading.Event(), "result": None, "at": time.monotonic()}
                    return None
                if entry["result"]:
                    return entry["result"]
                done = entry["done"]
            if not done.wait(timeout):
                return None
            with self._lock:
                entry = self._entries.get(submission_id)
                if entry and entry["result"]:
                    return entry["result"]
            # The first attempt failed and released the id: try to claim it ourselves.

    def finish(self, submission_id: str, result_url: str) -> None:
        with self._lock:
            entry = self._entries.get(submission_id)
            if entry:
                entry["result"] = result_url
                entry["done"].set()

    def release(self, submission_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(submission_id, None)
        if entry:
            entry["done"].set()

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, e in self._entries.items() if now - e["at"] > self._ttl]:
            del self._entries[key]
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


class SentRequests:
    """The redacted curl command of each recent creation, for its result page."""

    def __init__(self, capacity: int = 512):
        self._lock = threading.Lock()
        self._commands: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, connection_id: str, command: str) -> None:
        with self._lock:
            self._commands[connection_id] = command
            while len(self._commands) > self._capacity:
                self._commands.popitem(last=False)

    def get(self, connection_id: str) -> str | None:
        with self._lock:
            return self._commands.get(connection_id)
