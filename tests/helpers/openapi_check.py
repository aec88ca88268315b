"""Validate every exchange with Adobe against Adobe's OpenAPI specs and their documented filters and codes.

Flow Service, Catalog and Data Prep against their OpenAPI 3 specs; the Schema Registry (a Swagger 2.0 spec, which
openapi-core does not read) against its documented paths and `Accept` formats.

Shared by the tests that drive the client or the portal: add `Checked` to the observers of the client's
session (app.adobe.http.Session), or to a requests session's response hooks, and every call it makes is checked.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.validation.request.exceptions import InvalidRequestBody

from app.adobe.http import Answer
from app.emulator.errors import CATALOGUE

# Adobe's spec, Apache-2.0, copied with its source noted in tests/fixtures/adobe/README.md.
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "adobe" / "flow-service.yaml"
FLOW_ERROR = {
    "type": "object",
    "required": ["type", "title", "status", "report", "errorMessage"],
    "properties": {
        "type": {"type": "string", "pattern": "/FLOW-[0-9]+-[0-9]{3}$"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "report": {"type": "object", "required": ["detailed-message", "request-id"]},
        "errorMessage": {"type": "string"},
    },
}
GATEWAY_ERROR = {"type": "object", "required": ["error_code", "message"]}
JSON_PATCH = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["op", "path", "value"],
        "additionalProperties": False,
        "properties": {
            "op": {"enum": ["add", "replace", "remove"]},
            "path": {"type": "string", "pattern": "^/"},
            "value": {},
        },
    },
}
FLOW_SPECS = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        }
    },
}
TABLE_COLUMNS = {
    "type": "object",
    "required": ["format", "schema"],
    "properties": {
        "schema": {
            "type": "object",
            "required": ["columns"],
            "properties": {"columns": {"type": "array", "items": {"type": "object", "required": ["name", "type"]}}},
        }
    },
}


@functools.cache
def load_openapi() -> tuple[dict[str, Any], OpenAPI]:
    """Adobe's Flow Service spec as a dict and as openapi-core's validator: read once, shared, never changed."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    # The spec's server is scheme-relative (//{environment}.adobe.io/...) and matches no URL.
    spec["servers"] = [{"url": "/data/foundation/flowservice"}]
    return spec, OpenAPI.from_dict(spec)


@functools.cache
def load_platform_specs() -> dict[str, tuple[dict[str, Any], OpenAPI]]:
    """Catalog's and Data Prep's specs as openapi-core validators, by base path (servers made to match): read once."""
    found: dict[str, tuple[dict[str, Any], OpenAPI]] = {}
    for name, base, used in (
        ("catalog.yaml", "/data/foundation/catalog", ("/dataSets", "/dataSets/{DATASET_ID}")),
        (
            "data-prep.yaml",
            "/data/foundation/conversion",
            ("/mappingSets", "/mappingSets/validate", "/mappingSets/{MAPPING_SET_ID}"),
        ),
    ):
        spec = yaml.safe_load((SPEC.parent / name).read_text(encoding="utf-8"))
        spec["servers"] = [{"url": base}]
        # The paths the portal calls: elsewhere the specs have slips that openapi-core's own check refuses (a
        # parameter listed twice under Catalog's /tags/{tagNamespace}).
        spec["paths"] = {path: item for path, item in spec["paths"].items() if path in used}
        for schema in spec["components"]["schemas"].values():
            for name in ("createdDate", "modifiedDate"):
                if name in schema.get("properties", {}):
                    # Data Prep's schemas type these as date-time strings; every example in the same spec, and the
                    # dataflow tutorial's answer, give epoch milliseconds: held to the examples.
                    schema["properties"][name] = {"type": "integer"}
        for item in spec["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    # Catalog's YAML writes statuses unquoted (200:), which YAML reads as numbers; OpenAPI's are text.
                    operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
        # Not checked as a document itself: both carry slips elsewhere (a `description: null` in Catalog's
        # components) that have nothing to do with the calls validated against them.
        found[base] = (spec, OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None)))
    return found


# The Schema Registry's documented reads (schema-registry.yaml): a schema by `meta:altId` or URL-encoded `$id` with
# a lookup `Accept` and its version, and the descriptors with a descriptor `Accept`.
SCHEMA_LOOKUP = re.compile(r"^/data/foundation/schemaregistry/(tenant|global)/schemas/[^/]+$")
LOOKUP_ACCEPT = re.compile(r"^application/vnd\.adobe\.xed(-full)?(-notext|-desc)?\+json; ?version=[0-9]+$")
DESCRIPTOR_ACCEPT = re.compile(r"^application/vnd\.adobe\.xdm(-v2)?(-id|-link)?\+json$")
CATALOG_QUERY = {"limit", "start", "orderBy", "properties", "property"}


# The query parameters the spec lists for GET /connections (and the other lists), and the filters the filter
# guide documents for each resource: `==` only, a comma meaning "any of"; `[]` for an array's items.
LIST_PARAMETERS = {"property", "limit", "orderby", "continuationToken", "count"}
FILTERS = {
    "/connections": re.compile(r"^(id|name|description|connectionSpec\.id|state)==[^=]"),
    # "Filtering can be applied generically on any property in an entity": the portal filters these by the
    # connection they read, or by name when it looks for what a lost answer may have made.
    "/sourceConnections": re.compile(r"^(baseConnectionId|name)==[^=]"),
    "/targetConnections": re.compile(r"^name==[^=]"),
    "/flows": re.compile(r"^(sourceConnectionIds\[\]|name)==[^=]"),
    "/runs": re.compile(r"^flowId==[^=]"),
}
# Actions as Adobe's tutorials send them ("Update destination dataflows", "Retry failed dataflow runs"): the
# spec's enums are upper case (ENABLE, RE_TRIGGER) and its flow action requires a subOp that no tutorial sends.
TUTORIAL_ACTIONS = {"/flows/": {"enable", "disable"}, "/runs/": {"re-trigger"}}


def documented_query(url: str) -> None:
    """Fail on any query parameter or filter operator Adobe's documents do not give for the lists we read."""
    parts = urlsplit(url)
    listed = next((path for path in FILTERS if parts.path.endswith(path)), None)
    if listed is None:
        return
    query = parse_qsl(parts.query, keep_blank_values=True)
    assert {key for key, _ in query} <= LIST_PARAMETERS, query
    assert not ({"count", "limit"} <= {key for key, _ in query}), "count with limit is 1401-400"
    for key, value in query:
        if key == "property":
            assert FILTERS[listed].match(value), f"undocumented filter {value!r} on {listed}"
        if key == "orderby":
            assert re.fullmatch(r"[+-]?(createdAt|updatedAt|name)", value), value


def documented_code(response: requests.Response) -> None:
    """Fail on a Flow Service error code that Adobe's error catalogue does not list."""
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and "FLOW-" in str(body.get("type", "")):
        code = body["type"].rsplit("FLOW-", 1)[1]
        assert code in CATALOGUE, f"FLOW-{code} is not in Adobe's error catalogue"


def as_requests_response(answer: Answer) -> requests.Response:
    """The wizard's Answer (app.adobe.http) as the requests objects openapi-core's adapters read."""
    sent = answer.request
    prepared = requests.Request(sent.method, str(sent.url), headers=sent.headers, data=sent.body).prepare()
    response = requests.Response()
    response.status_code, response._content, response.url = answer.status_code, answer.content, str(sent.url)
    response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
    response.request = prepared
    return response


class Checked:
    """A requests session hook validating every Flow Service exchange against the spec."""

    def __init__(self, openapi: tuple[dict[str, Any], OpenAPI]) -> None:
        self.spec, self.openapi = openapi
        self.platform = load_platform_specs()
        self.checked: list[tuple[str, int]] = []

    def __call__(self, response: requests.Response | Answer, *args: Any, **kwargs: Any) -> requests.Response:
        if not isinstance(response, requests.Response):
            response = as_requests_response(response)
        if "/data/foundation/schemaregistry" in response.url:
            return self._schema_registry(response)
        platform = next((base for base in self.platform if base in response.url), None)
        if platform:
            return self._platform(response, *self.platform[platform])
        if "/data/foundation/flowservice" not in response.url:
            return response
        sent = response.request
        documented_query(str(sent.url))
        documented_code(response)
        if sent.method in ("PATCH", "DELETE"):
            # The spec files PATCH and DELETE under /connections/{id}/ with a trailing slash; Adobe's
            # tutorials, and we, call /connections/{id}. Validate the same request at the spec's path.
            sent = sent.copy()
            head, _, query = str(sent.url).partition("?")
            sent.url = head.rstrip("/") + "/" + ("?" + query if query else "")
        action = re.search(r"(/flows/|/runs/)[^/]+/action\?(.*)$", str(sent.url))
        if action:
            # Checked against the tutorials, then the answer against the spec's 200 (`{id, etag}`).
            assert parse_qsl(action.group(2)) == [("op", parse_qsl(action.group(2))[0][1])]
            assert parse_qsl(action.group(2))[0][1] in TUTORIAL_ACTIONS[action.group(1)], str(sent.url)
            for header in ("Authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"):
                assert sent.headers.get(header), f"{header} missing from {sent.url}"
            if response.status_code == 200:
                body = response.json()
                assert isinstance(body.get("id"), str) and isinstance(body.get("etag"), str), body
            else:
                jsonschema.validate(response.json(), FLOW_ERROR)
            self.checked.append((str(sent.method), response.status_code))
            return response
        if "/explore?" in str(sent.url):
            # Adobe's tutorials ("Explore a database") and aepp send objectType in lower case, and so do we;
            # the spec's enum is upper case. Check ours is the tutorials' spelling, then the rest against the spec.
            found = re.search(r"objectType=([^&]*)", str(sent.url))
            assert found, sent.url
            object_type = found.group(1)
            assert object_type in ("root", "table"), object_type
            sent = sent.copy()
            sent.url = str(sent.url).replace(f"objectType={object_type}", f"objectType={object_type.upper()}")
        request = RequestsOpenAPIRequest(sent)
        if sent.method == "PATCH":
            # The spec's body is one PatchInstruction with an upper-case op and an object value; Adobe's
            # update tutorial and DESIGN.md send a JSON Patch array (op "replace", /name takes a string).
            # Headers and path are checked against the spec; the body against the spec's fields, as an array.
            try:
                self.openapi.validate_request(request)
            except InvalidRequestBody:
                jsonschema.validate(json.loads(cast(bytes, sent.body)), JSON_PATCH)
        else:
            self.openapi.validate_request(request)
        documented = self._documented_statuses(str(response.request.method), response.url)
        if "/explore" in response.url and "objectType=table" in response.url and response.status_code == 200:
            # The spec types every explore answer as a list of objects; for one table Adobe's tutorial
            # ("Explore a database") answers {"format", "schema": {"columns": [...]}}, as the emulator does.
            jsonschema.validate(response.json(), TABLE_COLUMNS)
        elif "/flowSpecs" in response.url and response.status_code == 200:
            # Adobe's documents disagree here: the spec types FlowSpecItemDTO.transformationSpecs an object (its own
            # example writes `transformationSpec`), while the current dataflow tutorial prints `transformationSpecs`
            # as a list, as the emulator serves it. The envelope and each spec's id and name are checked.
            jsonschema.validate(response.json(), FLOW_SPECS)
        elif response.status_code == 204:
            # The spec writes `content: {}` for 204, which openapi-core reads as "a body is due"; 204 has none.
            assert 204 in documented and response.content == b""
        elif response.status_code in documented:
            self.openapi.validate_response(request, RequestsOpenAPIResponse(response))
        else:
            body = response.json()
            jsonschema.validate(body, GATEWAY_ERROR if "error_code" in body else FLOW_ERROR)
        self.checked.append((str(response.request.method), response.status_code))
        return response

    def _platform(self, response: requests.Response, spec: dict[str, Any], openapi: OpenAPI) -> requests.Response:
        """Catalog or Data Prep: the request against its spec, a success's body too; a refusal in Adobe's shape."""
        sent = response.request
        parts = urlsplit(str(sent.url))
        query = parse_qsl(parts.query, keep_blank_values=True)
        if parts.path.endswith("/catalog/dataSets"):
            # The filter guide's parameters; `orderBy` as direction:property; `limit` 1 to 100.
            assert {key for key, _ in query} <= CATALOG_QUERY, query
            for key, value in query:
                if key == "orderBy":
                    assert re.fullmatch(r"((asc|desc):)?[A-Za-z]+(,((asc|desc):)?[A-Za-z]+)*", value), value
                if key == "limit":
                    assert 1 <= int(value) <= 100, value
                if key == "property":
                    assert re.fullmatch(r"name~[A-Za-z0-9 _\[\]-]+", value), value
        request = RequestsOpenAPIRequest(sent)
        openapi.validate_request(request)
        if 200 <= response.status_code < 300:
            openapi.validate_response(request, RequestsOpenAPIResponse(response))
        else:
            body = response.json()
            assert isinstance(body, dict) and (
                {"error_code", "message"} <= body.keys() or {"type", "title", "status"} <= body.keys()
            ), body
        self.checked.append((str(sent.method), response.status_code))
        return response

    def _schema_registry(self, response: requests.Response) -> requests.Response:
        sent = response.request
        path = urlsplit(str(sent.url)).path
        for header in ("Authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"):
            assert sent.headers.get(header), f"{header} missing from {sent.url}"
        assert sent.method == "GET", sent.method
        if path.endswith("/tenant/descriptors"):
            assert DESCRIPTOR_ACCEPT.match(str(sent.headers.get("Accept", ""))), sent.headers.get("Accept")
        else:
            assert SCHEMA_LOOKUP.match(path), path
            assert LOOKUP_ACCEPT.match(str(sent.headers.get("Accept", ""))), sent.headers.get("Accept")
        if response.status_code == 200:
            body = response.json()
            if path.endswith("/tenant/descriptors"):
                assert isinstance(body, dict), body
            else:  # the spec's lookupSchemaResponse: $id, meta:altId, title, type, properties
                assert {"$id", "meta:altId", "title"} <= body.keys(), body.keys()
        self.checked.append((str(sent.method), response.status_code))
        return response

    def _documented_statuses(self, method: str, url: str) -> set[int]:
        path = url.split("/data/foundation/flowservice", 1)[1].split("?")[0]
        for template, item in self.spec["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.rstrip("/")) + "/?$"
            if re.match(pattern, path) and method.lower() in item:
                return {int(code) for code in item[method.lower()]["responses"] if str(code).isdigit()}
        return set()
