"""What this process remembers of the connections it created: the request it sent, for the result page."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


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
