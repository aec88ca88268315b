"""Clean-ups: the target connections still to delete when a connection is deleted with everything made from it (nothing
in Flow Service leads from a base connection to them once their dataflows are gone), so that a stopped deletion
resumes."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select, update

from .health import guarded
from .schema import _now, cleanups


class Cleanups:
    """Clean-ups, over the store's engines."""

    def __init__(self, engine, serial_engine, for_update: bool):
        self.engine, self._serial_engine, self._for_update = engine, serial_engine, for_update

    @guarded(retry=True)
    def remember_targets(self, connection_id: str, sandbox: str, target_ids) -> list[str]:
        """Add `target_ids` to those kept for the deletion of `connection_id`; all of them, in order."""
        with self._serial_engine.begin() as db:
            query = select(cleanups.c.target_ids).where(
                cleanups.c.connection_id == connection_id, cleanups.c.sandbox == sandbox
            )
            row = db.execute(query.with_for_update() if self._for_update else query).first()
            kept = json.loads(row.target_ids) if row else []
            kept += [i for i in target_ids if i not in kept]
            values = dict(target_ids=json.dumps(kept), updated_at=_now())
            if row:
                db.execute(update(cleanups).where(cleanups.c.connection_id == connection_id).values(**values))
            else:
                db.execute(insert(cleanups).values(connection_id=connection_id, sandbox=sandbox, **values))
        return kept

    @guarded(retry=True)
    def remembered_targets(self, connection_id: str, sandbox: str) -> list[str]:
        with self.engine.connect() as db:
            row = db.execute(
                select(cleanups.c.target_ids).where(
                    cleanups.c.connection_id == connection_id, cleanups.c.sandbox == sandbox
                )
            ).first()
        return json.loads(row.target_ids) if row else []

    @guarded(retry=True)
    def forget_target(self, connection_id: str, target_id: str) -> None:
        with self._serial_engine.begin() as db:
            query = select(cleanups.c.target_ids).where(cleanups.c.connection_id == connection_id)
            row = db.execute(query.with_for_update() if self._for_update else query).first()
            if row:
                kept = [i for i in json.loads(row.target_ids) if i != target_id]
                db.execute(
                    update(cleanups)
                    .where(cleanups.c.connection_id == connection_id)
                    .values(target_ids=json.dumps(kept), updated_at=_now())
                )

    @guarded(retry=True)
    def forget_cleanup(self, connection_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(cleanups).where(cleanups.c.connection_id == connection_id))
