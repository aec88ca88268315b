"""Creations Adobe made while the portal's database could not record them: each worker keeps them and records them,
with their audit entries marked as recorded late, as soon as the database answers again. A worker that dies first
loses nothing: its submissions stay pending with what they were creating, and the reconciler completes them from what
Adobe holds (app/reconciler.py)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from .store.health import StoreUnavailable

log = logging.getLogger(__name__)
# The waits between tries (our choice: quick at first, then once a minute), and how long a record is kept trying
# before it is left to the reconciler.
FIRST_WAIT, MOST_WAIT, KEEP_TRYING = 0.5, 60.0, 3600.0
LATE = "recorded late: the portal's database could not be reached when Adobe made it"


@dataclasses.dataclass
class LateRecord:
    key: str
    result_url: str
    curl: str | None
    entry: dict
    # Not a result but a claim to release: the token of the claim.
    release: str | None = None
    since: float = dataclasses.field(default_factory=time.monotonic)


class LateRecords:
    """The records this process still owes the store, tried in the background with growing waits."""

    def __init__(self, store, sleep=time.sleep):
        self._store, self._sleep = store, sleep
        self._lock = threading.Lock()
        self._records: list[LateRecord] = []
        self._thread: threading.Thread | None = None

    def keep(self, key: str, result_url: str, curl: str | None, entry: dict) -> None:
        """Owe the store this submission's result and its audit entry, and start trying to record them."""
        detail = entry.get("detail")
        late = {**entry, "detail": f"{detail}; {LATE}" if detail else LATE}
        self._keep(LateRecord(key, result_url, curl, late))
        log.warning("submission %s created in Adobe, to be recorded once the database answers", key[:8])

    def _keep(self, record: LateRecord) -> None:
        with self._lock:
            self._records.append(record)
            if self._thread is None:
                self._thread = threading.Thread(target=self._record_all, name="late-records", daemon=True)
                self._thread.start()

    def release_later(self, key: str, token: str) -> None:
        """Owe the store the release of a claim whose request sent nothing to Adobe: until it is released, a second
        send of the same form waits for this one's outcome."""
        self._keep(LateRecord(key, "", None, {}, release=token))

    def owed(self) -> int:
        with self._lock:
            return len(self._records)

    def record_now(self) -> int:
        """Try each owed record once; how many are still owed."""
        with self._lock:
            records = list(self._records)
        for record in records:
            try:
                if record.release:
                    self._store.submissions.release(record.key, record.release)
                else:
                    self._store.submissions.finish(record.key, record.result_url, record.curl, entry=record.entry)
            except StoreUnavailable:
                if time.monotonic() - record.since < KEEP_TRYING:
                    continue
                log.error(
                    "submission %s still not recorded after an hour; the reconciler will complete it", record.key[:8]
                )
            else:
                log.info("submission %s recorded late", record.key[:8])
            with self._lock:
                self._records.remove(record)
        return self.owed()

    def _record_all(self) -> None:
        wait = FIRST_WAIT
        while True:
            self.record_now()
            with self._lock:
                if not self._records:  # decided under the lock: a record kept now starts a new thread
                    self._thread = None
                    return
            self._sleep(wait)
            wait = min(wait * 2, MOST_WAIT)
