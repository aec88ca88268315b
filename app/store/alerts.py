"""Alert rules, the events they match and each event's deliveries: an event is made once (its id says what happened),
each matching rule gets one delivery, and a delivery is taken by one sender at a time (a lease that runs out when the
sender dies), retried with back-off, and kept with its last error."""

from __future__ import annotations

import datetime
import json
import time

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .audit import record_in
from .health import guarded
from .schema import _now, alert_deliveries, alert_events, alert_rules

# How long a sender holds a delivery before another may take it over (our choice: longer than a send's timeout).
SEND_LEASE = 60.0
# How long events and their deliveries are kept once done (our choice).
KEEP_SECONDS = 30 * 86400
RULE_COLUMNS = ("name", "sandbox", "source", "flow_id", "events", "channel", "target", "target_hint")


def _rule(row) -> dict:
    rule = dict(row._mapping)
    rule["events"] = json.loads(rule["events"])
    return rule


class Alerts:
    """Rules, events and deliveries, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    # Rules

    @guarded(retry=False)
    def add_rule(self, rule_id: str, created_by: str | None, entry: dict, **values) -> None:
        """A new rule, with its audit entry in the same commit."""
        values["events"] = json.dumps(values["events"])
        with self.engine.begin() as db:
            db.execute(
                insert(alert_rules).values(
                    id=rule_id, created_by=created_by, created_at=_now(), updated_at=_now(), **values
                )
            )
            record_in(db, entry)

    @guarded(retry=False)
    def change_rule(self, rule_id: str, entry: dict, **values) -> bool:
        if "events" in values:
            values["events"] = json.dumps(values["events"])
        with self.engine.begin() as db:
            changed = db.execute(
                update(alert_rules).where(alert_rules.c.id == rule_id).values(updated_at=_now(), **values)
            ).rowcount
            if changed:
                record_in(db, entry)
        return bool(changed)

    @guarded(retry=False)
    def remove_rule(self, rule_id: str, entry: dict) -> bool:
        """Remove a rule and its deliveries still to send."""
        with self.engine.begin() as db:
            removed = db.execute(delete(alert_rules).where(alert_rules.c.id == rule_id)).rowcount
            if removed:
                db.execute(
                    delete(alert_deliveries).where(
                        alert_deliveries.c.rule_id == rule_id, alert_deliveries.c.state != "sent"
                    )
                )
                record_in(db, entry)
        return bool(removed)

    @guarded(retry=True)
    def rule(self, rule_id: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).first()
        return _rule(row) if row else None

    @guarded(retry=True)
    def rules(self, sandboxes=None) -> list[dict]:
        """Every rule, or those of `sandboxes` (and the rules for all sandboxes), by name."""
        query = select(alert_rules).order_by(alert_rules.c.name, alert_rules.c.id)
        if sandboxes is not None:
            query = query.where(alert_rules.c.sandbox.in_([*sandboxes, "*"]))
        with self.engine.connect() as db:
            return [_rule(row) for row in db.execute(query)]

    # Events

    @guarded(retry=True)
    def add_event(
        self,
        event_id: str,
        kind: str,
        sandbox: str,
        body: dict,
        origin: str,
        rule_ids,
        flow_id: str | None = None,
        run_id: str | None = None,
        now: float | None = None,
    ) -> bool:
        """Make the event and one pending delivery per rule, in one commit: True when this call made it, False when it
        was made already (by another round, another replica, or Adobe's push)."""
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as db:
                db.execute(
                    insert(alert_events).values(
                        id=event_id,
                        kind=kind,
                        sandbox=sandbox,
                        flow_id=flow_id,
                        run_id=run_id,
                        body=json.dumps(body),
                        origin=origin,
                        created_at=_now(),
                    )
                )
                for rule_id in rule_ids:
                    db.execute(
                        insert(alert_deliveries).values(
                            event_id=event_id, rule_id=rule_id, state="pending", attempts=0, next_at=now, first_at=now
                        )
                    )
        except IntegrityError:
            return False
        return True

    @guarded(retry=True)
    def event(self, event_id: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(alert_events).where(alert_events.c.id == event_id)).first()
        return dict(row._mapping, body=json.loads(row.body)) if row else None

    @guarded(retry=True)
    def recent_events(self, sandboxes=None, limit: int = 20) -> list[dict]:
        query = select(alert_events).order_by(alert_events.c.created_at.desc()).limit(limit)
        if sandboxes is not None:
            query = query.where(alert_events.c.sandbox.in_(list(sandboxes)))
        with self.engine.connect() as db:
            return [dict(row._mapping, body=json.loads(row.body)) for row in db.execute(query)]

    # Deliveries

    @guarded(retry=True)
    def due(self, now: float | None = None, limit: int = 20) -> list[tuple[str, str]]:
        """(event id, rule id) of deliveries to send now: pending and due, or taken by a sender whose lease ran out."""
        now = time.time() if now is None else now
        c = alert_deliveries.c
        with self.engine.connect() as db:
            return [
                (row.event_id, row.rule_id)
                for row in db.execute(
                    select(c.event_id, c.rule_id)
                    .where(
                        or_((c.state == "pending") & (c.next_at <= now), (c.state == "sending") & (c.lease_until < now))
                    )
                    .order_by(c.next_at)
                    .limit(limit)
                )
            ]

    @guarded(retry=False)
    def take(self, event_id: str, rule_id: str, now: float | None = None) -> dict | None:
        """Take one delivery to send: its row when this caller took it, None when another has it or it is not due."""
        now = time.time() if now is None else now
        c = alert_deliveries.c
        with self.engine.begin() as db:
            taken = db.execute(
                update(alert_deliveries)
                .where(
                    c.event_id == event_id,
                    c.rule_id == rule_id,
                    or_((c.state == "pending") & (c.next_at <= now), (c.state == "sending") & (c.lease_until < now)),
                )
                .values(state="sending", lease_until=now + SEND_LEASE, attempts=c.attempts + 1)
            ).rowcount
            if not taken:
                return None
            row = db.execute(select(alert_deliveries).where(c.event_id == event_id, c.rule_id == rule_id)).first()
        return dict(row._mapping) if row else None

    @guarded(retry=True)
    def sent(self, event_id: str, rule_id: str, now: float | None = None) -> None:
        c = alert_deliveries.c
        with self.engine.begin() as db:
            db.execute(
                update(alert_deliveries)
                .where(c.event_id == event_id, c.rule_id == rule_id)
                .values(state="sent", sent_at=time.time() if now is None else now, lease_until=None, last_error=None)
            )

    @guarded(retry=True)
    def not_sent(self, event_id: str, rule_id: str, error: str, next_at: float | None) -> None:
        """A send that failed: pending again at `next_at`, or failed for good (None)."""
        c = alert_deliveries.c
        with self.engine.begin() as db:
            db.execute(
                update(alert_deliveries)
                .where(c.event_id == event_id, c.rule_id == rule_id)
                .values(
                    state="pending" if next_at is not None else "failed",
                    next_at=next_at or 0,
                    lease_until=None,
                    last_error=error[:500],
                )
            )

    @guarded(retry=False)
    def send_again(self, event_id: str, rule_id: str, entry: dict, now: float | None = None) -> bool:
        """A failed delivery made pending again (from the Alerts page), with its audit entry."""
        now = time.time() if now is None else now
        c = alert_deliveries.c
        with self.engine.begin() as db:
            again = db.execute(
                update(alert_deliveries)
                .where(c.event_id == event_id, c.rule_id == rule_id, c.state == "failed")
                .values(state="pending", next_at=now, first_at=now, attempts=0)
            ).rowcount
            if again:
                record_in(db, entry)
        return bool(again)

    @guarded(retry=True)
    def deliveries(self, states=("failed", "pending", "sending"), rule_ids=None, limit: int = 50) -> list[dict]:
        """Deliveries in these states, with their event, newest first."""
        c = alert_deliveries.c
        query = (
            select(
                alert_deliveries,
                alert_events.c.kind,
                alert_events.c.sandbox,
                alert_events.c.flow_id,
                alert_events.c.body,
            )
            .join(alert_events, alert_events.c.id == c.event_id)
            .where(c.state.in_(list(states)))
            .order_by(c.first_at.desc())
            .limit(limit)
        )
        if rule_ids is not None:
            query = query.where(c.rule_id.in_(list(rule_ids)))
        with self.engine.connect() as db:
            return [dict(row._mapping, body=json.loads(row.body)) for row in db.execute(query)]

    @guarded(retry=True)
    def forget_old(self, now: float | None = None) -> None:
        """Drop deliveries done and events older than KEEP_SECONDS."""
        before = (time.time() if now is None else now) - KEEP_SECONDS
        c = alert_deliveries.c
        with self.engine.begin() as db:
            db.execute(delete(alert_deliveries).where(c.first_at < before, c.state.in_(("sent", "failed"))))
            old = select(alert_events.c.id).where(alert_events.c.id.not_in(select(c.event_id)))
            ids = [row.id for row in db.execute(old.limit(1000))]
            if ids:
                db.execute(
                    delete(alert_events).where(alert_events.c.id.in_(ids), alert_events.c.created_at < _cutoff(before))
                )


def _cutoff(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)
