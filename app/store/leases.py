"""Leases: a job that must run once across every worker and replica (the reconciler) runs in whichever process holds
its lease. A lease runs out on its own, so a process that dies holding one stops nothing for long."""

from __future__ import annotations

import time

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from .health import guarded
from .schema import leases


class Leases:
    """Leases by name, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)
    def take(self, name: str, holder: str, seconds: float, now: float | None = None) -> bool:
        """Hold `name` for `seconds`: True when `holder` holds it now (taken, or renewed), False when another does."""
        now = time.time() if now is None else now
        with self.engine.begin() as db:
            renewed = db.execute(
                update(leases)
                .where(leases.c.name == name, (leases.c.until < now) | (leases.c.holder == holder))
                .values(holder=holder, until=now + seconds)
            ).rowcount
        if renewed:
            return True
        try:
            with self.engine.begin() as db:
                db.execute(insert(leases).values(name=name, holder=holder, until=now + seconds))
        except IntegrityError:  # another holds it (or took it between the two statements)
            return False
        return True

    @guarded(retry=True)
    def release(self, name: str, holder: str) -> None:
        """Give the lease back, if `holder` holds it."""
        with self.engine.begin() as db:
            db.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
