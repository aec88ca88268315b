"""Flow Service's base connections, connection specs and explore, behind Adobe's API gateway, as strict as Adobe's
documents.

A base connection is created against a connection spec's authSpec (its secrets kept in `state.secrets`, never
returned), read, listed, patched with If-Match, tested, explored and deleted, unless a flow uses it. Every refusal
is a row of docs/emulator.md with the document it follows; where Adobe documents nothing, the emulator refuses (the
safe side) and the table says "our choice".
"""

from __future__ import annotations

import json
import re
import time
import uuid

import jsonschema
from flask import Blueprint, Response, g, request

from .errors import flow_error, json_response
from .flow_objects import stored, visible
from .gateway import body_or_refusal, gateway, new_etag, not_found, refused
from .json_patch import apply_patch, named_problem, patch_operations, patch_refused, stale
from .listing import listing
from .state import FLOW

PATCHABLE = re.compile(r"^/(name|description|auth/params(/[A-Za-z0-9_]+)?)$")
# objectType as Adobe's tutorials ("Explore a database") and aepp send it.
EXPLORE_TYPES = {"root", "table"}


def connections_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_connections", __name__, url_prefix=FLOW)
    bp.before_request(gateway(state, sandbox_optional=True))
    _add_changes(bp, state)
    _add_reads(bp, state)
    return bp


def _add_changes(bp: Blueprint, state) -> None:
    """Create, patch and delete a base connection."""

    @bp.post("/connections")
    def create_connection():
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = _shape_problems(body)
        if problems:
            return refused(problems)
        spec, auth_spec, refusal = _auth_spec_for(state, body)
        if refusal:
            return refusal
        connection = _new_connection(state, body, spec)
        secret_names = _secret_names(auth_spec["spec"])
        connection["auth"]["params"] = _masked(body["auth"]["params"], secret_names)
        with state._lock:
            state.connections[connection["id"]] = connection
            state.secrets[connection["id"]] = {k: v for k, v in body["auth"]["params"].items() if k in secret_names}
        return json_response(
            {"id": connection["id"], "etag": connection["etag"]},
            201,
            headers={"Location": f"{FLOW}/connections/{connection['id']}"},
        )

    @bp.patch("/connections/<connection_id>")
    @bp.patch("/connections/<connection_id>/")
    def patch_connection(connection_id):
        """JSON Patch with If-Match, as Adobe's update tutorial sends it."""
        connection = stored(state, state.connections, connection_id)
        if connection is None:
            return not_found()
        operations, refusal = patch_operations()
        if refusal:
            return refusal
        with state._lock:
            return _patched(state, connection_id, connection, operations)

    @bp.delete("/connections/<connection_id>")
    @bp.delete("/connections/<connection_id>/")
    def delete_connection(connection_id):
        if stored(state, state.connections, connection_id) is None:
            return not_found()
        with state._lock:
            if _used_by_a_flow(state, connection_id):
                return flow_error(
                    "1418-400",
                    f"The base connection with the ID {connection_id} cannot be deleted "
                    "because the base connection is being used in one or more flows. "
                    "Please ensure that corresponding flows are deleted before deleting "
                    "a base connection.",
                )
            state.connections.pop(connection_id, None)
            state.secrets.pop(connection_id, None)
        return Response(status=204)


def _add_reads(bp: Blueprint, state) -> None:
    """List, read, test and explore base connections; list and read connection specs."""

    @bp.get("/connections")
    def list_connections():
        """Filter (`==`, comparisons), order, page with opaque continuation tokens, or count (sort-and-filter guide)."""
        with state._lock:
            items = [c for c in state.connections.values() if visible(state, c)]
        return listing(items, "/connections")

    @bp.get("/connections/<connection_id>")
    def get_connection(connection_id):
        connection = stored(state, state.connections, connection_id)
        if connection is None:
            return not_found()
        return json_response({"items": [connection]})

    @bp.get("/connections/<connection_id>/test")
    def test_connection(connection_id):
        """200 {"result": false} when the database refuses, as the spec's TestConnectionResponse says."""
        if stored(state, state.connections, connection_id) is None:
            return not_found()
        return json_response({"result": connection_id not in state.failing_tests})

    @bp.get("/connections/<connection_id>/explore")
    def explore_connection(connection_id):
        if stored(state, state.connections, connection_id) is None:
            return not_found()
        return _explored(request.args.get("objectType", ""), request.args.get("object"))

    @bp.get("/connectionSpecs")
    def list_specs():
        return json_response({"items": list(state.specs.values())})

    @bp.get("/connectionSpecs/<spec_id>")
    def get_spec(spec_id):
        spec = state.specs.get(spec_id)
        if spec is None:
            return not_found()
        return json_response({"items": [spec]})


def _patched(state, connection_id: str, connection: dict, operations: list) -> Response:
    """Apply a PATCH's operations to a connection, its secrets included, and keep the result if it stands; the
    caller holds the state's lock."""
    refusal = stale(connection)
    if refusal:
        return refusal
    changed = json.loads(json.dumps(connection))
    changed["auth"]["params"] = {**changed["auth"]["params"], **state.secrets.get(connection_id, {})}
    refusal = apply_patch(
        changed,
        operations,
        PATCHABLE,
        "/name, /description or /auth/params",
        fixed=("/connectionSpec", "1414-400", "The connection spec of a connection cannot be updated."),
    )
    if refusal:
        return refusal
    problem, auth_spec = _patched_problem(state, connection, changed)
    if problem:
        return patch_refused(problem)
    params = changed["auth"]["params"]
    secret_names = _secret_names(auth_spec["spec"])
    state.secrets[connection_id] = {k: v for k, v in params.items() if k in secret_names}
    changed["auth"]["params"] = _masked(params, secret_names)
    changed["etag"] = changed["version"] = new_etag()
    changed["updatedAt"] = int(time.time() * 1000)
    state.connections[connection_id] = changed
    return json_response({"id": connection_id, "etag": changed["etag"]})


def _shape_problems(body: dict) -> list[str]:
    """What a new connection's body lacks: a name, a connection spec's id, an auth spec's name and params."""
    problems = []
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        problems.append("name is required")
    if "description" in body and not isinstance(body["description"], str):
        problems.append("description must be a string")
    spec_ref = body.get("connectionSpec")
    if not isinstance(spec_ref, dict) or not isinstance(spec_ref.get("id"), str):
        problems.append("connectionSpec.id is required")
    auth = body.get("auth")
    if not isinstance(auth, dict) or not isinstance(auth.get("specName"), str):
        problems.append("auth.specName is required")
    elif not isinstance(auth.get("params"), dict):
        problems.append("auth.params must be an object")
    return problems


def _auth_spec_for(state, body: dict):
    """(connection spec, auth spec, None) for a new connection's body, or (None, None, the refusal)."""
    spec_ref, auth = body["connectionSpec"], body["auth"]
    spec = state.specs.get(spec_ref["id"])
    if spec is None:
        return (
            None,
            None,
            flow_error("1413-400", "The spec ID provided is invalid. Please provide a valid spec ID and try again."),
        )
    if spec_ref.get("version", "1.0") != spec["version"]:
        return (
            None,
            None,
            flow_error(
                "1100-400",
                f"The request could not be processed: connection spec "
                f"{spec['id']} has no version {spec_ref.get('version')!r}.",
            ),
        )
    # The data lake's spec has a targetSpec and no authSpec: no auth names one of its.
    auth_spec = next((a for a in spec.get("authSpec", []) if a["name"] == auth["specName"]), None)
    if auth_spec is None:
        return (
            None,
            None,
            flow_error(
                "1415-400",
                f"The auth spec '{auth['specName']}' could not be found for the connection spec ID {spec['id']}.",
            ),
        )
    problem = _params_problem(auth_spec, auth["params"])
    if problem:
        return (
            None,
            None,
            flow_error(
                "1100-400",
                f"The request could not be processed: auth params do not match "
                f"'{auth_spec['name']}' of {spec['name']}: {problem}.",
            ),
        )
    return spec, auth_spec, None


def _new_connection(state, body: dict, spec: dict) -> dict:
    """A base connection as Flow Service keeps it; its auth params are set, masked, by the caller."""
    now = int(time.time() * 1000)
    etag = new_etag()
    return {
        "id": str(uuid.uuid4()),
        "createdAt": now,
        "updatedAt": now,
        # The spec: "In the case of service tokens, the value for createdBy is the same as createdClient."
        "createdBy": state.client_id,
        "updatedBy": state.client_id,
        "createdClient": state.client_id,
        "updatedClient": state.client_id,
        "sandboxId": str(uuid.uuid5(uuid.NAMESPACE_DNS, g.sandbox)),
        "sandboxName": g.sandbox,
        "imsOrgId": state.org_id,
        "name": body["name"],
        # Only when one was given: "Update a connection" shows a connection made without one with no
        # `description` key, and adds one with `"op": "add"`.
        **({"description": body["description"]} if "description" in body else {}),
        "connectionSpec": {"id": spec["id"], "version": spec["version"]},
        "state": "enabled",
        "auth": {"specName": body["auth"]["specName"], "params": {}},
        "version": etag,
        "etag": etag,
    }


def _patched_problem(state, connection: dict, changed: dict):
    """(why a patched connection cannot stand, or None; the auth spec its params follow)."""
    problem = named_problem(changed)
    params = changed["auth"].get("params")
    if problem is None and not isinstance(params, dict):
        problem = "auth.params must be an object"
    if problem is not None:
        return problem, None
    spec = state.specs[connection["connectionSpec"]["id"]]
    auth_spec = next(a for a in spec["authSpec"] if a["name"] == changed["auth"]["specName"])
    return _params_problem(auth_spec, params), auth_spec


def _used_by_a_flow(state, connection_id: str) -> bool:
    # "…cannot be deleted because the base connection is being used in one or more flows": a flow, not a source
    # connection alone (one made from it, used by no flow, leaves it deletable).
    sources = {item["id"] for item in state.source_connections.values() if item["baseConnectionId"] == connection_id}
    return connection_id in state.used_by_dataflows or any(
        sources & set(flow.get("sourceConnectionIds", [])) for flow in state.flows.values()
    )


def _explored(object_type: str, wanted: str | None) -> Response:
    """The tables ("root") or one table's columns ("table"), as "Explore a database" prints them."""
    if object_type not in EXPLORE_TYPES:
        return flow_error(
            "1100-400", f"The request could not be processed: objectType {object_type!r} is not one of root, table."
        )
    if object_type == "root":
        return json_response(
            [
                {"type": "table", "name": name, "path": path, "canPreview": True, "canFetchSchema": True}
                for name, path, _ in EXPLORE_TABLES
            ]
        )
    table = next((t for t in EXPLORE_TABLES if t[1] == wanted), None)
    if table is None:
        return not_found()
    return json_response({"format": "flat", "schema": {"columns": [_column(name, kind) for name, kind in table[2]]}})


def _secret_names(spec: dict) -> set[str]:
    return {name for name, prop in spec.get("properties", {}).items() if prop.get("format") == "password"}


def _masked(params: dict, secret_names: set[str]) -> dict:
    # Flow Service never returns secrets; neither does the emulator.
    return {k: ("****" if k in secret_names else v) for k, v in params.items()}


def _params_problem(auth_spec: dict, params) -> str | None:
    errors = sorted(jsonschema.Draft7Validator(auth_spec["spec"]).iter_errors(params), key=lambda e: list(e.path))
    return (
        "; ".join(
            ("auth.params." + ".".join(map(str, e.path)) + ": " if e.path else "auth.params: ") + e.message
            for e in errors
        )
        or None
    )


def _column(name: str, kind: str) -> dict:
    """A column as "Explore data tables" prints one: a timestamp is a string with `meta:xdmType` date-time (a date,
    likewise, with `date`: our choice, by the same pattern, as no example shows a date column)."""
    if kind in ("date-time", "date"):
        return {"name": name, "type": "string", "meta:xdmType": kind, "xdm": {"type": "string", "format": kind}}
    return {"name": name, "type": kind, "xdm": {"type": kind}}


EXPLORE_TABLES = [
    (
        "public.customers",
        "public.customers",
        [("customer_id", "integer"), ("email", "string"), ("first_name", "string"), ("created_at", "date-time")],
    ),
    (
        "public.orders",
        "public.orders",
        [("order_id", "integer"), ("customer_id", "integer"), ("total", "number"), ("placed_at", "date-time")],
    ),
    (
        "sales.returns",
        "sales.returns",
        [("return_id", "integer"), ("order_id", "integer"), ("reason", "string"), ("refunded", "boolean")],
    ),
    # Names Data Prep reads only when escaped or wrapped (a dot, a space, a dash), one it reads as it is (a letter
    # outside ASCII), and a date beside a timestamp: what real databases hold.
    (
        "sales.odd_names",
        "sales.odd_names",
        [
            ("order.id", "string"),
            ("first name", "string"),
            ("a-b", "string"),
            ("ümlaut", "string"),
            ("joined_on", "date"),
            ("changed_at", "date-time"),
        ],
    ),
]
