"""A local IMS and Flow Service on loopback that check and answer as Adobe's do.

It is a real HTTP server: the wizard's client talks to it exactly as it talks
to Adobe. Tests reach into `Emulator` to inject faults and to read what was
received; nothing in the wizard knows it exists.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import secrets
import socket
import threading
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import jsonschema
from flask import Flask, Response, g, request
from werkzeug.serving import WSGIRequestHandler, make_server

from .specs import connection_specs

FLOW = "/data/foundation/flowservice"
ERROR_TYPE = "https://ns.adobe.com/aep/errors/"
SANDBOX_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class _QuietHandler(WSGIRequestHandler):
    """Log requests at debug level under our own name, not on werkzeug's stderr."""

    def log_request(self, code="-", size="-"):
        logging.getLogger("app.emulator").debug('"%s" %s', self.requestline, code)


@dataclasses.dataclass
class Fault:
    """Make the next `times` requests matching method and path misbehave.

    With `after_handling`, the request is handled first (a connection really is
    created) and only the answer is spoilt: the lost-answer case.
    """

    method: str
    path: str
    status: int | None = None
    body: str | dict | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    after_handling: bool = False
    # Close the connection instead of answering (the client sees it drop).
    drop: bool = False
    # Answer with a body that claims to be JSON and is not.
    malformed: bool = False


@dataclasses.dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes


class Emulator:
    def __init__(self, *, client_id="aep-source-wizard-emulator", client_secret=None,
                 org_id="EMULATOR0000000000000000@AdobeOrg", cloud="azure",
                 token_lifetime=86399, host="127.0.0.1", port=0):
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.org_id = org_id
        self.cloud = cloud
        self.token_lifetime = token_lifetime
        self.specs = connection_specs(cloud)
        self._lock = threading.Lock()
        self.tokens: dict[str, tuple[str, float]] = {}
        self.token_fetches = 0
        self.connections: dict[str, dict] = {}
        # What Flow Service keeps but never returns: each connection's secret params.
        self.secrets: dict[str, dict] = {}
        # Connections a (pretend) dataflow uses: DELETE answers 1418-400.
        self.used_by_dataflows: set[str] = set()
        # Connections whose test fails, as when the database refuses the credentials.
        self.failing_tests: set[str] = set()
        self.received: list[Received] = []
        self.faults: list[Fault] = []
        self._server = make_server(host, port, create_emulator_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def creations(self) -> list[dict]:
        """The JSON bodies of every POST /connections received, in order."""
        return [json.loads(r.body) for r in self.received
                if r.method == "POST" and r.path == f"{FLOW}/connections"]

    def reset(self) -> None:
        with self._lock:
            self.tokens.clear()
            self.connections.clear()
            self.secrets.clear()
            self.used_by_dataflows.clear()
            self.failing_tests.clear()
            self.received.clear()
            self.faults.clear()
            self.token_fetches = 0

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and path.endswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None


def flow_error(status: int, code: str, title: str, detail: str, message: str | None = None) -> Response:
    """A Flow Service error in Adobe's shape."""
    body = {
        "type": f"{ERROR_TYPE}FLOW-{code}",
        "title": title,
        "status": status,
        "report": {"detailed-message": detail, "request-id": g.request_id},
        "errorMessage": message or detail,
        "errorDetails": {},
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


def gateway_error(status: int, code: str, message: str) -> Response:
    """An API gateway error, answered before Flow Service sees the request."""
    return Response(json.dumps({"error_code": code, "message": message}), status=status,
                    mimetype="application/json")


def json_response(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def _secret_names(spec: dict) -> set[str]:
    return {name for name, prop in spec.get("properties", {}).items() if prop.get("format") == "password"}


def create_emulator_app(emulator: Emulator) -> Flask:
    app = Flask("aep-emulator")

    @app.before_request
    def receive():
        g.request_id = str(uuid.uuid4())
        with emulator._lock:
            emulator.received.append(Received(request.method, request.path, request.query_string.decode(),
                                              dict(request.headers), request.get_data()))
        fault = emulator.take_fault(request.method, request.path)
        g.fault = fault
        if fault and not fault.after_handling:
            time.sleep(fault.delay)
            if fault.status is not None or fault.drop or fault.malformed:
                return _fault_response(fault)
        if request.path.startswith(FLOW):
            return check_gateway()
        return None

    @app.after_request
    def spoil(response):
        response.headers["x-request-id"] = g.get("request_id", "")
        fault = g.get("fault")
        if fault and fault.after_handling:
            time.sleep(fault.delay)
            if fault.status is not None or fault.drop or fault.malformed:
                return _fault_response(fault, response.status_code)
        return response

    def _fault_response(fault: Fault, handled_status: int = 200) -> Response:
        if fault.drop:
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return Response(b"", status=fault.status or handled_status)
        if fault.malformed:
            return Response('{"id": "truncated', status=fault.status or handled_status, mimetype="application/json",
                            headers={"x-request-id": g.request_id, **fault.headers})
        body = fault.body if isinstance(fault.body, str) else json.dumps(fault.body or {})
        mimetype = "application/json" if not isinstance(fault.body, str) else "text/html"
        return Response(body, status=fault.status, mimetype=mimetype,
                        headers={"x-request-id": g.request_id, **fault.headers})

    @app.post("/_emulator/faults")
    def add_fault():
        """Control endpoint: make the next `times` calls to a route misbehave (see Fault's fields)."""
        spec = request.get_json(silent=True)
        fields = {f.name for f in dataclasses.fields(Fault)}
        if not isinstance(spec, dict) or not {"method", "path"} <= spec.keys() or not set(spec) <= fields:
            return json_response({"error": f"send a JSON object with method, path and any of {sorted(fields)}"}, 400)
        emulator.inject(Fault(**spec))
        return json_response({"queued": spec}, 201)

    @app.get("/_emulator/stats")
    def stats():
        """Control endpoint: how many tokens were fetched and connections made, for benchmarks."""
        with emulator._lock:
            return json_response({"token_fetches": emulator.token_fetches, "connections": len(emulator.connections)})

    @app.delete("/_emulator/faults")
    def clear_faults():
        with emulator._lock:
            emulator.faults.clear()
        return Response(status=204)

    def check_gateway():
        auth = request.headers.get("Authorization", "")
        if not auth:
            return gateway_error(403, "403010", "Oauth token is missing.")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with emulator._lock:
            issued = emulator.tokens.get(token or "")
        if not issued or issued[1] <= time.time():
            return gateway_error(401, "401013", "Oauth token is not valid")
        api_key = request.headers.get("x-api-key")
        if not api_key:
            return gateway_error(403, "403000", "Api Key is required")
        if api_key != issued[0]:
            return gateway_error(403, "403003", "Api Key is invalid")
        org = request.headers.get("x-gw-ims-org-id")
        if not org:
            return gateway_error(400, "400003", "Missing header: x-gw-ims-org-id")
        if org != emulator.org_id:
            return gateway_error(403, "403025", "Profile is not valid")
        sandbox = request.headers.get("x-sandbox-name")
        if not sandbox or not SANDBOX_NAME.match(sandbox):
            return flow_error(400, "1100-400", "Invalid request",
                              "The header x-sandbox-name must hold the all-lowercase name of a sandbox.")
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "application/json":
            return flow_error(415, "1100-415", "Unsupported media type",
                              "Requests with a body must have the header Content-Type: application/json.")
        g.sandbox = sandbox
        return None

    @app.post("/ims/token/v3")
    def ims_token():
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be client_credentials"}, 400)
        if form.get("client_id") != emulator.client_id:
            return json_response({"error": "invalid_client", "error_description": "invalid client_id parameter"}, 400)
        if not secrets.compare_digest(form.get("client_secret", ""), emulator.client_secret):
            return json_response({"error": "invalid_client",
                                  "error_description": "invalid client_secret parameter"}, 401)
        if not form.get("scope"):
            return json_response({"error": "invalid_scope", "error_description": "scope is required"}, 400)
        token = "emulator-" + secrets.token_urlsafe(32)
        with emulator._lock:
            emulator.token_fetches += 1
            emulator.tokens[token] = (emulator.client_id, time.time() + emulator.token_lifetime)
        return json_response({"access_token": token, "token_type": "bearer", "expires_in": emulator.token_lifetime})

    @app.post(f"{FLOW}/connections")
    def create_connection():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return flow_error(400, "1100-400", "Invalid request", "The request body is not a JSON object.")
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
            return flow_error(400, "1100-400", "Invalid request", "; ".join(problems) + ".")
        spec = emulator.specs.get(spec_ref["id"])
        if spec is None:
            return flow_error(400, "1101-400", "Invalid connection spec",
                              f"Connection spec with id {spec_ref['id']} does not exist.")
        if spec_ref.get("version", "1.0") != spec["version"]:
            return flow_error(400, "1100-400", "Invalid request",
                              f"Connection spec {spec['id']} has no version {spec_ref.get('version')!r}.")
        auth_spec = next((a for a in spec["authSpec"] if a["name"] == auth["specName"]), None)
        if auth_spec is None:
            names = ", ".join(a["name"] for a in spec["authSpec"])
            return flow_error(400, "1415-400", "Invalid auth spec name",
                              f"Auth spec name '{auth['specName']}' is not supported by connection spec "
                              f"{spec['name']}. Supported: {names}.")
        errors = sorted(jsonschema.Draft7Validator(auth_spec["spec"]).iter_errors(auth["params"]),
                        key=lambda e: list(e.path))
        if errors:
            detail = "; ".join(
                ("auth.params." + ".".join(map(str, e.path)) + ": " if e.path else "auth.params: ") + e.message
                for e in errors
            )
            return flow_error(400, "1416-400", "Invalid auth params",
                              f"Auth params do not match '{auth_spec['name']}' of {spec['name']}: {detail}.")
        secret_names = _secret_names(auth_spec["spec"])
        now = int(time.time() * 1000)
        connection_id = str(uuid.uuid4())
        etag = _new_etag()
        connection = {
            "id": connection_id,
            "createdAt": now,
            "updatedAt": now,
            "createdBy": f"{emulator.client_id}@AdobeID",
            "updatedBy": f"{emulator.client_id}@AdobeID",
            "createdClient": emulator.client_id,
            "updatedClient": emulator.client_id,
            "sandboxId": str(uuid.uuid5(uuid.NAMESPACE_DNS, g.sandbox)),
            "sandboxName": g.sandbox,
            "imsOrgId": emulator.org_id,
            "name": body["name"],
            "description": body.get("description", ""),
            "connectionSpec": {"id": spec["id"], "version": spec["version"]},
            "state": "enabled",
            "auth": {
                "specName": auth["specName"],
                # Flow Service never returns secrets; neither do we.
                "params": {k: ("****" if k in secret_names else v) for k, v in auth["params"].items()},
            },
            "version": etag,
            "etag": etag,
        }
        with emulator._lock:
            emulator.connections[connection_id] = connection
            emulator.secrets[connection_id] = {k: v for k, v in auth["params"].items() if k in secret_names}
        return json_response({"id": connection_id, "etag": etag}, 201,
                             headers={"Location": f"{FLOW}/connections/{connection_id}"})

    def visible(connection):
        return connection["sandboxName"] == g.sandbox and connection["imsOrgId"] == emulator.org_id

    @app.get(f"{FLOW}/connections")
    def list_connections():
        with emulator._lock:
            items = [c for c in emulator.connections.values() if visible(c)]
        query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        for key, clause in query:
            if key != "property":
                continue
            # name OP value[,value...]: == is any of the values, != none of them, ~ contains (any case).
            match = PROPERTY_FILTER.match(clause)
            if not match:
                return flow_error(400, "1100-400", "Invalid request",
                                  f"Unsupported property filter '{clause}'; use name==value, name!=value or name~text.")
            name, op, wanted = match.groups()
            values = wanted.split(",")
            if op == "==":
                items = [c for c in items if str(_dig(c, name)) in values]
            elif op == "!=":
                items = [c for c in items if str(_dig(c, name)) not in values]
            else:
                items = [c for c in items if any(v.lower() in str(_dig(c, name) or "").lower() for v in values)]
        order = request.args.get("orderby", "createdAt")
        field = order.lstrip("-+")
        items.sort(key=lambda c: (str(_dig(c, field) or "").lower() if field == "name" else (_dig(c, field) or 0)),
                   reverse=order.startswith("-"))
        try:
            limit = max(1, min(int(request.args.get("limit", 100)), 100))
            start = int(request.args.get("continuationToken", "0") or 0)
        except ValueError:
            return flow_error(400, "1100-400", "Invalid request", "limit and continuationToken must be numbers.")
        body = {"items": items[start:start + limit]}
        if start + limit < len(items):
            rest = [(k, v) for k, v in query if k not in ("continuationToken", "limit")]
            rest += [("limit", str(limit)), ("continuationToken", str(start + limit))]
            body["_links"] = {"next": {"href": f"/connections?{urlencode(rest)}"}}
        return json_response(body)

    def stored(connection_id):
        with emulator._lock:
            connection = emulator.connections.get(connection_id)
        return connection if connection is not None and visible(connection) else None

    def not_found_error():
        return flow_error(404, "1101-404", "Resource not found",
                          "The requested resource is not found. Error from flow provider: "
                          "Resource with given id does not exist.")

    @app.patch(f"{FLOW}/connections/<connection_id>")
    @app.patch(f"{FLOW}/connections/<connection_id>/")
    def patch_connection(connection_id):
        connection = stored(connection_id)
        if connection is None:
            return not_found_error()
        if_match = request.headers.get("If-Match")
        if not if_match:
            return flow_error(400, "1403-400", "Missing If-Match header",
                              "The If-Match header with the resource's current etag is required to update it.")
        operations = request.get_json(silent=True)
        if not isinstance(operations, list) or not operations:
            return flow_error(400, "1100-400", "Invalid request", "The body must be a non-empty JSON Patch array.")
        with emulator._lock:
            if if_match != connection["etag"]:
                return flow_error(412, "1404-412", "Precondition failed",
                                  f"The etag {if_match} does not match the connection's current version; "
                                  "read it again and retry.")
            secret_store = emulator.secrets.setdefault(connection_id, {})
            changed = json.loads(json.dumps(connection))
            params = {**changed["auth"]["params"], **secret_store}
            changed["auth"]["params"] = params
            for operation in operations:
                problem = _apply_patch(changed, operation)
                if problem:
                    return flow_error(400, "1100-400", "Invalid request", problem)
            spec = emulator.specs[connection["connectionSpec"]["id"]]
            auth_spec = next(a for a in spec["authSpec"] if a["name"] == changed["auth"]["specName"])
            errors = list(jsonschema.Draft7Validator(auth_spec["spec"]).iter_errors(changed["auth"]["params"]))
            if errors or not str(changed.get("name", "")).strip():
                detail = "; ".join(e.message for e in errors) or "name must not be empty"
                return flow_error(400, "1416-400", "Invalid auth params", f"The update is not valid: {detail}.")
            secret_names = _secret_names(auth_spec["spec"])
            emulator.secrets[connection_id] = {k: v for k, v in changed["auth"]["params"].items() if k in secret_names}
            changed["auth"]["params"] = {k: ("****" if k in secret_names else v)
                                         for k, v in changed["auth"]["params"].items()}
            changed["etag"] = changed["version"] = _new_etag()
            changed["updatedAt"] = int(time.time() * 1000)
            emulator.connections[connection_id] = changed
        return json_response({"id": connection_id, "etag": changed["etag"]})

    @app.delete(f"{FLOW}/connections/<connection_id>")
    @app.delete(f"{FLOW}/connections/<connection_id>/")
    def delete_connection(connection_id):
        if stored(connection_id) is None:
            return not_found_error()
        with emulator._lock:
            if connection_id in emulator.used_by_dataflows:
                return flow_error(400, "1418-400", "Connection in use",
                                  f"The connection {connection_id} is used by a dataflow and cannot be deleted. "
                                  "Delete its dataflows first.")
            emulator.connections.pop(connection_id, None)
            emulator.secrets.pop(connection_id, None)
        return Response(status=204)

    @app.get(f"{FLOW}/connections/<connection_id>/test")
    def test_connection(connection_id):
        connection = stored(connection_id)
        if connection is None:
            return not_found_error()
        if connection_id in emulator.failing_tests:
            return flow_error(400, "1220-400", "Connection test failed",
                              "Could not connect to the source with the given credentials: "
                              "authentication failed for the user.")
        return json_response({"result": True})

    @app.get(f"{FLOW}/connections/<connection_id>/explore")
    def explore_connection(connection_id):
        if stored(connection_id) is None:
            return not_found_error()
        object_type = request.args.get("objectType", "root").lower()
        if object_type == "root":
            return json_response([{"type": "table", "name": name, "path": path, "canPreview": True,
                                   "canFetchSchema": True} for name, path, _ in EXPLORE_TABLES])
        if object_type == "table":
            table = next((t for t in EXPLORE_TABLES if t[1] == request.args.get("object")), None)
            if table is None:
                return flow_error(400, "1100-400", "Invalid request",
                                  f"Table {request.args.get('object')!r} was not found in the source.")
            return json_response({"format": "flat", "schema": {"columns": [
                {"name": name, "type": kind, "xdm": {"type": kind}} for name, kind in table[2]]}})
        return flow_error(400, "1100-400", "Invalid request", f"objectType {object_type!r} is not supported here.")

    @app.get(f"{FLOW}/connections/<connection_id>")
    def get_connection(connection_id):
        connection = stored(connection_id)
        if connection is None:
            return not_found_error()
        return json_response({"items": [connection]})

    @app.get(f"{FLOW}/connectionSpecs")
    def list_specs():
        return json_response({"items": list(emulator.specs.values())})

    @app.get(f"{FLOW}/connectionSpecs/<spec_id>")
    def get_spec(spec_id):
        spec = emulator.specs.get(spec_id)
        if spec is None:
            return flow_error(404, "1101-404", "Resource not found",
                              f"Connection spec with id {spec_id} does not exist.")
        return json_response({"items": [spec]})

    @app.errorhandler(404)
    def not_found(_error):
        return flow_error(404, "1101-404", "Resource not found", f"No such endpoint: {request.path}.")

    @app.errorhandler(405)
    def not_allowed(_error):
        return flow_error(405, "1100-405", "Method not allowed",
                          f"{request.method} is not supported on {request.path}.")

    return app


def _dig(item: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def _new_etag() -> str:
    return f'"{uuid.uuid4().hex[:8]}-0000-0200-0000-{uuid.uuid4().hex[:12]}"'


PATCHABLE = re.compile(r"^/(name|description|auth/params(/[A-Za-z0-9_]+)?)$")


def _apply_patch(connection: dict, operation) -> str | None:
    """Apply one JSON Patch operation to the paths Flow Service lets a person change; a problem, or None."""
    if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace", "remove"):
        return "Each operation needs op add, replace or remove."
    path = operation.get("path", "")
    if not isinstance(path, str) or not PATCHABLE.match(path):
        return f"Path {path!r} cannot be changed; use /name, /description or /auth/params."
    parts = path.strip("/").split("/")
    parent = connection
    for part in parts[:-1]:
        parent = parent[part]
    if operation["op"] == "remove":
        parent.pop(parts[-1], None)
        return None
    if "value" not in operation:
        return f"Operation {operation['op']} on {path} needs a value."
    value = operation["value"]
    if path == "/auth/params" and not isinstance(value, dict):
        return "/auth/params must be an object."
    if path in ("/name", "/description") and not isinstance(value, str):
        return f"{path} must be a string."
    parent[parts[-1]] = value
    return None


EXPLORE_TABLES = [
    ("public.customers", "public.customers",
     [("customer_id", "integer"), ("email", "string"), ("first_name", "string"), ("created_at", "date-time")]),
    ("public.orders", "public.orders",
     [("order_id", "integer"), ("customer_id", "integer"), ("total", "number"), ("placed_at", "date-time")]),
    ("sales.returns", "sales.returns",
     [("return_id", "integer"), ("order_id", "integer"), ("reason", "string"), ("refunded", "boolean")]),
]
PROPERTY_FILTER = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*)(==|!=|~)(.*)$")
