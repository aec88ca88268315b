"""Config as code through the API: a sandbox's connections and dataflows exported as the configuration file
(app/config_file), for `aep-source-wizard export` and anyone with a token who may view the sandbox."""

from __future__ import annotations

import logging

from flask import Response

from .. import services
from ..config_file import export, observe
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
    wanted = set(query.connection or ())
    connections: list[dict] = []
    dataflows: list[dict] = []
    left_out: list[str] = []
    for seen in observe.sandbox(sandbox, wanted or None):
        source = seen.source
        key = source.key if source.key != "spec" else source.connection_spec_id
        several = (
            source.key == "spec" and len((services.spec_catalog().spec(seen.spec_id) or {}).get("authSpec") or []) > 1
        )
        connections.append(
            export.connection_entry(
                seen.name,
                key,
                seen.spec_name if several else None,
                seen.connection.get("description") or "",
                seen.fields,
                seen.secret,
            )
        )
        if seen.flows_unread:
            left_out.append(f"the dataflows of {seen.name}: {seen.flows_unread}")
        for flow in seen.flows:
            if flow.entry is None:
                left_out.append(f"dataflow {flow.name}: {flow.why}")
            else:
                dataflows.append(flow.entry)
    missing = sorted(wanted - {c["name"] for c in connections})
    left_out += [f"connection {name}: none of that name in {sandbox}" for name in missing]
    audit.record("export", "ok", sandbox=sandbox, detail=f"{len(connections)} connections, {len(dataflows)} dataflows")
    text = export.dump(sandbox, connections, dataflows, left_out)
    answer = Response(text, mimetype="application/yaml")
    answer.headers["Content-Disposition"] = f'attachment; filename="{sandbox}.yaml"'
    return answer
