"""Making a dataflow through the API: one document names the connection, table, dataset, mapping and schedule; it is
checked by the step pages' own forms and rules (and Data Prep), kept as a draft of its person, and made by the same
chain, exactly once per Idempotency-Key. A chain that stopped goes on from where it stopped when the call is sent
again with the same key."""

from __future__ import annotations

import secrets

from flask import abort, g
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from .. import services
from ..adobe import AdobeError
from ..dataflows import mapping as rules
from ..dataflows.draft import Draft
from ..dataflows.forms import ScheduleForm, mapping_form_class, timezones
from ..sources.fields import choices
from ..store import MOST_OPEN_DRAFTS
from ..web import audit, permissions
from ..web import dataflow_making as making
from ..web.dataflow_review import after_other, make
from ..web.loaders import ReadOnlyHere, load_connection
from . import forms, once, schemas
from .dataflows import as_json
from .problems import Problem, field_errors
from .spec import operation


def _unfit(field: str, message: str) -> Problem:
    return Problem(422, "Check the fields", "Nothing was made.", errors=[{"field": field, "message": message}])


def checked(body: schemas.NewDataflow) -> dict:
    """The draft's plan, each part checked as its step page checks it; a 422 naming the fields at fault. Config as
    code checks a dataflow it replaces here before deleting the old one."""
    sandbox = body.sandbox
    connection, source = load_connection(body.connection_id, sandbox)
    if source is None:
        raise ReadOnlyHere("This connection is read-only here", "A dataflow is made only from a source it offers.")
    try:
        columns = making.table_columns(sandbox, connection["id"], body.table)
    except making.Unfit as unfit:
        raise _unfit("table", str(unfit)) from None
    try:
        plan = making.with_dataset(making.first_plan(connection, body.table, columns), sandbox, body.dataset_id)
    except making.Unfit as unfit:
        raise _unfit("dataset_id", str(unfit)) from None
    draft = Draft("", g.get("user"), sandbox, connection["id"], plan, "draft")
    plan["mapping"] = _mapping(body, draft)
    plan["schedule"] = _schedule(body, draft)
    return plan


def _mapping(body: schemas.NewDataflow, draft: Draft) -> dict:
    columns = [c["name"] for c in draft.plan["columns"]]
    if body.mapping is None:
        data = rules.defaults(draft)
    else:
        unknown = [name for name in body.mapping.columns if name not in columns]
        if unknown:
            raise _unfit(f"mapping.columns.{unknown[0]}", f"The table {draft.plan['table']} has no such column.")
        data = {f"column_{i}": body.mapping.columns.get(name, "") for i, name in enumerate(columns)}
        for j, constant in enumerate(body.mapping.constants):
            data[f"constant_path_{j}"], data[f"constant_value_{j}"] = constant.path, constant.value
    form = mapping_form_class(draft)(formdata=MultiDict(data), meta={"csrf": False})
    chosen, _verdicts, error = making.checked_mapping(form, draft) if form.validate() else (None, {}, None)
    if error is not None:
        raise Problem(
            error.status, "Data Prep could not check the mapping", error.message, adobe_request_id=error.request_id
        )
    if chosen is None:
        raise forms.mapping_refused(form, columns, "Check the mapping", "Nothing was made.")
    return chosen


def _schedule(body: schemas.NewDataflow, draft: Draft) -> dict:
    asked = body.schedule
    timestamps = draft.timestamps
    if not timestamps:
        raise _unfit("table", "The table has no timestamp or date column, so a dataflow cannot read what changed.")
    values = {
        "name": asked.name,
        "frequency": asked.frequency,
        "interval": "" if asked.interval is None else str(asked.interval),
        "start": asked.start,
        "timezone": asked.timezone,
        "delta_column": asked.delta_column or timestamps[0],
        "partial_percent": "" if asked.partial_percent is None else str(asked.partial_percent),
        **({"backfill": "y"} if asked.backfill else {}),
        **({"error_diagnostics": "y"} if asked.error_diagnostics else {}),
    }
    form = ScheduleForm(formdata=MultiDict(values), meta={"csrf": False})
    form.timezone.choices = timezones()
    form.delta_column.choices = choices((name, name) for name in timestamps)
    if not form.validate():
        errors = [{**e, "field": f"schedule.{e['field']}"} for e in field_errors(form.errors)]
        raise Problem(422, "Check the schedule", "Nothing was made.", errors=errors)
    return making.schedule_of(form)


@operation(
    "POST",
    "/dataflows",
    summary="Make a dataflow from a connection's table",
    tag="Dataflows",
    body=schemas.NewDataflow,
    headers=(once.HEADER,),
    answers={
        201: ("Made (or, for a repeated Idempotency-Key, made by the first call).", schemas.CreatedDataflow),
        409: (
            "Too many dataflows being made by this person, or another call is still making this one.",
            schemas.ProblemDetails,
        ),
        502: ("The chain stopped: send the same call (same key) to go on from there.", schemas.ProblemDetails),
    },
)
def create_dataflow(body: schemas.NewDataflow):
    """The connection's table into a dataset: the source connection, target connection, mapping set and dataflow,
    made once in Flow Service's order, as the review page makes them."""
    if body.sandbox not in services.settings().sandboxes:
        abort(404)
    permissions.require("dataflow", body.sandbox)
    sent_key = once.key("dataflow")
    again = (
        "Send the same call again with the same Idempotency-Key to go on from there."
        if sent_key
        else "It was sent without an Idempotency-Key, so it cannot be resumed from here: finish or remove it on the "
        "portal's drafts page."
    )
    draft, repeated = made(body, sent_key or secrets.token_urlsafe(24), again)
    try:
        flow = services.dataflows().flow(draft.sandbox, draft.flow_id or "")
        shown = as_json(flow, draft.sandbox, read_only=False)
    except AdobeError:
        shown = None
    answer = schemas.CreatedDataflow.model_validate(
        {"id": draft.flow_id or "", "dataflow": shown, "repeated": repeated, "made": draft.made}
    )
    location = f"/api/v1/dataflows/{draft.flow_id}?sandbox={draft.sandbox}"
    return answer.model_dump(mode="json"), 201, {"Location": location}


def made(body: schemas.NewDataflow, key: str, again: str, fingerprint: str | None = None) -> tuple[Draft, bool]:
    """The dataflow `body` describes, made once for `key` (a stopped chain goes on from where it stopped): its draft,
    and whether an earlier call had made it. A Problem says what stopped it (`again`: how to go on from there); config
    as code applies through here too, with its own `fingerprint` of what it asks (a first run it moved is no other
    request)."""
    store, fingerprint = services.store(), fingerprint or once.fingerprint(body)
    draft = Draft.of(store.drafts.draft(key))
    opened_here = False
    if draft is None:
        plan = {**checked(body), "request": fingerprint}
        try:
            opened = opened_here = store.drafts.new_draft(key, g.get("user"), body.sandbox, body.connection_id, plan)
        except IntegrityError:
            opened = True  # the same key, sent twice at once: the other call opened it (its body is checked below)
        if not opened:
            raise Problem(
                409,
                "Too many dataflows being made",
                f"You have {MOST_OPEN_DRAFTS} dataflows being made; finish or discard one on the drafts page first.",
            )
        draft = Draft.of(store.drafts.draft(key))
        assert draft is not None
    if draft.plan.get("request") != fingerprint or draft.owner != g.get("user"):
        raise once.reused()
    if opened_here:
        audit.record(
            "start-dataflow",
            "ok",
            sandbox=body.sandbox,
            connection_name=plan["connection_name"],
            connection_id=body.connection_id,
            source="dataflow draft",
            detail=f"draft {key[:8]} of table {body.table}",
        )
    repeated = draft.created
    if not draft.created and draft.state != "removed":
        outcome = make(draft)
        draft = after_other(key) if outcome.kind == "busy" else outcome.draft
        if outcome.kind == "refused" and outcome.error:
            raise Problem(
                outcome.error.status,
                "Adobe could not give the flow spec",
                outcome.error.message,
                adobe_request_id=outcome.error.request_id,
            )
        if outcome.kind == "unfit":
            raise _unfit("connection_id", "Flow Service's flow spec does not take this connection's source.")
    if draft.state == "removed":
        raise Problem(
            409,
            "Removed",
            "What this call's dataflow made was removed after it stopped. Send it with a new Idempotency-Key to make "
            "the dataflow afresh.",
        )
    if draft.state == "creating":
        raise Problem(409, "Still being made", "Another call is still making this dataflow; send this one again soon.")
    if not draft.created:
        raise Problem(
            502,
            "The dataflow was not made",
            f"{draft.problem or 'The chain stopped.'} {again}",
            extra={"made": draft.made},
        )
    return draft, repeated
