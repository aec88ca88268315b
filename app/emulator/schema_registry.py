"""The Schema Registry's XDM schemas and identity descriptors (read only), as strict as Adobe's documents.

`GET /{tenant|global}/schemas/{$id or meta:altId}` needs an `Accept` of the documented lookup formats with a version,
or answers 406; `GET /tenant/descriptors` lists descriptors grouped by `@type`, or as a `results` page with a `-v2`
Accept. The schemas are the seed's (`seeds.py`). Each behaviour is a row of docs/emulator.md.
"""

from __future__ import annotations

import copy
import hashlib
import re
from urllib.parse import unquote

from flask import Blueprint, request

from .errors import json_response, platform_error
from .gateway import gateway
from .seeds import SCHEMAS, TENANT, schema_id

SCHEMA_REGISTRY = "/data/foundation/schemaregistry"
# The lookup formats the spec's `Accept` parameter lists; each needs `version=<major>`.
LOOKUP_FORMATS = {
    "application/vnd.adobe.xed+json",
    "application/vnd.adobe.xed-full+json",
    "application/vnd.adobe.xed-notext+json",
    "application/vnd.adobe.xed-full-notext+json",
    "application/vnd.adobe.xed-full-desc+json",
}
# The spec's acceptDescriptors: objects, ids or API paths; "Including the `-v2` option in any of the above `Accept`
# headers permits paging functionality, returning a results array with a `_page` attribute".
DESCRIPTOR_FORMATS = {
    f"application/vnd.adobe.xdm{v2}{kind}+json" for v2 in ("", "-v2") for kind in ("", "-id", "-link")
}


def full_schema(key: str) -> dict:
    """A schema as `Accept: application/vnd.adobe.xed-full+json; version=1` answers it."""
    schema = SCHEMAS[key]
    return {
        "$id": schema_id(key),
        "meta:altId": f"_{TENANT}.schemas.{key}",
        "meta:resourceType": "schemas",
        "version": schema["version"],
        "title": schema["title"],
        "type": "object",
        "meta:class": schema["meta:class"],
        "meta:extensible": False,
        "meta:abstract": False,
        "properties": copy.deepcopy(schema["properties"]),
    }


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
            return platform_error(
                406,
                "NotAcceptableError",
                "A lookup needs an Accept header such as 'application/vnd.adobe.xed-full+json; version=1'.",
            )
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
            return platform_error(
                406, "NotAcceptableError", "Descriptors need an Accept header such as 'application/vnd.adobe.xdm+json'."
            )
        identities = _identity_descriptors()
        shown: list = identities
        if accept.endswith("-id+json"):
            shown = [d["@id"] for d in identities]
        elif accept.endswith("-link+json"):
            shown = [f"/tenant/descriptors/{d['@id']}" for d in identities]
        if "-v2" in accept:
            return json_response(
                {"results": shown, "_page": {"count": len(shown), "next": None}, "_links": {"next": None}}
            )
        return json_response({"xdm:descriptorIdentity": shown})

    return bp


def _identity_descriptors() -> list[dict]:
    """One xdm:descriptorIdentity per identity field of each seeded schema, as objects."""
    return [
        {
            "@id": hashlib.sha1(f"{key}{path}".encode(), usedforsecurity=False).hexdigest(),
            "@type": "xdm:descriptorIdentity",
            "xdm:sourceSchema": schema_id(key),
            "xdm:sourceVersion": 1,
            "xdm:sourceProperty": path,
            "xdm:namespace": namespace,
            "xdm:property": "xdm:code",
            "xdm:isPrimary": primary,
        }
        for key, schema in SCHEMAS.items()
        for path, namespace, primary in schema["identities"]
    ]
