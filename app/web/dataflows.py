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
from ..together import side_by_side
from ..watch import chart, health
from . import dataflow_actions as actions
from .dataflow_actions import READ_ONLY, writable
from .loaders import OBJECT_ID, load_flow, sandbox_of

bp = Blueprint("dataflows", __name__)
log = logging.getLogger(__name__)

# The runs a dataflow's page draws and lists, newest first.
CHART_RUNS = 30


class ActionForm(FlaskForm):
    """A button that changes a dataflow: only its CSRF token is sent."""


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
        credentials_suspect=health.credentials_suspect([r for r in (health.run_row(x, sandbox) for x in runs) if r]),
    ), status


@bp.post("/dataflows/<flow_id>/state")
def set_state(flow_id):
    """Enable or disable the dataflow (`enabled=1` or `enabled=0`)."""
    wanted = request.form.get("enabled")
    sandbox, flow, page = acting_on(flow_id, "enable", wanted in ("0", "1"))
    return page or _done(sandbox, flow, lambda: actions.set_enabled(sandbox, flow, wanted == "1"))


@bp.post("/dataflows/<flow_id>/runs/<run_id>/retry")
def retry(flow_id, run_id):
    """Retry one failed run of the dataflow ("Retry failed dataflow runs"), once, however often this is sent."""
    sandbox, flow, page = acting_on(flow_id, "retry", bool(OBJECT_ID.match(run_id)))
    return page or _done(sandbox, flow, lambda: actions.retry(sandbox, flow, run_id))


@bp.post("/dataflows/<flow_id>/run")
def run_now(flow_id):
    """Run a dataflow scheduled once, now: the rows from its start time until now ("Create an ad hoc flow run")."""
    sandbox, flow, page = acting_on(flow_id, "run")
    return page or _done(sandbox, flow, lambda: actions.run_now(sandbox, flow))


def _done(sandbox: str, flow: dict, command):
    """Carry out `command`: back to the page with its message, or the page with Adobe's words (or the portal's 409)."""
    try:
        _outcome, message = command()
    except AdobeError as error:
        return _page(flow, sandbox, error.status, error)
    flash(message)
    return redirect(url_for("dataflows.show", flow_id=flow["id"], sandbox=sandbox), code=303)


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
    try:
        return actions.to_act_on(flow_id, sandbox, action), None
    except AdobeError as error:
        return None, _page(load_flow(flow_id, sandbox), sandbox, error.status, error)
