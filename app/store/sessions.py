"""Signing in: the failed sign-ins each throttle key has had, and the sessions people hold. The cookie holds a random
id, the store its SHA-256: signing out, expiry and a new password end a session everywhere, whatever copies of the
cookie exist."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import delete, insert, select, update

from .health import guarded
from .schema import _fit, sessions, sign_in_failures


class Sessions:
    """Sign-in failures and sessions, over the store's engines."""

    def __init__(self, engine, serial_engine, for_update: bool):
        self.engine, self._serial_engine, self._for_update = engine, serial_engine, for_update

    @guarded(retry=False)
    def sign_in_attempt(self, limits: dict[str, int], now: float, window: float, max_wait: float) -> int:
        """Count one attempt against each key of `limits` ({key: failures allowed before waiting}).

        Returns the seconds to wait before trying (0: go ahead). The attempt is counted before the password
        is checked, in one serialised transaction, so that simultaneous guesses on many workers cannot all
        slip through; `sign_in_succeeded` takes it back.
        """
        with self._serial_engine.begin() as db:
            query = select(sign_in_failures).where(sign_in_failures.c.key.in_(list(limits)))
            rows = {row.key: row for row in db.execute(query.with_for_update() if self._for_update else query)}
            wait = 0.0
            for key, free in limits.items():
                row = rows.get(key)
                if row and now - row.last_at <= window and row.count >= free:
                    wait = max(wait, row.last_at + min(2 ** (row.count - free), max_wait) - now)
            if wait > 0:
                return int(wait + 0.999)
            for key in limits:
                row = rows.get(key)
                if row is None:
                    db.execute(insert(sign_in_failures).values(key=key, count=1, last_at=now))
                else:
                    count = 1 if now - row.last_at > window else row.count + 1
                    db.execute(
                        update(sign_in_failures).where(sign_in_failures.c.key == key).values(count=count, last_at=now)
                    )
            return 0

    @guarded(retry=True)
    def sign_in_succeeded(self, forget: str, take_back: str) -> None:
        """A right password: forget `forget`'s failures, and take back the attempt counted against `take_back`."""
        with self._serial_engine.begin() as db:
            db.execute(delete(sign_in_failures).where(sign_in_failures.c.key == forget))
            db.execute(
                update(sign_in_failures)
                .where(sign_in_failures.c.key == take_back, sign_in_failures.c.count > 0)
                .values(count=sign_in_failures.c.count - 1)
            )

    @staticmethod
    def _hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    @guarded(retry=False)
    def start_session(
        self,
        session_id: str,
        user: str,
        key: str | None,
        lifetime: float,
        *,
        subject=None,
        email=None,
        groups=(),
        id_token=None,
    ) -> None:
        now = time.time()
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.expires_at < now))
            db.execute(
                insert(sessions).values(
                    id_hash=self._hash(session_id),
                    user=_fit(sessions.c.user, user),
                    key=key,
                    subject=_fit(sessions.c.subject, subject) if subject else None,
                    email=_fit(sessions.c.email, email) if email else None,
                    groups=",".join(groups),
                    id_token=id_token or None,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )

    @guarded(retry=True)
    def session(self, session_id: str) -> dict | None:
        """The live session of this id (user, key, subject, email, groups…), or None when it ended or never was."""
        with self.engine.connect() as db:
            row = db.execute(
                select(sessions).where(
                    sessions.c.id_hash == self._hash(session_id), sessions.c.expires_at > time.time()
                )
            ).first()
        if not row:
            return None
        live = dict(row._mapping)
        live["groups"] = tuple(g for g in (live["groups"] or "").split(",") if g)
        return live

    @guarded(retry=True)
    def end_session(self, session_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.id_hash == self._hash(session_id)))
