"""Data Prep's mapping sets: validate, create, read and list, as strict as Adobe's documents.

A mapping set is accepted in the Data Prep API's shape (`outputSchema.schemaRef.id`, `mappings[].sourceType`,
`source`, `destination`) and in the dataflow tutorial's (`xdmSchema`, `mappings[].sourceAttribute`,
`destinationXdmPath`). Each mapping gets a verdict: its destination must be a field of the output schema, once;
a constant must read as the field's type. Creation refuses a set with any failed mapping. Each behaviour is a row of
docs/emulator.md.
"""

from __future__ import annotations

import datetime
import time
import uuid
from urllib.parse import parse_qsl

from flask import Blueprint, g, request

from .datasets import SCHEMAS, schema_id
from .errors import json_response, platform_error
from .flow_service import gateway

DATA_PREP = "/data/foundation/conversion"
SOURCE_TYPES = {"ATTRIBUTE", "STATIC", "EXPRESSION"}


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


def data_prep_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_data_prep", __name__, url_prefix=DATA_PREP)
    bp.before_request(gateway(state))

    def read_set():
        """(schema key, [(sourceType, source, destination)], None), or (None, None, the 400 to answer)."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, None, platform_error(400, "BadRequestError", "The body must be a mapping set, a JSON object.")
        output = body.get("outputSchema")
        schema_ref = output.get("schemaRef") if isinstance(output, dict) else None
        ref = body.get("xdmSchema") or (schema_ref.get("id") if isinstance(schema_ref, dict) else None)
        key = next((k for k in SCHEMAS if schema_id(k) == ref), None)
        if key is None:
            return None, None, platform_error(400, "BadRequestError",
                                              f"outputSchema.schemaRef.id {ref!r} is not a schema of this sandbox.")
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

    def verdicts(key: str, rows) -> list[dict]:
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
            elif source_type == "EXPRESSION":
                problem = "expressions are not emulated"  # our choice: refuse rather than pass unchecked
            elif source_type == "STATIC":
                problem = _constant_problem(source, fields[destination])
            if isinstance(destination, str):
                seen.add(destination)
            answers.append({"status": "FAILED", "errors": [{
                "source": source if isinstance(source, str) else None, "destination": destination
                if isinstance(destination, str) else None, "sourceType": source_type if source_type in SOURCE_TYPES
                else None, "exception": problem}]} if problem else {"status": "SUCCESS", "errors": []})
        return answers

    @bp.post("/mappingSets/validate")
    def validate():
        key, rows, refusal = read_set()
        if refusal:
            return refusal
        return json_response({"validationResponse": verdicts(key, rows)})

    @bp.post("/mappingSets")
    def create():
        key, rows, refusal = read_set()
        if refusal:
            return refusal
        failed = [v["errors"][0]["exception"] for v in verdicts(key, rows) if v["status"] == "FAILED"]
        if failed:  # our choice: Data Prep documents "400 An invalid mapping set was requested"
            return platform_error(400, "BadRequestError", "Invalid mapping set: " + "; ".join(failed) + ".")
        now = int(time.time() * 1000)
        body = request.get_json()
        item = {"id": uuid.uuid4().hex, "version": 0, "createdDate": now, "modifiedDate": now,
                "createdBy": state.client_id, "modifiedBy": state.client_id, "name": body.get("name") or "",
                "outputSchema": {"schemaRef": {"id": schema_id(key),
                                               "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
                "mappings": [{"sourceType": t, "source": s, "destination": d} for t, s, d in rows],
                "sandboxName": g.sandbox}
        with state._lock:
            state.mapping_sets[item["id"]] = item
        return json_response({k: item[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy",
                                                   "modifiedBy")})

    @bp.get("/mappingSets/<set_id>")
    def get_one(set_id):
        with state._lock:
            item = state.mapping_sets.get(set_id)
        if item is None or item.get("sandboxName", g.sandbox) != g.sandbox:
            return platform_error(404, "NotFoundError", f"No mapping set {set_id}.")
        return json_response({k: v for k, v in item.items() if k != "sandboxName"})

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
            items = [i for i in state.mapping_sets.values() if i.get("sandboxName", g.sandbox) == g.sandbox
                     and ("name" not in args or i.get("name") == args["name"])]
        items.sort(key=lambda i: i.get("modifiedDate") or 0, reverse=True)
        page = items[start:start + limit]
        return json_response({"data": [{k: v for k, v in i.items() if k != "sandboxName"} for i in page],
                              "_page": {"count": len(page), "totalCount": len(items)}})

    return bp


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
