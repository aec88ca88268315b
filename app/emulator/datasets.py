"""Catalog Service's datasets and the Schema Registry's XDM schemas (read only), as strict as Adobe's documents.

Catalog: `GET /dataSets` answers a map of id → dataset, `limit` 20 unless given (1 to 100, anything else is a
400), `start` an offset, `orderBy` (`asc:`/`desc:` and a property), `properties` an allow-list of top-level
properties, `property` conditions and simple filters on any property of a dataset, as "Filter Catalog data using
query parameters" describes. Schema Registry: `GET /{tenant|global}/schemas/{$id or meta:altId}` needs an `Accept`
of the documented lookup formats with a version, or answers 406; `GET /tenant/descriptors` lists descriptors
grouped by `@type`, or as a `results` page with a `-v2` Accept. Each behaviour is a row of docs/emulator.md.
"""

from __future__ import annotations

import copy
import hashlib
import re
from urllib.parse import parse_qsl, unquote

from flask import Blueprint, Response, g, request

from .errors import json_response, platform_error
from .flow_service import gateway

CATALOG = "/data/foundation/catalog"
SCHEMA_REGISTRY = "/data/foundation/schemaregistry"
TENANT = "emulatortenant"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The lookup formats the spec's `Accept` parameter lists; each needs `version=<major>`.
LOOKUP_FORMATS = {"application/vnd.adobe.xed+json", "application/vnd.adobe.xed-full+json",
                  "application/vnd.adobe.xed-notext+json", "application/vnd.adobe.xed-full-notext+json",
                  "application/vnd.adobe.xed-full-desc+json"}
# The spec's acceptDescriptors: objects, ids or API paths; "Including the `-v2` option in any of the above `Accept`
# headers permits paging functionality, returning a results array with a `_page` attribute".
DESCRIPTOR_FORMATS = {f"application/vnd.adobe.xdm{v2}{kind}+json"
                      for v2 in ("", "-v2") for kind in ("", "-id", "-link")}
CONDITION = re.compile(r"^(?P<neg>!?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>==|!=|<=|>=|<|>|~)(?P<value>.*))?$",
                       re.S)
# The parameters Catalog's spec lists for GET /dataSets that are not simple filters.
CATALOG_PARAMETERS = {"limit", "start", "orderBy", "properties", "property", "tags", "enableErrorDiagnostics"}
# A dataset's properties, which a simple filter (`{PROPERTY_NAME}={VALUE}`) may name: Catalog's dataSetResponse
# (catalog.yaml) and what its examples show beside (the filter guide's `dule`, `statsCache`, `state`, `namespace`;
# the spec's `classification`). A dotted name reads into an object (`schemaRef.id`), our reading.
DATASET_PROPERTIES = {"basePath", "created", "createdClient", "createdUser", "dataSourceId", "description",
                      "fileDescription", "files", "imsOrg", "lastBatchId", "lastBatchStatus", "lastFailedBatch",
                      "lastSuccessfulBatch", "name", "observableSchema", "persistence", "schema", "schemaRef", "tags",
                      "updated", "updatedUser", "version", "viewId", "classification", "dule", "statsCache", "state",
                      "namespace"}


def _field(kind: str, title: str, **extra) -> dict:
    return {"type": kind, "title": title, **extra}


# The emulator's two XDM schemas (full format), and the identity descriptors on their fields.
SCHEMAS = {
    "loyaltymembers": {
        "title": "Loyalty members", "version": "1.2", "meta:class": "https://ns.adobe.com/xdm/context/profile",
        "behavior": "record",
        "properties": {
            "_id": _field("string", "Identifier"),
            "person": {"type": "object", "title": "Person", "properties": {
                "name": {"type": "object", "title": "Full name", "properties": {
                    "firstName": _field("string", "First name"), "lastName": _field("string", "Last name")}},
                "birthDate": _field("string", "Birth date", format="date")}},
            "personalEmail": {"type": "object", "title": "Personal email", "properties": {
                "address": _field("string", "Address", format="email")}},
            f"_{TENANT}": {"type": "object", "properties": {
                "loyaltyId": _field("string", "Loyalty ID"),
                "points": _field("integer", "Points"),
                "joinedAt": _field("string", "Joined at", format="date-time")}},
        },
        "identities": [("/_emulatortenant/loyaltyId", "LoyaltyId", True), ("/personalEmail/address", "Email", False)],
    },
    "weborders": {
        "title": "Web orders", "version": "1.0", "meta:class": "https://ns.adobe.com/xdm/context/experienceevent",
        "behavior": "time-series",
        "properties": {
            "_id": _field("string", "Identifier"),
            "timestamp": _field("string", "Timestamp", format="date-time"),
            "commerce": {"type": "object", "title": "Commerce", "properties": {
                "order": {"type": "object", "title": "Order", "properties": {
                    "priceTotal": _field("number", "Total price"),
                    "purchaseOrderNumber": _field("string", "Purchase order number")}}}},
            f"_{TENANT}": {"type": "object", "properties": {
                "orderId": _field("integer", "Order ID"),
                "customerId": _field("integer", "Customer ID")}},
        },
        "identities": [("/_emulatortenant/customerId", "CustomerId", True)],
    },
}


def schema_id(key: str) -> str:
    return f"https://ns.adobe.com/{TENANT}/schemas/{key}"


def full_schema(key: str) -> dict:
    """A schema as `Accept: application/vnd.adobe.xed-full+json; version=1` answers it."""
    schema = SCHEMAS[key]
    return {"$id": schema_id(key), "meta:altId": f"_{TENANT}.schemas.{key}", "meta:resourceType": "schemas",
            "version": schema["version"], "title": schema["title"], "type": "object",
            "meta:class": schema["meta:class"], "meta:extensible": False, "meta:abstract": False,
            "properties": copy.deepcopy(schema["properties"])}


def seed_datasets(sandboxes, org_id: str) -> dict[str, dict]:
    """Two datasets in each sandbox, in Catalog's shape, each following one of the emulator's XDM schemas."""
    datasets = {}
    for sandbox in sorted(sandboxes):
        for number, (name, key) in enumerate((("Loyalty members", "loyaltymembers"), ("Web orders", "weborders"))):
            dataset_id = hashlib.sha1(f"{sandbox}/{name}".encode()).hexdigest()[:24]
            datasets[dataset_id] = {
                "id": dataset_id, "name": name, "description": f"{name}, loaded by the emulator's seed",
                "sandboxName": sandbox, "imsOrg": org_id, "version": "1.0.0",
                "created": 1700000000000 + number, "updated": 1700000000000 + number,
                "createdClient": "emulator", "createdUser": "emulator@AdobeID", "updatedUser": "emulator@AdobeID",
                "schemaRef": {"id": schema_id(key), "contentType": "application/vnd.adobe.xed-full+json;version=1"},
                "tags": {}, "dule": {}, "statsCache": {},
                # As Catalog's spec describes it (dataBehavior, e.g. "time-series"; managedBy CUSTOMER or SYSTEM):
                # the behaviour is the schema class's, record for a profile, time-series for an experience event.
                "classification": {"dataBehavior": SCHEMAS[key]["behavior"], "managedBy": "CUSTOMER"},
            }
    return datasets


def catalog_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_catalog", __name__, url_prefix=CATALOG)
    bp.before_request(gateway(state))

    def in_sandbox() -> list[dict]:
        with state._lock:
            return [d for d in state.datasets.values() if d["sandboxName"] == g.sandbox and d["imsOrg"] == state.org_id]

    @bp.get("/dataSets")
    def list_datasets():
        query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        unknown = sorted({key for key, _ in query} - CATALOG_PARAMETERS
                         - {key for key, _ in query if key.split(".")[0] in DATASET_PROPERTIES})
        if unknown:  # our choice: Catalog documents its parameters and simple filters, not its answer to others
            return platform_error(400, "BadRequestError", f"Unknown query parameters: {', '.join(unknown)}.")
        items = in_sandbox()
        for key, value in query:
            if key == "property":
                kept = _condition(items, value)
                if isinstance(kept, Response):
                    return kept
                items = kept
            elif key not in CATALOG_PARAMETERS:
                items = _simple(items, key, value)
        args = dict(query)
        ordered = _ordered(items, args.get("orderBy"))
        if isinstance(ordered, Response):
            return ordered
        limit, start = args.get("limit", str(DEFAULT_LIMIT)), args.get("start", "0")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            # The guide: "Invalid limit parameters (including limit=0) result in 400-level error responses that
            # outline proper ranges."
            return platform_error(400, "BadRequestError", f"limit must be between 1 and {MAX_LIMIT}; got {limit!r}.")
        if not start.isdigit():
            return platform_error(400, "BadRequestError", f"start must be 0 or more; got {start!r}.")
        page = ordered[int(start):int(start) + int(limit)]
        wanted = [p for p in args.get("properties", "").split(",") if p] if "properties" in args else None
        return json_response({d["id"]: _shown(d, wanted) for d in page})

    @bp.get("/dataSets/<dataset_id>")
    def get_dataset(dataset_id):
        found = next((d for d in in_sandbox() if d["id"] == dataset_id), None)
        if found is None:  # our choice of body: Catalog documents a 404 without one
            return platform_error(404, "NotFoundError", f"No dataset {dataset_id} in sandbox {g.sandbox}.")
        wanted = [p for p in request.args.get("properties", "").split(",") if p] \
            if "properties" in request.args else None
        return json_response({found["id"]: _shown(found, wanted)})

    return bp


def schema_registry_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_schema_registry", __name__, url_prefix=SCHEMA_REGISTRY)
    bp.before_request(gateway(state))

    @bp.get("/<container>/schemas/<path:ref>")
    def get_schema(container, ref):
        accept = request.headers.get("Accept", "")
        kind, _, rest = accept.partition(";")
        version = rest.strip().replace(" ", "")
        if kind.strip() not in LOOKUP_FORMATS or not re.fullmatch(r"version=\d+", version):
            # The spec: "406 Invalid Accept format — the specified Accept format/version is not available".
            return platform_error(406, "NotAcceptableError",
                                  "A lookup needs an Accept header such as "
                                  "'application/vnd.adobe.xed-full+json; version=1'.")
        ref = unquote(ref)
        key = next((k for k in SCHEMAS if ref in (schema_id(k), f"_{TENANT}.schemas.{k}")), None)
        if container != "tenant" or key is None or version != "version=1":
            return platform_error(404, "NotFoundError", f"No schema {ref} in the {container} container.")
        return json_response(full_schema(key), headers={"Content-Type": f"{kind.strip()}; version=1"})

    @bp.get("/tenant/descriptors")
    def list_descriptors():
        """Grouped by `@type` as objects, ids or API paths (the spec's acceptDescriptors); with `-v2`, the same as
        one `results` page with `_page` (our choice: every descriptor fits one page, so `next` is null)."""
        accept = request.headers.get("Accept", "").split(";")[0].strip()
        if accept not in DESCRIPTOR_FORMATS:
            return platform_error(406, "NotAcceptableError",
                                  "Descriptors need an Accept header such as 'application/vnd.adobe.xdm+json'.")
        identities = [{"@id": hashlib.sha1(f"{key}{path}".encode()).hexdigest(), "@type": "xdm:descriptorIdentity",
                       "xdm:sourceSchema": schema_id(key), "xdm:sourceVersion": 1, "xdm:sourceProperty": path,
                       "xdm:namespace": namespace, "xdm:property": "xdm:code", "xdm:isPrimary": primary}
                      for key, schema in SCHEMAS.items() for path, namespace, primary in schema["identities"]]
        if accept.endswith("-id+json"):
            identities = [d["@id"] for d in identities]
        elif accept.endswith("-link+json"):
            identities = [f"/tenant/descriptors/{d['@id']}" for d in identities]
        if "-v2" in accept:
            return json_response({"results": identities, "_page": {"count": len(identities), "next": None},
                                  "_links": {"next": None}})
        return json_response({"xdm:descriptorIdentity": identities})

    return bp


def _shown(dataset: dict, wanted: list[str] | None) -> dict:
    shown = {k: copy.deepcopy(v) for k, v in dataset.items() if k not in ("id", "sandboxName")}
    return shown if wanted is None else {k: v for k, v in shown.items() if k in wanted}


def _simple(items: list[dict], key: str, value: str) -> list[dict]:
    """`name=a,b` keeps objects whose value is any of those; `name=!a,b` those whose value is none of them; a
    dotted name (`schemaRef.id`) reads into the object."""
    negate = value.startswith("!")
    values = set((value[1:] if negate else value).split(","))
    return [d for d in items if (_text(_dig(d, key)) in values) != negate]


def _dig(item: dict, dotted: str):
    for part in dotted.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def _text(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _condition(items: list[dict], clause: str):
    """One `property` condition (top-level properties only): exists, `!` absent, `==`, `!=`, `<`…, `~` regex."""
    match = CONDITION.match(clause)
    if not match:
        return platform_error(400, "BadRequestError", f"The property condition {clause!r} is not one Catalog reads.")
    name, op, value = match["name"], match["op"], match["value"]
    if not op:
        return [d for d in items if (name in d) != bool(match["neg"])]
    if op == "~":
        try:
            pattern = re.compile(value)
        except re.error:
            return platform_error(400, "BadRequestError", f"{value!r} is not a regular expression.")
        return [d for d in items if isinstance(d.get(name), str) and pattern.search(d[name])]
    compare = {"==": lambda a: a == value, "!=": lambda a: a != value, "<": lambda a: a < value,
               "<=": lambda a: a <= value, ">": lambda a: a > value, ">=": lambda a: a >= value}[op]
    return [d for d in items if name in d and compare(str(d[name]))]


def _ordered(items: list[dict], order: str | None):
    """`orderBy=name,desc:created`: ascending unless `desc:`, later keys breaking ties; by creation otherwise."""
    keys = []
    for part in (order or "asc:created").split(","):
        direction, _, field = part.rpartition(":")
        if direction not in ("", "asc", "desc") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
            return platform_error(400, "BadRequestError", f"orderBy {order!r} is not direction:property.")
        keys.append((field, direction == "desc"))
    ordered = list(items)
    for field, descending in reversed(keys):
        ordered.sort(key=lambda d: (d.get(field) is None, str(d.get(field) or "").lower()
                                    if isinstance(d.get(field), str) else d.get(field) or 0), reverse=descending)
    return ordered
