"""Changing a dataflow through the API: its name, description, schedule and mapping, as the change page does (Adobe's
"Update dataflows" tutorial), with the same form, mapping rules, Data Prep verdict and command, guarded by If-Match."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ..dataflows import mapping as rules
from ..web import dataflow_actions as actions
from ..web import dataflow_edit as edit
from ..web import dataflow_mapping as mapping
from ..web.loaders import load_flow, sandbox_of
from . import forms, once, schemas
from .dataflows import as_json
from .problems import Problem
from .spec import operation

STALE = (
    "Someone changed this dataflow after you read it, so your change was not sent. Read it again, then send your "
    "change with the new ETag."
)


@operation(
    "PATCH",
    "/dataflows/<flow_id>",
    summary="Change a dataflow",
    tag="Dataflows",
    query=schemas.SandboxQuery,
    body=schemas.DataflowChange,
    headers=(("If-Match", "The dataflow's ETag as last read: a change made meanwhile is not overwritten.", True),),
    answers={
        200: ("Changed (or nothing differed, and nothing was sent).", schemas.ChangedDataflow),
        409: (
            "The mapping cannot be changed here (the page says why), or it was changed meanwhile.",
            schemas.ProblemDetails,
        ),
        412: ("Changed meanwhile: nothing was sent.", schemas.ProblemDetails),
        428: ("No If-Match was sent.", schemas.ProblemDetails),
    },
)
def change_dataflow(flow_id: str, query: schemas.SandboxQuery, body: schemas.DataflowChange):
    """Only what differs is sent: a mapping changed becomes the mapping set's next version first, then one PATCH of
    the dataflow names it."""
    sandbox = sandbox_of("edit")
    flow = actions.to_act_on(flow_id, sandbox, "edit")
    return change(flow, sandbox, body, once.if_match("dataflow"))


def change(flow: dict, sandbox: str, body: schemas.DataflowChange, etag: str):
    """Send what `body` changes of `flow` (read with `etag`): the API's answer, or a Problem saying what stopped it.
    Config as code applies a dataflow's change through here too."""
    shown = mapping.read(flow, sandbox)
    if body.mapping is not None and not shown.editable:
        raise Problem(502 if shown.failed else 409, "The mapping cannot be changed here", shown.problem)
    schedule = flow.get("scheduleParams") or {}
    scheduled = schedule.get("frequency") != "once"
    if not scheduled and (body.frequency or body.interval is not None):
        raise Problem(409, "Scheduled once", "A dataflow made to run once keeps that: its schedule cannot change.")
    columns = [c["name"] for c in shown.current.draft.plan["columns"]] if shown.editable and shown.current else []
    data = {
        "name": flow.get("name") or "",
        "description": flow.get("description") or "",
        **({"frequency": schedule.get("frequency"), "interval": schedule.get("interval")} if scheduled else {}),
        **((shown.current.data or {}) if shown.editable and shown.current else {}),
    }
    data |= {
        k: v
        for k, v in body.model_dump(include={"name", "description", "frequency", "interval"}).items()
        if v is not None
    }
    if body.mapping is not None:
        unknown = [name for name in body.mapping.columns if name not in columns]
        if unknown:
            raise Problem(
                422,
                "Check the mapping",
                errors=[{"field": f"mapping.columns.{unknown[0]}", "message": "The table has no such column."}],
            )
        data |= {f"column_{i}": body.mapping.columns.get(name, "") for i, name in enumerate(columns)}
        data |= {f"constant_{p}_{j}": "" for j in range(3) for p in ("path", "value")}
        for j, constant in enumerate(body.mapping.constants):
            data[f"constant_path_{j}"], data[f"constant_value_{j}"] = constant.path, constant.value
    form = shown.form_class()(
        formdata=MultiDict({k: str(v) for k, v in data.items() if v is not None}),
        meta={"csrf": False},
        scheduled=scheduled,
    )
    if not form.validate():
        raise forms.mapping_refused(form, columns, "Check the fields", "Nothing was sent.")
    asked = shown.asked(form)
    changed = shown.changed(asked)
    if changed and (shown.current is None or not rules.checks(form, shown.current.draft) or asked is None):
        raise forms.mapping_refused(form, columns, "Check the mapping", "Nothing was sent.")
    rows = asked if changed else None
    ops = edit.operations(flow, form)
    if not ops and rows is None:
        return schemas.ChangedDataflow.model_validate(
            {"id": flow["id"], "changed": False, "dataflow": as_json(flow, sandbox, False)}
        ).model_dump(mode="json")
    if rows is not None:
        mapping.data_prep_verdicts(form, shown, rows, sandbox)
        if any(f.errors for f in form):
            raise forms.mapping_refused(form, columns, "Data Prep refused the mapping", "Nothing was sent.")
    sent = edit.send(flow, sandbox, shown, ops, rows, etag)
    if sent.kind == "stale":
        raise Problem(
            412,
            "Changed meanwhile",
            STALE,
            extra={"note": sent.note} if sent.note else None,
        )
    if sent.error is not None:
        raise Problem(
            sent.error.status,
            "Adobe did not change the dataflow",
            " ".join(filter(None, [sent.error.message, sent.note])),
            adobe_request_id=sent.error.request_id,
        )
    fresh = load_flow(flow["id"], sandbox)
    answer = {
        "id": flow["id"],
        "changed": True,
        "mapping_version": sent.version,
        "dataflow": as_json(fresh, sandbox, False),
    }
    return (
        schemas.ChangedDataflow.model_validate(answer).model_dump(mode="json"),
        200,
        ({"ETag": fresh["etag"]} if fresh.get("etag") else {}),
    )
