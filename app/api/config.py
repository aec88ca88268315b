"""Config as code through the API: a sandbox's connections and dataflows exported as the configuration file
(app/config_file), for `aep-source-wizard export` and anyone with a token who may view the sandbox."""

from __future__ import annotations

import logging

from flask import Response

from ..config_file import observe
from ..web import audit
from ..web.loaders import sandbox_of
from . import schemas
from .spec import operation

log = logging.getLogger(__name__)


@operation(
    "GET",
    "/config",
    summary="Export a sandbox as a configuration file",
    tag="Config as code",
    query=schemas.ExportQuery,
    answers={
        200: (
            "The file (YAML): connections and their dataflows, every secret a reference.",
            ("application/yaml", {"type": "object", "description": "Its JSON Schema: /api/config-schema.json."}),
        )
    },
)
def export_config(query: schemas.ExportQuery):
    """The connections of the sources the portal offers in the sandbox (or those named), each with its dataflows,
    as the configuration file describes them (GET /api/config-schema.json). Secrets are never read back: each is a
    reference to an environment variable named after its connection and field."""
    sandbox = sandbox_of("view")
    text, connections, dataflows = observe.as_file(sandbox, set(query.connection or ()))
    audit.record("export", "ok", sandbox=sandbox, detail=f"{connections} connections, {dataflows} dataflows")
    answer = Response(text, mimetype="application/yaml")
    answer.headers["Content-Disposition"] = f'attachment; filename="{sandbox}.yaml"'
    return answer
