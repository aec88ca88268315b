"""The request bodies of a dataflow's chain (a source connection, a target connection, the dataflow), as the dataflow
tutorial for database sources sends them. Pure functions: the calls are app/adobe/dataflows.py's."""

from __future__ import annotations

# The data lake's connection spec, which the target connection of every source dataflow uses (the dataflow tutorial).
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
FULL_SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"
# The delta column's date format by the column's type: a timestamp as the dataflow tutorial for database sources
# documents it ("The supported date format for deltaColumn is yyyy-MM-dd HH:mm:ss"), a date as the same tutorial's and
# "Update dataflows"' example writes one ("Datefield", "YYYY-MM-DD"). Sent in UTC, as both examples send it.
DELTA_FORMATS = {"date-time": "yyyy-MM-dd HH:mm:ss", "date": "YYYY-MM-DD"}
# What a source connection says of each column: the keys Adobe's examples show ("Explore a database", and the
# dataflow tutorial's source connection).
COLUMN_KEYS = ("name", "type", "xdm", "meta:xdmType")


def source_connection_body(
    name: str, description: str, base_connection_id: str, spec_id: str, table: str, columns: list[dict]
) -> dict:
    """`POST /sourceConnections`: a table of a base connection, its columns described by Adobe's keys only."""
    return {
        "name": name,
        "description": description,
        "baseConnectionId": base_connection_id,
        "data": {"format": "tabular"},
        "params": {
            "tableName": table,
            "columns": [{key: column[key] for key in COLUMN_KEYS if key in column} for column in columns],
        },
        "connectionSpec": {"id": spec_id, "version": "1.0"},
    }


def target_connection_body(name: str, description: str, schema_id: str, dataset_id: str) -> dict:
    """`POST /targetConnections`: a dataset in the data lake, with its XDM schema."""
    return {
        "name": name,
        "description": description,
        "data": {"schema": {"id": schema_id, "version": FULL_SCHEMA_VERSION}},
        "params": {"dataSetId": dataset_id},
        "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
    }


def flow_body(
    name: str,
    description: str,
    flow_spec: dict,
    source_id: str,
    target_id: str,
    mapping_id: str,
    *,
    start: int,
    frequency: str,
    interval: int | None,
    backfill: bool,
    delta_column: str,
    delta_kind: str,
    error_diagnostics: bool = False,
    partial_percent: float | int | None = None,
) -> dict:
    """`POST /flows`: the flow spec, one source and one target connection, the Copy (delta column) and Mapping
    transformations, the schedule and the flow spec's options that are on."""
    params: dict = {"startTime": start, "frequency": frequency}
    if frequency != "once":
        # As the dataflow tutorial sends them, and as the spec's ScheduleSpecDTO types interval: a string.
        params.update(interval=str(interval), backfill=bool(backfill))
    body = {
        "name": name,
        "description": description,
        "flowSpec": {"id": flow_spec["id"], "version": str(flow_spec.get("version") or "1.0")},
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
        "transformations": [
            {
                "name": "Copy",
                "params": {
                    "deltaColumn": {
                        "name": delta_column,
                        "dateFormat": DELTA_FORMATS.get(delta_kind, DELTA_FORMATS["date-time"]),
                        "timezone": "UTC",
                    }
                },
            },
            {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": "0"}},
        ],
        "scheduleParams": params,
    }
    options: dict = {}
    if error_diagnostics:
        options["errorDiagnosticsEnabled"] = True
    if partial_percent is not None:
        options["partialIngestionPercent"] = partial_percent
    if options:
        body["options"] = options
    return body
