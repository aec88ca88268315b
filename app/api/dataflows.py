"""Dataflows through the API: list with their health, read, their runs, enable, disable, run now, retry a failed run,
and delete, by the same commands, roles and audit trail as the dataflows' pages (app/web)."""

from __future__ import annotations

import json

from flask import abort

from .. import services
from ..adobe import AdobeError
from ..watch import board, health
from ..web import dataflow_actions as actions
from ..web import permissions
from ..web.dataflow_list import read_board
from ..web.loaders import OBJECT_ID, load_flow, sandbox_of
from . import schemas
from .problems import Problem
from .spec import operation

TAG = "Dataflows"


@operation(
    "GET",
    "/dataflows",
    summary="List dataflows with their health",
    tag=TAG,
    query=schemas.DataflowsQuery,
    answers={
        200: ("Every dataflow of the sandboxes the token may view, filtered, a page at a time.", schemas.DataflowPage)
    },
)
def list_dataflows(query: schemas.DataflowsQuery):
    """The dataflows page's list: each dataflow's health, last run and records of the last day, with its filters."""
    permissions.require("view")
    sandboxes = permissions.sandboxes_for("view")
    if query.sandbox and query.sandbox not in services.settings().sandboxes:
        abort(404)
    if query.sandbox:
        permissions.require("view", query.sandbox)
    read_from = [query.sandbox] if query.sandbox else list(sandboxes)
    found = read_board(read_from)
    filters = board.Filters.of(query.model_dump(exclude_none=True), sandboxes, found.names)
    shown = board.keep(found.rows, filters)
    page, following = board.page_of(shown, query.cursor)
    items = [
        {
            "id": row.id,
            "name": row.name,
            "sandbox": row.sandbox,
            "state": row.state,
            "source": row.source,
            "table": row.table,
            "dataset": row.dataset,
            "dataset_id": row.dataset_id,
            "health": row.health.word,
            "last_status": row.last_status,
            "last_run_ms": row.health.last_run_ms,
            "records_24h": row.records_24h,
            "failures_in_row": row.failures_in_row,
            "read_only": not row.writable,
        }
        for row in page
    ]
    answer = {"items": items, "next_cursor": following, "count": len(shown), "problems": found.problems}
    return schemas.DataflowPage.model_validate(answer).model_dump(mode="json")


def as_json(flow: dict, sandbox: str, read_only: bool) -> dict:
    inherited = flow["inheritedAttributes"] if isinstance(flow.get("inheritedAttributes"), dict) else {}
    base = ((inherited.get("sourceConnections") or [{}])[0].get("baseConnection") or {}).get("id")
    return schemas.Dataflow.model_validate(
        {
            "id": flow["id"],
            "name": flow.get("name"),
            "description": flow.get("description"),
            "sandbox": sandbox,
            "state": flow.get("state"),
            "etag": flow.get("etag"),
            "created_at": flow.get("createdAt") if isinstance(flow.get("createdAt"), int) else None,
            "flow_spec_id": (flow.get("flowSpec") or {}).get("id"),
            "source_connection_ids": [i for i in flow.get("sourceConnectionIds") or [] if isinstance(i, str)],
            "target_connection_ids": [i for i in flow.get("targetConnectionIds") or [] if isinstance(i, str)],
            "base_connection_id": base if isinstance(base, str) else None,
            "schedule": flow.get("scheduleParams") if isinstance(flow.get("scheduleParams"), dict) else {},
            "read_only": read_only,
        }
    ).model_dump(mode="json")


@operation(
    "GET",
    "/dataflows/<flow_id>",
    summary="Read a dataflow",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={200: ("The dataflow as Flow Service has it.", schemas.Dataflow)},
)
def get_dataflow(flow_id: str, query: schemas.SandboxQuery):
    """One dataflow: what it reads and writes, its schedule, and whether the portal acts on it."""
    sandbox = sandbox_of("view")
    flow = load_flow(flow_id, sandbox)
    try:
        read_only = not actions.acts_on(flow, sandbox)
    except AdobeError:
        read_only = True  # what it is made of could not be read: nothing is offered that would change it
    return as_json(flow, sandbox, read_only), 200, ({"ETag": flow["etag"]} if flow.get("etag") else {})


@operation(
    "GET",
    "/dataflows/<flow_id>/runs",
    summary="A dataflow's latest runs",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={200: ("The latest runs, newest first.", schemas.RunList)},
)
def list_runs(flow_id: str, query: schemas.SandboxQuery):
    """The dataflow's latest runs: status, records read, written and failed, and Adobe's errors."""
    sandbox = sandbox_of("view")
    flow = load_flow(flow_id, sandbox)
    runs = services.dataflows().recent_runs(sandbox, flow["id"])
    items = []
    for run in runs:
        row = health.run_row(run, sandbox)
        if row:
            items.append(
                {
                    "id": row["run_id"],
                    "status": row["status"],
                    "created_ms": row["created_ms"],
                    "completed_ms": row["completed_ms"],
                    "records_read": row["records_read"],
                    "records_written": row["records_written"],
                    "records_failed": row["records_failed"],
                    "errors": json.loads(row["errors"]),
                }
            )
    return schemas.RunList.model_validate({"items": items}).model_dump(mode="json")


def _acted(flow_id: str, action: str, command):
    """The dataflow acted on by `command(sandbox, flow)`: Adobe's refusal (or the portal's 409) as a problem."""
    sandbox = sandbox_of(action)
    flow = actions.to_act_on(flow_id, sandbox, action)
    try:
        outcome, message = command(sandbox, flow)
    except AdobeError as error:
        raise Problem(error.status, "Not done", error.message, adobe_request_id=error.request_id) from None
    run_id = getattr(outcome, "run_id", None)
    return schemas.Done(id=flow["id"], message=message, run_id=run_id).model_dump(mode="json")


ACTION_ANSWERS: dict = {
    200: ("Done.", schemas.Done),
    409: ("Not possible for this dataflow or run just now; nothing was sent.", schemas.ProblemDetails),
}


@operation(
    "POST",
    "/dataflows/<flow_id>/enable",
    summary="Enable a dataflow",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers=ACTION_ANSWERS,
)
def enable_dataflow(flow_id: str, query: schemas.SandboxQuery):
    """Enable the dataflow: its schedule runs again."""
    return _acted(flow_id, "enable", lambda sandbox, flow: actions.set_enabled(sandbox, flow, True))


@operation(
    "POST",
    "/dataflows/<flow_id>/disable",
    summary="Disable a dataflow",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers=ACTION_ANSWERS,
)
def disable_dataflow(flow_id: str, query: schemas.SandboxQuery):
    """Disable the dataflow: no run starts until it is enabled."""
    return _acted(flow_id, "enable", lambda sandbox, flow: actions.set_enabled(sandbox, flow, False))


@operation(
    "POST",
    "/dataflows/<flow_id>/run",
    summary="Run a dataflow scheduled once, now",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers=ACTION_ANSWERS,
)
def run_dataflow(flow_id: str, query: schemas.SandboxQuery):
    """Start a run of a dataflow scheduled once: the rows from its start time until now."""
    return _acted(flow_id, "run", actions.run_now)


@operation(
    "POST",
    "/dataflows/<flow_id>/runs/<run_id>/retry",
    summary="Retry a failed run",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers=ACTION_ANSWERS,
)
def retry_run(flow_id: str, run_id: str, query: schemas.SandboxQuery):
    """Retry one failed run, once however often this is sent."""
    if not OBJECT_ID.match(run_id):
        abort(404)
    return _acted(flow_id, "retry", lambda sandbox, flow: actions.retry(sandbox, flow, run_id))


@operation(
    "DELETE",
    "/dataflows/<flow_id>",
    summary="Delete a dataflow",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={
        200: ("Deleted, with its source and target connections.", schemas.Deleted),
        502: ("Adobe refused a step: what is left stays; sending again goes on from there.", schemas.ProblemDetails),
    },
)
def delete_dataflow(flow_id: str, query: schemas.SandboxQuery):
    """Delete the dataflow, then its source and target connections; its base connection stays."""
    sandbox = sandbox_of("delete")
    flow = actions.to_act_on(flow_id, sandbox, "delete")
    failed = actions.delete(sandbox, flow)
    if failed:
        raise Problem(failed.status, "Adobe did not delete it all", failed.message, adobe_request_id=failed.request_id)
    return schemas.Deleted(id=flow["id"]).model_dump()
