"""When the store cannot be used: a database restarted, stopped, failed over, or an SQLite file locked, read-only or
full. Every part of the store is guarded here: a statement whose connection dropped is tried once more where that is
safe, and what still fails becomes `StoreUnavailable`, which the pages answer with 503 rather than a 500. An outage is
logged once when it begins and once when it ends, never once per request."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long a person is asked to wait before trying again (our choice: a managed database's failover takes seconds).
RETRY_AFTER = 10


class StoreUnavailable(Exception):
    """The portal's own database cannot be used just now."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = RETRY_AFTER


class Outage:
    """Whether this process last found the store down, so that an outage is logged once each way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None

    def failed(self, reason: str) -> None:
        with self._lock:
            began, self.since = self.since is None, self.since or time.time()
        if began:
            log.error("the portal's database cannot be reached: %s", reason)

    def worked(self) -> None:
        with self._lock:
            ended, since, self.since = self.since is not None, self.since, None
        if ended and since is not None:
            log.warning("the portal's database answers again after %.0f s", time.time() - since)


OUTAGE = Outage()


def reason_of(error: Exception) -> str:
    """A short reason for the log, without the statement or its parameters (which may name people)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).splitlines()[0][:200] if str(original) else ''}"


def _is_outage(error: Exception) -> bool:
    """A failure of the database itself (its connection, its file), not of the statement."""
    return isinstance(error, (OperationalError, PoolTimeout)) or (
        isinstance(error, DBAPIError) and bool(error.connection_invalidated)
    )


def guarded(retry: bool) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a store method; a dropped connection is retried once when `retry` (a read, or a write the store can tell it
    made already), and any failure of the database becomes StoreUnavailable."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> T:
            for attempt in (1, 2):
                try:
                    answer = method(*args, **kwargs)
                except Exception as error:
                    if not _is_outage(error):
                        raise
                    dropped = isinstance(error, DBAPIError) and bool(error.connection_invalidated)
                    if retry and dropped and attempt == 1:
                        continue  # the pool has dropped the dead connection; a fresh one is taken
                    OUTAGE.failed(reason_of(error))
                    raise StoreUnavailable(reason_of(error)) from None
                OUTAGE.worked()
                return answer
            raise AssertionError("unreachable: the second attempt returns or raises")

        return run

    return decorate
