"""A dataflow's page: its state, schedule and recent runs; enable or disable it, retry a failed run, run it now.

The portal acts only on the dataflows it could have made: a source connection of a source it offers, into the data
lake. Any other (a flow made elsewhere from another kind of source, a destination's flow) is shown read-only, and no
action on it is sent.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from .. import services
from ..adobe import AdobeError
from ..adobe.bodies import DATA_LAKE_SPEC_ID
from ..adobe.dataflows import RunUnconfirmed
from ..together import side_by_side
from ..watch import chart, health
from . import audit
from .loaders import OBJECT_ID, ReadOnlyHere, load_flow, sandbox_of

bp = Blueprint("dataflows", __name__)
log = logging.getLogger(__name__)

# The runs a dataflow's page draws and lists, newest first.
CHART_RUNS = 30
READ_ONLY = (
    "This portal acts only on dataflows from the sources it offers into a dataset. This one reads another "
    "kind of source or writes to a destination, so it can be looked at here but not changed; use Experience "
    "Platform for that."
)


class ActionForm(FlaskForm):
    """A button that changes a dataflow: only its CSRF token is sent."""


def _spec_ids(flow: dict, source: dict | None = None, target: dict | None = None) -> tuple[str | None, str | None]:
    """The connection specs a dataflow reads from and writes to: from its inheritedAttributes (as the "Update
    dataflows" tutorial shows them), else from its source and target connections when read."""
    inherited = flow["inheritedAttributes"] if isinstance(flow.get("inheritedAttributes"), dict) else {}

    def first_spec(items, read):
        item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else read or {}
        spec = item["connectionSpec"] if isinstance(item.get("connectionSpec"), dict) else {}
        return spec.get("id") if isinstance(spec.get("id"), str) else None

    return (
        first_spec(inherited.get("sourceConnections"), source),
        first_spec(inherited.get("targetConnections"), target),
    )


def writable(flow: dict, source: dict | None = None, target: dict | None = None) -> bool:
    """Whether the portal acts on this dataflow: one source connection of a source it offers, into the data lake."""
    if len(flow.get("sourceConnectionIds") or []) != 1 or len(flow.get("targetConnectionIds") or []) != 1:
        return False
    source_spec, target_spec = _spec_ids(flow, source, target)
    return target_spec == DATA_LAKE_SPEC_ID and services.spec_catalog().offers(source_spec)


@bp.get("/dataflows/<flow_id>")
def show(flow_id):
    """The dataflow as Flow Service has it, what it reads and writes, and its latest runs."""
    sandbox = sandbox_of("view")
    return _page(load_flow(flow_id, sandbox), sandbox)


def _page(flow: dict, sandbox: str, status: int = 200, adobe_error: AdobeError | None = None):
    """The dataflow's page: what it reads and writes (its connection and dataset by name), its last CHART_RUNS runs as
    a chart and a table, when the next run is due, and what went wrong just now (if anything).

    Its floor is two waits on Adobe: the flow, then its source and target connections, its runs and its base
    connection side by side. The dataset's name is what the portal recorded when it made the dataflow; for one made
    elsewhere it is read from Catalog after the target connection (in the same branch, so the others do not wait)."""
    dataflows, problems = services.dataflows(), []
    made = services.store().drafts.made_flows([sandbox]).get(flow["id"]) or {}
    base_id = (
        ((flow.get("inheritedAttributes") or {}).get("sourceConnections") or [{}])[0].get("baseConnection") or {}
    ).get("id")

    def target_and_dataset(target_id):
        target = dataflows.target_connection(sandbox, target_id)
        dataset_id = (target.get("params") or {}).get("dataSetId")
        if dataset_id and not (made.get("dataset") or {}).get("name"):
            try:
                dataset = services.catalog().dataset(sandbox, dataset_id)
                made["dataset"] = {"id": dataset_id, "name": dataset.get("name") or dataset_id}
            except AdobeError as error:
                problems.append(error.message)
        return target

    reads = [
        (dataflows.source_connection, (flow.get("sourceConnectionIds") or [None])[0]),
        (lambda _sandbox, i: target_and_dataset(i), (flow.get("targetConnectionIds") or [None])[0]),
        (lambda s, i: dataflows.recent_runs(s, i, CHART_RUNS), flow.get("id")),
        (services.connections().get_connection, base_id if isinstance(base_id, str) else None),
    ]
    found = []
    # The reads depend only on the flow: sent side by side. A read that fails leaves its part out and says why among
    # `problems`: the page shows what it can.
    for outcome in side_by_side(lambda m=method, i=item_id: m(sandbox, i) if i else None for method, item_id in reads):
        if isinstance(outcome, AdobeError):
            problems.append(outcome.message)
            outcome = None
        elif isinstance(outcome, Exception):
            raise outcome
        found.append(outcome)
    source, target, runs, base = found[0], found[1], found[2] or [], found[3]
    now = time.time()
    return render_template(
        "dataflow.html",
        flow=flow,
        sandbox=sandbox,
        source=source,
        target=target,
        runs=runs,
        base=base,
        dataset=made.get("dataset") or {},
        problems=problems,
        adobe_error=adobe_error,
        status_of=health.run_status,
        writable=writable(flow, source, target),
        read_only=READ_ONLY,
        retried=services.store().drafts.retries_of(flow["id"]),
        next_due=health.next_due(flow, now),
        chart=chart.bars(runs),
    ), status


@bp.post("/dataflows/<flow_id>/state")
def set_state(flow_id):
    """Enable or disable the dataflow (`enabled=1` or `enabled=0`)."""
    wanted = request.form.get("enabled")
    sandbox, flow, page = acting_on(flow_id, "enable", wanted in ("0", "1"))
    if page:
        return page
    action = "enable" if wanted == "1" else "disable"
    return _carry_out(
        action,
        sandbox,
        flow,
        lambda: services.dataflows().set_enabled(sandbox, flow["id"], wanted == "1"),
        lambda _changed: (None, f"{action.capitalize()}d: {flow.get('name')}."),
    )


@bp.post("/dataflows/<flow_id>/runs/<run_id>/retry")
def retry(flow_id, run_id):
    """Retry one failed run of the dataflow ("Retry failed dataflow runs"), once, however often this is sent."""
    sandbox, flow, page = acting_on(flow_id, "retry", bool(OBJECT_ID.match(run_id)))
    if page:
        return page
    try:
        run = services.dataflows().run(sandbox, run_id)
    except AdobeError as error:
        if error.not_found:
            abort(404)
        return _page(flow, sandbox, error.status, error)
    if run.get("flowId") != flow["id"]:
        # Another dataflow's run: nothing is sent, and nothing is put on record as this dataflow's.
        abort(404)
    if health.run_status(run) != "failed":
        return _page(
            flow, sandbox, 409, AdobeError("Only a failed run can be retried, and this one did not fail.", status=409)
        )
    store = services.store()
    if not store.drafts.take_retry(run_id, flow["id"]):
        return _page(
            flow,
            sandbox,
            409,
            AdobeError(
                "This run was retried already (or is being retried right now); its retry is among the runs below.",
                status=409,
            ),
        )

    def send():
        try:
            retried = services.dataflows().retry_run(sandbox, flow["id"], run_id)
        except RunUnconfirmed:
            raise  # it may have started: the run stays taken until the taking's lease runs out
        except AdobeError:
            store.drafts.retry_done(run_id, None)
            raise
        store.drafts.retry_done(run_id, retried.run_id)
        return retried

    return _carry_out(
        "retry",
        sandbox,
        flow,
        send,
        lambda retried: (f"run {run_id} retried as {retried.run_id}", f"Retried: the new run is {retried.run_id}."),
    )


@bp.post("/dataflows/<flow_id>/run")
def run_now(flow_id):
    """Run a dataflow scheduled once, now: the rows from its start time until now ("Create an ad hoc flow run")."""
    sandbox, flow, page = acting_on(flow_id, "run")
    if page:
        return page
    schedule = flow.get("scheduleParams") or {}
    if schedule.get("frequency") != "once":
        return _page(
            flow,
            sandbox,
            409,
            AdobeError(
                "This dataflow runs on its schedule. Flow Service starts a run on request only for a dataflow "
                "scheduled once.",
                status=409,
            ),
        )
    now = int(time.time())
    try:
        start = int(schedule["startTime"])
    except (KeyError, TypeError, ValueError):
        start = now - 86400
    return _carry_out(
        "run",
        sandbox,
        flow,
        lambda: services.dataflows().run_now(sandbox, flow, min(start, now - 1), now, now),
        lambda started: (f"run {started.run_id}", f"Started a run: {started.run_id}."),
    )


def acting_on(flow_id: str, action: str, valid: bool = True):
    """(sandbox, the dataflow, None) for a POST the person may send about a dataflow the portal acts on, or
    (…, None, the error page); 400 when the form is not one the page sends (no CSRF token, or `valid` false)."""
    sandbox = sandbox_of(action)
    if not ActionForm().validate() or not valid:
        abort(400)
    flow, page = acting_flow(flow_id, sandbox, action)
    return sandbox, flow, page


def acting_flow(flow_id: str, sandbox: str, action: str):
    """(the dataflow, None) when the portal acts on it, or (None, the error page) when reading what it is made of
    failed; ReadOnlyHere for a dataflow of another kind."""
    flow = load_flow(flow_id, sandbox)
    source = target = None
    ids = [(flow.get(key) or [None])[0] for key in ("sourceConnectionIds", "targetConnectionIds")]
    if None in _spec_ids(flow) and all(isinstance(i, str) and OBJECT_ID.match(i) for i in ids):
        # Without inheritedAttributes the specs come from the connections themselves, read side by side.
        dataflows = services.dataflows()
        reads = side_by_side(
            [lambda: dataflows.source_connection(sandbox, ids[0]), lambda: dataflows.target_connection(sandbox, ids[1])]
        )
        failed = next((read for read in reads if isinstance(read, Exception)), None)
        if isinstance(failed, AdobeError):
            return None, _page(flow, sandbox, failed.status, failed)
        if failed:
            raise failed
        source, target = reads
    if not writable(flow, source, target):
        log.warning("refused %s on dataflow %s, which the portal does not act on", action, flow_id)
        raise ReadOnlyHere("This dataflow is read-only here", READ_ONLY)
    return flow, None


def _carry_out(action: str, sandbox: str, flow: dict, send, said):
    """Send the action to Adobe and audit how it went. Refused: the page with Adobe's words. Done: back to the page,
    with the message and audit detail `said(outcome)` gives."""
    try:
        outcome = send()
    except AdobeError as error:
        _audit(
            action, "failed", sandbox, flow, detail=error.code or error.message[:200], adobe_request_id=error.request_id
        )
        return _page(flow, sandbox, error.status, error)
    detail, message = said(outcome)
    _audit(action, "ok", sandbox, flow, detail=detail, adobe_request_id=outcome.request_id)
    log.info("%s on dataflow %s in sandbox %s: done", action, flow["id"], sandbox)
    flash(message)
    return redirect(url_for("dataflows.show", flow_id=flow["id"], sandbox=sandbox), code=303)


def _audit(action: str, outcome: str, sandbox: str, flow: dict, **details) -> None:
    audit.record(
        action,
        outcome,
        sandbox=sandbox,
        connection_name=flow.get("name"),
        connection_id=flow.get("id"),
        source="dataflow",
        **details,
    )
