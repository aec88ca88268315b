"""Dataflow drafts: what a person chose, step by step (the plan, as JSON), and each object of the chain as it is made,
under one key. Any worker or replica continues a chain from here; its columns are written one at a time, so steps
made side by side never overwrite each other. And the failed runs retried from the portal, each once."""

from __future__ import annotations

import datetime
import hashlib
import json
import time

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .audit import record_in
from .health import guarded
from .schema import (
    DRAFT_DAYS,
    DRAFT_STEPS,
    MOST_OPEN_DRAFTS,
    OPEN_DRAFT_STATES,
    RETRY_LEASE,
    _now,
    dataflow_drafts,
    run_retries,
)


def plan_revision(plan_text: str) -> str:
    """A short digest of a draft's plan as stored: what the review page showed, checked again at create."""
    return hashlib.sha256(plan_text.encode()).hexdigest()[:16]


def _owned_by(owner: str | None):
    """Drafts of this person; with nobody signed in (WIZARD_AUTH none), the drafts started that way."""
    return dataflow_drafts.c.owner == owner if owner is not None else dataflow_drafts.c.owner.is_(None)


class Drafts:
    """Drafts and run retries, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)
    def new_draft(
        self, key: str, owner: str | None, sandbox: str, connection_id: str, plan: dict, most: int = MOST_OPEN_DRAFTS
    ) -> bool:
        """Open a draft, unless the person has `most` open already (False). Drafts untouched for DRAFT_DAYS go first,
        unless their chain stopped halfway (those name objects in Adobe that someone may still want to remove) or is
        being made."""
        now = _now()
        with self.engine.begin() as db:
            db.execute(
                delete(dataflow_drafts).where(
                    dataflow_drafts.c.updated_at < now - datetime.timedelta(days=DRAFT_DAYS),
                    dataflow_drafts.c.state.in_(("draft", "done", "removed")),
                )
            )
            db.execute(
                insert(dataflow_drafts).values(
                    key=key,
                    owner=owner,
                    sandbox=sandbox,
                    connection_id=connection_id,
                    plan=json.dumps(plan),
                    state="draft",
                    created_at=now,
                    updated_at=now,
                )
            )
            # Counted after the insert, in the same transaction: two starts at once cannot both slip under the bound.
            count = db.execute(
                select(func.count())
                .select_from(dataflow_drafts)
                .where(_owned_by(owner), dataflow_drafts.c.state.in_(OPEN_DRAFT_STATES))
            ).scalar()
            if count > most:
                db.execute(delete(dataflow_drafts).where(dataflow_drafts.c.key == key))
                return False
        return True

    @guarded(retry=True)
    def draft(self, key: str) -> dict | None:
        """The draft with its plan read back, and the plan's revision (what a review page showed), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(dataflow_drafts).where(dataflow_drafts.c.key == key)).first()
        if row is None:
            return None
        found = dict(row._mapping)
        found["revision"] = plan_revision(found["plan"])
        found["plan"] = json.loads(found["plan"])
        return found

    @guarded(retry=True)
    def save_plan(self, key: str, plan: dict) -> bool:
        """Change what a draft will create; False once creating has begun (its plan is then fixed)."""
        with self.engine.begin() as db:
            changed = db.execute(
                update(dataflow_drafts)
                .where(dataflow_drafts.c.key == key, dataflow_drafts.c.state == "draft")
                .values(plan=json.dumps(plan), updated_at=_now())
            ).rowcount
        return changed == 1

    @guarded(retry=False)
    def start_chain(self, key: str, lease: float, revision: str | None = None) -> bool:
        """Take the chain for `lease` seconds: True when this request is now the one creating it (from a draft, a
        stop, or a lease that ran out), False when another request holds it or it has ended. With `revision`, a draft
        is taken only while its plan is still the one of that revision (the one the person reviewed)."""
        now = time.time()
        takeable = dataflow_drafts.c.state.in_(("draft", "stopped")) | (
            (dataflow_drafts.c.state == "creating") & (dataflow_drafts.c.lease_until < now)
        )
        with self.engine.begin() as db:
            conditions = [dataflow_drafts.c.key == key, takeable]
            if revision is not None:
                plan = db.execute(select(dataflow_drafts.c.plan).where(dataflow_drafts.c.key == key)).scalar()
                if plan is None or plan_revision(plan) != revision:
                    return False
                # The update itself compares the plan: a change saved since the read above leaves the draft untaken.
                conditions.append((dataflow_drafts.c.state != "draft") | (dataflow_drafts.c.plan == plan))
            taken = db.execute(
                update(dataflow_drafts)
                .where(*conditions)
                .values(state="creating", lease_until=now + lease, problem=None, updated_at=_now())
            ).rowcount
        return taken == 1

    @guarded(retry=True)
    def made(self, key: str, step: str, object_id: str | None) -> None:
        """Record one object of the chain the moment Adobe names it (None: it was deleted)."""
        if step not in DRAFT_STEPS:
            raise ValueError(step)
        with self.engine.begin() as db:
            db.execute(
                update(dataflow_drafts)
                .where(dataflow_drafts.c.key == key)
                .values({step: object_id, "updated_at": _now()})
            )

    @guarded(retry=False)
    def end_chain(self, key: str, state: str, problem: str | None = None, entry: dict | None = None) -> None:
        """The chain is done, stopped (with the problem to show) or removed; `entry` goes on record with it."""
        with self.engine.begin() as db:
            db.execute(
                update(dataflow_drafts)
                .where(dataflow_drafts.c.key == key)
                .values(state=state, problem=problem, lease_until=None, updated_at=_now())
            )
            if entry:
                record_in(db, entry)

    @guarded(retry=True)
    def abandoned(self, grace: float, now: float | None = None) -> list[str]:
        """The keys of drafts left `creating` by a request whose lease ran out more than `grace` seconds ago."""
        now = time.time() if now is None else now
        with self.engine.connect() as db:
            return list(
                db.execute(
                    select(dataflow_drafts.c.key).where(
                        dataflow_drafts.c.state == "creating", dataflow_drafts.c.lease_until < now - grace
                    )
                ).scalars()
            )

    @guarded(retry=True)
    def open_drafts(self, owner: str | None) -> list[dict]:
        """The person's drafts not yet done or removed, newest first (the plan's table and dataflow name only)."""
        query = (
            select(
                dataflow_drafts.c.key,
                dataflow_drafts.c.sandbox,
                dataflow_drafts.c.connection_id,
                dataflow_drafts.c.state,
                dataflow_drafts.c.plan,
                dataflow_drafts.c.updated_at,
            )
            .where(_owned_by(owner), dataflow_drafts.c.state.in_(OPEN_DRAFT_STATES))
            .order_by(dataflow_drafts.c.updated_at.desc())
        )
        with self.engine.connect() as db:
            rows = [dict(row._mapping) for row in db.execute(query)]
        for row in rows:
            plan = json.loads(row.pop("plan"))
            row["table"], row["name"] = plan.get("table"), (plan.get("schedule") or {}).get("name")
        return rows

    @guarded(retry=False)
    def discard_draft(self, key: str, owner: str | None) -> bool:
        """Delete the person's draft while nothing of its chain exists; False otherwise."""
        with self.engine.begin() as db:
            gone = db.execute(
                delete(dataflow_drafts).where(
                    dataflow_drafts.c.key == key, dataflow_drafts.c.state == "draft", _owned_by(owner)
                )
            ).rowcount
        return gone == 1

    @guarded(retry=False)
    def take_retry(self, run_id: str, flow_id: str, now: float | None = None) -> bool:
        """Take a failed run's retry: True for the one request that may send it; False when it was retried already
        or another request is retrying it now."""
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as db:
                db.execute(insert(run_retries).values(run_id=run_id, flow_id=flow_id, taken_at=now))
            return True
        except IntegrityError:
            pass
        # A taking whose request died without an answer either way is taken over once its lease ran out.
        with self.engine.begin() as db:
            return (
                db.execute(
                    update(run_retries)
                    .where(
                        run_retries.c.run_id == run_id,
                        run_retries.c.new_run_id.is_(None),
                        run_retries.c.taken_at < now - RETRY_LEASE,
                    )
                    .values(taken_at=now)
                ).rowcount
                == 1
            )

    @guarded(retry=True)
    def retry_done(self, run_id: str, new_run_id: str | None) -> None:
        """The retry was sent: record the run it made; with None (Adobe refused it), give the run back."""
        with self.engine.begin() as db:
            if new_run_id is None:
                db.execute(delete(run_retries).where(run_retries.c.run_id == run_id))
            else:
                db.execute(update(run_retries).where(run_retries.c.run_id == run_id).values(new_run_id=new_run_id))

    @guarded(retry=True)
    def retries_of(self, flow_id: str) -> dict[str, str | None]:
        """{run id: the run its retry made (None while it is being sent)} for a dataflow's runs retried here."""
        with self.engine.connect() as db:
            return dict(
                db.execute(
                    select(run_retries.c.run_id, run_retries.c.new_run_id).where(run_retries.c.flow_id == flow_id)
                ).all()
            )

    @guarded(retry=True)
    def made_flows(self, sandboxes) -> dict[str, dict]:
        """{flow id: what the portal chose when it made the dataflow (table, dataset, connection id)} for the dataflows
        made here in these sandboxes: the dataflows page names their table and dataset without a read per dataflow."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(dataflow_drafts.c.flow_id, dataflow_drafts.c.plan, dataflow_drafts.c.connection_id).where(
                    dataflow_drafts.c.state == "done",
                    dataflow_drafts.c.flow_id.is_not(None),
                    dataflow_drafts.c.sandbox.in_(list(sandboxes)),
                )
            )
            made = {}
            for row in rows:
                plan = json.loads(row.plan)
                made[row.flow_id] = {
                    "table": plan.get("table"),
                    "dataset": plan.get("dataset") or {},
                    "connection_id": row.connection_id,
                }
            return made
