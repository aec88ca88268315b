"""Flow Service's dataflow objects: source and target connections, flow specs and flows, as strict as Adobe's documents.

The shapes are those of Adobe's tutorial "Create a dataflow for database sources using the Flow Service API"
(Experience League, `sources/tutorials/api/collect/database-nosql`), of "Update dataflows"
(`sources/tutorials/api/update-dataflows`) and of the OpenAPI spec; each refusal is a row of docs/emulator.md.
An object is seen only in its own sandbox, and one that another uses cannot be deleted.
"""

from __future__ import annotations

import json
import re
import uuid

import jsonschema
from flask import Blueprint, Response, g, request

from .data_prep import field_path
from .errors import flow_error, json_response
from .flow_service import (_named_problem, apply_patch, listing, new_etag, not_found, patch_operations, patch_refused,
                           stale)
from .specs import DATA_LAKE_SPEC_ID, FLOW_SPECS
from .state import FLOW

# What "Update dataflows" and the partial-ingestion guide patch on a flow: its name and description, its schedule
# (whole or one parameter), its transformations (whole, one as `/transformations/0`, or one's params such as the
# Mapping's mappingId and mappingVersion) and its options.
FLOW_PATCHABLE = re.compile(r"^/(name|description|scheduleParams(/[A-Za-z]+)?"
                            r"|transformations(/([0-9]+|-)(/params(/[A-Za-z]+)?)?)?|options(/[A-Za-z]+)?)$")


def add_routes(bp: Blueprint, state) -> None:
    """Add the dataflow endpoints to Flow Service's blueprint (behind the same gateway)."""

    def visible(item) -> bool:
        return item["sandboxName"] == g.sandbox and item["imsOrgId"] == state.org_id

    def stored(kept: dict, item_id: str):
        with state._lock:
            item = kept.get(item_id)
        return item if item is not None and visible(item) else None

    def created(kept: dict, path: str, item: dict) -> Response:
        now = int(state.now() * 1000)
        etag = new_etag()
        item = {"id": str(uuid.uuid4()), "createdAt": now, "updatedAt": now,
                # The spec: "In the case of service tokens, the value for createdBy is the same as createdClient."
                "createdBy": state.client_id, "updatedBy": state.client_id,
                "createdClient": state.client_id, "updatedClient": state.client_id,
                "sandboxId": str(uuid.uuid5(uuid.NAMESPACE_DNS, g.sandbox)), "sandboxName": g.sandbox,
                "imsOrgId": state.org_id, **item, "etag": etag, "version": etag}
        with state._lock:
            kept[item["id"]] = item
        return json_response({"id": item["id"], "etag": etag}, 201,
                             headers={"Location": f"{FLOW}{path}/{item['id']}"})

    def body_or_refusal():
        if not request.get_data():
            return None, flow_error("1405-400", "The request body cannot be null or empty. "
                                                "Please provide a request body and try again.")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, flow_error("1100-400", "The request could not be processed: the body is not a JSON object.")
        return body, None

    def refused(problems: list[str]) -> Response:
        return flow_error("1100-400", "The request could not be processed: " + "; ".join(problems) + ".")

    # Source connections: a base connection's table, as the tutorial creates them.

    @bp.post("/sourceConnections")
    def create_source_connection():
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = _named(body)
        base = stored(state.connections, body.get("baseConnectionId")) \
            if isinstance(body.get("baseConnectionId"), str) else None
        if base is None:
            problems.append("baseConnectionId must be the id of a base connection in this sandbox")
        spec_ref = body.get("connectionSpec")
        if not isinstance(spec_ref, dict) or not isinstance(spec_ref.get("id"), str):
            problems.append("connectionSpec.id is required")
        elif base is not None and spec_ref["id"] != base["connectionSpec"]["id"]:
            problems.append("connectionSpec.id must be the base connection's own spec")
        data = body.get("data")
        if not isinstance(data, dict) or data.get("format") != "tabular":
            problems.append('data.format must be "tabular" for a table-based source')
        params = body.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("tableName"), str) \
                or not params["tableName"].strip():
            problems.append("params.tableName is required")
        elif "columns" in params and not _columns_ok(params["columns"]):
            problems.append("params.columns must be a list of {name, type}")
        if problems:
            return refused(problems)
        return created(state.source_connections, "/sourceConnections", {
            "name": body["name"], **_described(body),
            "baseConnectionId": base["id"], "state": "enabled", "data": {"format": "tabular"},
            "params": params, "connectionSpec": {"id": base["connectionSpec"]["id"], "version": "1.0"}})

    # Target connections: a dataset in the data lake.

    @bp.post("/targetConnections")
    def create_target_connection():
        """The spec's CreateTargetConnectionRequest requires `connectionSpec` and `data` only: the streaming tutorial
        makes a data lake target with `"data": {"format": "parquet_xdm"}` and no schema. The data lake's targetSpec
        requires `params.dataSetId`, which must be a dataset of this sandbox (the dataflow tutorial)."""
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = _named(body, name_required=False)
        spec_ref = body.get("connectionSpec")
        if not isinstance(spec_ref, dict) or spec_ref.get("id") != DATA_LAKE_SPEC_ID:
            problems.append(f"connectionSpec.id must be the data lake's, {DATA_LAKE_SPEC_ID}")
        data = body.get("data")
        schema = data.get("schema", {}) if isinstance(data, dict) else None
        if not isinstance(data, dict):
            problems.append("data is required")
        elif not isinstance(data.get("format", ""), str):
            problems.append("data.format must be a string")
        if isinstance(data, dict) and "schema" in data and (
                not isinstance(schema, dict) or not isinstance(schema.get("id"), str)
                or not isinstance(schema.get("version", ""), str)):
            problems.append("data.schema needs the target schema's id (and version, a string)")
        params = body.get("params")
        dataset = state.datasets.get(params.get("dataSetId")) if isinstance(params, dict) \
            and isinstance(params.get("dataSetId"), str) else None
        # The tutorial: "You must provide a valid dataset ID when creating a target connection."
        if dataset is None or dataset["sandboxName"] != g.sandbox:
            problems.append("params.dataSetId must be the id of a dataset in this sandbox")
        if problems:
            return refused(problems)
        return created(state.target_connections, "/targetConnections", {
            **({"name": body["name"]} if "name" in body else {}), **_described(body), "state": "enabled",
            "data": data, "params": {"dataSetId": params["dataSetId"]},
            "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"}})

    # Flow specs, and flows.

    @bp.get("/flowSpecs")
    def list_flow_specs():
        # The tutorial quotes the name: property=name=="CRMToAEP". Quotes around a value are read as the value.
        return listing([dict(spec) for spec in FLOW_SPECS.values()], "/flowSpecs", unquote=True)

    @bp.get("/flowSpecs/<spec_id>")
    def get_flow_spec(spec_id):
        spec = FLOW_SPECS.get(spec_id)
        return json_response({"items": [spec]}) if spec else not_found()

    @bp.post("/flows")
    def create_flow():
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = _named(body)
        spec_ref = body.get("flowSpec")
        spec = FLOW_SPECS.get(spec_ref.get("id")) if isinstance(spec_ref, dict) else None
        if spec is None:
            return flow_error("1413-400", "The spec ID provided is invalid. Please provide a valid spec ID and "
                                          "try again.")
        for key, kept, allowed in (("sourceConnectionIds", state.source_connections, "sourceConnectionSpecIds"),
                                   ("targetConnectionIds", state.target_connections, "targetConnectionSpecIds")):
            ids = body.get(key)
            if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str):
                problems.append(f"{key} must hold one id")
                continue
            item = stored(kept, ids[0])
            if item is None:
                problems.append(f"{key}: {ids[0]} is not in this sandbox")
            elif item["connectionSpec"]["id"] not in spec[allowed]:
                problems.append(f"{key}: flow spec {spec['name']} does not take connection spec "
                                f"{item['connectionSpec']['id']}")
        problems += _transformations_problems(spec, body.get("transformations"))
        problems += _schedule_problems(spec, body.get("scheduleParams"))
        if "options" in body:
            problems += _options_problems(spec, body["options"])
        if problems:
            return refused(problems)
        source = state.source_connections[body["sourceConnectionIds"][0]]
        target = state.target_connections[body["targetConnectionIds"][0]]
        refusal = _mapping_refusal(state, body["transformations"], source, target)
        if refusal:
            return refusal
        base = state.connections.get(source["baseConnectionId"]) or {}
        return created(state.flows, "/flows", {
            "name": body["name"], **_described(body),
            "flowSpec": {"id": spec["id"], "version": spec["version"]}, "state": "enabled",
            "sourceConnectionIds": body["sourceConnectionIds"], "targetConnectionIds": body["targetConnectionIds"],
            # As the "Update dataflows" tutorial's GET /flows/{id} shows them.
            "inheritedAttributes": {
                "sourceConnections": [{"id": source["id"], "connectionSpec": source["connectionSpec"],
                                       "baseConnection": {"id": source["baseConnectionId"],
                                                          "connectionSpec": base.get("connectionSpec")}}],
                "targetConnections": [{"id": target["id"], "connectionSpec": target["connectionSpec"]}]},
            "transformations": body.get("transformations", []), "scheduleParams": body["scheduleParams"],
            **({"options": _read_options(body["options"])} if "options" in body else {})})

    @bp.patch("/flows/<item_id>")
    def patch_flow(item_id):
        """JSON Patch with If-Match, as "Update dataflows" sends it (name, description, scheduleParams, a Mapping
        transformation's mappingId and mappingVersion) and the partial-ingestion guide (`/options`); the same header
        and body rules as a connection's PATCH. The result must stand as a new flow would."""
        flow = stored(state.flows, item_id)
        if flow is None:
            return not_found()
        operations, refusal = patch_operations()
        if refusal:
            return refusal
        with state._lock:
            refusal = stale(flow)
            if refusal:
                return refusal
            changed = json.loads(json.dumps(flow))
            refusal = apply_patch(changed, operations, FLOW_PATCHABLE,
                                  "/name, /description, /scheduleParams, /transformations or /options")
            if refusal:
                return refusal
            spec = FLOW_SPECS[flow["flowSpec"]["id"]]
            named = _named_problem(changed)
            problems = ([named] if named else []) \
                + _schedule_problems(spec, changed.get("scheduleParams")) \
                + _transformations_problems(spec, changed.get("transformations")) \
                + (_options_problems(spec, changed["options"]) if "options" in changed else [])
            old_start, new_start = (_whole((f.get("scheduleParams") or {}).get("startTime")) for f in (flow, changed))
            if new_start != old_start and old_start is not None and old_start <= state.now():
                # "You cannot updated the `startTime` of a dataflow if the initially scheduled `startTime` has
                # already occurred" ("Update dataflows").
                problems.append("the startTime cannot change: the dataflow's first scheduled run has already begun")
            if problems:
                return patch_refused("; ".join(problems))
            refusal = _mapping_refusal(state, changed["transformations"],
                                       state.source_connections.get(changed["sourceConnectionIds"][0]),
                                       state.target_connections.get(changed["targetConnectionIds"][0]))
            if refusal:
                return refusal
            if "options" in changed:
                changed["options"] = _read_options(changed["options"])
            changed["etag"] = changed["version"] = new_etag()
            changed["updatedAt"] = int(state.now() * 1000)
            state.flows[item_id] = changed
        return json_response({"id": item_id, "etag": changed["etag"]})

    @bp.before_request
    def fall_due():
        """Make the runs of every flow that has fallen due by emulator time, before any answer about flows."""
        if request.path.startswith((f"{FLOW}/flows", f"{FLOW}/runs")):
            _tick(state)

    @bp.post("/flows/<item_id>/action")
    def flow_action(item_id):
        """Enable or disable a flow: `op=enable|disable`, as the tutorial "Update destination dataflows" sends it
        (lower case, no body); the spec's upper-case enum and its subOp are not what Adobe's tutorials send."""
        item = stored(state.flows, item_id)
        if item is None:
            return not_found()
        op = request.args.get("op")
        if op not in ("enable", "disable"):
            return flow_error("1100-400", f"The request could not be processed: op {op!r} is not enable or disable.")
        etag = new_etag()
        with state._lock:
            item.update(state=f"{op}d", etag=etag, version=etag, updatedAt=int(state.now() * 1000))
        return json_response({"id": item_id, "etag": etag})

    @bp.post("/runs")
    def create_run():
        """An ad hoc run of a flow scheduled once ("Create an ad hoc flow run"): params per the flow spec's runSpec,
        whole numbers accepted as digits too (the tutorial sends them quoted); startTime may be left out, as the
        tutorial does. 201 {id, etag}, as the spec's CreateFlowRunResponse says; the on-demand ingestion tutorial
        prints {"items": [{id, etag}]} instead, and the portal reads both."""
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        flow = stored(state.flows, body.get("flowId")) if isinstance(body.get("flowId"), str) else None
        if flow is None:
            return flow_error("1100-400", "The request could not be processed: flowId is not a flow in this sandbox.")
        if (flow.get("scheduleParams") or {}).get("frequency") != "once":
            return flow_error("1100-400", "The request could not be processed: an ad hoc run needs a flow scheduled "
                                          "for a one-time ingestion.")
        params = dict(body.get("params") or {}) if isinstance(body.get("params"), dict) else {}
        for key in ("startTime", "windowStartTime", "windowEndTime"):
            if isinstance(params.get(key), str) and params[key].isdigit():
                params[key] = int(params[key])
        params.setdefault("startTime", int(state.now()))
        spec = FLOW_SPECS[flow["flowSpec"]["id"]]["runSpec"]["spec"]
        problems = [f"params{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}"
                    for e in jsonschema.Draft7Validator(spec).iter_errors(params)]
        if not problems and params["windowStartTime"] >= params["windowEndTime"]:
            problems.append("params.windowStartTime must come before windowEndTime")
        if problems:
            return refused(problems)
        run = _new_run(state, flow, state.now())
        return json_response({"id": run["id"], "etag": run["etag"]}, 201,
                             headers={"Location": f"{FLOW}/runs/{run['id']}"})

    @bp.post("/runs/<run_id>/action")
    def run_action(run_id):
        """Retry a failed run: `op=re-trigger` makes a new run of the same flow ("Retry failed dataflow runs")."""
        run = stored(state.runs, run_id)
        if run is None:
            return not_found()
        if request.args.get("op") != "re-trigger":
            return flow_error("1100-400", f"The request could not be processed: op {request.args.get('op')!r} is "
                                          "not re-trigger.")
        records = run["metrics"]["recordSummary"]
        if run["metrics"]["statusSummary"]["status"] != "failed" and records["outputRecordCount"] != 0:
            # The tutorial: only failed runs, or successful ones that ingested nothing, can be retried.
            return flow_error("1100-400", f"The request could not be processed: run {run_id} did not fail.")
        flow = state.flows.get(run["flowId"])
        if flow is None:
            return not_found()
        again = _new_run(state, flow, state.now())
        return json_response({"id": again["id"], "etag": again["etag"]})

    def readable(path: str, kept: dict, used_as: str | None) -> None:
        """GET the list, GET one and DELETE one of the objects kept in `kept`, at `path`."""
        kind = path.strip("/")

        def list_all():
            with state._lock:
                items = [item for item in kept.values() if visible(item)]
            return listing(items, path)

        def get_one(item_id):
            item = stored(kept, item_id)
            return json_response({"items": [item]}) if item else not_found()

        def delete_one(item_id):
            return _delete(state, kept, stored(kept, item_id), used_as)

        bp.add_url_rule(path, f"list_{kind}", list_all, methods=["GET"])
        bp.add_url_rule(f"{path}/<item_id>", f"get_{kind}", get_one, methods=["GET"])
        bp.add_url_rule(f"{path}/<item_id>", f"delete_{kind}", delete_one, methods=["DELETE"])

    readable("/sourceConnections", state.source_connections, "sourceConnectionIds")
    readable("/targetConnections", state.target_connections, "targetConnectionIds")
    readable("/flows", state.flows, None)
    readable("/runs", state.runs, None)


def _delete(state, kept: dict, item, used_as: str | None) -> Response:
    """Delete an object; a source or target connection (`used_as` names the flows' field) only when no flow uses
    it: 1447-400, "Found active flows containing id …" (catalogue). Our choice: a disabled flow counts too."""
    if item is None:
        return not_found()
    with state._lock:
        if any(used_as and item["id"] in flow.get(used_as, []) for flow in state.flows.values()):
            return flow_error("1447-400", f"Found active flows containing id {item['id']}.")
        kept.pop(item["id"], None)
    return Response(status=204)


def _named(body: dict, name_required: bool = True) -> list[str]:
    problems = []
    if (name_required or "name" in body) and (not isinstance(body.get("name"), str) or not body["name"].strip()):
        problems.append("name is required" if name_required else "name must be a non-empty string")
    if "description" in body and not isinstance(body["description"], str):
        problems.append("description must be a string")
    return problems


def _described(body: dict) -> dict:
    """The description to keep: none when none was sent, as a GET of such an object shows none."""
    return {"description": body["description"]} if "description" in body else {}


def _whole(value) -> int | None:
    """A whole number sent as a number or as digits (Adobe's tutorials send both), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _columns_ok(columns) -> bool:
    return isinstance(columns, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("type"), str) for c in columns)


def _transformations_problems(spec: dict, transformations) -> list[str]:
    """Each transformation must be one the flow spec has, with params its JSON Schema accepts. The flow spec types
    a Mapping's mappingVersion a string while the dataflow tutorial sends the number 0 and "Update dataflows" the
    number 2: a whole number is read as its digits (our reading)."""
    if not isinstance(transformations, list):
        return ["transformations must be a list"]
    known = {t["name"]: t["spec"] for t in spec.get("transformationSpecs", [])}
    problems = []
    for item in transformations:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in known:
            problems.append(f"transformation {name!r} is not one of {', '.join(known)}")
            continue
        params = item.get("params")
        if isinstance(params, dict) and _whole(params.get("mappingVersion")) is not None:
            params = {**params, "mappingVersion": str(params["mappingVersion"])}
        for error in jsonschema.Draft7Validator(known[name]).iter_errors(params):
            where = ".".join(map(str, error.path))
            problems.append(f"transformations {name} params{'.' + where if where else ''}: {error.message}")
    return problems


def _mapping_refusal(state, transformations: list, source: dict | None, target: dict | None) -> Response | None:
    """What Flow Service answers for a flow's Mapping transformations (catalogue): 1419-400 for a mapping set that
    does not validate (none with that id; an attribute that is not a column of the source connection, when it lists
    its columns), 1412-400 for a mappingVersion the set does not have, 1425-400 when the set's output schema is
    not the target dataset's schema."""
    for transformation in transformations:
        if transformation.get("name") != "Mapping":
            continue
        params = transformation.get("params") or {}
        mapping_id, version = params.get("mappingId"), params.get("mappingVersion", 0)
        mapping = state.mapping_sets.get(mapping_id) if isinstance(mapping_id, str) else None
        if mapping is None or mapping.get("sandboxName", g.sandbox) != g.sandbox:
            return _mapping_invalid(mapping_id, version, "no mapping set has that id in this sandbox")
        if _whole(version) != mapping.get("version", 0):
            return flow_error("1412-400", "Invalid Mapping Version in request. Please provide correct mapping "
                                          f"version (mapping set {mapping_id} is at version "
                                          f"{mapping.get('version', 0)}).")
        dataset = state.datasets.get(((target or {}).get("params") or {}).get("dataSetId"))
        mapped = (((mapping.get("outputSchema") or {}).get("schemaRef")) or {}).get("id")
        # A set without an output schema is one a test put in state directly; Data Prep makes none.
        if dataset is not None and mapped is not None and mapped != dataset["schemaRef"]["id"]:
            return flow_error("1425-400", f"Error while matching schema in target dataset {dataset['id']} with "
                                          f"schema in mapping {mapping_id}. Schema with same id and version must be "
                                          "used in both mapping and target dataset.")
        columns = ((source or {}).get("params") or {}).get("columns")
        names = {c.get("name") for c in columns if isinstance(c, dict)} if isinstance(columns, list) else None
        for row in mapping.get("mappings") or []:
            if names is None or row.get("sourceType") != "ATTRIBUTE":
                continue
            path = field_path(row.get("source") or "")
            if path is None or len(path) != 1 or path[0] not in names:
                return _mapping_invalid(mapping_id, version, f"the attribute {row.get('source')!r} is not a column "
                                                             "of the source connection")
    return None


def _mapping_invalid(mapping_id, version, why: str) -> Response:
    return flow_error("1419-400", f"Error while validating mapping with id {mapping_id}, version {version}. This could "
                                  f"be because of inadequate permissions on mapped fields. Please check your mapping "
                                  f"or contact your admin ({why}).")


def _read_schedule(schedule: dict) -> dict:
    """scheduleParams as the flow spec's schema types them: the dataflow tutorial sends startTime "1612310466",
    interval "15" and backfill "true", and "Update dataflows" shows them stored so; each is read as the number or
    boolean it spells (our reading)."""
    read = dict(schedule)
    for key in ("startTime", "interval"):
        if _whole(read.get(key)) is not None:
            read[key] = _whole(read[key])
    if read.get("backfill") in ("true", "false"):
        read["backfill"] = read["backfill"] == "true"
    return read


def _schedule_problems(spec: dict, schedule) -> list[str]:
    """scheduleParams against the flow spec's scheduleSpec, each value read as `_read_schedule` reads it; the
    minimums apply to the interval (15 for minutes, 1 otherwise)."""
    if not isinstance(schedule, dict):
        return ["scheduleParams is required"]
    errors = jsonschema.Draft7Validator(spec["scheduleSpec"]["spec"]).iter_errors(_read_schedule(schedule))
    return [f"scheduleParams{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}" for e in errors]


def _read_options(options):
    """options with partialIngestionPercent read as the number it spells: the partial-ingestion guide patches
    `"partialIngestionPercent": "10"` and shows the flow's `options` with 10."""
    if not isinstance(options, dict):
        return options
    percent = options.get("partialIngestionPercent")
    if isinstance(percent, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", percent):
        number = float(percent)
        return {**options, "partialIngestionPercent": int(number) if number.is_integer() else number}
    return options


def _options_problems(spec: dict, options) -> list[str]:
    """A flow's `options` against the flow spec's optionSpec (the partial-ingestion guide's fields)."""
    return [f"options{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}"
            for e in jsonschema.Draft7Validator(spec["optionSpec"]["spec"]).iter_errors(_read_options(options))]


# Runs, made as flows fall due in emulator time.

SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
# The most runs one flow is given at once (our choice: a flow started long ago does not make thousands).
MOST_RUNS = 20
# What each outcome's run reports (our choice of figures; the shape and codes are the monitoring tutorial's).
OUTCOMES = {
    "success": ("success", 100, 100, []),
    "partial": ("success", 100, 97, [{"code": "INGEST-1212-400", "message": "Encountered 3 errors in the data. "
                                      "Successfully ingested 97 rows. Review the associated diagnostic files for "
                                      "additional details."},
                                     {"code": "MAPPER-3700-400", "recordCount": 3, "message": "Mapper Transform Error"}]),
    "failed": ("failed", 100, 0, [{"code": "CONNECTOR-2001-500", "message": "Error occurred at promotion activity."}]),
}


def _due_times(flow: dict, now: float) -> list[float]:
    """The times, in seconds, at which an enabled flow's schedule has made it due, oldest first."""
    schedule = flow.get("scheduleParams") or {}
    try:
        start = float(schedule.get("startTime"))
    except (TypeError, ValueError):
        return []
    start = max(start, flow["createdAt"] / 1000)  # our choice: nothing is due before the flow existed
    if schedule.get("frequency") == "once":
        return [start] if start <= now else []
    step = SECONDS.get(schedule.get("frequency"), 0) * int(schedule.get("interval") or 0)
    if step <= 0 or start > now:
        return []
    count = int((now - start) // step) + 1
    first = max(0, count - MOST_RUNS)
    return [start + k * step for k in range(first, count)]


def _tick(state) -> None:
    """Give each enabled flow the runs it is due, once each, and keep its lastRunDetails."""
    now = state.now()
    with state._lock:
        flows = [f for f in state.flows.values() if f["state"] == "enabled"]
        made = set(state.runs_made)
    for flow in flows:
        for due in _due_times(flow, now):
            if (flow["id"], due) not in made:
                with state._lock:
                    state.runs_made.add((flow["id"], due))
                _new_run(state, flow, due)


def _new_run(state, flow: dict, due: float) -> dict:
    with state._lock:
        queued = state.run_outcomes.get(flow["id"]) or []
        outcome = queued.pop(0) if queued else "success"
    status, read, written, errors = OUTCOMES[outcome]
    started = int(due * 1000)
    etag = new_etag()
    run = {
        "id": str(uuid.uuid4()), "createdAt": started, "updatedAt": started + 55000,
        "createdBy": flow["createdBy"], "updatedBy": flow["createdBy"],
        "createdClient": flow["createdClient"], "updatedClient": flow["createdClient"],
        "sandboxId": flow["sandboxId"], "sandboxName": flow["sandboxName"], "imsOrgId": flow["imsOrgId"],
        "flowId": flow["id"], "flowSpec": flow["flowSpec"], "etag": etag,
        "metrics": {
            "durationSummary": {"startedAtUTC": started, "completedAtUTC": started + 55000},
            "sizeSummary": {"inputBytes": read * 240, "outputBytes": written * 171},
            "recordSummary": {"inputRecordCount": read, "outputRecordCount": written,
                              "failedRecordCount": read - written},
            "statusSummary": {"status": status, "errors": errors},
        },
    }
    with state._lock:
        state.runs[run["id"]] = run
        flow["lastRunDetails"] = {"id": run["id"], "state": status, "startedAtUTC": started,
                                  "completedAtUTC": started + 55000}
    return run
