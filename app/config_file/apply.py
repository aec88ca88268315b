"""Carrying out a plan, in Flow Service's order: dataflows that go are deleted first, then each connection is made,
changed or made again, then each dataflow, then connections that go. Every object goes through the commands the
pages and the API use (exactly once per key, audited), and what was applied is kept in the store at once, so that
applying again after a stop goes on from there with nothing made twice, and applying twice changes nothing. One apply
runs per sandbox at a time, across workers and replicas (a lease in the store)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import secrets
import time

from flask import g
from werkzeug.exceptions import HTTPException

from .. import services
from ..adobe import AdobeError
from ..api import dataflow_changes, forms, new_dataflows, schemas
from ..api.problems import Problem as ApiProblem
from ..web import changing, connections, creating, credential_links
from ..web import dataflow_actions as actions
from ..web.loaders import AdobeFailed, ReadOnlyHere
from . import desired
from .changes import Change
from .plan import Plan

# How long an apply holds its sandbox from its last step: renewed before each object, freed this long after a worker
# dies mid-apply.
LEASE_SECONDS = 300.0
LOST = "not applied: the apply lost its hold on the sandbox (another may have begun); apply again"


WAITING = "waits for the database owner to type its credentials, then apply again"


class Busy(Exception):
    """Another apply to the sandbox is under way."""


@dataclasses.dataclass
class Done:
    kind: str
    name: str
    action: str
    outcome: str  # done, failed, skipped (nothing to do, or waiting), pending
    id: str | None = None
    message: str | None = None
    link: str | None = None  # a credential link for the database owner, given this once

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def lease_name(sandbox: str) -> str:
    return "config-apply:" + hashlib.sha256(sandbox.encode()).hexdigest()[:40]


@contextlib.contextmanager
def one_at_a_time(sandbox: str):
    """Hold the sandbox for one apply, across workers and replicas: plan inside it, so that an apply never acts on
    what another changed meanwhile. Busy when another holds it. Gives what renews the hold (False once lost)."""
    holder = secrets.token_hex(8)
    if not services.store().leases.take(lease_name(sandbox), holder, LEASE_SECONDS):
        raise Busy(sandbox)
    try:
        yield lambda: services.store().leases.take(lease_name(sandbox), holder, LEASE_SECONDS)
    finally:
        services.store().leases.release(lease_name(sandbox), holder)


def _key(kind: str, sandbox: str, name: str, what: object, applied: dict | None) -> str:
    """The store's key for making one object: the same object asked the same way by the same person is made once,
    whatever stops in between; once made and recorded, a later apply (after it was deleted elsewhere) is new."""
    text = json.dumps(
        [kind, sandbox, name, what, g.get("user") or "", (applied or {}).get("applied_at")], sort_keys=True, default=str
    )
    return "cfg-" + hashlib.sha256(text.encode()).hexdigest()[:40]


class Applying:
    """One apply of `plan` to its sandbox, with the secrets' values `given` (connection → field → value)."""

    def __init__(self, plan: Plan, given: dict[str, dict[str, str]], renew=lambda: True):
        self.plan, self.given, self.renew = plan, given, renew
        self.sandbox = plan.sandbox
        self.state = services.store().config.applied(plan.sandbox)
        self.done: list[Done] = []
        self.connection_ids: dict[str, str] = {}
        self.failed_connections: set[str] = set()

    def run(self) -> list[Done]:
        """Each change in Flow Service's order; call it within `one_at_a_time(sandbox)`, with a plan made there."""
        changes = self.plan.changes
        for change in changes:
            if change.kind == "dataflow" and change.action == "delete":
                self._guarded(change, self._delete_flow)
        for change in changes:
            if change.kind == "connection" and change.action != "delete":
                self._guarded(change, self._connection)
        for change in changes:
            if change.kind == "dataflow" and change.action != "delete":
                self._guarded(change, self._dataflow)
        for change in changes:
            if change.kind == "connection" and change.action == "delete":
                self._guarded(change, self._delete_connection)
        return self.done

    def _guarded(self, change: Change, step) -> None:
        if change.action in ("left",):
            return
        if change.action == "pending":
            waiting = Done(change.kind, change.name, change.action, "pending", change.id, "; ".join(change.notes))
            if change.kind == "connection" and change.would == "create":
                waiting.message, waiting.link = self._ask_owner(change)
            self.done.append(waiting)
            return
        if not self.renew():
            self.done.append(Done(change.kind, change.name, change.action, "skipped", change.id, LOST))
            return
        try:
            outcome = step(change)
        except ApiProblem as refused:
            outcome = Done(change.kind, change.name, change.action, "failed", change.id, _said(refused))
        except AdobeError as error:
            outcome = Done(change.kind, change.name, change.action, "failed", change.id, error.message)
        except AdobeFailed as failed:
            outcome = Done(change.kind, change.name, change.action, "failed", change.id, failed.error.message)
        except ReadOnlyHere as read_only:
            outcome = Done(change.kind, change.name, change.action, "failed", change.id, read_only.message)
        except HTTPException as gone:  # a loader's 404: the object went meanwhile
            outcome = Done(change.kind, change.name, change.action, "failed", change.id, gone.description)
        if outcome.outcome == "failed" and change.kind == "connection":
            self.failed_connections.add(change.name)
        self.done.append(outcome)

    # Connections

    def _connection(self, change: Change) -> Done:
        wanted: desired.WantedConnection = self.plan.wanted[("connection", change.name)]
        seen = self.plan.seen.get(("connection", change.name))
        applied = self.state.get(("connection", change.name))
        if change.action == "none":
            self.connection_ids[change.name] = change.id or ""
            self._remember_connection(wanted, change.id or "", applied, keep_prints=True)
            return Done("connection", change.name, "none", "skipped", change.id)
        if change.action == "replace" and seen is not None:
            failed = changing.delete(seen.connection, seen.source, self.sandbox, self._dependents(change.id or ""))
            if failed is not None:
                return Done("connection", change.name, "replace", "failed", change.id, failed.message)
        if change.action in ("create", "replace"):
            what = [wanted.normalized(), wanted.fingerprints]
            outcome = creating.create(
                wanted.source,
                self._form(wanted),
                _key("connection", self.sandbox, change.name, what, applied),
                check_namesakes=False,
                fingerprint=hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest(),
            )
            if outcome.error is not None:
                return Done("connection", change.name, change.action, "failed", None, outcome.error.message)
            made = outcome.connection_id or ""
            self.connection_ids[change.name] = made
            self._remember_connection(wanted, made, None)
            return Done("connection", change.name, change.action, "done", made, _tested(self.sandbox, made))
        return self._update_connection(change, wanted, applied)

    def _ask_owner(self, change: Change) -> tuple[str, str | None]:
        """A credential link for a connection whose secrets the database owner types (written `ask`): made once for
        the file's connection as it stands; applying again once they typed them goes on from there."""
        wanted = self.plan.wanted[("connection", change.name)]
        kept = {k: v for k, v in wanted.entry.fields.items() if k not in wanted.references and v is not False}
        prepared = {
            "name": change.name,
            "description": wanted.entry.description or "",
            "sandbox": self.sandbox,
            **{k: "y" if v is True else str(v) for k, v in kept.items()},
        }
        key = json.dumps(["config", self.sandbox, change.name, wanted.normalized()], sort_keys=True)
        made = credential_links.make_link(
            wanted.source, prepared, sorted(wanted.references), sandbox=self.sandbox, name=change.name, key=key
        )
        if made is None:
            return WAITING + ": its link was given by an earlier apply (Credential links lists it)", None
        return WAITING + ": pass this link on to them, once", made[0]

    def _update_connection(self, change: Change, wanted, applied: dict | None) -> Done:
        connection_id = change.id or ""
        fields = {f["field"] for f in change.fields}
        if fields & {"name", "description"}:
            connection = services.connections().get_connection(self.sandbox, connection_id)
            ops = [
                {"op": "replace", "path": "/name", "value": change.name},
                {"op": "add", "path": "/description", "value": wanted.entry.description},
            ]
            sent = changing.update(connection, wanted.source, self.sandbox, connection.get("etag") or "", ops)
            if isinstance(sent, AdobeError):
                return Done("connection", change.name, "update", "failed", connection_id, sent.message)
        if fields - {"name", "description"}:
            connection = services.connections().get_connection(self.sandbox, connection_id)
            ops = [{"op": "replace", "path": "/auth/params", "value": self._form(wanted).auth().params}]
            sent = changing.update(connection, wanted.source, self.sandbox, connection.get("etag") or "", ops)
            if isinstance(sent, AdobeError):
                return Done("connection", change.name, "update", "failed", connection_id, sent.message)
        self.connection_ids[change.name] = connection_id
        rotated = bool(fields - {"name", "description"})
        self._remember_connection(wanted, connection_id, applied, keep_prints=not rotated)
        said = _tested(self.sandbox, connection_id) if rotated else None
        return Done("connection", change.name, "update", "done", connection_id, said)

    def _form(self, wanted: desired.WantedConnection):
        fields = {
            k: self.given.get(wanted.entry.name, {}).get(k, v) if k in wanted.references else v
            for k, v in wanted.entry.fields.items()
        }
        common = {"name": wanted.entry.name, "description": wanted.entry.description, "sandbox": self.sandbox}
        return forms.checked_form(wanted.source, fields, common, [self.sandbox])

    def _remember_connection(self, wanted, object_id: str, applied: dict | None, keep_prints: bool = False) -> None:
        prints = dict((applied or {}).get("fingerprints") or {}) if keep_prints else {}
        prints |= {} if keep_prints else wanted.fingerprints
        services.store().config.remember(
            self.sandbox, "connection", wanted.entry.name, object_id, wanted.normalized(), prints, g.get("user")
        )

    def _dependents(self, connection_id: str):
        return services.dataflows().dependents(self.sandbox, connection_id)

    def _delete_connection(self, change: Change) -> Done:
        seen = self.plan.seen[("connection", change.name)]
        failed = changing.delete(seen.connection, seen.source, self.sandbox, self._dependents(change.id or ""))
        if failed is not None:
            return Done("connection", change.name, "delete", "failed", change.id, failed.message)
        services.store().config.forget(self.sandbox, "connection", change.name, g.get("user"))
        return Done("connection", change.name, "delete", "done", change.id)

    # Dataflows

    def _dataflow(self, change: Change) -> Done:
        entry, want, datasets = self.plan.wanted[("dataflow", change.name)]
        if entry.connection in self.failed_connections or entry.connection not in self.connection_ids:
            return Done("dataflow", change.name, change.action, "skipped", change.id, "its connection was not applied")
        applied = self.state.get(("dataflow", change.name))
        if change.action == "none":
            self._remember_flow(change.name, change.id or "", want)
            return Done("dataflow", change.name, "none", "skipped", change.id)
        body = self._new_flow(entry, datasets[0]["id"]) if change.action in ("create", "replace") else None
        if change.action == "replace" and change.id and body is not None:
            new_dataflows.checked(body)  # the new one must be makeable before the old one goes
            flow: dict | None = None
            try:
                flow = services.dataflows().flow(self.sandbox, change.id)
            except AdobeError as error:
                if not error.not_found:
                    raise
            failed = actions.delete(self.sandbox, flow) if flow else None  # gone with its connection, when that was
            if failed is not None:
                return Done("dataflow", change.name, "replace", "failed", change.id, failed.message)
        if body is not None:
            return self._make_flow(change, entry, want, body, applied)
        return self._change_flow(change, entry, want)

    def _new_flow(self, entry, dataset_id: str) -> schemas.NewDataflow:
        """The API's document for making the file's dataflow, its first run moved on when the file's is past."""
        start, _note = desired.first_run(entry.schedule, time.time())
        schedule = entry.schedule.model_dump(exclude={"start", "timezone"})
        return schemas.NewDataflow(
            sandbox=self.sandbox,
            connection_id=self.connection_ids[entry.connection],
            table=entry.table,
            dataset_id=dataset_id,
            mapping=schemas.NewMapping.model_validate(entry.mapping.model_dump()) if entry.mapping else None,
            schedule=schemas.NewSchedule(name=entry.name, start=start, timezone="UTC", **schedule),
        )

    def _make_flow(self, change: Change, entry, want: dict, body: schemas.NewDataflow, applied: dict | None) -> Done:
        what = [entry.connection, self.connection_ids[entry.connection], want]
        key = _key("dataflow", self.sandbox, change.name, what, applied)
        draft, _repeated = new_dataflows.made(
            body, key, "Apply the file again to go on from there.", fingerprint=hashlib.sha256(key.encode()).hexdigest()
        )
        flow_id = draft.flow_id or ""
        if entry.state == "disabled":
            actions.set_enabled(self.sandbox, services.dataflows().flow(self.sandbox, flow_id), False)
        self._remember_flow(change.name, flow_id, want)
        return Done("dataflow", change.name, change.action, "done", flow_id)

    def _change_flow(self, change: Change, entry, want: dict) -> Done:
        fields = {f["field"] for f in change.fields}
        flow_id = change.id or ""
        asked = {}
        if "name" in fields:
            asked["name"] = entry.name
        if fields & {"schedule.frequency", "schedule.interval"}:
            asked |= {"frequency": entry.schedule.frequency, "interval": entry.schedule.interval}
        if any(f.startswith("mapping") for f in fields) and entry.mapping is not None:
            asked["mapping"] = schemas.NewMapping.model_validate(entry.mapping.model_dump())
        if asked:
            flow = services.dataflows().flow(self.sandbox, flow_id)
            dataflow_changes.change(flow, self.sandbox, schemas.DataflowChange(**asked), flow.get("etag") or "")
        if "state" in fields:
            flow = services.dataflows().flow(self.sandbox, flow_id)
            actions.set_enabled(self.sandbox, flow, entry.state == "enabled")
        self._remember_flow(change.name, flow_id, want)
        return Done("dataflow", change.name, "update", "done", flow_id)

    def _remember_flow(self, name: str, flow_id: str, want: dict) -> None:
        applied = {k: v for k, v in want.items() if k != "name"}
        services.store().config.remember(self.sandbox, "dataflow", name, flow_id, applied, {}, g.get("user"))

    def _delete_flow(self, change: Change) -> Done:
        seen = self.plan.seen[("dataflow", change.name)]
        failed = actions.delete(self.sandbox, seen.flow)
        if failed is not None:
            return Done("dataflow", change.name, "delete", "failed", change.id, failed.message)
        services.store().config.forget(self.sandbox, "dataflow", change.name, g.get("user"))
        return Done("dataflow", change.name, "delete", "done", change.id)


def _tested(sandbox: str, connection_id: str) -> str:
    """The test run right after a connection's credentials were sent, in one line."""
    test = connections.tested(sandbox, connection_id)
    return f"test {test['outcome']}: {test['message']}"


def _said(refused: ApiProblem) -> str:
    """A Problem in one line: its detail and each field's message."""
    parts = [refused.detail or refused.title] + [f"{e['field']}: {e['message']}" for e in refused.errors or []]
    return " ".join(parts)
