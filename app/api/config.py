"""Config as code through the API: a sandbox's connections and dataflows exported as the configuration file
(app/config_file), for `aep-source-wizard export` and anyone with a token who may view the sandbox."""

from __future__ import annotations

import logging

from flask import Response

from .. import services
from ..adobe import AdobeError
from ..config_file import export
from ..config_file.model import SECRET_NAME_RE
from ..web import audit
from ..web import dataflow_actions as actions
from ..web import dataflow_mapping as mapping
from ..web.connections import offered_sources
from ..web.loaders import sandbox_of, source_of
from . import schemas
from .spec import operation

log = logging.getLogger(__name__)

# The most connections an export reads (40 pages of Flow Service's listing): a bound, whatever a sandbox holds.
MOST_PAGES = 40


def _connections(sandbox: str) -> list[dict]:
    """Every connection of the sources the portal offers in the sandbox, newest first."""
    spec_ids = [spec_id for spec_id, _title in offered_sources()]
    items, token, pages = [], None, 0
    while pages < MOST_PAGES:
        page, token = services.connections().list_connections(sandbox, spec_ids, limit=100, continuation=token)
        items += page
        pages += 1
        if not token:
            break
    return items


def _fields(connection: dict, source) -> tuple[dict, set]:
    """The source's form fields for a connection, from its auth params (and which are secret), as rotating it prefills
    them. Flow Service gives secrets back masked, a connection string whole: such a connection is written with its
    string as one reference (and the form's method that takes a pasted string)."""
    auth = connection.get("auth") or {}
    params = dict(auth.get("params") or {})
    method = source.form_class.method_for_spec.get(auth.get("specName"))
    if "connectionString" in params and "connectionString" in source.form_class.spec_of_method:
        method = "connectionString"
    fields = {**({"method": method} if method else {}), **params}
    secret = {name for name in fields if name in source.secret_params or SECRET_NAME_RE.search(name)}
    return fields, secret


def _dataflows(sandbox: str, connection: dict, left_out: list[str]) -> list[dict]:
    """The dataflows read from a connection, as the file has them; those it cannot describe named in `left_out`."""
    found = services.dataflows().dependents(sandbox, connection["id"])
    tables = {s.get("id"): (s.get("params") or {}).get("tableName") for s in found.source_connections}
    entries = []
    for flow in found.flows:
        name = flow.get("name") or flow.get("id")
        if not actions.acts_on(flow, sandbox):
            left_out.append(f"dataflow {name}: not one the portal writes (another source, or a destination)")
            continue
        target = services.dataflows().target_connection(sandbox, (flow.get("targetConnectionIds") or [""])[0])
        dataset = services.catalog().dataset(sandbox, (target.get("params") or {}).get("dataSetId") or "")
        schema_id = (dataset.get("schemaRef") or {}).get("id") or ""
        schema = services.schema_registry().schema(sandbox, schema_id) if schema_id else None
        shown = mapping.read(flow, sandbox)
        if not shown.editable or shown.current is None or shown.current.data is None:
            left_out.append(f"dataflow {name}: {shown.problem or 'its mapping cannot be written in this file'}")
            continue
        columns = [c["name"] for c in shown.current.draft.plan["columns"]]
        entry = {
            "name": name,
            "connection": connection.get("name"),
            "table": tables.get((flow.get("sourceConnectionIds") or [""])[0]),
            "dataset": dataset.get("name") or dataset.get("id"),
            **({"schema": schema.title} if schema else {}),
            "mapping": export.mapping_entry(shown.current.data, columns),
            "schedule": export.schedule_entry(flow),
            "state": flow.get("state") if flow.get("state") in ("enabled", "disabled") else "enabled",
        }
        entries.append(entry)
    return entries


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
    for connection in _connections(sandbox):
        if wanted and connection.get("name") not in wanted:
            continue
        spec_id = (connection.get("connectionSpec") or {}).get("id", "")
        auth = connection.get("auth") or {}
        source = source_of(spec_id, auth.get("specName"))
        if source is None:
            continue
        fields, secret = _fields(connection, source)
        key = source.key if source.key != "spec" else source.connection_spec_id
        several = source.key == "spec" and len((services.spec_catalog().spec(spec_id) or {}).get("authSpec") or []) > 1
        connections.append(
            export.connection_entry(
                connection.get("name") or connection["id"],
                key,
                auth.get("specName") if several else None,
                connection.get("description") or "",
                fields,
                secret,
            )
        )
        try:
            dataflows += _dataflows(sandbox, connection, left_out)
        except AdobeError as error:
            left_out.append(f"the dataflows of {connection.get('name')}: Adobe could not list them ({error.message})")
    missing = sorted(wanted - {c["name"] for c in connections})
    left_out += [f"connection {name}: none of that name in {sandbox}" for name in missing]
    audit.record("export", "ok", sandbox=sandbox, detail=f"{len(connections)} connections, {len(dataflows)} dataflows")
    text = export.dump(sandbox, connections, dataflows, left_out)
    answer = Response(text, mimetype="application/yaml")
    answer.headers["Content-Disposition"] = f'attachment; filename="{sandbox}.yaml"'
    return answer
