"""Submissions: one connection per form, however often the form is sent. Each rendered form carries a one-time key;
the first request to claim it creates, and every other waits for its outcome and shows the same connection.

A claim records what it is about to create (its intent), so that a submission left pending by a worker that died is
completed from what Adobe holds (app/reconciler.py); a key whose creation made nothing is marked failed, and may be
claimed again.
"""

from __future__ import annotations

import datetime
import json
import os
import time

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .audit import record_in
from .health import guarded
from .schema import _now, submissions

# The statements every submission runs, built once per process; their values are bound at execute.
_CLAIM = insert(submissions)
_STATE_OF = select(submissions.c.state, submissions.c.result_url, submissions.c.claimed_by).where(
    submissions.c.key == bindparam("k")
)
_RECLAIM = (
    update(submissions)
    .where(submissions.c.key == bindparam("k"), submissions.c.state == "failed")
    .values(
        state="pending",
        claimed_by=bindparam("by"),
        intent=bindparam("intent"),
        result_url=None,
        updated_at=bindparam("now"),
    )
)
_FINISH = (
    update(submissions)
    .where(submissions.c.key == bindparam("k"), submissions.c.state == "pending")
    .values(state="done", result_url=bindparam("result_url"), curl=bindparam("curl"), updated_at=bindparam("now"))
)
_RELEASE = delete(submissions).where(submissions.c.key == bindparam("k"), submissions.c.state == "pending")


class Submissions:
    """The submission keys, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)  # retried below, with the same token, so that the claim knows its own row
    def claim(
        self, key: str, intent: dict | None = None, timeout: float = 120.0, poll: float = 0.05, token: str | None = None
    ) -> str | None:
        """Claim `key` for creating what `intent` describes: None when the caller should go on and create, else the
        first outcome's URL. While another request (thread, worker or replica) holds the claim, wait for its outcome.
        Tried again after a dropped connection, a claim finds the row it made itself (by `token`) and goes on."""
        deadline = time.monotonic() + timeout
        token, described = token or os.urandom(12).hex(), json.dumps(intent) if intent else None
        dropped = False
        while True:
            now = _now()
            try:
                with self.engine.begin() as db:
                    db.execute(
                        _CLAIM,
                        {
                            "key": key,
                            "state": "pending",
                            "claimed_by": token,
                            "intent": described,
                            "created_at": now,
                            "updated_at": now,
                        },
                    )
                return None
            except IntegrityError:
                pass
            except DBAPIError as error:
                if dropped or not error.connection_invalidated:
                    raise
                dropped = True  # once: the insert may have committed before the answer was lost
                continue
            with self.engine.begin() as db:
                if db.execute(_RECLAIM, {"k": key, "by": token, "intent": described, "now": now}).rowcount == 1:
                    return None  # the earlier try made nothing: this one may
                row = db.execute(_STATE_OF, {"k": key}).first()
            if row and row.state == "done":
                return row.result_url
            if row and row.claimed_by == token:
                return None  # made by this very claim, whose commit's answer was lost
            if time.monotonic() > deadline:
                return None
            time.sleep(poll)  # pending elsewhere, or just released: look again

    @guarded(retry=True)
    def finish(self, key: str, result_url: str, curl: str | None = None, entry: dict | None = None) -> bool:
        """Mark `key` done with its result, and put `entry` on record in the same transaction. Only a pending key is
        finished, so a finish retried after a lost commit records nothing twice; False when it was done already."""
        with self.engine.begin() as db:
            changed = db.execute(_FINISH, {"k": key, "result_url": result_url, "curl": curl, "now": _now()}).rowcount
            if changed and entry:
                record_in(db, entry)
        return changed == 1

    @guarded(retry=True)
    def intent(self, key: str) -> dict | None:
        """What the key's claim said it would create (its intent), or None when the key was never claimed."""
        with self.engine.connect() as db:
            row = db.execute(select(submissions.c.intent).where(submissions.c.key == key)).first()
        return json.loads(row.intent) if row and row.intent else ({} if row else None)

    @guarded(retry=True)
    def finished(self, key: str) -> dict | None:
        """A finished submission's result URL and curl, or None."""
        with self.engine.connect() as db:
            row = db.execute(
                select(submissions.c.result_url, submissions.c.curl).where(
                    submissions.c.key == key, submissions.c.state == "done"
                )
            ).first()
        return dict(row._mapping) if row else None

    @guarded(retry=True)
    def release(self, key: str, token: str | None = None) -> None:
        """Nothing was created: the same key may be sent again. With `token`, only the claim it made is released
        (never another request's)."""
        with self.engine.begin() as db:
            if token is None:
                db.execute(_RELEASE, {"k": key})
            else:
                db.execute(_RELEASE.where(submissions.c.claimed_by == token), {"k": key})

    @guarded(retry=True)
    def pending(self, older_than: float, limit: int = 50) -> list[dict]:
        """Submissions still pending `older_than` seconds after their claim, oldest first, with their intent."""
        cutoff = _now() - datetime.timedelta(seconds=older_than)
        with self.engine.connect() as db:
            rows = db.execute(
                select(submissions.c.key, submissions.c.intent, submissions.c.created_at)
                .where(submissions.c.state == "pending", submissions.c.updated_at < cutoff)
                .order_by(submissions.c.created_at)
                .limit(limit)
            ).all()
        return [
            {"key": row.key, "intent": json.loads(row.intent) if row.intent else None, "created_at": row.created_at}
            for row in rows
        ]

    @guarded(retry=True)
    def fail(self, key: str, entry: dict | None = None) -> bool:
        """Nothing was made for a pending key: mark it failed (it may be claimed again), `entry` on record with it."""
        with self.engine.begin() as db:
            changed = db.execute(
                update(submissions)
                .where(submissions.c.key == key, submissions.c.state == "pending")
                .values(state="failed", updated_at=_now())
            ).rowcount
            if changed and entry:
                record_in(db, entry)
        return changed == 1
