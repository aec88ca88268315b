"""A dataflow's chain, made exactly once: the requests a plan sends, and the steps that send them.

The chain is Adobe's tutorial's: a source connection (the table), a target connection (the dataset), a mapping
set, then the flow that joins them. The first three depend on nothing but the plan, so they are sent side by
side; the flow waits for their ids. Each id goes to the store the moment Adobe gives it, under the draft's key,
so a second submit, another worker or a retry after a stop carries on with the same objects. A create whose
answer was lost is never sent again blindly: the object is looked up first, by the marker each description holds.
"""

from __future__ import annotations

import dataclasses

from ..adobe import AdobeError
from ..adobe.data_prep import mapping_set, source_field
from ..adobe.gateway import DATA_PREP, FLOW_SERVICE
from .together import side_by_side

DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
FULL_SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"
# The delta column's date format by the column's type: a timestamp as the dataflow tutorial for database sources
# documents it ("The supported date format for deltaColumn is yyyy-MM-dd HH:mm:ss"), a date as the same tutorial's and
# "Update dataflows"' example writes one ("Datefield", "YYYY-MM-DD"). Sent in UTC, as both examples send it.
DELTA_FORMATS = {"date-time": "yyyy-MM-dd HH:mm:ss", "date": "YYYY-MM-DD"}
# What a source connection says of each column: the keys Adobe's examples show ("Explore a database", and the
# dataflow tutorial's source connection); the portal's own `kind` stays in the draft.
COLUMN_KEYS = ("name", "type", "xdm", "meta:xdmType")
# How long one request may hold a chain before another may take it over (our choice: longer than any
# request's timeouts, retries included).
LEASE_SECONDS = 120
# Placeholders for ids that exist only once the chain is made, as the review page shows the requests.
PLACEHOLDERS = {"source_id": "{SOURCE_CONNECTION_ID}", "target_id": "{TARGET_CONNECTION_ID}",
                "mapping_id": "{MAPPING_SET_ID}"}


@dataclasses.dataclass(frozen=True)
class Step:
    """One object of the chain: the store column its id goes to, what it is, and the request that makes it."""

    column: str
    what: str
    method: str
    service: object
    path: str
    body: dict


class Stopped(Exception):
    """The chain stopped at a step: what to tell the person. Every object made so far is in the store."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id


def marker(key: str) -> str:
    """The description each object of a draft's chain carries: how a lost answer's object is found again."""
    return f"Made by AEP Source Wizard for dataflow draft {key[:16]}"


def names(draft: dict) -> dict[str, str]:
    """The names of the chain's objects: each distinct per draft, so that a look-up finds this draft's only."""
    plan, tag = draft["plan"], draft["key"][:8]
    return {"source_id": f"{plan['table']} source (wizard {tag})",
            "target_id": f"{plan['dataset']['name']} target (wizard {tag})",
            "mapping_id": f"wizard-{tag}-mapping",
            "flow_id": plan["schedule"]["name"]}


def steps(draft: dict, flow_spec: dict, ids: dict | None = None) -> list[Step]:
    """The four requests, in order; the flow's body names the other three ids (placeholders until known)."""
    plan, key = draft["plan"], draft["key"]
    ids = {**PLACEHOLDERS, **{k: v for k, v in (ids or {}).items() if v}}
    called, described = names(draft), marker(key)
    schedule = plan["schedule"]
    columns = [{key: column[key] for key in COLUMN_KEYS if key in column} for column in plan["columns"]]
    source = {"name": called["source_id"], "description": described, "baseConnectionId": draft["connection_id"],
              "data": {"format": "tabular"},
              "params": {"tableName": plan["table"], "columns": columns},
              "connectionSpec": {"id": plan["spec_id"], "version": "1.0"}}
    target = {"name": called["target_id"], "description": described,
              "data": {"schema": {"id": plan["schema"]["id"], "version": FULL_SCHEMA_VERSION}},
              "params": {"dataSetId": plan["dataset"]["id"]},
              "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"}}
    mapping = mapping_set(called["mapping_id"], plan["schema"]["id"], mapping_rows(plan))
    params = {"startTime": schedule["start"], "frequency": schedule["frequency"]}
    if schedule["frequency"] != "once":
        # As the dataflow tutorial sends them, and as the spec's ScheduleSpecDTO types interval: a string.
        params.update(interval=str(schedule["interval"]), backfill=bool(schedule["backfill"]))
    flow = {"name": called["flow_id"], "description": described,
            "flowSpec": {"id": flow_spec["id"], "version": str(flow_spec.get("version") or "1.0")},
            "sourceConnectionIds": [ids["source_id"]], "targetConnectionIds": [ids["target_id"]],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": schedule["delta_column"],
                                                            "dateFormat": delta_format(plan), "timezone": "UTC"}}},
                {"name": "Mapping", "params": {"mappingId": ids["mapping_id"], "mappingVersion": "0"}}],
            "scheduleParams": params}
    options = {}
    if schedule.get("error_diagnostics"):
        options["errorDiagnosticsEnabled"] = True
    if schedule.get("partial_percent") is not None:
        options["partialIngestionPercent"] = schedule["partial_percent"]
    if options:
        flow["options"] = options
    return [Step("source_id", "source connection", "POST", FLOW_SERVICE, "/sourceConnections", source),
            Step("target_id", "target connection", "POST", FLOW_SERVICE, "/targetConnections", target),
            Step("mapping_id", "mapping set", "POST", DATA_PREP, "/mappingSets", mapping),
            Step("flow_id", "dataflow", "POST", FLOW_SERVICE, "/flows", flow)]


def delta_format(plan: dict) -> str:
    """The date format of the plan's delta column, by its type (a timestamp's unless the column is a date)."""
    kind = next((c["kind"] for c in plan["columns"] if c["name"] == plan["schedule"]["delta_column"]), "date-time")
    return DELTA_FORMATS.get(kind, DELTA_FORMATS["date-time"])


def mapping_rows(plan: dict) -> list[tuple[str, str, str]]:
    """(sourceType, source, destination) for each mapped column and each constant of the plan; a column is named as
    Data Prep reads a source field (`source_field`: `order.id` is `${order\\.id}`)."""
    rows = [("ATTRIBUTE", source_field(row["column"]), row["path"]) for row in plan["mapping"]["columns"]
            if row.get("path")]
    rows += [("STATIC", row["value"], row["path"]) for row in plan["mapping"].get("constants", [])]
    return rows


class Chain:
    """Makes a draft's chain with the given clients and store; `create` and `remove` are each safe to repeat."""

    def __init__(self, dataflows, data_prep, store):
        self._dataflows, self._data_prep, self._store = dataflows, data_prep, store

    def create(self, draft: dict, flow_spec: dict, resumed: bool = False) -> str:
        """Make what is missing of the chain; the flow's id. Raises Stopped, with every made id stored.

        `resumed`: an earlier attempt stopped (or its request died) with some step unconfirmed, so each missing
        object is looked up before it is sent: an answer lost then may have made it."""
        ids = {column: draft.get(column) for column in ("source_id", "target_id", "mapping_id", "flow_id")}
        if ids["flow_id"]:
            return ids["flow_id"]
        first = [s for s in steps(draft, flow_spec, ids)[:3] if not ids[s.column]]
        outcomes = side_by_side(lambda s=s: self._make(draft, s, look_first=resumed) for s in first)
        stops = []
        for step, outcome in zip(first, outcomes):
            if isinstance(outcome, Stopped):
                stops.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                ids[step.column] = outcome
        if stops:
            raise Stopped(" ".join(s.message for s in stops), stops[0].request_id)
        flow = steps(draft, flow_spec, ids)[3]
        return self._make(draft, flow, narrowed=[f"sourceConnectionIds[]=={ids['source_id']}"], look_first=resumed)

    def remove(self, draft: dict) -> list[str]:
        """Delete what the chain made, the flow first (Flow Service's order); what was deleted, in words.
        Data Prep documents no way to delete a mapping set, so one made stays (it does nothing on its own)."""
        done = []
        for column, kind in (("flow_id", "flows"), ("target_id", "targetConnections"),
                             ("source_id", "sourceConnections")):
            if draft.get(column):
                try:
                    self._dataflows.delete(draft["sandbox"], kind, draft[column])
                except AdobeError as error:
                    raise Stopped(error.message, error.request_id) from None
                self._store.made(draft["key"], column, None)
                done.append(f"{kind[:-1]} {draft[column]}")
        return done

    def _make(self, draft: dict, step: Step, narrowed=(), look_first: bool = False) -> str:
        sandbox, key = draft["sandbox"], draft["key"]
        if look_first:
            found = self._look_up(draft, step, narrowed)
            if found is not None:
                self._store.made(key, step.column, found)
                return found
        try:
            if step.column == "mapping_id":
                made = self._data_prep.create(sandbox, step.body)
            else:
                made = self._dataflows.create(sandbox, step.path.strip("/"), step.body)
        except AdobeError as error:
            if not _maybe_made(error):
                raise Stopped(f"The {step.what} was not created: {error.message}", error.request_id) from None
            found = self._look_up(draft, step, narrowed)
            if found is None:
                raise Stopped(f"The {step.what} is unconfirmed: {error.message} The wizard looked for it and found "
                              "none, so it was not made; continue to try again.", error.request_id) from None
            self._store.made(key, step.column, found)
            return found
        self._store.made(key, step.column, made.id)
        return made.id

    def _look_up(self, draft: dict, step: Step, narrowed) -> str | None:
        try:
            if step.column == "mapping_id":
                return self._data_prep.find(draft["sandbox"], step.body["name"])
            return self._dataflows.find(draft["sandbox"], step.path.strip("/"), step.body["name"],
                                        step.body["description"], narrowed)
        except AdobeError as error:
            raise Stopped(f"The {step.what} is unconfirmed, and looking for it failed too: {error.message} "
                          "Continue once Adobe answers again; it will be looked for before anything is sent.",
                          error.request_id) from None


def _maybe_made(error: AdobeError) -> bool:
    """Whether a failed create may still have made its object: no whole answer, or Adobe's own failure."""
    return error.maybe_done
