"""Flow Service's base connections and connection specs behind Adobe's API gateway, as strict as Adobe's documents.

Every refusal cites its document in `behaviours.BEHAVIOURS`; where Adobe
documents nothing, the emulator refuses (the safe side) and the table says
"our choice".
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import jsonschema
from flask import Blueprint, Response, g, request

from .errors import bad_request, flow_error, gateway_error, json_response, platform_error
from .state import FLOW

# The query parameters the spec documents for GET /connections.
LIST_PARAMETERS = {"property", "limit", "orderby", "continuationToken", "count"}
# Fields a list may be ordered by (our choice: the ones the portal and Adobe's examples use).
SORTABLE = {"name", "createdAt", "updatedAt"}
# The most items one page holds (our choice: Adobe documents no maximum).
MAX_LIMIT = 100
DEFAULT_LIMIT = 100
CLAUSE = re.compile(r"^(?P<path>[A-Za-z_][A-Za-z0-9_.\[\]]*)(?P<op>[=!<>~]+)(?P<value>.*)$", re.S)
ORDER = re.compile(r"^(?P<sign>[+-]?)(?P<field>.*)$", re.S)
COMPARISONS = {">": lambda a, b: a > b, "<": lambda a, b: a < b,
               ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}
PATCHABLE = re.compile(r"^/(name|description|auth/params(/[A-Za-z0-9_]+)?)$")
# objectType as Adobe's tutorials ("Explore a database") and aepp send it.
EXPLORE_TYPES = {"root", "table"}
# The sandbox Flow Service works in when a request names none: "If the `x-sandbox-name` header is not specified,
# requests are resolved under the `prod` sandbox" (the Flow Service tutorials, e.g. "Edit destination connections",
# destinations/api/edit-destination); the spec marks the header optional.
DEFAULT_SANDBOX = "prod"


def flow_service_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_flow_service", __name__, url_prefix=FLOW)

    bp.before_request(gateway(state, sandbox_optional=True))

    def visible(connection) -> bool:
        return connection["sandboxName"] == g.sandbox and connection["imsOrgId"] == state.org_id

    def stored(connection_id):
        with state._lock:
            connection = state.connections.get(connection_id)
        return connection if connection is not None and visible(connection) else None

    @bp.post("/connections")
    def create_connection():
        if not request.get_data():
            return flow_error("1405-400", "The request body cannot be null or empty. "
                                          "Please provide a request body and try again.")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return flow_error("1100-400", "The request could not be processed: the body is not a JSON object.")
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
        if problems:
            return flow_error("1100-400", "The request could not be processed: " + "; ".join(problems) + ".")
        spec = state.specs.get(spec_ref["id"])
        if spec is None:
            return flow_error("1413-400", "The spec ID provided is invalid. Please provide a valid spec ID and "
                                          "try again.")
        if spec_ref.get("version", "1.0") != spec["version"]:
            return flow_error("1100-400", f"The request could not be processed: connection spec {spec['id']} "
                                          f"has no version {spec_ref.get('version')!r}.")
        # The data lake's spec has a targetSpec and no authSpec: no auth names one of its.
        auth_spec = next((a for a in spec.get("authSpec", []) if a["name"] == auth["specName"]), None)
        if auth_spec is None:
            return flow_error("1415-400", f"The auth spec '{auth['specName']}' could not be found for the "
                                          f"connection spec ID {spec['id']}.")
        problem = _params_problem(auth_spec, auth["params"])
        if problem:
            return flow_error("1100-400", f"The request could not be processed: auth params do not match "
                                          f"'{auth_spec['name']}' of {spec['name']}: {problem}.")
        now = int(time.time() * 1000)
        connection_id = str(uuid.uuid4())
        etag = new_etag()
        secret_names = _secret_names(auth_spec["spec"])
        connection = {
            "id": connection_id,
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
            "auth": {"specName": auth["specName"], "params": _masked(auth["params"], secret_names)},
            "version": etag,
            "etag": etag,
        }
        with state._lock:
            state.connections[connection_id] = connection
            state.secrets[connection_id] = {k: v for k, v in auth["params"].items() if k in secret_names}
        return json_response({"id": connection_id, "etag": etag}, 201,
                             headers={"Location": f"{FLOW}/connections/{connection_id}"})

    @bp.get("/connections")
    def list_connections():
        """Filter (`==`, comparisons), order, page with opaque continuation tokens, or count (sort-and-filter guide)."""
        with state._lock:
            items = [c for c in state.connections.values() if visible(c)]
        return listing(items, "/connections")

    @bp.get("/connections/<connection_id>")
    def get_connection(connection_id):
        connection = stored(connection_id)
        if connection is None:
            return not_found()
        return json_response({"items": [connection]})

    @bp.patch("/connections/<connection_id>")
    @bp.patch("/connections/<connection_id>/")
    def patch_connection(connection_id):
        """JSON Patch with If-Match, as Adobe's update tutorial sends it."""
        connection = stored(connection_id)
        if connection is None:
            return not_found()
        operations, refusal = patch_operations()
        if refusal:
            return refusal
        with state._lock:
            refusal = stale(connection)
            if refusal:
                return refusal
            changed = json.loads(json.dumps(connection))
            changed["auth"]["params"] = {**changed["auth"]["params"], **state.secrets.get(connection_id, {})}
            refusal = apply_patch(changed, operations, PATCHABLE, "/name, /description or /auth/params",
                                  fixed=("/connectionSpec", "1414-400",
                                         "The connection spec of a connection cannot be updated."))
            if refusal:
                return refusal
            problem = _named_problem(changed)
            params = changed["auth"].get("params")
            if problem is None and not isinstance(params, dict):
                problem = "auth.params must be an object"
            if problem is None:
                spec = state.specs[connection["connectionSpec"]["id"]]
                auth_spec = next(a for a in spec["authSpec"] if a["name"] == changed["auth"]["specName"])
                problem = _params_problem(auth_spec, params)
            if problem:
                return patch_refused(problem)
            secret_names = _secret_names(auth_spec["spec"])
            state.secrets[connection_id] = {k: v for k, v in params.items() if k in secret_names}
            changed["auth"]["params"] = _masked(params, secret_names)
            changed["etag"] = changed["version"] = new_etag()
            changed["updatedAt"] = int(time.time() * 1000)
            state.connections[connection_id] = changed
        return json_response({"id": connection_id, "etag": changed["etag"]})

    @bp.delete("/connections/<connection_id>")
    @bp.delete("/connections/<connection_id>/")
    def delete_connection(connection_id):
        if stored(connection_id) is None:
            return not_found()
        with state._lock:
            # "…cannot be deleted because the base connection is being used in one or more flows": a flow, not a
            # source connection alone (one made from it, used by no flow, leaves it deletable).
            sources = {item["id"] for item in state.source_connections.values()
                       if item["baseConnectionId"] == connection_id}
            if connection_id in state.used_by_dataflows or any(
                    sources & set(flow.get("sourceConnectionIds", [])) for flow in state.flows.values()):
                return flow_error("1418-400", f"The base connection with the ID {connection_id} cannot be deleted "
                                              "because the base connection is being used in one or more flows. "
                                              "Please ensure that corresponding flows are deleted before deleting "
                                              "a base connection.")
            state.connections.pop(connection_id, None)
            state.secrets.pop(connection_id, None)
        return Response(status=204)

    @bp.get("/connections/<connection_id>/test")
    def test_connection(connection_id):
        """200 {"result": false} when the database refuses, as the spec's TestConnectionResponse says."""
        if stored(connection_id) is None:
            return not_found()
        return json_response({"result": connection_id not in state.failing_tests})

    @bp.get("/connections/<connection_id>/explore")
    def explore_connection(connection_id):
        if stored(connection_id) is None:
            return not_found()
        object_type = request.args.get("objectType", "")
        if object_type not in EXPLORE_TYPES:
            return flow_error("1100-400", f"The request could not be processed: objectType {object_type!r} is not "
                                          "one of root, table.")
        if object_type == "root":
            return json_response([{"type": "table", "name": name, "path": path, "canPreview": True,
                                   "canFetchSchema": True} for name, path, _ in EXPLORE_TABLES])
        table = next((t for t in EXPLORE_TABLES if t[1] == request.args.get("object")), None)
        if table is None:
            return not_found()
        return json_response({"format": "flat", "schema": {"columns": [_column(name, kind) for name, kind in table[2]]}})

    @bp.get("/connectionSpecs")
    def list_specs():
        return json_response({"items": list(state.specs.values())})

    @bp.get("/connectionSpecs/<spec_id>")
    def get_spec(spec_id):
        spec = state.specs.get(spec_id)
        if spec is None:
            return not_found()
        return json_response({"items": [spec]})

    from .dataflows import add_routes  # it builds on this module's helpers

    add_routes(bp, state)
    return bp


def gateway(state, sandbox_optional: bool = False):
    """The API gateway's checks, then the platform's own headers (troubleshooting guide, error catalogue): one
    before-request hook for every emulated Platform API (Flow Service, Catalog, Schema Registry, Data Prep).

    `sandbox_optional` is Flow Service's: its spec marks `x-sandbox-name` optional and its tutorials resolve a
    request without it under `prod`. Catalog's, the Schema Registry's and Data Prep's specs mark it required.
    """

    def check():
        auth = request.headers.get("Authorization", "")
        if not auth:
            return gateway_error(403, "403010", "Oauth token is missing.")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with state._lock:
            issued = state.tokens.get(token or "")
        if not issued or issued[1] <= time.time():
            return gateway_error(401, "401013", "Oauth token is not valid")
        api_key = request.headers.get("x-api-key")
        if not api_key:
            return gateway_error(403, "403000", "Api Key is required")
        if api_key != issued[0]:
            return gateway_error(403, "403003", "Api Key is invalid")
        org = request.headers.get("x-gw-ims-org-id")
        if not org:
            return gateway_error(400, "400003", "Missing header")
        if org != state.org_id:
            return gateway_error(403, "403025", "Profile is not valid")
        # "All requests that contain a payload (POST, PUT, PATCH) require an additional media type header": one
        # without a payload needs none, as the flow actions are sent ("Update destination dataflows").
        if request.method in ("POST", "PUT", "PATCH") and _has_payload() and request.mimetype != "application/json":
            return bad_request("A valid content-type must be specified")
        sandbox = request.headers.get("x-sandbox-name")
        if not sandbox and not sandbox_optional:
            # Our choice of body: these specs mark the header required and document no answer without it.
            return platform_error(400, "BadRequestError", "The header x-sandbox-name is required.")
        if not sandbox:
            if DEFAULT_SANDBOX not in state.sandboxes:
                return flow_error("2106-404", "The default sandbox information could not be found.")
            sandbox = DEFAULT_SANDBOX
        if sandbox not in state.sandboxes:
            return flow_error("2101-404", f"The sandbox with the name '{sandbox}' could not be found. Error from "
                                          f"Sandbox Management API: Sandbox with name '{sandbox}' not present. "
                                          "Please check if resource exists.")
        g.sandbox = sandbox
        return None

    return check


def _has_payload() -> bool:
    return (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def not_found() -> Response:
    return flow_error("1101-404", "The requested resource is not found. Error from flow provider: "
                                  "Resource with given id does not exist.")


def listing(items: list[dict], path: str, unquote: bool = False) -> Response:
    """A GET list's answer for `items` under this request's query: filtered (`==`, comparisons), ordered, paged
    with opaque continuation tokens, or counted, as the sort-and-filter guide describes, with the catalogue's
    refusals. With `unquote`, a filter value in double quotes is read without them (the dataflow tutorial's
    `property=name=="CRMToAEP"`)."""
    query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    unknown = sorted({key for key, _ in query} - LIST_PARAMETERS)
    if unknown:
        return flow_error("1451-400", f"Invalid params {','.join(unknown)} provided in query params.")
    args = dict(query)
    # The spec: "By default the count is not returned (`count=false`)"; only a count asked for clashes with a limit.
    if args.get("count", "").lower() == "true" and "limit" in args:
        return flow_error("1401-400", "The limit and count parameters cannot be given together in the same "
                                      "request. Please provide either only the limit or the count parameter "
                                      "and try again.")
    for key, clause in query:
        if key == "property":
            kept = _filter(items, clause, unquote)
            if isinstance(kept, Response):
                return kept
            items = kept
    order = args.get("orderby", "createdAt")
    ordering = ORDER.match(order)
    if ordering["field"] not in SORTABLE:
        if ordering["field"][:1] in "*!<>=~ ":
            return flow_error("1432-400", "Sort order specified is not correct, prepend + for ascending order "
                                          "and - for descending order in the fieldName.")
        return flow_error("1433-400", f"Incorrect field= {ordering['field']} passed in orderBy, example are "
                                      "+name, -name, name.")
    field = ordering["field"]
    items.sort(key=lambda c: (str(_dig(c, field) or "").lower() if field == "name" else (_dig(c, field) or 0)),
               reverse=ordering["sign"] == "-")
    if args.get("count", "").lower() == "true":
        return json_response({"count": len(items)})
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        if limit < 1:
            raise ValueError
    except ValueError:
        return flow_error("1100-400", "The request could not be processed: limit must be a positive integer.")
    limit = min(limit, MAX_LIMIT)
    start = _offset(args.get("continuationToken"))
    if start is None:
        return flow_error("1100-400", "The request could not be processed: the continuationToken is not one "
                                      "this service issued.")
    # `_links` as the spec's list responses carry it (PageLinksResponse), `{}` on the last page as the monitoring
    # tutorial's GET /runs answer shows it.
    body = {"items": items[start:start + limit], "_links": {}}
    if start + limit < len(items):
        rest = [(k, v) for k, v in query if k not in ("continuationToken", "limit")]
        rest += [("limit", str(limit)), ("continuationToken", _token(start + limit))]
        body["_links"] = {"next": {"href": f"{path}?{urlencode(rest)}"}}
    return json_response(body)


def _filter(items: list[dict], clause: str, unquote: bool = False):
    """The items one `property` clause keeps, or the error Flow Service answers for the clause."""
    match = CLAUSE.match(clause)
    if not match or not match["value"]:
        return flow_error("1453-400", f"Invalid query value {clause} provided in query param.")
    path, op, wanted = match.groups()
    if op == "~":
        return flow_error("1440-400", "Operator '~' not implemented.")
    values = wanted.split(",")
    if unquote:
        values = [v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v for v in values]
    if op == "==":
        # A comma means "any of" (sort-and-filter guide); values compare as text. A path through an array
        # (`sourceConnectionIds[]`, `transformations[].params.…`) matches when any of its items does.
        return [c for c in items if any(_text(found) in values for found in _dig_all(c, path))]
    if op in COMPARISONS:
        if len(values) > 1:
            return flow_error("1443-400", f"Operator '{op}' is not allowed for multiple values.")
        try:
            bound = float(wanted)
        except ValueError:
            return flow_error("1453-400", f"Invalid query value {clause} provided in query param.")
        return [c for c in items if isinstance(_dig(c, path), (int, float))
                and COMPARISONS[op](_dig(c, path), bound)]
    return flow_error("1450-400", f"Invalid operator {op} in filter params.")


def _text(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _dig(item: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def _dig_all(item, path: str) -> list:
    """Every value at `path`, where `name[]` steps into each item of an array (the filter guide's arrays)."""
    found = [item]
    for part in path.split("."):
        array = part.endswith("[]")
        name = part[:-2] if array else part
        step = []
        for value in found:
            value = value.get(name) if isinstance(value, dict) else None
            if array:
                step += value if isinstance(value, list) else []
            elif value is not None:
                step.append(value)
        found = step
    return found


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def new_etag() -> str:
    return f'"{uuid.uuid4().hex[:8]}-0000-0200-0000-{uuid.uuid4().hex[:12]}"'


def _secret_names(spec: dict) -> set[str]:
    return {name for name, prop in spec.get("properties", {}).items() if prop.get("format") == "password"}


def _masked(params: dict, secret_names: set[str]) -> dict:
    # Flow Service never returns secrets; neither does the emulator.
    return {k: ("****" if k in secret_names else v) for k, v in params.items()}


def _params_problem(auth_spec: dict, params) -> str | None:
    errors = sorted(jsonschema.Draft7Validator(auth_spec["spec"]).iter_errors(params), key=lambda e: list(e.path))
    return "; ".join(
        ("auth.params." + ".".join(map(str, e.path)) + ": " if e.path else "auth.params: ") + e.message
        for e in errors
    ) or None


def patch_operations():
    """(the JSON Patch operations, None) of this PATCH, or (None, the refusal): If-Match, a body, an array."""
    if not request.headers.get("If-Match"):
        return None, flow_error("1403-400", "The header 'If-Match' is missing in the request. "
                                            "Please provide the header and try again.")
    if not request.get_data():
        return None, flow_error("1405-400", "The request body cannot be null or empty. "
                                            "Please provide a request body and try again.")
    operations = request.get_json(silent=True)
    if not isinstance(operations, list) or not operations:
        return None, patch_refused("the body must be a non-empty JSON Patch array")
    return operations, None


def stale(item: dict) -> Response | None:
    """1404-412 when this request's If-Match is not the item's etag."""
    if_match = request.headers.get("If-Match")
    if if_match == item["etag"]:
        return None
    return flow_error("1404-412", f"The supplied version '{if_match}' does not match the current version on entity "
                                  f"'{item['etag']}'. Please ensure that the supplied version matches the current "
                                  "version on entity and try again.")


def patch_refused(problem: str) -> Response:
    return flow_error("1455-400", f"An error has occurred while validating patch instructions: {problem}.")


def apply_patch(document: dict, operations: list, patchable: re.Pattern, allowed: str,
                fixed: tuple[str, str, str] | None = None) -> Response | None:
    """Apply JSON Patch operations to `document` in place, in order, on the paths `patchable` matches; the refusal,
    or None. As RFC 6902 says, `replace` and `remove` need the member to exist and `add` needs its parent; `fixed` is
    (a path prefix, its code, its message) for a path Flow Service names a code of its own for."""
    for operation in operations:
        if not isinstance(operation, dict):
            return patch_refused("each operation must be an object")
        if operation.get("op") not in ("add", "replace", "remove"):
            return flow_error("1434-400", f"Unsupported operation '{operation.get('op')}' received. Please use one "
                                          "of the supported operation types and try again.")
        path = operation.get("path")
        if fixed and isinstance(path, str) and path.startswith(fixed[0]):
            return flow_error(fixed[1], fixed[2])
        if not isinstance(path, str) or not patchable.match(path):
            return patch_refused(f"path {path!r} cannot be changed; use {allowed}")
        if operation["op"] != "remove" and "value" not in operation:
            return patch_refused(f'Missing field "value" for {path}')
        problem = _pointer_apply(document, operation["op"], path, operation.get("value"))
        if problem:
            return patch_refused(problem)
    return None


_ABSENT = object()


def _pointer_apply(document: dict, op: str, path: str, value) -> str | None:
    """One operation at a JSON Pointer (RFC 6901), or why it cannot be applied."""
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]
    parent = document
    for token in tokens[:-1]:
        parent = _child(parent, token)
        if parent is _ABSENT:
            return f'Missing field "{token}"'
    last = tokens[-1]
    if isinstance(parent, dict):
        if op != "add" and last not in parent:
            return f'Missing field "{last}"'
        if op == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(value)
        return None
    if isinstance(parent, list):
        if op == "add" and last == "-":
            parent.append(copy.deepcopy(value))
            return None
        index = int(last) if re.fullmatch(r"0|[1-9][0-9]*", last) else None
        if index is None or index > len(parent) or (op != "add" and index == len(parent)):
            return f'Missing field "{last}"'
        if op == "add":
            parent.insert(index, copy.deepcopy(value))
        elif op == "replace":
            parent[index] = copy.deepcopy(value)
        else:
            del parent[index]
        return None
    return f'Missing field "{last}"'


def _child(node, token: str):
    if isinstance(node, dict):
        return node.get(token, _ABSENT)
    if isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < len(node):
        return node[int(token)]
    return _ABSENT


def _named_problem(item: dict) -> str | None:
    """Why a patched item's name or description cannot stand, or None."""
    if not isinstance(item.get("name"), str) or not item["name"].strip():
        return "name must be a non-empty string"
    if "description" in item and not isinstance(item["description"], str):
        return "description must be a string"
    return None


def _column(name: str, kind: str) -> dict:
    """A column as "Explore data tables" prints one: a timestamp is a string with `meta:xdmType` date-time (a date,
    likewise, with `date`: our choice, by the same pattern, as no example shows a date column)."""
    if kind in ("date-time", "date"):
        return {"name": name, "type": "string", "meta:xdmType": kind, "xdm": {"type": "string", "format": kind}}
    return {"name": name, "type": kind, "xdm": {"type": kind}}


EXPLORE_TABLES = [
    ("public.customers", "public.customers",
     [("customer_id", "integer"), ("email", "string"), ("first_name", "string"), ("created_at", "date-time")]),
    ("public.orders", "public.orders",
     [("order_id", "integer"), ("customer_id", "integer"), ("total", "number"), ("placed_at", "date-time")]),
    ("sales.returns", "sales.returns",
     [("return_id", "integer"), ("order_id", "integer"), ("reason", "string"), ("refunded", "boolean")]),
    # Names Data Prep reads only when escaped or wrapped (a dot, a space, a dash), one it reads as it is (a letter
    # outside ASCII), and a date beside a timestamp: what real databases hold.
    ("sales.odd_names", "sales.odd_names",
     [("order.id", "string"), ("first name", "string"), ("a-b", "string"), ("ümlaut", "string"),
      ("joined_on", "date"), ("changed_at", "date-time")]),
]
