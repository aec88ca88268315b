"""What applying a file to a sandbox would do, object by object: create, update (each changed field, secrets masked),
replace (where Flow Service cannot change it in place, saying why), delete (only when pruning), no change, pending (a
secret the database owner is to type) or blocked (a problem in the file, on its line). Drift, a change made elsewhere
since the last apply, is told apart from what the file asks by the store's record of that apply. The same plan is
made for the API, the commands and the Promote page, and its digest tells a saved plan that no longer holds."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json

from .. import services
from ..adobe import AdobeError
from ..together import side_by_side
from . import desired, observe
from .changes import REPLACED_WHY, Change, connection_change, dataflow_change
from .load import Problem, lines_of, load, where
from .model import ConfigFile

ACTIONS = ("create", "update", "replace", "delete", "pending", "blocked", "none", "left")


@dataclasses.dataclass
class Plan:
    sandbox: str
    changes: list[Change]
    prune: bool = False
    # What apply needs and the answer never shows: the file's objects as they would be sent, the sandbox as read.
    wanted: dict = dataclasses.field(default_factory=dict, repr=False)
    seen: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def digest(self) -> str:
        """What applying would do, hashed: another plan with the same digest would do the same."""
        # A change blocked for want of a secret's value counts as what it would be: the Promote page shows a plan
        # before the person types them, and applies it after.
        acts = [(c.kind, c.name, c.would or c.action, c.id, c.fields) for c in self.changes if c.action != "left"]
        text = json.dumps([self.sandbox, self.prune, acts], sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def count(self) -> dict[str, int]:
        return {action: sum(c.action == action for c in self.changes) for action in ACTIONS}

    def said(self) -> str:
        """The plan in a few words, for the audit trail and the log: "2 to create, 1 to update"."""
        counts = self.count()
        return ", ".join(f"{n} to {a}" for a, n in counts.items() if n and a not in ("none", "left")) or "no change"

    @property
    def changes_anything(self) -> bool:
        return any(c.action in ("create", "update", "replace", "delete") for c in self.changes)

    @property
    def deletes_connections(self) -> bool:
        """Whether applying deletes a connection (pruned, or made again): an admin's to do, as on its page."""
        return any(
            c.kind == "connection" and (c.action == "delete" or "replace" in (c.action, c.would)) for c in self.changes
        )

    @property
    def blocked(self) -> bool:
        return any(c.action == "blocked" for c in self.changes)

    def as_json(self) -> dict:
        return {
            "sandbox": self.sandbox,
            "digest": self.digest,
            "prune": self.prune,
            "summary": self.count(),
            "changes": [c.as_json() for c in self.changes],
        }


def make(
    text: str, sandbox: str, given: dict[str, dict[str, str]], prune: bool = False, seen_list: list | None = None
) -> Plan:
    """The plan for applying the file `text` to `sandbox`, with the secrets' values `given` (connection → field →
    value); `seen_list` is the sandbox as observe.read gave it, when read already. Raises load.Refused for a file
    that cannot be read."""
    config: ConfigFile = load(text)
    lines = lines_of(text)
    # What was applied, a deleted object's record (kept so that making it again is a new request) left out.
    state = {key: row for key, row in services.store().config.applied(sandbox).items() if row["object_id"]}
    # The sandbox's connections and the datasets the file names depend on nothing but the file: read side by side.
    names = {d.dataset for d in config.dataflows}
    read = side_by_side(
        [
            (lambda: observe.read(sandbox)) if seen_list is None else (lambda: seen_list),
            (lambda: observe.datasets_named(sandbox, names)) if names else dict,
        ]
    )
    for outcome in read:
        if isinstance(outcome, Exception):
            raise outcome
    seen_list, datasets = read
    seen = {s.name: s for s in seen_list}
    by_id = {s.connection["id"]: s for s in seen_list}
    plan = Plan(sandbox, [], prune)
    for index, entry in enumerate(config.connections):
        wanted = desired.connection(entry, index, sandbox, given.get(entry.name, {}), lines)
        applied = state.get(("connection", entry.name))
        found = seen.get(entry.name)
        if found is None and applied and applied["object_id"] in by_id:
            found = by_id[applied["object_id"]]  # renamed elsewhere since: the change names it back
            plan.changes.append(connection_change(wanted, found, applied))
            plan.changes[-1].drift.append(f"renamed outside the file to {found.name}")
        else:
            plan.changes.append(connection_change(wanted, found, applied))
            if found is None and applied and _unlisted("connection", sandbox, applied["object_id"]):
                _unlisted_yet(plan.changes[-1])
        plan.wanted[("connection", entry.name)] = wanted
        plan.seen[("connection", entry.name)] = found
    flows = {f.name: (s, f) for s in seen_list for f in s.flows}
    flows_by_id = {f.flow.get("id"): (s, f) for s in seen_list for f in s.flows}
    connections = {c.name: c for c in plan.changes}
    for index, flow_entry in enumerate(config.dataflows):
        applied = state.get(("dataflow", flow_entry.name))
        pair = flows.get(flow_entry.name)
        renamed = None
        if pair is None and applied and applied["object_id"] in flows_by_id:
            pair = flows_by_id[applied["object_id"]]
            renamed = pair[1].name
        want = {"name": flow_entry.name, **_wanted_flow(flow_entry, index, lines)}
        if "problem" in want:
            plan.changes.append(Change("dataflow", flow_entry.name, "blocked", problems=[want.pop("problem")]))
            continue
        connection = connections[flow_entry.connection]
        # The same connection, by id, whatever it is called now (renamed elsewhere: the file names it back).
        same = pair is not None and pair[0].connection["id"] == connection.id
        found = pair[1] if pair else None
        if same and found is not None and found.entry is not None:
            found = dataclasses.replace(found, entry={**found.entry, "connection": flow_entry.connection})
        change = dataflow_change(index, want, found, connection, applied, datasets, flow_entry.schema_, lines)
        if pair is not None and not same and change.action == "update":
            change.action = "replace"
            change.notes.append(REPLACED_WHY.format(what="connection"))
        unread = plan.seen[("connection", flow_entry.connection)]
        if unread is not None and unread.flows_unread and pair is None:
            # Its connection's dataflows could not be listed: it may well exist, so nothing is made.
            change.action, change.would = "blocked", None
            change.problems.append(
                Problem(None, where(("dataflows", index)), f"{unread.flows_unread}: plan again in a minute")
            )
        elif pair is None and applied and _unlisted("dataflow", sandbox, applied["object_id"]):
            _unlisted_yet(change)
        if renamed:
            change.drift.append(f"renamed outside the file to {renamed}")
        plan.changes.append(change)
        plan.wanted[("dataflow", flow_entry.name)] = (flow_entry, want, datasets.get(flow_entry.dataset, []))
        plan.seen[("dataflow", flow_entry.name)] = pair[1] if pair else None
    _left(plan, config, seen_list, prune)
    _guard_dependents(plan, {d.name for d in config.dataflows})
    return plan


def _guard_dependents(plan: Plan, in_file: set[str]) -> None:
    """A connection deleted (pruned, or made again) takes every dataflow reading it: blocked unless the plan itself
    deletes or makes again each one (never a dataflow the file does not name, nor one the portal does not write)."""
    deleted = {c.name for c in plan.changes if c.kind == "dataflow" and c.action == "delete"}
    for change in plan.changes:
        if change.kind != "connection" or "replace" not in (change.action, change.would) and change.action != "delete":
            continue
        seen = plan.seen.get(("connection", change.name))
        if seen is None:
            continue
        if seen.flows_unread:
            change.problems.append(Problem(None, change.name, f"{seen.flows_unread}, so it cannot be deleted safely"))
        for flow in seen.flows:
            if flow.entry is None:
                why = f"dataflow {flow.name} reads from it and the portal cannot write it ({flow.why})"
            elif flow.name not in in_file | deleted:
                why = f"dataflow {flow.name} reads from it and is not in the file (add it, or prune)"
            else:
                continue
            change.problems.append(Problem(None, change.name, f"{why}: deleting the connection would delete it too"))
        if change.problems:
            change.action, change.would = "blocked", None


def _unlisted(kind: str, sandbox: str, object_id: str) -> bool:
    """Whether an object the last apply made, and the listing left out, is there all the same (a listing can lag)."""
    try:
        if kind == "connection":
            services.connections().get_connection(sandbox, object_id)
        else:
            services.dataflows().flow(sandbox, object_id)
    except AdobeError as error:
        if error.not_found:
            return False
        raise
    return True


def _unlisted_yet(change: Change) -> None:
    change.action, change.would, change.drift = "blocked", None, []
    change.problems.append(
        Problem(None, change.name, "made by the last apply and not listed by Flow Service yet: plan again in a minute")
    )


def _wanted_flow(entry, index: int, lines: dict) -> dict:
    try:
        datetime.datetime.strptime(entry.schedule.start, "%Y-%m-%dT%H:%M")
    except ValueError:
        path = ("dataflows", index, "schedule", "start")
        return {"problem": Problem(lines.get(path), where(path), "not a date and time: YYYY-MM-DDTHH:MM")}
    try:
        return desired.dataflow(entry)
    except (ValueError, KeyError):  # zoneinfo's ZoneInfoNotFoundError is a KeyError
        path = ("dataflows", index, "schedule", "timezone")
        return {"problem": Problem(lines.get(path), where(path), "not a time zone the portal knows")}


def _left(plan: Plan, config: ConfigFile, seen_list: list, prune: bool) -> None:
    """What the sandbox holds and the file does not name: deleted when pruning (dataflows first), else left."""
    named = {c.name for c in config.connections}
    flows = {d.name for d in config.dataflows}
    claimed = {c.id for c in plan.changes if c.id}
    for connection in seen_list:
        for flow in connection.flows:
            if flow.name in flows or flow.flow.get("id") in claimed or flow.entry is None:
                continue
            plan.changes.append(Change("dataflow", flow.name, "delete" if prune else "left", id=flow.flow.get("id")))
            plan.seen[("dataflow", flow.name)] = flow
    for connection in seen_list:
        if connection.name in named or connection.connection["id"] in claimed:
            continue
        action = "delete" if prune else "left"
        plan.changes.append(Change("connection", connection.name, action, id=connection.connection["id"]))
        plan.seen[("connection", connection.name)] = connection
