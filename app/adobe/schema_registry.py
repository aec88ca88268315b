"""The Schema Registry: the XDM schema a dataset follows, its fields that hold values, and its identity fields.

`GET /tenant/schemas/{$id}` with `Accept: application/vnd.adobe.xed-full+json; version=1`, and `GET /tenant/descriptors`
for the identity fields, as the Schema Registry API documents them.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from .errors import AdobeError
from .gateway import SCHEMA_REGISTRY, Gateway, json_body

FULL_SCHEMA = "application/vnd.adobe.xed-full+json; version=1"


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


class SchemaRegistry:
    """Reads of the tenant's schemas and descriptors, through the gateway."""

    def __init__(self, gateway: Gateway):
        self._client = gateway

    def schema(self, sandbox: str, schema_id: str) -> Schema:
        """The schema's fields that hold values, with the identities the schema's descriptors mark."""
        doing = "Reading the dataset's XDM schema"
        body = json_body(
            self._client.call(
                "GET",
                f"/tenant/schemas/{quote(schema_id, safe='')}",
                sandbox,
                doing,
                service=SCHEMA_REGISTRY,
                headers={"Accept": FULL_SCHEMA},
            ),
            doing,
        )
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise AdobeError(f"{doing} failed: the Schema Registry answered without the schema's fields. Try again.")
        identities = self._identities(sandbox, schema_id)
        fields = [
            dataclasses.replace(
                f, namespace=identities.get(f.path, (None, False))[0], primary=identities.get(f.path, (None, False))[1]
            )
            for f in _fields(body["properties"])
        ]
        return Schema(
            str(body.get("$id") or schema_id),
            str(body.get("title") or schema_id),
            str(body.get("version") or ""),
            fields,
        )

    def _identities(self, sandbox: str, schema_id: str) -> dict[str, tuple[str, bool]]:
        """Dotted path → (namespace, primary) of the schema's identity descriptors."""
        doing = "Reading the schema's identity fields"
        body = json_body(
            self._client.call(
                "GET",
                "/tenant/descriptors",
                sandbox,
                doing,
                service=SCHEMA_REGISTRY,
                headers={"Accept": "application/vnd.adobe.xdm+json"},
            ),
            doing,
        )
        found = {}
        for item in (body.get("xdm:descriptorIdentity") or []) if isinstance(body, dict) else []:
            if (
                isinstance(item, dict)
                and item.get("xdm:sourceSchema") == schema_id
                and isinstance(item.get("xdm:sourceProperty"), str)
            ):
                path = item["xdm:sourceProperty"].strip("/").replace("/", ".")
                found[path] = (str(item.get("xdm:namespace") or ""), item.get("xdm:isPrimary") is True)
        return found


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
