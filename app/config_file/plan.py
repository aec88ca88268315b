"""What applying a file to a sandbox would do, object by object: create, update (each changed field, secrets masked),
replace (where Flow Service cannot change it in place, saying why), delete (only when pruning), no change, pending (a
secret the database owner is to type) or blocked (a problem in the file, on its line). Drift, a change made elsewhere
since the last apply, is told apart from what the file asks by the store's record of that apply. The same plan is
made for the API, the commands and the Promote page, and its digest tells a saved plan that no longer holds."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from .. import services
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
    state = services.store().config.applied(sandbox)
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
        change = dataflow_change(
            index,
            want,
            pair[1] if pair else None,
            connections[flow_entry.connection],
            applied,
            datasets,
            flow_entry.schema_,
            lines,
        )
        if pair is not None and pair[0].name != connections[flow_entry.connection].name and change.action == "update":
            change.action = "replace"
            change.notes.append(REPLACED_WHY.format(what="connection"))
        if renamed:
            change.drift.append(f"renamed outside the file to {renamed}")
        plan.changes.append(change)
        plan.wanted[("dataflow", flow_entry.name)] = (flow_entry, want, datasets.get(flow_entry.dataset, []))
        plan.seen[("dataflow", flow_entry.name)] = pair[1] if pair else None
    _left(plan, config, seen_list, prune)
    return plan


def _wanted_flow(entry, index: int, lines: dict) -> dict:
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
