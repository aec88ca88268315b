"""A sandbox's connections and dataflows, as Flow Service has them, written as the file (`model`): the source's fields
with every secret a reference to an environment variable named after the connection and the field, and each dataflow
with its connection, dataset and schema by name. Only what this file can describe is written; what it cannot (a
mapping of expressions, say) is named in the file's opening comments instead, never dropped silently."""

from __future__ import annotations

import datetime
import re

import yaml

from .model import API_VERSION


def env_name(connection: str, field: str) -> str:
    """The environment variable a secret is read from: ORDERS_DATABASE_PASSWORD for Orders database's password."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", f"{connection}_{re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', field)}")
    name = words.strip("_").upper() or "SECRET"
    return (name if name[0].isalpha() else f"S_{name}")[:128]


def connection_entry(name: str, key: str, auth: str | None, description: str, fields: dict, secret: set) -> dict:
    """A connection as the file has it: `fields` the source's form's, each of the `secret` ones a reference."""
    entry: dict = {"name": name, "source": key}
    if auth:
        entry["auth"] = auth
    if description:
        entry["description"] = description
    entry["fields"] = {
        field: "${" + env_name(name, field) + "}" if field in secret else value
        for field, value in fields.items()
        if field in secret or value not in (None, "")
    }
    return entry


def schedule_entry(flow: dict) -> dict:
    """A dataflow's schedule: its first run in UTC (the zone it is sent in), how often, its delta column."""
    params: dict = flow["scheduleParams"] if isinstance(flow.get("scheduleParams"), dict) else {}
    start = datetime.datetime.fromtimestamp(int(params.get("startTime") or 0), datetime.UTC)
    schedule: dict = {"frequency": params.get("frequency") or "once", "start": start.strftime("%Y-%m-%dT%H:%M")}
    if schedule["frequency"] != "once":
        schedule["interval"] = int(str(params.get("interval") or 1))
        schedule["backfill"] = bool(params.get("backfill", True))
    schedule["timezone"] = "UTC"
    for transformation in flow.get("transformations") or []:
        if isinstance(transformation, dict) and transformation.get("name") == "Copy":
            delta = (transformation.get("params") or {}).get("deltaColumn") or {}
            if isinstance(delta.get("name"), str):
                schedule["delta_column"] = delta["name"]
    options: dict = flow["options"] if isinstance(flow.get("options"), dict) else {}
    if options.get("errorDiagnosticsEnabled"):
        schedule["error_diagnostics"] = True
    if isinstance(options.get("partialIngestionPercent"), (int, float)):
        schedule["partial_percent"] = options["partialIngestionPercent"]
    return schedule


def mapping_entry(data: dict, columns: list[str]) -> dict:
    """The mapping form's data (app/dataflows/remap.py's `Current.data`) as the file has it."""
    mapped = {name: data.get(f"column_{i}") for i, name in enumerate(columns) if data.get(f"column_{i}")}
    constants = [
        {"path": data[f"constant_path_{j}"], "value": data.get(f"constant_value_{j}", "")}
        for j in range(3)
        if data.get(f"constant_path_{j}")
    ]
    return {"columns": mapped, **({"constants": constants} if constants else {})}


def dump(sandbox: str, connections: list[dict], dataflows: list[dict], left_out: list[str]) -> str:
    """The file's text: a comment saying where it came from and what was left out, then the document."""
    header = [f"# Exported from sandbox {sandbox} by aep-source-wizard. Secrets are references: set each ${{…}}."]
    # Names in a comment come from Adobe or the caller: nothing in them may end the comment or pass as YAML.
    header += ["# Left out: " + "".join(c if c.isprintable() else "?" for c in line) for line in left_out]
    document = {"apiVersion": API_VERSION, "connections": connections, "dataflows": dataflows}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    return "\n".join(header) + "\n" + body
