"""Catalog Service's datasets (read only), as strict as Adobe's documents.

`GET /dataSets` answers a map of id → dataset, `limit` 20 unless given (1 to 100, anything else is a 400), `start` an
offset, `orderBy` (`asc:`/`desc:` and a property), `properties` an allow-list of top-level properties, `property`
conditions and simple filters on any property of a dataset, as "Filter Catalog data using query parameters"
describes; `GET /dataSets/{id}` answers one. The datasets are the seed's (`seeds.py`) and any a test adds to
`state.datasets`. Each behaviour is a row of docs/emulator.md.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import parse_qsl

from flask import Blueprint, Response, g, request

from .errors import json_response, platform_error
from .gateway import gateway
from .listing import dig

CATALOG = "/data/foundation/catalog"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CONDITION = re.compile(
    r"^(?P<neg>!?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>==|!=|<=|>=|<|>|~)(?P<value>.*))?$", re.S
)
# The parameters Catalog's spec lists for GET /dataSets that are not simple filters.
CATALOG_PARAMETERS = {"limit", "start", "orderBy", "properties", "property", "tags", "enableErrorDiagnostics"}
# A dataset's properties, which a simple filter (`{PROPERTY_NAME}={VALUE}`) may name: Catalog's dataSetResponse
# (catalog.yaml) and what its examples show beside (the filter guide's `dule`, `statsCache`, `state`, `namespace`;
# the spec's `classification`). A dotted name reads into an object (`schemaRef.id`), our reading.
DATASET_PROPERTIES = {
    "basePath",
    "created",
    "createdClient",
    "createdUser",
    "dataSourceId",
    "description",
    "fileDescription",
    "files",
    "imsOrg",
    "lastBatchId",
    "lastBatchStatus",
    "lastFailedBatch",
    "lastSuccessfulBatch",
    "name",
    "observableSchema",
    "persistence",
    "schema",
    "schemaRef",
    "tags",
    "updated",
    "updatedUser",
    "version",
    "viewId",
    "classification",
    "dule",
    "statsCache",
    "state",
    "namespace",
}


def catalog_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_catalog", __name__, url_prefix=CATALOG)
    bp.before_request(gateway(state))

    def in_sandbox() -> list[dict]:
        with state._lock:
            return [d for d in state.datasets.values() if d["sandboxName"] == g.sandbox and d["imsOrg"] == state.org_id]

    @bp.get("/dataSets")
    def list_datasets():
        query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        unknown = sorted(
            {key for key, _ in query}
            - CATALOG_PARAMETERS
            - {key for key, _ in query if key.split(".")[0] in DATASET_PROPERTIES}
        )
        if unknown:  # our choice: Catalog documents its parameters and simple filters, not its answer to others
            return platform_error(400, "BadRequestError", f"Unknown query parameters: {', '.join(unknown)}.")
        items = _filtered(in_sandbox(), query)
        if isinstance(items, Response):
            return items
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
        page = ordered[int(start) : int(start) + int(limit)]
        wanted = [p for p in args.get("properties", "").split(",") if p] if "properties" in args else None
        return json_response({d["id"]: _shown(d, wanted) for d in page})

    @bp.get("/dataSets/<dataset_id>")
    def get_dataset(dataset_id):
        found = next((d for d in in_sandbox() if d["id"] == dataset_id), None)
        if found is None:  # our choice of body: Catalog documents a 404 without one
            return platform_error(404, "NotFoundError", f"No dataset {dataset_id} in sandbox {g.sandbox}.")
        wanted = (
            [p for p in request.args.get("properties", "").split(",") if p] if "properties" in request.args else None
        )
        return json_response({found["id"]: _shown(found, wanted)})

    return bp


def _filtered(items: list[dict], query: list[tuple[str, str]]):
    """The items every `property` condition and simple filter of the query keeps, in order, or the refusal."""
    for key, value in query:
        if key == "property":
            kept = _condition(items, value)
            if isinstance(kept, Response):
                return kept
            items = kept
        elif key not in CATALOG_PARAMETERS:
            items = _simple(items, key, value)
    return items


def _shown(dataset: dict, wanted: list[str] | None) -> dict:
    shown = {k: copy.deepcopy(v) for k, v in dataset.items() if k not in ("id", "sandboxName")}
    return shown if wanted is None else {k: v for k, v in shown.items() if k in wanted}


def _simple(items: list[dict], key: str, value: str) -> list[dict]:
    """`name=a,b` keeps objects whose value is any of those; `name=!a,b` those whose value is none of them; a
    dotted name (`schemaRef.id`) reads into the object."""
    negate = value.startswith("!")
    values = set((value[1:] if negate else value).split(","))
    return [d for d in items if (_text(dig(d, key)) in values) != negate]


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
    compare = {
        "==": lambda a: a == value,
        "!=": lambda a: a != value,
        "<": lambda a: a < value,
        "<=": lambda a: a <= value,
        ">": lambda a: a > value,
        ">=": lambda a: a >= value,
    }[op]
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
        ordered.sort(
            key=lambda d: (
                d.get(field) is None,
                str(d.get(field) or "").lower() if isinstance(d.get(field), str) else d.get(field) or 0,
            ),
            reverse=descending,
        )
    return ordered
