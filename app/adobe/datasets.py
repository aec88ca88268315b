"""What a dataflow can write to: Catalog Service's datasets and the XDM schema each follows (Schema Registry).

The reads are the documented ones: `GET /dataSets` with `limit`, `start`, `orderBy`, `properties` and a
`property=name~…` condition ("Filter Catalog data using query parameters"); `GET /tenant/schemas/{$id}` with
`Accept: application/vnd.adobe.xed-full+json; version=1`; `GET /tenant/descriptors` for the identity fields.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote

from .errors import AdobeError
from .flow_service import CATALOG, SCHEMA_REGISTRY, FlowServiceClient, json_body

# Datasets on one page of the chooser.
PAGE = 10
FULL_SCHEMA = "application/vnd.adobe.xed-full+json; version=1"
# Search text sent in a Catalog regular expression: letters, digits, spaces and a few marks, nothing the
# expression could read as an operator (our choice: the guide does not say which regex dialect Catalog reads).
SEARCHABLE = re.compile(r"^[A-Za-z0-9 _-]{1,64}$")


@dataclasses.dataclass(frozen=True)
class DatasetPage:
    items: list[dict]
    start: int
    more: bool


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of an XDM schema that holds a value: `person.name.firstName`, its type and format."""

    path: str
    type: str
    format: str | None
    title: str
    # The identity namespace when the schema marks the field as an identity, and whether it is the primary one.
    namespace: str | None = None
    primary: bool = False

    @property
    def kind(self) -> str:
        """The type as a person reads it: date-time, integer, string…"""
        return self.format if self.format in ("date-time", "date") else self.type


@dataclasses.dataclass(frozen=True)
class Schema:
    id: str
    title: str
    version: str
    fields: list[Field]

    def field(self, path: str) -> Field | None:
        return next((f for f in self.fields if f.path == path), None)


def name_pattern(text: str) -> str | None:
    """A Catalog `name~` expression that finds `text` in any case, or None for text that cannot be sent."""
    if not SEARCHABLE.match(text):
        return None
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


class Datasets:
    """Reads of Catalog and the Schema Registry, through the Flow Service client (its session and token)."""

    def __init__(self, flow_service: FlowServiceClient):
        self._client = flow_service

    def page(self, sandbox: str, search: str = "", start: int = 0, limit: int = PAGE) -> DatasetPage:
        """Datasets by name, `limit` from `start`, those whose name holds `search` (any case) when given."""
        doing = "Listing datasets"
        params = [("limit", str(limit + 1)), ("start", str(start)), ("orderBy", "asc:name"),
                  ("properties", "name,description,schemaRef")]
        if search:
            pattern = name_pattern(search)
            if pattern is None:
                raise AdobeError("Search with letters, digits, spaces, _ and - only.", status=400)
            params.append(("property", f"name~{pattern}"))
        found = _datasets(json_body(self._client.call("GET", "/dataSets", sandbox, doing, service=CATALOG,
                                                      params=params), doing), doing)
        return DatasetPage(found[:limit], start, len(found) > limit)

    def dataset(self, sandbox: str, dataset_id: str) -> dict:
        doing = "Reading the dataset"
        found = _datasets(json_body(self._client.call("GET", f"/dataSets/{quote(dataset_id, safe='')}", sandbox,
                                                      doing, service=CATALOG,
                                                      params=[("properties", "name,description,schemaRef")]),
                                    doing), doing)
        if not found:
            raise AdobeError(f"{doing} failed: Catalog has no dataset {dataset_id} in sandbox {sandbox}.", status=404)
        return found[0]

    def schema(self, sandbox: str, schema_id: str) -> Schema:
        """The schema's fields that hold values, with the identities the schema's descriptors mark."""
        doing = "Reading the dataset's XDM schema"
        body = json_body(self._client.call("GET", f"/tenant/schemas/{quote(schema_id, safe='')}", sandbox, doing,
                                           service=SCHEMA_REGISTRY, headers={"Accept": FULL_SCHEMA}), doing)
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise AdobeError(f"{doing} failed: the Schema Registry answered without the schema's fields. Try again.")
        identities = self._identities(sandbox, schema_id)
        fields = [dataclasses.replace(f, namespace=identities.get(f.path, (None, False))[0],
                                      primary=identities.get(f.path, (None, False))[1])
                  for f in _fields(body["properties"])]
        return Schema(str(body.get("$id") or schema_id), str(body.get("title") or schema_id),
                      str(body.get("version") or ""), fields)

    def _identities(self, sandbox: str, schema_id: str) -> dict[str, tuple[str, bool]]:
        """Dotted path → (namespace, primary) of the schema's identity descriptors."""
        doing = "Reading the schema's identity fields"
        body = json_body(self._client.call("GET", "/tenant/descriptors", sandbox, doing, service=SCHEMA_REGISTRY,
                                           headers={"Accept": "application/vnd.adobe.xdm+json"}), doing)
        found = {}
        for item in (body.get("xdm:descriptorIdentity") or []) if isinstance(body, dict) else []:
            if isinstance(item, dict) and item.get("xdm:sourceSchema") == schema_id \
                    and isinstance(item.get("xdm:sourceProperty"), str):
                path = item["xdm:sourceProperty"].strip("/").replace("/", ".")
                found[path] = (str(item.get("xdm:namespace") or ""), item.get("xdm:isPrimary") is True)
        return found


def _datasets(body, doing: str) -> list[dict]:
    """Catalog's answer, a map of id → dataset, as a list of datasets with their ids (in the answer's order)."""
    if not isinstance(body, dict) or not all(isinstance(v, dict) for v in body.values()):
        raise AdobeError(f"{doing} failed: Catalog answered with a body that is not its map of datasets. Try again.")
    return [{**value, "id": key} for key, value in body.items()]


def _fields(properties: dict, prefix: str = "") -> list[Field]:
    fields = []
    for name, field in properties.items():
        if not isinstance(field, dict):
            continue
        path = f"{prefix}{name}"
        if field.get("type") == "object" and isinstance(field.get("properties"), dict):
            fields += _fields(field["properties"], path + ".")
        elif isinstance(field.get("type"), str) and field["type"] not in ("object", "array"):
            fields.append(Field(path, field["type"], field.get("format"), str(field.get("title") or name)))
    return fields
