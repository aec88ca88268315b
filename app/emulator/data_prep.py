"""Data Prep's mapping sets: validate, create, update (a new version), read and list, as strict as Adobe's documents.

A mapping set is accepted in the Data Prep API's shape (`outputSchema.schemaRef.id`, `mappings[].sourceType`,
`source`, `destination`) and in the dataflow tutorial's (`xdmSchema`, `mappings[].sourceAttribute`,
`destinationXdmPath`). Each mapping gets a verdict: its destination must be a field of the output schema, once;
a constant must read as the field's type; an attribute must be a field name as the "Mapping functions" guide
writes them (`field_path`). Creation refuses a set with any failed mapping. `PUT /mappingSets/{id}` (the spec's
"Update a mapping set") makes the set's next version; every version stays readable (`?version=N`) and usable by a
flow, as the update tutorial patches a flow to `"mappingVersion": 2`. Each behaviour is a row of docs/emulator.md.
"""

from __future__ import annotations

import datetime
import time
import uuid
from urllib.parse import parse_qsl

from flask import Blueprint, g, request

from .errors import json_response, platform_error
from .gateway import gateway
from .seeds import SCHEMAS, schema_id

DATA_PREP = "/data/foundation/conversion"
SOURCE_TYPES = {"ATTRIBUTE", "STATIC", "EXPRESSION"}
# "If a field name is any of the following reserved keywords, it must be wrapped with `${}`" ("Data Prep mapping
# functions", data-prep/functions, Fields), and "reserved keywords also include any of the mapper functions
# listed on this page": the functions follow, as that page lists them.
RESERVED_WORDS = frozenset(
    (
        "new mod or break var lt for false while eq gt div not null continue else and ne true le if ge return _errors "
        "do function empty size "
        # String, regular expression, hashing and URL functions.
        "concat explode instr replacestr substr lower lcase upper ucase split join lpad rpad left right ltrim rtrim "
        "trim equals equalsIgnoreCase extract_regex matches_regex sha1 sha256 sha512 md5 crc32 get_url_protocol "
        "get_url_host get_url_port get_url_path get_url_query_str get_url_encoded get_url_decoded "
        # Date and time functions.
        "now timestamp format dformat date date_part set_date_part make_date_time make_timestamp zone_date_to_utc "
        "zone_date_to_zone "
        # Hierarchies: objects, arrays, maps.
        "is_empty arrays_to_object to_object str_to_object contains_key is_set nullify get get_keys get_values "
        "map_get_values map_has_keys add_to_map object_to_map coalesce first last add_to_array join_arrays to_array "
        "size_of upsert_array_append upsert_array_replace array_to_string filterArray transformArray flattenArray "
        "array_to_map to_map "
        # Logical operators, aggregation, type conversions, JSON, special operations.
        "decode iif min max to_bigint to_decimal to_float to_integer json_to_object uuid guid fpid_to_ecid "
        # User agent and Analytics functions.
        "ua_os_name ua_os_version_major ua_os_version ua_os_name_version ua_agent_version ua_agent_version_major "
        "ua_agent_name ua_device_class aa_get_event_id aa_get_event_value aa_get_product_categories "
        "aa_get_product_names aa_get_product_quantity aa_get_product_price aa_get_product_event_values "
        "aa_get_product_evars"
    ).split()
)


def leaf_fields(properties: dict, prefix: str = "") -> dict[str, dict]:
    """Every field of an XDM schema that holds a value, by dotted path (`person.name.firstName`)."""
    fields = {}
    for name, field in properties.items():
        path = f"{prefix}{name}"
        if field.get("type") == "object" and "properties" in field:
            fields.update(leaf_fields(field["properties"], path + "."))
        else:
            fields[path] = field
    return fields


def field_path(source: str) -> list[str] | None:
    """The field names an ATTRIBUTE source walks, unescaped, or None when Data Prep would not read it.

    "A field name can be any legal identifier - an unlimited-length sequence of Unicode letters and digits,
    beginning with a letter, the dollar sign (`$`), or the underscore character (`_`)"; any other name "must be
    wrapped with `${}`", a dot inside it escaped (`${First\\.Name}`), and so must a reserved word; "data within
    sub-fields can be accessed by using the dot notation" ("Data Prep mapping functions", Fields). A child
    attribute's dot is escaped with a backslash, as in `address.street\\.name` (Data Prep overview, "Escape special
    characters"). Our reading: `$` and `_` may also follow the first character (the rule is Java's identifier,
    whose letters include them), and an unescaped dot inside `${}` separates fields as it does outside.
    """
    names, at = [], 0
    while True:
        if source.startswith("${", at):
            end, raw = at + 2, []
            while end < len(source) and source[end] != "}":
                if source[end] == "\\" and end + 1 < len(source):
                    raw.append(source[end : end + 2])
                    end += 2
                else:
                    raw.append(source[end])
                    end += 1
            if end == len(source):
                return None
            wrapped = _split_on_dots(raw)
            if not wrapped or any(not name for name in wrapped):
                return None
            names += wrapped
            at = end + 1
        else:
            end, raw = at, []
            while end < len(source) and source[end] != ".":
                if source[end] == "\\":
                    if source[end + 1 : end + 2] != ".":
                        return None
                    raw.append("\\.")
                    end += 2
                else:
                    raw.append(source[end])
                    end += 1
            name = "".join("." if piece == "\\." else piece for piece in raw)
            if not _identifier(raw) or name in RESERVED_WORDS:
                return None
            names.append(name)
            at = end
        if at == len(source):
            return names
        if source[at] != "." or at + 1 == len(source):
            return None
        at += 1


def _split_on_dots(raw: list[str]) -> list[str]:
    """The names inside `${…}`: split on unescaped dots, each escape read as the character it escapes."""
    names: list[str] = []
    current: list[str] = []
    for piece in raw:
        if piece == ".":
            names.append("".join(current))
            current = []
        else:
            current.append(piece[1:] if len(piece) == 2 else piece)
    return names + ["".join(current)]


def _identifier(raw: list[str]) -> bool:
    """A legal identifier: a letter, `$` or `_`, then letters, digits, `$`, `_` (or an escaped dot)."""
    if not raw or not (raw[0].isalpha() or raw[0] in "$_"):
        return False
    return all(piece == "\\." or piece.isalnum() or piece in "$_" for piece in raw[1:])


def data_prep_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_data_prep", __name__, url_prefix=DATA_PREP)
    bp.before_request(gateway(state))

    @bp.post("/mappingSets/validate")
    def validate():
        key, rows, refusal = _read_set()
        if refusal:
            return refusal
        return json_response({"validationResponse": _verdicts(key, rows)})

    @bp.post("/mappingSets")
    def create():
        key, rows, refusal = _read_set()
        if refusal:
            return refusal
        failed = [v["errors"][0]["exception"] for v in _verdicts(key, rows) if v["status"] == "FAILED"]
        if failed:  # our choice: Data Prep documents "400 An invalid mapping set was requested"
            return platform_error(400, "BadRequestError", "Invalid mapping set: " + "; ".join(failed) + ".")
        now = int(time.time() * 1000)
        body = request.get_json()
        item = {
            "id": uuid.uuid4().hex,
            "version": 0,
            "createdDate": now,
            "modifiedDate": now,
            "createdBy": state.client_id,
            "modifiedBy": state.client_id,
            "name": body.get("name") or "",
            "outputSchema": {"schemaRef": {"id": schema_id(key), "contentType": CONTENT_TYPE}},
            "mappings": _mappings(rows),
            "sandboxName": g.sandbox,
        }
        with state._lock:
            state.mapping_sets[item["id"]] = item
        return json_response(
            {k: item[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")}
        )

    @bp.put("/mappingSets/<set_id>")
    def update(set_id):
        """The set's next version (the spec's "Update a mapping set"): checked as a new set is; the versions before
        it are kept (`versions`, never shown)."""
        with state._lock:
            item = state.mapping_sets.get(set_id)
        if item is None or item.get("sandboxName", g.sandbox) != g.sandbox:
            return platform_error(404, "NotFoundError", f"No mapping set {set_id}.")
        key, rows, refusal = _read_set()
        if refusal:
            return refusal
        failed = [v["errors"][0]["exception"] for v in _verdicts(key, rows) if v["status"] == "FAILED"]
        if failed:
            return platform_error(400, "BadRequestError", "Invalid mapping set: " + "; ".join(failed) + ".")
        with state._lock:
            earlier = {k: v for k, v in item.items() if k != "versions"}
            item["versions"] = {**item.get("versions", {}), earlier["version"]: earlier}
            item.update(
                version=earlier["version"] + 1,
                modifiedDate=int(time.time() * 1000),
                modifiedBy=state.client_id,
                mappings=_mappings(rows),
                outputSchema={"schemaRef": {"id": schema_id(key), "contentType": CONTENT_TYPE}},
            )
        return json_response(_shown(item))

    @bp.get("/mappingSets/<set_id>")
    def get_one(set_id):
        with state._lock:
            item = state.mapping_sets.get(set_id)
        if item is None or item.get("sandboxName", g.sandbox) != g.sandbox:
            return platform_error(404, "NotFoundError", f"No mapping set {set_id}.")
        version = request.args.get("version")
        if version is not None:
            item = mapping_version(item, int(version)) if version.isdigit() else None
            if item is None:
                return platform_error(404, "NotFoundError", f"No version {version} of mapping set {set_id}.")
        return json_response(_shown(item))

    @bp.get("/mappingSets")
    def list_sets():
        args = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        for required in ("limit", "start"):  # the spec marks both required
            if not args.get(required, "").isdigit():
                return platform_error(400, "BadRequestError", f"{required} is required, a whole number.")
        limit, start = int(args["limit"]), int(args["start"])
        if limit < 1:
            return platform_error(400, "BadRequestError", "limit must be 1 or more.")
        with state._lock:
            items = [
                i
                for i in state.mapping_sets.values()
                if i.get("sandboxName", g.sandbox) == g.sandbox
                and ("name" not in args or i.get("name") == args["name"])
            ]
        items.sort(key=lambda i: i.get("modifiedDate") or 0, reverse=True)
        page = items[start : start + limit]
        return json_response(
            {"data": [_shown(i) for i in page], "_page": {"count": len(page), "totalCount": len(items)}}
        )

    return bp


CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"


def mapping_version(item: dict, version: int) -> dict | None:
    """Version `version` of a kept mapping set (its current one, or one kept before an update), or None."""
    if version == item.get("version", 0):
        return item
    return (item.get("versions") or {}).get(version)


def _shown(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("sandboxName", "versions")}


def _mappings(rows) -> list[dict]:
    return [{"sourceType": t, "source": s, "destination": d} for t, s, d in rows]


def _read_set():
    """(schema key, [(sourceType, source, destination)], None), or (None, None, the 400 to answer)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, None, platform_error(400, "BadRequestError", "The body must be a mapping set, a JSON object.")
    output = body.get("outputSchema")
    schema_ref = output.get("schemaRef") if isinstance(output, dict) else None
    ref = body.get("xdmSchema") or (schema_ref.get("id") if isinstance(schema_ref, dict) else None)
    key = next((k for k in SCHEMAS if schema_id(k) == ref), None)
    if key is None:
        return (
            None,
            None,
            platform_error(
                400, "BadRequestError", f"outputSchema.schemaRef.id {ref!r} is not a schema of this sandbox."
            ),
        )
    mappings = body.get("mappings")
    if not isinstance(mappings, list) or not mappings or not all(isinstance(m, dict) for m in mappings):
        return None, None, platform_error(400, "BadRequestError", "mappings must be a non-empty list of objects.")
    rows = []
    for m in mappings:
        if "destinationXdmPath" in m:  # the tutorial's shape
            rows.append(("ATTRIBUTE", m.get("sourceAttribute"), m.get("destinationXdmPath")))
        else:
            rows.append((m.get("sourceType"), m.get("source"), m.get("destination")))
    return key, rows, None


def _verdicts(key: str, rows) -> list[dict]:
    """One verdict per mapping, as `POST /mappingSets/validate` answers: SUCCESS, or FAILED with the reason."""
    fields = leaf_fields(SCHEMAS[key]["properties"])
    seen, answers = set(), []
    for source_type, source, destination in rows:
        problem = None
        if source_type not in SOURCE_TYPES:
            problem = f"sourceType must be one of {', '.join(sorted(SOURCE_TYPES))}"
        elif not isinstance(source, str) or not source:
            problem = "source is required"
        elif not isinstance(destination, str) or destination not in fields:
            problem = f"destination {destination!r} is not a field of the schema"
        elif destination in seen:
            problem = f"destination {destination} is mapped more than once"
        elif source_type == "ATTRIBUTE" and field_path(source) is None:
            problem = (
                f"source {source!r} is not a field name: wrap a name that is not a legal identifier, or "
                "is a reserved word, as ${…}, its dots escaped as \\."
            )
        elif source_type == "EXPRESSION":
            problem = "expressions are not emulated"  # our choice: refuse rather than pass unchecked
        elif source_type == "STATIC":
            problem = _constant_problem(source, fields[destination])
        if isinstance(destination, str):
            seen.add(destination)
        answers.append(
            {
                "status": "FAILED",
                "errors": [
                    {
                        "source": source if isinstance(source, str) else None,
                        "destination": destination if isinstance(destination, str) else None,
                        "sourceType": source_type if source_type in SOURCE_TYPES else None,
                        "exception": problem,
                    }
                ],
            }
            if problem
            else {"status": "SUCCESS", "errors": []}
        )
    return answers


def _constant_problem(value: str, field: dict) -> str | None:
    """Why a constant cannot fill a field of this type, or None."""
    kind, form = field.get("type"), field.get("format")
    try:
        if kind == "integer":
            int(value)
        elif kind == "number":
            float(value)
        elif kind == "boolean" and value not in ("true", "false"):
            raise ValueError
        elif form in ("date-time", "date"):
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"the constant {value!r} is not a{'n' if kind == 'integer' else ''} {form or kind}"
    return None
