"""What the watcher (app/watch/watcher.py) has seen of each sandbox: its dataflows, their runs, and where it has read
the runs up to. Health on the dataflows page (records in the last day, failures in a row) is counted from here, so it
is the same on every worker and replica and survives a restart."""

from __future__ import annotations

import json

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .health import guarded
from .schema import _now, watch_cursors, watched_flows, watched_runs

# How long runs are kept (our choice: a month of a dataflow's history; the dataflow's page reads Adobe beyond that).
KEEP_DAYS = 30
RUN_COLUMNS = (
    "sandbox",
    "flow_id",
    "created_ms",
    "completed_ms",
    "status",
    "records_read",
    "records_written",
    "records_failed",
    "errors",
)


class Watch:
    """Runs, dataflows and cursors, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=True)
    def cursor(self, sandbox: str) -> int | None:
        """Where the runs of `sandbox` have been read up to (Flow Service's createdAt, ms), or None before any round."""
        with self.engine.connect() as db:
            return db.execute(select(watch_cursors.c.since_ms).where(watch_cursors.c.sandbox == sandbox)).scalar()

    @guarded(retry=True)
    def set_cursor(self, sandbox: str, since_ms: int) -> None:
        with self.engine.begin() as db:
            changed = db.execute(
                update(watch_cursors)
                .where(watch_cursors.c.sandbox == sandbox)
                .values(since_ms=since_ms, updated_at=_now())
            ).rowcount
            if not changed:
                try:
                    with db.begin_nested():
                        db.execute(insert(watch_cursors).values(sandbox=sandbox, since_ms=since_ms, updated_at=_now()))
                except IntegrityError:
                    db.execute(
                        update(watch_cursors)
                        .where(watch_cursors.c.sandbox == sandbox)
                        .values(since_ms=since_ms, updated_at=_now())
                    )

    @guarded(retry=True)
    def keep_runs(self, runs: list[dict], noticed: bool = False) -> None:
        """Insert or update runs (dicts with run_id and RUN_COLUMNS). A run already noticed keeps that; one kept as
        in progress takes its final status. `noticed` marks new rows as needing no events (a first round)."""
        if not runs:
            return
        with self.engine.begin() as db:
            known = {
                row.run_id: row
                for row in db.execute(
                    select(watched_runs.c.run_id, watched_runs.c.status, watched_runs.c.noticed).where(
                        watched_runs.c.run_id.in_([run["run_id"] for run in runs])
                    )
                )
            }
            for run in runs:
                values = {key: run.get(key) for key in RUN_COLUMNS}
                row = known.get(run["run_id"])
                if row is None:
                    try:
                        with db.begin_nested():
                            db.execute(insert(watched_runs).values(run_id=run["run_id"], noticed=noticed, **values))
                    except IntegrityError:
                        pass  # kept by another reader meanwhile (the page, the push endpoint)
                elif row.status != values["status"] and not row.noticed:
                    db.execute(update(watched_runs).where(watched_runs.c.run_id == run["run_id"]).values(**values))

    @guarded(retry=True)
    def unnoticed(self, sandbox: str, final: tuple[str, ...], flow_id: str | None = None) -> list[dict]:
        """Final runs not yet turned into events, oldest first."""
        query = select(watched_runs).where(
            watched_runs.c.sandbox == sandbox, watched_runs.c.noticed.is_(False), watched_runs.c.status.in_(final)
        )
        if flow_id:
            query = query.where(watched_runs.c.flow_id == flow_id)
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query.order_by(watched_runs.c.created_ms))]

    @guarded(retry=False)
    def notice(self, run_id: str) -> bool:
        """Mark a run as turned into events: True for the one caller that marks it (a watcher round and Adobe's push
        may meet on the same run; only one of them makes its events)."""
        with self.engine.begin() as db:
            return bool(
                db.execute(
                    update(watched_runs)
                    .where(watched_runs.c.run_id == run_id, watched_runs.c.noticed.is_(False))
                    .values(noticed=True)
                ).rowcount
            )

    @guarded(retry=True)
    def flows(self, sandbox: str) -> dict[str, dict]:
        with self.engine.connect() as db:
            return {
                row.flow_id: dict(row._mapping)
                for row in db.execute(select(watched_flows).where(watched_flows.c.sandbox == sandbox))
            }

    @guarded(retry=True)
    def flow(self, flow_id: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(watched_flows).where(watched_flows.c.flow_id == flow_id)).first()
        return dict(row._mapping) if row else None

    @guarded(retry=True)
    def keep_flow(self, flow_id: str, sandbox: str, **values) -> None:
        """Insert or update what the watcher knows of a dataflow."""
        values["updated_at"] = _now()
        with self.engine.begin() as db:
            if not db.execute(
                update(watched_flows).where(watched_flows.c.flow_id == flow_id).values(sandbox=sandbox, **values)
            ).rowcount:
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(watched_flows).values(
                                flow_id=flow_id, sandbox=sandbox, **{"failures_in_row": 0, **values}
                            )
                        )
                except IntegrityError:
                    db.execute(
                        update(watched_flows)
                        .where(watched_flows.c.flow_id == flow_id)
                        .values(sandbox=sandbox, **values)
                    )

    @guarded(retry=True)
    def health(self, sandboxes, since_ms: int) -> dict[str, dict]:
        """Per dataflow of these sandboxes: records written since `since_ms`, failures in a row, the newest run kept."""
        found: dict[str, dict] = {}
        with self.engine.connect() as db:
            for row in db.execute(
                select(watched_flows.c.flow_id, watched_flows.c.failures_in_row, watched_flows.c.late_after).where(
                    watched_flows.c.sandbox.in_(list(sandboxes))
                )
            ):
                found[row.flow_id] = {
                    "failures_in_row": row.failures_in_row,
                    "late_after": row.late_after,
                    "records": 0,
                }
            for row in db.execute(
                select(watched_runs.c.flow_id, func.sum(watched_runs.c.records_written))
                .where(watched_runs.c.sandbox.in_(list(sandboxes)), watched_runs.c.created_ms >= since_ms)
                .group_by(watched_runs.c.flow_id)
            ):
                found.setdefault(row[0], {"failures_in_row": 0, "late_after": None})["records"] = int(row[1] or 0)
        return found

    @guarded(retry=True)
    def newest(self, sandboxes) -> dict[str, dict]:
        """Per dataflow of these sandboxes, its newest run kept: created_ms and status."""
        newest = (
            select(watched_runs.c.flow_id, func.max(watched_runs.c.created_ms).label("created_ms"))
            .where(watched_runs.c.sandbox.in_(list(sandboxes)))
            .group_by(watched_runs.c.flow_id)
            .subquery()
        )
        with self.engine.connect() as db:
            rows = db.execute(
                select(watched_runs.c.flow_id, watched_runs.c.created_ms, watched_runs.c.status).join(
                    newest,
                    and_(newest.c.flow_id == watched_runs.c.flow_id, newest.c.created_ms == watched_runs.c.created_ms),
                )
            )
            return {row.flow_id: {"created_ms": row.created_ms, "status": row.status} for row in rows}

    @guarded(retry=True)
    def runs_of(self, flow_id: str, limit: int = 30) -> list[dict]:
        """The newest runs kept for one dataflow, newest first."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(watched_runs)
                .where(watched_runs.c.flow_id == flow_id)
                .order_by(watched_runs.c.created_ms.desc())
                .limit(limit)
            )
            return [dict(row._mapping, errors=json.loads(row.errors or "[]")) for row in rows]

    @guarded(retry=True)
    def forget_old(self, now_ms: int) -> int:
        """Drop runs noticed more than KEEP_DAYS ago; how many."""
        before = now_ms - KEEP_DAYS * 86_400_000
        with self.engine.begin() as db:
            return db.execute(
                delete(watched_runs).where(and_(watched_runs.c.created_ms < before, watched_runs.c.noticed.is_(True)))
            ).rowcount
