"""The API's operations, each declared once with the pydantic models that check its input and describe its answers,
and the OpenAPI 3.1 document generated from those declarations.

pydantic (v2) makes the JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) of every model, and the same models
validate what calls send; the document's paths come from the declarations below, never written by hand. Chosen over
flask-openapi3 and spectree, which wrap pydantic the same way, because they answer a bad request in their own shape
and serve their viewers from a CDN: the portal answers every error as a problem document and serves nothing from
elsewhere.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from ..adobe import AdobeError
from .problems import Problem, response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
VERSION = "1.0.0"


@bp.errorhandler(AdobeError)
def adobe_refused(error: AdobeError):
    """Adobe refused a read or a change no operation handles itself: its status and words, and its request id."""
    return response(Problem(error.status, "Adobe could not do this", error.message, adobe_request_id=error.request_id))


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # Flask's, such as /connections/<connection_id>
    endpoint: str
    summary: str
    description: str
    tag: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    answers: dict[int, tuple[str, type[BaseModel] | tuple[str, dict] | None]]
    headers: tuple[tuple[str, str, bool], ...]  # (name, description, required)

    @property
    def path(self) -> str:
        return (bp.url_prefix or "") + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []
# Problems every operation may answer, besides its own.
COMMON = {
    401: "No valid token: missing, wrong, expired or revoked (all alike).",
    404: "No such object in that sandbox, or no such sandbox.",
    403: "The token's person, or the token's scope, does not allow this here; or the object is read-only here.",
    422: "What was sent does not fit: each field at fault, with a message.",
    429: "Too many calls with a wrong token from this address: wait as Retry-After says.",
    503: "The portal's own database cannot be reached: nothing was done.",
}


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    answers: dict[int, tuple[str, type[BaseModel] | tuple[str, dict] | None]],
    headers: tuple[tuple[str, str, bool], ...] = (),
    most_bytes: int | None = None,
) -> Callable:
    """Declare a view as an operation of the API: routed on the API's blueprint and listed in its document. The view
    gets the checked query and body models as keyword arguments `query` and `body`; a body may be up to `most_bytes`
    (the portal's limit, MAX_CONTENT_LENGTH, when not given)."""

    def declare(view: Callable) -> Callable:
        endpoint = view.__name__
        OPERATIONS.append(
            Operation(
                method,
                rule,
                endpoint,
                summary,
                (view.__doc__ or "").strip(),
                tag,
                query,
                body,
                answers,
                headers,
            )
        )

        def checked(**path_args):
            extra = {}
            if query is not None:
                extra["query"] = parse(query, _arguments(query), "query")
            if body is not None:
                if most_bytes:
                    request.max_content_length = most_bytes
                if not request.is_json:
                    raise Problem(415, "Send JSON", "Send the body as JSON, with Content-Type: application/json.")
                data = request.get_json(silent=True)
                if not isinstance(data, dict):
                    raise Problem(400, "Unreadable body", "The body is not a JSON object.")
                extra["body"] = parse(body, data, "body")
            return view(**path_args, **extra)

        checked.__name__ = endpoint
        bp.add_url_rule(rule, endpoint, checked, methods=[method])
        return view

    return declare


def _arguments(model: type[BaseModel]) -> dict:
    """The query string for `model`: a parameter typed as a list takes every value it is given, others the first."""
    lists = {name for name, field in model.model_fields.items() if "list[" in str(field.annotation)}
    return {name: values if name in lists else values[0] for name, values in request.args.to_dict(flat=False).items()}


def parse(model: type[BaseModel], data: dict, where: str):
    """`data` checked against `model`, or a 422 problem naming each field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = [
            {
                "field": ".".join(str(part) for part in e["loc"]) or where,
                "message": e["msg"] if e["type"] != "extra_forbidden" else "This field is not known here.",
            }
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise Problem(422, "Check the fields", f"The {where} has fields at fault.", errors=errors) from None


def document() -> dict:
    """The OpenAPI 3.1 document of every declared operation."""
    from . import schemas

    used = {
        m
        for op in OPERATIONS
        for m in (op.query, op.body, *(a[1] for a in op.answers.values()))
        if m is not None and not isinstance(m, tuple)
    }
    used.add(schemas.ProblemDetails)
    _keyed, defs = models_json_schema(
        [(m, "validation") for m in sorted(used, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    components = defs.get("$defs", {})
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        item = paths.setdefault(op.path, {})
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]+$"}}
            for name in re.findall(r"{([a-z_]+)}", op.path)
        ]
        if op.query is not None:
            shape = op.query.model_json_schema()
            for name, prop in shape.get("properties", {}).items():
                parameters.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in shape.get("required", ()),
                        "description": prop.get("description", ""),
                        "schema": {k: v for k, v in prop.items() if k not in ("description", "title")},
                    }
                )
        parameters += [
            {"name": name, "in": "header", "required": required, "description": text, "schema": {"type": "string"}}
            for name, text, required in op.headers
        ]
        responses = {}
        for status, (text, model) in sorted(op.answers.items()):
            answer: dict = {"description": text}
            if isinstance(model, tuple):  # (media type, schema): a document of its own, such as a configuration file
                answer["content"] = {model[0]: {"schema": model[1]}}
            elif model is not None:
                media = "application/problem+json" if issubclass(model, schemas.ProblemDetails) else "application/json"
                answer["content"] = {media: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
            responses[str(status)] = answer
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
        for status, text in COMMON.items():
            if str(status) not in responses and (status != 422 or op.query or op.body):
                responses[str(status)] = {"description": text, "content": problem}
        # Adobe's own refusals and faults come with Adobe's status (a 400, a 409, a 504…), always as a problem.
        responses["default"] = {"description": "Adobe refused, or could not answer: its words.", "content": problem}
        entry = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "description": op.description,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}},
            }
        item[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AEP Source Wizard API",
            "version": VERSION,
            "description": "Connections and dataflows of Adobe Experience Platform's Flow Service, with the portal's "
            "rules: the same checks, roles and audit trail as its pages. Authenticate with a personal API token.",
        },
        "servers": [{"url": "/"}],
        "externalDocs": {
            "description": "The configuration file's JSON Schema (config as code)",
            "url": "/api/config-schema.json",
        },
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token, made on the portal's API tokens page.",
                }
            },
        },
    }
