"""Flow Service's source and target connections: a base connection's table, and a dataset in the data lake, as strict
as Adobe's documents.

The shapes are those of Adobe's tutorial "Create a dataflow for database sources using the Flow Service API"
(Experience League, `sources/tutorials/api/collect/database-nosql`) and of the OpenAPI spec; each refusal is a row of
docs/emulator.md. Neither can be deleted while a flow uses it.
"""

from __future__ import annotations

from flask import Blueprint, g

from .flow_objects import add_readable, created, described, named, stored
from .gateway import body_or_refusal, gateway, refused
from .specs import DATA_LAKE_SPEC_ID
from .state import FLOW


def source_target_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_source_target", __name__, url_prefix=FLOW)
    bp.before_request(gateway(state, sandbox_optional=True))

    @bp.post("/sourceConnections")
    def create_source_connection():
        """A base connection's table, as the tutorial creates them."""
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = named(body)
        base = (
            stored(state, state.connections, body.get("baseConnectionId"))
            if isinstance(body.get("baseConnectionId"), str)
            else None
        )
        if base is None:
            problems.append("baseConnectionId must be the id of a base connection in this sandbox")
        spec_ref = body.get("connectionSpec")
        if not isinstance(spec_ref, dict) or not isinstance(spec_ref.get("id"), str):
            problems.append("connectionSpec.id is required")
        elif base is not None and spec_ref["id"] != base["connectionSpec"]["id"]:
            problems.append("connectionSpec.id must be the base connection's own spec")
        data = body.get("data")
        if not isinstance(data, dict) or data.get("format") != "tabular":
            problems.append('data.format must be "tabular" for a table-based source')
        params = body.get("params")
        if (
            not isinstance(params, dict)
            or not isinstance(params.get("tableName"), str)
            or not params["tableName"].strip()
        ):
            problems.append("params.tableName is required")
        elif "columns" in params and not _columns_ok(params["columns"]):
            problems.append("params.columns must be a list of {name, type}")
        if problems or base is None:
            return refused(problems)
        return created(
            state,
            state.source_connections,
            "/sourceConnections",
            {
                "name": body["name"],
                **described(body),
                "baseConnectionId": base["id"],
                "state": "enabled",
                "data": {"format": "tabular"},
                "params": params,
                "connectionSpec": {"id": base["connectionSpec"]["id"], "version": "1.0"},
            },
        )

    @bp.post("/targetConnections")
    def create_target_connection():
        """A dataset in the data lake. The spec's CreateTargetConnectionRequest requires `connectionSpec` and `data`
        only: the streaming tutorial makes a data lake target with `"data": {"format": "parquet_xdm"}` and no schema.
        The data lake's targetSpec requires `params.dataSetId`, which must be a dataset of this sandbox (the dataflow
        tutorial)."""
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        problems = named(body, name_required=False) + _target_problems(state, body)
        if problems:
            return refused(problems)
        return created(
            state,
            state.target_connections,
            "/targetConnections",
            {
                **({"name": body["name"]} if "name" in body else {}),
                **described(body),
                "state": "enabled",
                "data": body["data"],
                "params": {"dataSetId": body["params"]["dataSetId"]},
                "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": "1.0"},
            },
        )

    add_readable(bp, state, "/sourceConnections", state.source_connections, "sourceConnectionIds")
    add_readable(bp, state, "/targetConnections", state.target_connections, "targetConnectionIds")
    return bp


def _target_problems(state, body: dict) -> list[str]:
    """What a target connection's body gets wrong: the data lake's spec, `data` and its schema, the dataset."""
    problems = []
    spec_ref = body.get("connectionSpec")
    if not isinstance(spec_ref, dict) or spec_ref.get("id") != DATA_LAKE_SPEC_ID:
        problems.append(f"connectionSpec.id must be the data lake's, {DATA_LAKE_SPEC_ID}")
    data = body.get("data")
    schema = data.get("schema", {}) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        problems.append("data is required")
    elif not isinstance(data.get("format", ""), str):
        problems.append("data.format must be a string")
    if (
        isinstance(data, dict)
        and "schema" in data
        and (
            not isinstance(schema, dict)
            or not isinstance(schema.get("id"), str)
            or not isinstance(schema.get("version", ""), str)
        )
    ):
        problems.append("data.schema needs the target schema's id (and version, a string)")
    params = body.get("params")
    dataset = (
        state.datasets.get(params.get("dataSetId"))
        if isinstance(params, dict) and isinstance(params.get("dataSetId"), str)
        else None
    )
    # The tutorial: "You must provide a valid dataset ID when creating a target connection."
    if dataset is None or dataset["sandboxName"] != g.sandbox:
        problems.append("params.dataSetId must be the id of a dataset in this sandbox")
    return problems


def _columns_ok(columns) -> bool:
    return isinstance(columns, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("type"), str) for c in columns
    )
