"""Submissions: one connection per form, however often the form is sent. Each rendered form carries a one-time key;
the first request to claim it creates, and every other waits for its outcome and shows the same connection."""

from __future__ import annotations

import time

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .audit import record_in
from .schema import _now, submissions

# The statements every submission runs, built once per process; their values are bound at execute.
_CLAIM = insert(submissions)
_STATE_OF = select(submissions.c.state, submissions.c.result_url).where(submissions.c.key == bindparam("k"))
_FINISH = (update(submissions).where(submissions.c.key == bindparam("k"))
           .values(state="done", result_url=bindparam("result_url"), curl=bindparam("curl"),
                   updated_at=bindparam("now")))
_RELEASE = delete(submissions).where(submissions.c.key == bindparam("k"), submissions.c.state == "pending")


class Submissions:
    """The submission keys, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    def claim(self, key: str, timeout: float = 120.0, poll: float = 0.05) -> str | None:
        """Claim `key`: None when the caller should go on and create, else the first outcome's URL.

        While another request (thread, worker or replica) holds the claim, wait for its outcome.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = _now()
            try:
                with self.engine.begin() as db:
                    db.execute(_CLAIM, {"key": key, "state": "pending", "created_at": now, "updated_at": now})
                return None
            except IntegrityError:
                pass
            with self.engine.connect() as db:
                row = db.execute(_STATE_OF, {"k": key}).first()
            if row and row.state == "done":
                return row.result_url
            if time.monotonic() > deadline:
                return None
            time.sleep(poll)  # pending elsewhere, or just released: look again

    def finish(self, key: str, result_url: str, curl: str | None = None, entry: dict | None = None) -> None:
        """Mark `key` done with its result, and put `entry` on record in the same transaction."""
        with self.engine.begin() as db:
            db.execute(_FINISH, {"k": key, "result_url": result_url, "curl": curl, "now": _now()})
            if entry:
                record_in(db, entry)

    def finished(self, key: str) -> dict | None:
        """A finished submission's result URL and curl, or None."""
        with self.engine.connect() as db:
            row = db.execute(select(submissions.c.result_url, submissions.c.curl)
                             .where(submissions.c.key == key, submissions.c.state == "done")).first()
        return dict(row._mapping) if row else None

    def release(self, key: str) -> None:
        """Nothing was created: the same key may be sent again."""
        with self.engine.begin() as db:
            db.execute(_RELEASE, {"k": key})
