"""The API's OpenAPI document (/api/openapi.json) and a reference page rendered from it by the portal's own template,
readable without JavaScript and fetching nothing from elsewhere."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template

from .. import services
from . import spec

bp = Blueprint("api_docs", __name__, url_prefix="/api")


def document() -> dict:
    """Built once per app: the same bytes on every worker."""
    kept = services.current().rendered
    if "openapi" not in kept:
        kept["openapi"] = spec.document()
    return kept["openapi"]


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of /api/v1."""
    return Response(json.dumps(document(), indent=1), mimetype="application/json")


@bp.get("/config-schema.json")
def config_schema():
    """The JSON Schema of the configuration file (config as code), for editors to check a file as it is typed."""
    kept = services.current().rendered
    if "config_schema" not in kept:
        from ..config_file.model import json_schema

        kept["config_schema"] = json.dumps(json_schema(), indent=1)
    return Response(kept["config_schema"], mimetype="application/schema+json")


@bp.get("/docs")
def reference():
    """Every operation: its parameters, body, answers and a curl of it."""
    return render_template("api_docs.html", doc=document(), problem_types=sorted(set(spec_problem_types())))


def spec_problem_types():
    from .problems import TYPES

    return [(status, name) for status, name in TYPES.items()]
