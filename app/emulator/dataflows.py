"""Flow Service's dataflow objects: source and target connections, flow specs and flows, as strict as Adobe's documents.

The shapes are those of Adobe's tutorial "Create a dataflow for database sources using the Flow Service API"
(Experience League, `sources/tutorials/api/collect/database-nosql`) and of the OpenAPI spec; each refusal is a row
of docs/emulator.md. An object is seen only in its own sandbox, and one that another uses cannot be deleted.
"""

from __future__ import annotations

import uuid

import jsonschema
from flask import Blueprint, Response, g, request

from .errors import flow_error, json_response
from .flow_service import listing, new_etag, not_found
from .specs import DATA_LAKE_SPEC_ID, FLOW_SPECS
from .state import FLOW


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
            "name": body["name"], "description": body.get("description", ""),
            "baseConnectionId": base["id"], "state": "enabled", "data": {"format": "tabular"},
            "params": params, "connectionSpec": {"id": base["connectionSpec"]["id"], "version": "1.0"}})

    # Target connections: a dataset in the data lake.

    @bp.post("/targetConnections")
    def create_target_connection():
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = _named(body)
        spec_ref = body.get("connectionSpec")
        if not isinstance(spec_ref, dict) or spec_ref.get("id") != DATA_LAKE_SPEC_ID:
            problems.append(f"connectionSpec.id must be the data lake's, {DATA_LAKE_SPEC_ID}")
        schema = (body.get("data") or {}).get("schema") if isinstance(body.get("data"), dict) else None
        if not isinstance(schema, dict) or not isinstance(schema.get("id"), str) \
                or not isinstance(schema.get("version"), str):
            problems.append("data.schema needs the target schema's id and version")
        params = body.get("params")
        dataset = state.datasets.get(params.get("dataSetId")) if isinstance(params, dict) \
            and isinstance(params.get("dataSetId"), str) else None
        # The tutorial: "You must provide a valid dataset ID when creating a target connection."
        if dataset is None or dataset["sandboxName"] != g.sandbox:
            problems.append("params.dataSetId must be the id of a dataset in this sandbox")
        elif isinstance(schema, dict) and schema.get("id") != dataset["schemaRef"]["id"]:
            problems.append("data.schema.id must be the schema of the dataset")
        if problems:
            return refused(problems)
        return created(state.target_connections, "/targetConnections", {
            "name": body["name"], "description": body.get("description", ""), "state": "enabled",
            "data": {"schema": {"id": schema["id"], "version": schema["version"]}},
            "params": {"dataSetId": params["dataSetId"]},
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
        problems += _transformations_problems(spec, body.get("transformations"), state)
        problems += _schedule_problems(spec, body.get("scheduleParams"))
        if "options" in body:
            # Our reading: the flow spec's optionSpec describes a flow's `options` (the API spec's CreateFlowRequest
            # lists no such field); its JSON Schema decides.
            problems += [f"options{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}"
                         for e in jsonschema.Draft7Validator(spec["optionSpec"]["spec"]).iter_errors(body["options"])]
        if problems:
            return refused(problems)
        source = state.source_connections[body["sourceConnectionIds"][0]]
        target = state.target_connections[body["targetConnectionIds"][0]]
        base = state.connections.get(source["baseConnectionId"]) or {}
        return created(state.flows, "/flows", {
            "name": body["name"], "description": body.get("description", ""),
            "flowSpec": {"id": spec["id"], "version": spec["version"]}, "state": "enabled",
            "sourceConnectionIds": body["sourceConnectionIds"], "targetConnectionIds": body["targetConnectionIds"],
            # As the "Update dataflows" tutorial's GET /flows/{id} shows them.
            "inheritedAttributes": {
                "sourceConnections": [{"id": source["id"], "connectionSpec": source["connectionSpec"],
                                       "baseConnection": {"id": source["baseConnectionId"],
                                                          "connectionSpec": base.get("connectionSpec")}}],
                "targetConnections": [{"id": target["id"], "connectionSpec": target["connectionSpec"]}]},
            "transformations": body.get("transformations", []), "scheduleParams": body["scheduleParams"],
            **({"options": body["options"]} if "options" in body else {})})

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
        tutorial does. 201 {id, etag}, as the spec says."""
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

    def readable(path: str, kept: dict, used_as: str | None, what: str) -> None:
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
            return _delete(state, kept, stored(kept, item_id), used_as, what)

        bp.add_url_rule(path, f"list_{kind}", list_all, methods=["GET"])
        bp.add_url_rule(f"{path}/<item_id>", f"get_{kind}", get_one, methods=["GET"])
        bp.add_url_rule(f"{path}/<item_id>", f"delete_{kind}", delete_one, methods=["DELETE"])

    readable("/sourceConnections", state.source_connections, "sourceConnectionIds", "source connection")
    readable("/targetConnections", state.target_connections, "targetConnectionIds", "target connection")
    readable("/flows", state.flows, None, "flow")
    readable("/runs", state.runs, None, "run")


def _delete(state, kept: dict, item, used_as: str | None, what: str) -> Response:
    """Delete an object; a source or target connection (`used_as` names the flows' field) only when no flow uses
    it (our choice: refuse, as Flow Service does for a base connection in use)."""
    if item is None:
        return not_found()
    with state._lock:
        users = [flow["id"] for flow in state.flows.values() if used_as and item["id"] in flow.get(used_as, [])]
        if users:
            return flow_error("1100-400", f"The request could not be processed: the {what} {item['id']} is used "
                                          f"by the flow {', '.join(users)}. Delete the flow first.")
        kept.pop(item["id"], None)
    return Response(status=204)


def _named(body: dict) -> list[str]:
    problems = []
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        problems.append("name is required")
    if "description" in body and not isinstance(body["description"], str):
        problems.append("description must be a string")
    return problems


def _columns_ok(columns) -> bool:
    return isinstance(columns, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("type"), str) for c in columns)


def _transformations_problems(spec: dict, transformations, state) -> list[str]:
    """Each transformation must be one the flow spec has, with params its JSON Schema accepts; a Mapping's
    mappingId must be a mapping set Data Prep has."""
    if not isinstance(transformations, list):
        return ["transformations must be a list"]
    known = {t["name"]: t["spec"] for t in spec.get("transformationSpec", [])}
    problems = []
    for item in transformations:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in known:
            problems.append(f"transformation {name!r} is not one of {', '.join(known)}")
            continue
        for error in jsonschema.Draft7Validator(known[name]).iter_errors(item.get("params")):
            where = ".".join(map(str, error.path))
            problems.append(f"transformations {name} params{'.' + where if where else ''}: {error.message}")
        params = item.get("params")
        mapping = state.mapping_sets.get(params.get("mappingId")) if isinstance(params, dict) \
            and isinstance(params.get("mappingId"), str) else None
        if name == "Mapping" and (mapping is None or mapping.get("sandboxName", g.sandbox) != g.sandbox):
            problems.append(f"transformations Mapping: no mapping set {params.get('mappingId')!r}")
    return problems


def _schedule_problems(spec: dict, schedule) -> list[str]:
    """scheduleParams against the flow spec's scheduleSpec. The tutorial sends interval as "15" and the spec's
    ScheduleSpecDTO types it a string, while the flow spec's own schema says integer: a whole number in either form
    is read as the number (our choice), and the minimums apply to it (15 for minutes, 1 otherwise)."""
    if not isinstance(schedule, dict):
        return ["scheduleParams is required"]
    checked = dict(schedule)
    interval = checked.get("interval")
    if isinstance(interval, str) and interval.isdigit():
        checked["interval"] = int(interval)
    errors = jsonschema.Draft7Validator(spec["scheduleSpec"]["spec"]).iter_errors(checked)
    return [f"scheduleParams{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}" for e in errors]


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
