"""Flow Service's flow specs and flows (dataflows): create, read, list, patch, enable or disable, delete, as strict as
Adobe's documents.

The shapes are those of Adobe's tutorial "Create a dataflow for database sources using the Flow Service API"
(Experience League, `sources/tutorials/api/collect/database-nosql`), of "Update dataflows"
(`sources/tutorials/api/update-dataflows`) and of the OpenAPI spec; a flow is checked against its flow spec
(`flow_specs.py`) and its Mapping against Data Prep's mapping set. Each refusal is a row of docs/emulator.md.
"""

from __future__ import annotations

import json
import re

import jsonschema
from flask import Blueprint, Response, g, request

from .data_prep import field_path, mapping_version
from .errors import flow_error, json_response
from .flow_objects import add_readable, created, described, named, stored
from .flow_specs import FLOW_SPECS
from .gateway import body_or_refusal, gateway, new_etag, not_found, refused
from .json_patch import apply_patch, named_problem, patch_operations, patch_refused, stale
from .listing import listing
from .runs import fall_due
from .state import FLOW

# What "Update dataflows" and the partial-ingestion guide patch on a flow: its name and description, its schedule
# (whole or one parameter), its transformations (whole, one as `/transformations/0`, or one's params such as the
# Mapping's mappingId and mappingVersion) and its options.
FLOW_PATCHABLE = re.compile(
    r"^/(name|description|scheduleParams(/[A-Za-z]+)?"
    r"|transformations(/([0-9]+|-)(/params(/[A-Za-z]+)?)?)?|options(/[A-Za-z]+)?)$"
)


def flows_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_flows", __name__, url_prefix=FLOW)
    bp.before_request(gateway(state, sandbox_optional=True))
    bp.before_request(fall_due(state))
    _add_flow_specs(bp)

    @bp.post("/flows")
    def create_flow():
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = named(body)
        spec_ref = body.get("flowSpec")
        spec = FLOW_SPECS.get(str(spec_ref.get("id"))) if isinstance(spec_ref, dict) else None
        if spec is None:
            return flow_error(
                "1413-400", "The spec ID provided is invalid. Please provide a valid spec ID and try again."
            )
        problems += _connections_problems(state, spec, body)
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
        return created(state, state.flows, "/flows", _new_flow(state, spec, body, source, target))

    @bp.patch("/flows/<item_id>")
    def patch_flow(item_id):
        """JSON Patch with If-Match, as "Update dataflows" sends it (name, description, scheduleParams, a Mapping
        transformation's mappingId and mappingVersion) and the partial-ingestion guide (`/options`); the same header
        and body rules as a connection's PATCH. The result must stand as a new flow would."""
        flow = stored(state, state.flows, item_id)
        if flow is None:
            return not_found()
        operations, refusal = patch_operations()
        if refusal:
            return refusal
        with state._lock:
            return _patched(state, item_id, flow, operations)

    @bp.post("/flows/<item_id>/action")
    def flow_action(item_id):
        """Enable or disable a flow: `op=enable|disable`, as the tutorial "Update destination dataflows" sends it
        (lower case, no body); the spec's upper-case enum and its subOp are not what Adobe's tutorials send."""
        item = stored(state, state.flows, item_id)
        if item is None:
            return not_found()
        op = request.args.get("op")
        if op not in ("enable", "disable"):
            return flow_error("1100-400", f"The request could not be processed: op {op!r} is not enable or disable.")
        etag = new_etag()
        with state._lock:
            item.update(state=f"{op}d", etag=etag, version=etag, updatedAt=int(state.now() * 1000))
        return json_response({"id": item_id, "etag": etag})

    add_readable(bp, state, "/flows", state.flows, None)
    return bp


def _add_flow_specs(bp: Blueprint) -> None:
    """List and read the flow specs."""

    @bp.get("/flowSpecs")
    def list_flow_specs():
        # The tutorial quotes the name: property=name=="CRMToAEP". Quotes around a value are read as the value.
        return listing([dict(spec) for spec in FLOW_SPECS.values()], "/flowSpecs", unquote=True)

    @bp.get("/flowSpecs/<spec_id>")
    def get_flow_spec(spec_id):
        spec = FLOW_SPECS.get(spec_id)
        return json_response({"items": [spec]}) if spec else not_found()


def _patched(state, item_id: str, flow: dict, operations: list) -> Response:
    """Apply a PATCH's operations to a flow and keep the result if it stands as a new flow would; the caller holds
    the state's lock."""
    refusal = stale(flow)
    if refusal:
        return refusal
    changed = json.loads(json.dumps(flow))
    refusal = apply_patch(
        changed, operations, FLOW_PATCHABLE, "/name, /description, /scheduleParams, /transformations or /options"
    )
    if refusal:
        return refusal
    problems = _patched_problems(state, flow, changed)
    if problems:
        return patch_refused("; ".join(problems))
    refusal = _mapping_refusal(
        state,
        changed["transformations"],
        state.source_connections.get(changed["sourceConnectionIds"][0]),
        state.target_connections.get(changed["targetConnectionIds"][0]),
    )
    if refusal:
        return refusal
    if "options" in changed:
        changed["options"] = _read_options(changed["options"])
    changed["etag"] = changed["version"] = new_etag()
    changed["updatedAt"] = int(state.now() * 1000)
    state.flows[item_id] = changed
    return json_response({"id": item_id, "etag": changed["etag"]})


def _connections_problems(state, spec: dict, body: dict) -> list[str]:
    """A flow's one source and one target connection: in this sandbox, of connection specs its flow spec takes."""
    problems = []
    for key, kept, allowed in (
        ("sourceConnectionIds", state.source_connections, "sourceConnectionSpecIds"),
        ("targetConnectionIds", state.target_connections, "targetConnectionSpecIds"),
    ):
        ids = body.get(key)
        if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str):
            problems.append(f"{key} must hold one id")
            continue
        item = stored(state, kept, ids[0])
        if item is None:
            problems.append(f"{key}: {ids[0]} is not in this sandbox")
        elif item["connectionSpec"]["id"] not in spec[allowed]:
            problems.append(
                f"{key}: flow spec {spec['name']} does not take connection spec {item['connectionSpec']['id']}"
            )
    return problems


def _new_flow(state, spec: dict, body: dict, source: dict, target: dict) -> dict:
    """A new flow's fields, but for those every kept object has."""
    base = state.connections.get(source["baseConnectionId"]) or {}
    return {
        "name": body["name"],
        **described(body),
        "flowSpec": {"id": spec["id"], "version": spec["version"]},
        "state": "enabled",
        "sourceConnectionIds": body["sourceConnectionIds"],
        "targetConnectionIds": body["targetConnectionIds"],
        # As the "Update dataflows" tutorial's GET /flows/{id} shows them.
        "inheritedAttributes": {
            "sourceConnections": [
                {
                    "id": source["id"],
                    "connectionSpec": source["connectionSpec"],
                    "baseConnection": {"id": source["baseConnectionId"], "connectionSpec": base.get("connectionSpec")},
                }
            ],
            "targetConnections": [{"id": target["id"], "connectionSpec": target["connectionSpec"]}],
        },
        "transformations": body.get("transformations", []),
        "scheduleParams": body["scheduleParams"],
        **({"options": _read_options(body["options"])} if "options" in body else {}),
    }


def _patched_problems(state, flow: dict, changed: dict) -> list[str]:
    """Why a patched flow cannot stand as a new flow would, or why its start time cannot change."""
    spec = FLOW_SPECS[flow["flowSpec"]["id"]]
    named_wrong = named_problem(changed)
    problems = (
        ([named_wrong] if named_wrong else [])
        + _schedule_problems(spec, changed.get("scheduleParams"))
        + _transformations_problems(spec, changed.get("transformations"))
        + (_options_problems(spec, changed["options"]) if "options" in changed else [])
    )
    old_start, new_start = (_whole((f.get("scheduleParams") or {}).get("startTime")) for f in (flow, changed))
    if new_start != old_start and old_start is not None and old_start <= state.now():
        # "You cannot updated the `startTime` of a dataflow if the initially scheduled `startTime` has
        # already occurred" ("Update dataflows").
        problems.append("the startTime cannot change: the dataflow's first scheduled run has already begun")
    return problems


def _whole(value) -> int | None:
    """A whole number sent as a number or as digits (Adobe's tutorials send both), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _transformations_problems(spec: dict, transformations) -> list[str]:
    """Each transformation must be one the flow spec has, at most once, with params its JSON Schema accepts. The flow
    spec types a Mapping's mappingVersion a string while the dataflow tutorial sends the number 0 and "Update
    dataflows" the number 2: a whole number is read as its digits (our reading)."""
    if not isinstance(transformations, list):
        return ["transformations must be a list"]
    known = {t["name"]: t["spec"] for t in spec.get("transformationSpecs", [])}
    problems = []
    seen = set()
    for item in transformations:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in known:
            problems.append(f"transformation {name!r} is not one of {', '.join(known)}")
            continue
        if name in seen:
            # Our choice: the flow spec lists each transformation once, and a flow has each at most once. The update
            # tutorial's `replace /transformations/0` with a Mapping, sent to a flow whose first transformation is its
            # Copy, would otherwise leave two Mappings and no Copy.
            problems.append(f"transformation {name} appears more than once")
            continue
        seen.add(name)
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
        wanted = _whole(version)
        current = mapping.get("version", 0)
        mapping = mapping_version(mapping, wanted) if wanted is not None else None
        if mapping is None:
            return flow_error(
                "1412-400",
                "Invalid Mapping Version in request. Please provide correct mapping "
                f"version (mapping set {mapping_id} is at version {current}).",
            )
        dataset = state.datasets.get(((target or {}).get("params") or {}).get("dataSetId"))
        mapped = (((mapping.get("outputSchema") or {}).get("schemaRef")) or {}).get("id")
        # A set without an output schema is one a test put in state directly; Data Prep makes none.
        if dataset is not None and mapped is not None and mapped != dataset["schemaRef"]["id"]:
            return flow_error(
                "1425-400",
                f"Error while matching schema in target dataset {dataset['id']} with "
                f"schema in mapping {mapping_id}. Schema with same id and version must be "
                "used in both mapping and target dataset.",
            )
        columns = ((source or {}).get("params") or {}).get("columns")
        names = {c.get("name") for c in columns if isinstance(c, dict)} if isinstance(columns, list) else None
        for row in mapping.get("mappings") or []:
            if names is None or row.get("sourceType") != "ATTRIBUTE":
                continue
            path = field_path(row.get("source") or "")
            if path is None or len(path) != 1 or path[0] not in names:
                return _mapping_invalid(
                    mapping_id, version, f"the attribute {row.get('source')!r} is not a column of the source connection"
                )
    return None


def _mapping_invalid(mapping_id, version, why: str) -> Response:
    return flow_error(
        "1419-400",
        f"Error while validating mapping with id {mapping_id}, version {version}. This could "
        f"be because of inadequate permissions on mapped fields. Please check your mapping "
        f"or contact your admin ({why}).",
    )


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
    return [
        f"options{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}"
        for e in jsonschema.Draft7Validator(spec["optionSpec"]["spec"]).iter_errors(_read_options(options))
    ]
