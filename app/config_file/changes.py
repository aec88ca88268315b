"""One object's change, as a plan says it: a connection (its source's params compared as its form would send them,
secrets by reference and by a keyed hash of their value) or a dataflow (what the portal changes in place, what makes
it again, and the dataset it names matched by name in the sandbox). Drift, a change made elsewhere since the last
apply, is told from the store's record of that apply."""

from __future__ import annotations

import dataclasses

from . import desired, observe
from .load import Problem, where

SECRET_SHOWN = "(secret)"  # noqa: S105 - what stands for a secret in a plan, not one


@dataclasses.dataclass
class Change:
    kind: str  # connection or dataflow
    name: str
    action: str
    id: str | None = None
    fields: list[dict] = dataclasses.field(default_factory=list)  # {field, from, to}, secrets masked
    drift: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    # Blocked only for want of secrets' values: what it would be given them (`would`), and which (`waiting`).
    would: str | None = None
    waiting: list[str] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "id": self.id,
            "fields": self.fields,
            "drift": self.drift,
            "notes": self.notes,
            "problems": [{"line": p.line, "where": p.where, "message": p.message} for p in self.problems],
            "would": self.would,
            "waiting": self.waiting,
        }


def _diff(before: dict, after: dict, prefix: str = "") -> list[dict]:
    """Each field whose value differs, as {field, from, to} (None for a field one side lacks)."""
    found = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found += _diff(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append({"field": f"{prefix}{key}", "from": a, "to": b})
    return found


def _hidden(key: str) -> bool:
    return key.endswith(desired.HIDDEN)


def _observed_connection(seen: observe.Seen) -> dict:
    return {
        "source": seen.spec_id,
        "auth": seen.spec_name,
        "description": seen.connection.get("description") or "",
        "params": desired.comparable(seen.params, seen.secret),
    }


def connection_change(wanted: desired.WantedConnection, seen: observe.Seen | None, applied: dict | None) -> Change:
    """One connection's change; `applied` is the store's record of the last apply of it, if any."""
    change = Change("connection", wanted.entry.name, "none", problems=list(wanted.problems))
    if wanted.problems:
        change.action = "blocked"
        return change
    want = wanted.normalized()
    if applied and seen is not None and seen.connection["id"] != applied["object_id"]:
        change.drift.append("the connection last applied under this name is gone; another has the name now")
    elif applied and seen is None:
        change.drift.append("deleted outside the file since the last apply")
    same = seen is not None and applied is not None and seen.connection["id"] == applied["object_id"]
    if same and applied is not None and seen is not None:
        then = {k: v for k, v in applied["applied"].items() if k != "secrets"}
        observed = _observed_connection(seen)
        # A connection string Flow Service gives back masked cannot show drift: only what it shows is compared.
        then["params"] = {k: v for k, v in then["params"].items() if not _hidden(k) or k in observed["params"]}
        for moved in _diff(then, observed):
            change.drift.append(f"{moved['field']} changed outside the file since the last apply")
    if seen is None:
        change.action = "create"
        change.fields = [{"field": k, "from": None, "to": v} for k, v in want["params"].items()]
        change.fields += [{"field": k, "from": None, "to": f"{SECRET_SHOWN} {r}"} for k, r in want["secrets"].items()]
    else:
        change.id = seen.connection["id"]
        now = _observed_connection(seen)
        if seen.name != wanted.entry.name:
            change.fields.append({"field": "name", "from": seen.name, "to": wanted.entry.name})
        # A form that could not be filled for want of a secret may not say its kind of authentication: not compared.
        if (now["source"], now["auth"]) != (want["source"], want["auth"] or now["auth"]):
            change.action = "replace"
            change.notes.append(
                "Flow Service cannot change a connection's source or kind of authentication in place: it is deleted "
                "with its dataflows and made again, and its dataflows with it."
            )
        if not any(k.startswith("connectionString") for k in want["params"]):
            # A connection string not given (to ask, or not set) cannot be compared: its fingerprint tells.
            now["params"] = {k: v for k, v in now["params"].items() if not k.startswith("connectionString")}
        for key in [k for k in want["params"] if _hidden(k) and k not in now["params"]]:
            # Flow Service gives it back masked: the last apply's record says what it holds. Never applied by a file,
            # it is sent anyway with the secrets (not set by a file before).
            now["params"][key] = applied["applied"]["params"].get(key) if same and applied else want["params"][key]
        change.fields += _diff(
            {k: now[k] for k in ("description", "params")}, {k: want[k] for k in ("description", "params")}
        )
        change.fields += _secret_changes(
            wanted, applied if applied and seen.connection["id"] == applied["object_id"] else None
        )
        if change.action == "none" and change.fields:
            change.action = "update"
    # New credentials are sent whole: making a connection, or changing more than its name, needs every secret's value.
    sends_credentials = change.action in ("create", "replace") or (
        change.action == "update" and any(f["field"] not in ("name", "description") for f in change.fields)
    )
    if sends_credentials and (wanted.asked or wanted.missing):
        change.would = change.action
        change.action = "pending" if wanted.asked and not wanted.missing else "blocked"
        change.waiting = list(wanted.missing)
    if change.action == "pending":
        change.notes.append(
            f"waits for the database owner to type {', '.join(wanted.asked)}: apply gives a credential link to pass "
            "on, and applying again after they typed them goes on"
        )
    if change.action == "blocked" and wanted.missing:
        for field in wanted.missing:
            path = ("connections", wanted.index, "fields", field)
            change.problems.append(
                Problem(
                    wanted.lines.get(field),
                    where(path),
                    f"the value of {wanted.references[field]} was not given, so nothing is sent",
                )
            )
    return change


def _secret_changes(wanted: desired.WantedConnection, applied: dict | None) -> list[dict]:
    """A secret differs only when its reference changed, or its value's fingerprint differs from the one applied."""
    found = []
    for field, ref in sorted(wanted.references.items()):
        if field in wanted.asked and (applied is None or applied["applied"]["secrets"].get(field) in (None, ref)):
            continue  # the owner typed it when it was made; a rotation is asked for on the page (our choice)
        then_ref = (applied or {}).get("applied", {}).get("secrets", {}).get(field)
        then_print = (applied or {}).get("fingerprints", {}).get(field)
        if applied is None or then_print is None and field in wanted.fingerprints:
            found.append(
                {"field": field, "from": SECRET_SHOWN, "to": f"{SECRET_SHOWN} {ref}: not set by a file before"}
            )
        elif then_ref != ref:
            found.append({"field": field, "from": f"{SECRET_SHOWN} {then_ref}", "to": f"{SECRET_SHOWN} {ref}"})
        elif field in wanted.fingerprints and wanted.fingerprints[field] != then_print:
            found.append({"field": field, "from": SECRET_SHOWN, "to": f"{SECRET_SHOWN} {ref}: a new value"})
    return found


# What the portal changes of a dataflow in place (Adobe's "Update dataflows" tutorial: name, schedule's frequency
# and interval, the mapping by a new mapping set version; and enabling or disabling it). Any other difference makes it
# again.
IN_PLACE = ("schedule.frequency", "schedule.interval", "mapping", "state")
REPLACED_WHY = (
    "Flow Service cannot change a dataflow's {what} in place: it is deleted (with its source and target connections) "
    "and made again, and the new one reads the table from its first run."
)


def dataflow_change(
    index: int,
    want: dict,
    found: observe.SeenFlow | None,
    connection: Change,
    applied: dict | None,
    datasets: dict[str, list[dict]],
    schema: str | None,
    lines: dict,
) -> Change:
    """One dataflow's change: `connection` is its connection's, `datasets` the target's datasets by name."""
    change = Change("dataflow", want.get("name", ""), "none")
    name_path = ("dataflows", index, "dataset")
    named = datasets.get(want["dataset"], [])
    if not named:
        change.problems.append(
            Problem(lines.get(name_path), where(name_path), f"no dataset named {want['dataset']} in this sandbox")
        )
    elif len(named) > 1:
        change.problems.append(
            Problem(lines.get(name_path), where(name_path), f"{len(named)} datasets are named {want['dataset']}")
        )
    elif schema is not None and named[0].get("schema_title") != schema:
        path = ("dataflows", index, "schema")
        change.problems.append(
            Problem(lines.get(path), where(path), f"the dataset {want['dataset']} follows another schema")
        )
    if found is not None:
        change.id = found.flow.get("id")
        if applied and applied["object_id"] == change.id and found.entry is not None:
            then, now = _comparable(applied["applied"], _observed_flow(found.entry))
            moved = [d for d in _diff(then, now) if d["field"] != "schedule.start"]  # a first run moved when made
            change.drift += [f"{d['field']} changed outside the file since the last apply" for d in moved]
        elif applied and applied["object_id"] != change.id:
            change.drift.append("the dataflow last applied under this name is gone; another has the name now")
    elif applied:
        change.drift.append("deleted outside the file since the last apply")
    if change.problems:
        change.action = "blocked"
        return change
    if found is not None and found.entry is None:
        change.action = "blocked"
        change.problems.append(Problem(None, where(("dataflows", index)), f"the portal cannot change it: {found.why}"))
        return change
    if connection.action in ("blocked", "pending") and not (connection.would and connection.waiting):
        change.action = "pending" if found is None or connection.action == "pending" else connection.action
        change.notes.append(f"waits for its connection {connection.name}")
        if connection.action == "blocked":
            change.action = "blocked"
        return change
    if found is None or "replace" in (connection.action, connection.would):
        change.action = "create" if found is None else "replace"
        if "replace" in (connection.action, connection.would):
            change.notes.append("its connection is made again")
        change.fields = [{"field": d["field"], "from": None, "to": d["to"]} for d in _diff({}, _flat(want))]
        return change
    target, now = _comparable({k: v for k, v in want.items() if k != "name"}, _observed_flow(found.entry or {}))
    if found.name != want["name"]:
        change.fields.append({"field": "name", "from": found.name, "to": want["name"]})
    differ = _diff(now, target)
    start = [d for d in differ if d["field"] == "schedule.start"]
    if start:
        change.notes.append(
            "its first run differs from the file's: a dataflow's first run is kept once it is made, so that is left"
        )
    differ = [d for d in differ if d["field"] != "schedule.start"]
    change.fields += differ
    replaced = [d["field"] for d in differ if not d["field"].startswith(IN_PLACE)]
    if {"from": "once"} in [{"from": d["from"]} for d in differ if d["field"] == "schedule.frequency"] or any(
        d["field"] == "schedule.frequency" and d["to"] == "once" for d in differ
    ):
        replaced.append("schedule.frequency")
    if replaced:
        change.action = "replace"
        change.notes.append(REPLACED_WHY.format(what=", ".join(sorted(set(replaced)))))
    elif change.fields:
        change.action = "update"
    return change


def _comparable(asked: dict, now: dict) -> tuple[dict, dict]:
    """`now` (a dataflow as read) as `asked` (as the file asks it, or as applied) can tell: a mapping left out is the
    one made at creation and a delta column left out the one the portal chose, neither compared (our choice)."""
    now = {**now, "schedule": dict(now.get("schedule") or {})}
    if asked.get("mapping") is None:
        now["mapping"] = None
    if "delta_column" not in (asked.get("schedule") or {}):
        now["schedule"].pop("delta_column", None)
    return asked, now


def _observed_flow(entry: dict) -> dict:
    mapped = entry.get("mapping")
    return {
        "connection": entry.get("connection"),
        "table": entry.get("table"),
        "dataset": entry.get("dataset"),
        "mapping": {"columns": {}, "constants": [], **mapped} if isinstance(mapped, dict) else None,
        "schedule": desired.observed_schedule(entry.get("schedule") or {}),
        "state": entry.get("state"),
    }


def _flat(want: dict) -> dict:
    return {k: v for k, v in want.items() if k != "name"}
