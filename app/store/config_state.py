"""What config as code last applied to each sandbox: per object (a connection or dataflow, by the file's name) its id,
its entry as the file had it, and a keyed hash of each secret's value, never the value. A plan compares the sandbox
with this to tell drift (a change made elsewhere since) from a change the file asks for."""

from __future__ import annotations

import json
import time

from sqlalchemy import insert, select, update

from .health import guarded
from .schema import _fit, config_state


class ConfigState:
    """The objects applied per sandbox, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=True)
    def applied(self, sandbox: str) -> dict[tuple[str, str], dict]:
        """(kind, name) → {object_id, applied, fingerprints, applied_at, applied_by} for the sandbox; an object_id of
        "" is one an apply deleted."""
        with self.engine.connect() as db:
            rows = db.execute(select(config_state).where(config_state.c.sandbox == sandbox)).mappings().all()
        return {
            (row["kind"], row["name"]): {
                "object_id": row["object_id"],
                "applied": json.loads(row["applied"]),
                "fingerprints": json.loads(row["fingerprints"]),
                "applied_at": row["applied_at"],
                "applied_by": row["applied_by"],
            }
            for row in rows
        }

    @guarded(retry=False)
    def remember(
        self, sandbox: str, kind: str, name: str, object_id: str, applied: dict, fingerprints: dict, by: str | None
    ) -> None:
        """Keep what was just applied to one object (in place of what was before)."""
        values = dict(
            object_id=object_id,
            applied=json.dumps(applied, sort_keys=True),
            fingerprints=json.dumps(fingerprints, sort_keys=True),
            applied_at=time.time(),
            applied_by=_fit(config_state.c.applied_by, by) if by else None,
        )
        key = (config_state.c.sandbox == sandbox, config_state.c.kind == kind, config_state.c.name == name)
        with self.engine.begin() as db:
            if not db.execute(update(config_state).where(*key).values(**values)).rowcount:
                db.execute(insert(config_state).values(sandbox=sandbox, kind=kind, name=name, **values))

    def forget(self, sandbox: str, kind: str, name: str, by: str | None) -> None:
        """The object was deleted by an apply: nothing to tell drift from any more. Its record stays, with no object,
        so that making one of that name again is a new request, never the deleted one found again."""
        self.remember(sandbox, kind, name, "", {}, {}, by)
