"""What can be done to a dataflow the portal acts on, as commands the dataflow's page and the API share: enable or
disable it, retry a failed run (once), run one scheduled once now, and delete it with its source and target
connections. Each is sent once and put on record; a refusal raises AdobeError (Adobe's, or the portal's own 409)."""

from __future__ import annotations

import logging
import time

from flask import abort

from .. import services
from ..adobe import AdobeError
from ..adobe.bodies import DATA_LAKE_SPEC_ID
from ..adobe.dataflows import Dependents, RunUnconfirmed
from ..dataflows.deletion import DeleteMadeFrom
from ..together import side_by_side
from ..watch import health
from . import audit
from .loaders import OBJECT_ID, ReadOnlyHere, load_flow

log = logging.getLogger(__name__)

READ_ONLY = (
    "This portal acts only on dataflows from the sources it offers into a dataset. This one reads another "
    "kind of source or writes to a destination, so it can be looked at here but not changed; use Experience "
    "Platform for that."
)


def spec_ids(flow: dict, source: dict | None = None, target: dict | None = None) -> tuple[str | None, str | None]:
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
    source_spec, target_spec = spec_ids(flow, source, target)
    return target_spec == DATA_LAKE_SPEC_ID and services.spec_catalog().offers(source_spec)


def to_act_on(flow_id: str, sandbox: str, action: str) -> dict:
    """The dataflow, once it is one the portal acts on (404 when there is none; ReadOnlyHere for another kind;
    AdobeError when what it is made of could not be read)."""
    flow = load_flow(flow_id, sandbox)
    if not acts_on(flow, sandbox):
        log.warning("refused %s on dataflow %s, which the portal does not act on", action, flow_id)
        raise ReadOnlyHere("This dataflow is read-only here", READ_ONLY)
    return flow


def acts_on(flow: dict, sandbox: str) -> bool:
    """Whether the portal acts on this dataflow (AdobeError when what it is made of could not be read)."""
    source = target = None
    ids = [(flow.get(key) or [None])[0] for key in ("sourceConnectionIds", "targetConnectionIds")]
    if None in spec_ids(flow) and all(isinstance(i, str) and OBJECT_ID.match(i) for i in ids):
        # Without inheritedAttributes the specs come from the connections themselves, read side by side.
        dataflows = services.dataflows()
        reads = side_by_side(
            [lambda: dataflows.source_connection(sandbox, ids[0]), lambda: dataflows.target_connection(sandbox, ids[1])]
        )
        failed = next((read for read in reads if isinstance(read, Exception)), None)
        if failed:
            raise failed
        source, target = reads
    return writable(flow, source, target)


def carry_out(action: str, sandbox: str, flow: dict, send, said) -> tuple[object, str]:
    """Send the action to Adobe and put how it went on record: (Adobe's answer, what to tell the person), the
    audit's detail and the message from `said(answer)`; AdobeError, on record, when Adobe refused."""
    try:
        outcome = send()
    except AdobeError as error:
        record(
            action, "failed", sandbox, flow, detail=error.code or error.message[:200], adobe_request_id=error.request_id
        )
        raise
    detail, message = said(outcome)
    record(action, "ok", sandbox, flow, detail=detail, adobe_request_id=getattr(outcome, "request_id", None))
    log.info("%s on dataflow %s in sandbox %s: done", action, flow["id"], sandbox)
    return outcome, message


def record(action: str, outcome: str, sandbox: str, flow: dict, **details) -> None:
    audit.record(
        action,
        outcome,
        sandbox=sandbox,
        connection_name=flow.get("name"),
        connection_id=flow.get("id"),
        source="dataflow",
        **details,
    )


def set_enabled(sandbox: str, flow: dict, enabled: bool):
    action = "enable" if enabled else "disable"
    return carry_out(
        action,
        sandbox,
        flow,
        lambda: services.dataflows().set_enabled(sandbox, flow["id"], enabled),
        lambda _changed: (None, f"{action.capitalize()}d: {flow.get('name')}."),
    )


def retry(sandbox: str, flow: dict, run_id: str):
    """Retry one failed run of the dataflow ("Retry failed dataflow runs"), once, however often this is sent."""
    try:
        run = services.dataflows().run(sandbox, run_id)
    except AdobeError as error:
        if error.not_found:
            abort(404)
        raise
    if run.get("flowId") != flow["id"]:
        # Another dataflow's run: nothing is sent, and nothing is put on record as this dataflow's.
        abort(404)
    if health.run_status(run) != "failed":
        raise AdobeError("Only a failed run can be retried, and this one did not fail.", status=409)
    store = services.store()
    if not store.drafts.take_retry(run_id, flow["id"]):
        raise AdobeError(
            "This run was retried already (or is being retried right now); its retry is among the runs below.",
            status=409,
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

    return carry_out(
        "retry",
        sandbox,
        flow,
        send,
        lambda retried: (f"run {run_id} retried as {retried.run_id}", f"Retried: the new run is {retried.run_id}."),
    )


def run_now(sandbox: str, flow: dict):
    """Run a dataflow scheduled once, now: the rows from its start time until now ("Create an ad hoc flow run")."""
    schedule = flow.get("scheduleParams") or {}
    if schedule.get("frequency") != "once":
        raise AdobeError(
            "This dataflow runs on its schedule. Flow Service starts a run on request only for a dataflow "
            "scheduled once.",
            status=409,
        )
    now = int(time.time())
    try:
        start = int(schedule["startTime"])
    except (KeyError, TypeError, ValueError):
        start = now - 86400
    return carry_out(
        "run",
        sandbox,
        flow,
        lambda: services.dataflows().run_now(sandbox, flow, min(start, now - 1), now, now),
        lambda started: (f"run {started.run_id}", f"Started a run: {started.run_id}."),
    )


def delete(sandbox: str, flow: dict) -> AdobeError | None:
    """Delete the dataflow, then its source and target connections (the target kept in the store first, so that
    deleting its base connection later finds it); None when all went, else the first refusal."""
    base_id = (
        ((flow.get("inheritedAttributes") or {}).get("sourceConnections") or [{}])[0].get("baseConnection") or {}
    ).get("id")
    sources = [{"id": i} for i in flow.get("sourceConnectionIds") or [] if isinstance(i, str)]
    owner = {"id": base_id if isinstance(base_id, str) else flow["id"], "name": flow.get("name")}
    return DeleteMadeFrom(services.dataflows(), services.store(), audit.record).run(
        owner, Dependents(source_connections=sources, flows=[flow]), sandbox
    )
