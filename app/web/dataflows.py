"""A dataflow's page: its state, schedule and recent runs; enable or disable it, retry a failed run, run it now."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..adobe import AdobeError
from . import audit
from .connections import CONNECTION_ID, sandbox_of
from .together import side_by_side

bp = Blueprint("dataflows", __name__)
log = logging.getLogger(__name__)


class ActionForm(FlaskForm):
    """A button that changes a dataflow: only its CSRF token is sent."""


def _dataflows():
    return current_app.extensions["dataflows"]


def _flow_or_page(flow_id: str, sandbox: str):
    """(the dataflow, None), or (None, the error page to answer with)."""
    if not CONNECTION_ID.match(flow_id):
        abort(404)
    try:
        return _dataflows().flow(sandbox, flow_id), None
    except AdobeError as error:
        if error.status == 404 or (error.code or "").endswith("1101-404"):
            abort(404)
        return None, (render_template("error.html", title="Could not read the dataflow", message=error.message,
                                      adobe_request_id=error.request_id), error.status)


@bp.get("/dataflows/<flow_id>")
def show(flow_id):
    """The dataflow as Flow Service has it, what it reads and writes, and its latest runs."""
    sandbox = sandbox_of("view")
    flow, page = _flow_or_page(flow_id, sandbox)
    return page or _page(flow, sandbox)


def _page(flow: dict, sandbox: str, status: int = 200, adobe_error: AdobeError | None = None):
    """The dataflow's page: what it reads and writes, its runs, and what went wrong just now (if anything)."""
    dataflows, problems = _dataflows(), []
    reads = [(dataflows.source_connection, (flow.get("sourceConnectionIds") or [None])[0]),
             (dataflows.target_connection, (flow.get("targetConnectionIds") or [None])[0]),
             (dataflows.recent_runs, flow.get("id"))]
    found = []
    # The three reads depend only on the flow: sent side by side. A read that fails leaves its part out and
    # says why among `problems`: the page shows what it can.
    for outcome in side_by_side(lambda m=method, i=item_id: m(sandbox, i) if i else None for method, item_id in reads):
        if isinstance(outcome, AdobeError):
            problems.append(outcome.message)
            outcome = None
        elif isinstance(outcome, Exception):
            raise outcome
        found.append(outcome)
    source, target, runs = found[0], found[1], found[2] or []
    return render_template("dataflow.html", flow=flow, sandbox=sandbox, source=source, target=target, runs=runs,
                           problems=problems, adobe_error=adobe_error), status


@bp.post("/dataflows/<flow_id>/state")
def set_state(flow_id):
    """Enable or disable the dataflow (`enabled=1` or `enabled=0`)."""
    wanted = request.form.get("enabled")
    sandbox, flow, page = _acting_on(flow_id, "enable", wanted in ("0", "1"))
    if page:
        return page
    action = "enable" if wanted == "1" else "disable"
    return _carry_out(action, sandbox, flow, lambda: _dataflows().set_enabled(sandbox, flow["id"], wanted == "1"),
                      lambda _changed: (None, f"{action.capitalize()}d: {flow.get('name')}."))


@bp.post("/dataflows/<flow_id>/runs/<run_id>/retry")
def retry(flow_id, run_id):
    """Retry one failed run of the dataflow ("Retry failed dataflow runs")."""
    sandbox, flow, page = _acting_on(flow_id, "retry", bool(CONNECTION_ID.match(run_id)))
    if page:
        return page
    return _carry_out("retry", sandbox, flow, lambda: _dataflows().retry_run(sandbox, run_id),
                      lambda retried: (f"run {run_id} retried as {retried.run_id}",
                                       f"Retried: the new run is {retried.run_id}."))


@bp.post("/dataflows/<flow_id>/run")
def run_now(flow_id):
    """Run a dataflow scheduled once, now: the rows from its start time until now ("Create an ad hoc flow run")."""
    sandbox, flow, page = _acting_on(flow_id, "run")
    if page:
        return page
    schedule = flow.get("scheduleParams") or {}
    if schedule.get("frequency") != "once":
        return _page(flow, sandbox, 409, AdobeError(
            "This dataflow runs on its schedule. Flow Service starts a run on request only for a dataflow scheduled "
            "once.", status=409))
    now = int(time.time())
    try:
        start = int(schedule.get("startTime"))
    except (TypeError, ValueError):
        start = now - 86400
    return _carry_out("run", sandbox, flow,
                      lambda: _dataflows().run_now(sandbox, flow, min(start, now - 1), now, now),
                      lambda started: (f"run {started.run_id}", f"Started a run: {started.run_id}."))


def _acting_on(flow_id: str, action: str, valid: bool = True):
    """(sandbox, the dataflow, None) for a POST the person may send, or (…, None, the error page); 400 when the form
    is not one the page sends (no CSRF token, or `valid` false)."""
    sandbox = sandbox_of(action)
    if not ActionForm().validate() or not valid:
        abort(400)
    flow, page = _flow_or_page(flow_id, sandbox)
    return sandbox, flow, page


def _carry_out(action: str, sandbox: str, flow: dict, send, said):
    """Send the action to Adobe and audit how it went. Refused: the page with Adobe's words. Done: back to the page,
    with the message and audit detail `said(outcome)` gives."""
    try:
        outcome = send()
    except AdobeError as error:
        _audit(action, "failed", sandbox, flow, detail=error.code or error.message[:200],
               adobe_request_id=error.request_id)
        return _page(flow, sandbox, error.status, error)
    detail, message = said(outcome)
    _audit(action, "ok", sandbox, flow, detail=detail, adobe_request_id=outcome.request_id)
    log.info("%s on dataflow %s in sandbox %s: done", action, flow["id"], sandbox)
    flash(message)
    return redirect(url_for("dataflows.show", flow_id=flow["id"], sandbox=sandbox), code=303)


def _audit(action: str, outcome: str, sandbox: str, flow: dict, **details) -> None:
    audit.record(action, outcome, sandbox=sandbox, connection_name=flow.get("name"), connection_id=flow.get("id"),
                 source="dataflow", **details)
