"""Flow Service's flow runs: made as flows fall due in emulator time, ad hoc (`POST /runs`) and again after a failure
(`op=re-trigger`), each ending as `state.run_outcomes` queues ("success" otherwise).

Runs are made before any answer about flows or runs (`fall_due`), and when `POST /_emulator/clock` moves emulator
time on (served here), so a client that moves the clock on then reads a flow's runs sees them, as it would once that
time had passed at Adobe. Each run made is announced to the webhooks registered with I/O Events (`events.notify_run`).
The shapes and codes are those of the monitoring tutorial; each behaviour is a row of docs/emulator.md.
"""

from __future__ import annotations

import uuid

import jsonschema
from flask import Blueprint, request

from .errors import flow_error, json_response
from .events import notify_run
from .flow_objects import add_readable, stored
from .flow_specs import FLOW_SPECS
from .gateway import body_or_refusal, gateway, new_etag, not_found, refused
from .outcomes import OUTCOMES
from .state import FLOW

SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
# The most runs one flow is given at once (our choice: a flow started long ago does not make thousands).
MOST_RUNS = 20


def runs_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_runs", __name__, url_prefix=FLOW)
    bp.before_request(gateway(state, sandbox_optional=True))
    bp.before_request(fall_due(state))

    @bp.post("/runs")
    def create_run():
        """An ad hoc run of a flow scheduled once ("Create an ad hoc flow run"): params per the flow spec's runSpec,
        whole numbers accepted as digits too (the tutorial sends them quoted); startTime may be left out, as the
        tutorial does. 201 {id, etag}, as the spec's CreateFlowRunResponse says; the on-demand ingestion tutorial
        prints {"items": [{id, etag}]} instead, and the portal reads both."""
        body, refusal = body_or_refusal()
        if refusal:
            return refusal
        flow = stored(state, state.flows, body.get("flowId")) if isinstance(body.get("flowId"), str) else None
        if flow is None:
            return flow_error("1100-400", "The request could not be processed: flowId is not a flow in this sandbox.")
        if (flow.get("scheduleParams") or {}).get("frequency") != "once":
            return flow_error(
                "1100-400",
                "The request could not be processed: an ad hoc run needs a flow scheduled for a one-time ingestion.",
            )
        problems = _run_params_problems(state, flow, body)
        if problems:
            return refused(problems)
        run = new_run(state, flow, state.now())
        return json_response(
            {"id": run["id"], "etag": run["etag"]}, 201, headers={"Location": f"{FLOW}/runs/{run['id']}"}
        )

    @bp.post("/runs/<run_id>/action")
    def run_action(run_id):
        """Retry a failed run: `op=re-trigger` makes a new run of the same flow ("Retry failed dataflow runs")."""
        run = stored(state, state.runs, run_id)
        if run is None:
            return not_found()
        if request.args.get("op") != "re-trigger":
            return flow_error(
                "1100-400", f"The request could not be processed: op {request.args.get('op')!r} is not re-trigger."
            )
        records = run["metrics"]["recordSummary"]
        if run["metrics"]["statusSummary"]["status"] != "failed" and records["outputRecordCount"] != 0:
            # The tutorial: only failed runs, or successful ones that ingested nothing, can be retried.
            return flow_error("1100-400", f"The request could not be processed: run {run_id} did not fail.")
        flow = state.flows.get(run["flowId"])
        if flow is None:
            return not_found()
        again = new_run(state, flow, state.now())
        return json_response({"id": again["id"], "etag": again["etag"]})

    add_readable(bp, state, "/runs", state.runs, None)
    return bp


def clock_blueprint(state) -> Blueprint:
    """`POST /_emulator/clock {"advance": seconds}`: move emulator time on; the flows due by then make their runs at
    once (and so send their notifications), not only at the next question about flows or runs."""
    bp = Blueprint("emulator_clock", __name__, url_prefix="/_emulator")

    @bp.post("/clock")
    def advance_clock():
        spec = request.get_json(silent=True)
        seconds = spec.get("advance") if isinstance(spec, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 10 * 365 * 86400:
            return json_response({"error": 'send {"advance": seconds}, from 0 to ten years'}, 400)
        with state._lock:
            state.clock_offset += seconds
        tick(state)
        return json_response({"now": state.now()})

    return bp


def _run_params_problems(state, flow: dict, body: dict) -> list[str]:
    """An ad hoc run's params against the flow spec's runSpec, digits read as whole numbers, startTime now unless
    given."""
    params = dict(body.get("params") or {}) if isinstance(body.get("params"), dict) else {}
    for key in ("startTime", "windowStartTime", "windowEndTime"):
        if isinstance(params.get(key), str) and params[key].isdigit():
            params[key] = int(params[key])
    params.setdefault("startTime", int(state.now()))
    spec = FLOW_SPECS[flow["flowSpec"]["id"]]["runSpec"]["spec"]
    problems = [
        f"params{'.' + '.'.join(map(str, e.path)) if e.path else ''}: {e.message}"
        for e in jsonschema.Draft7Validator(spec).iter_errors(params)
    ]
    if not problems and params["windowStartTime"] >= params["windowEndTime"]:
        problems.append("params.windowStartTime must come before windowEndTime")
    return problems


def fall_due(state):
    """A before-request hook for Flow Service's flows and runs: make the runs of every flow that has fallen due by
    emulator time, before any answer about flows."""

    def make_due_runs():
        if request.path.startswith((f"{FLOW}/flows", f"{FLOW}/runs")):
            tick(state)

    return make_due_runs


def _due_times(flow: dict, now: float) -> list[float]:
    """The times, in seconds, at which an enabled flow's schedule has made it due, oldest first."""
    schedule = flow.get("scheduleParams") or {}
    try:
        start = float(schedule["startTime"])
    except (KeyError, TypeError, ValueError):
        return []
    start = max(start, flow["createdAt"] / 1000)  # our choice: nothing is due before the flow existed
    if schedule.get("frequency") == "once":
        return [start] if start <= now else []
    step = SECONDS.get(str(schedule.get("frequency")), 0) * int(schedule.get("interval") or 0)
    if step <= 0 or start > now:
        return []
    count = int((now - start) // step) + 1
    first = max(0, count - MOST_RUNS)
    return [start + k * step for k in range(first, count)]


def tick(state) -> None:
    """Give each enabled flow the runs it is due, once each, and keep its lastRunDetails."""
    with state.tick_lock:  # a second tick (the clock, a list) waits until the runs this one makes exist
        now = state.now()
        with state._lock:
            flows = [f for f in state.flows.values() if f["state"] == "enabled"]
        for flow in flows:
            for due in _due_times(flow, now):
                with state._lock:
                    if (flow["id"], due) in state.runs_made:
                        continue
                    state.runs_made.add((flow["id"], due))
                    if flow["id"] in state.stalled:
                        continue  # the time passes with no run: the flow is late
                new_run(state, flow, due)


def new_run(state, flow: dict, due: float) -> dict:
    """A run of `flow` begun at `due`, ending as the flow's next queued outcome says; kept, and shown as the flow's
    lastRunDetails."""
    with state._lock:
        queued = state.run_outcomes.get(flow["id"]) or []
        outcome = queued.pop(0) if queued else "success"
    status, read, written, errors = OUTCOMES[outcome]
    threshold = (flow.get("options") or {}).get("partialIngestionPercent")
    if outcome == "partial" and isinstance(threshold, (int, float)) and (read - written) * 100 > threshold * read:
        # The notifications guide: a run with failed records is a success "only if the number of errors is below the
        # error threshold percentage set during the flow creation process".
        status = "failed"
    started = int(due * 1000)
    etag = new_etag()
    run = {
        "id": str(uuid.uuid4()),
        "createdAt": started,
        "updatedAt": started + 55000,
        "createdBy": flow["createdBy"],
        "updatedBy": flow["createdBy"],
        "createdClient": flow["createdClient"],
        "updatedClient": flow["createdClient"],
        "sandboxId": flow["sandboxId"],
        "sandboxName": flow["sandboxName"],
        "imsOrgId": flow["imsOrgId"],
        "flowId": flow["id"],
        "flowSpec": flow["flowSpec"],
        "etag": etag,
        "metrics": {
            "durationSummary": {"startedAtUTC": started, "completedAtUTC": started + 55000},
            "sizeSummary": {"inputBytes": read * 240, "outputBytes": written * 171},
            "recordSummary": {
                "inputRecordCount": read,
                "outputRecordCount": written,
                "failedRecordCount": read - written,
            },
            "statusSummary": {"status": status, "errors": errors},
        },
    }
    with state._lock:
        state.runs[run["id"]] = run
        flow["lastRunDetails"] = {
            "id": run["id"],
            "state": status,
            "startedAtUTC": started,
            "completedAtUTC": started + 55000,
        }
    notify_run(state, run, flow)
    return run
