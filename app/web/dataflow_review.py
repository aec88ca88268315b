"""A new dataflow's last step: the review of every request about to be sent (as curl), the chain that creates them
once however often it is sent, and the removal of what a stopped chain made.

Why it waits on Adobe as it does: the review reads the flow spec (kept for an hour by app/adobe/dataflows.py), and
the chain's calls depend on each other, one after another.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from .. import services
from ..adobe import AdobeError
from ..dataflows.chain import LEASE_SECONDS, Chain, Stopped, steps
from ..dataflows.draft import STEPS, Draft
from ..dataflows.forms import ChainForm
from . import audit
from .loaders import load_draft

bp = Blueprint("dataflow_review", __name__)
log = logging.getLogger(__name__)


def step_page(template: str, draft: Draft, step: str, status: int = 200, **context):
    return render_template(template, draft=draft, plan=draft.plan, step=step, steps=STEPS, **context), status


def reread(key: str) -> Draft:
    """The draft as the store has it now (it was read once already: only an operator's hand could have removed it)."""
    draft = Draft.of(services.store().drafts.draft(key))
    if draft is None:
        abort(404)
    return draft


# Step 4: review, then the chain.


@bp.get("/dataflows/new/<key>/review")
def review(key):
    """Every request about to be sent, as curl; create. After a stop: what exists, continue or remove it.

    Its floor is no wait on Adobe: the bodies are built from the draft and the flow spec, kept for an hour."""
    draft = load_draft(key)
    if draft.created:
        return redirect(url_for("dataflows.show", flow_id=draft.flow_id, sandbox=draft.sandbox))
    # Only a draft still open sends the person to a step (the steps send anything else here: never a loop).
    if draft.open and draft.missing:
        return redirect(url_for(f"new_dataflow.{draft.missing}", key=key))
    return review_page(draft)


def review_page(draft: Draft, status: int = 200, adobe_error=None, stop: Stopped | None = None):
    flow_spec, problem = None, None
    try:
        flow_spec = services.dataflows().flow_spec(draft.sandbox)
    except AdobeError as error:
        problem = error.message
    if flow_spec and draft.plan["spec_id"] not in (flow_spec.get("sourceConnectionSpecIds") or []):
        problem = (
            f"Flow Service's {flow_spec.get('name')} flow spec does not take this connection's source "
            f"({draft.plan['spec_id']}), so the portal cannot make a dataflow from it."
        )
        flow_spec = None
    complete = draft.missing is None
    client, ids = services.gateway(), draft.made
    curls = (
        [(s, client.curl(s.method, s.path, draft.sandbox, s.body, s.service)) for s in steps(draft, flow_spec, ids)]
        if flow_spec and complete
        else []
    )
    form = ChainForm()
    form.revision.data = draft.revision
    lease_over = draft.state == "creating" and (draft.lease_until or 0) < time.time()
    return step_page(
        "dataflow_review.html",
        draft,
        "review",
        status,
        form=form,
        curls=curls,
        ids=ids,
        problem=problem,
        adobe_error=adobe_error,
        stop=stop,
        made=any(ids.values()),
        complete=complete,
        lease_over=lease_over,
    )


@bp.post("/dataflows/new/<key>/create")
def create(key):
    """Make the chain: once, however often this is sent; after a stop, go on with the same objects."""
    draft = load_draft(key)
    form = ChainForm()
    if not form.validate():
        return review_page(draft, 400, stop=Stopped("The form expired: press the button again."))
    if draft.created:
        return redirect(url_for("dataflows.show", flow_id=draft.flow_id, sandbox=draft.sandbox))
    if draft.state == "removed" or draft.missing:
        return redirect(url_for(".review", key=key))
    made = make(draft, form.revision.data)
    if made.kind == "created":
        flash("Dataflow created. Its first run starts when it falls due; its runs show below as they come.")
        return redirect(url_for("dataflows.show", flow_id=made.draft.flow_id, sandbox=made.draft.sandbox))
    if made.kind == "refused" and made.error:
        return review_page(made.draft, made.error.status, adobe_error=made.error)
    if made.kind == "unfit":
        return review_page(made.draft, 409)
    if made.kind == "changed":
        return review_page(made.draft, 409, stop=CHANGED)
    if made.kind == "stopped":
        return review_page(made.draft, 502, stop=made.stop)
    return _after_other(made.draft)


CHANGED = Stopped(
    "This draft changed since that page was shown (in another tab or window?), so nothing was sent. Review it again "
    "below, then create."
)


@dataclasses.dataclass
class Made:
    """How making a draft's chain went: `kind` is created, stopped (with `stop`), busy (another request is making
    it), changed (its plan is not the one reviewed), unfit (the flow spec takes no such source) or refused (Adobe
    could not give the flow spec: `error`). `draft` is as the store has it after."""

    kind: str
    draft: Draft
    stop: Stopped | None = None
    error: AdobeError | None = None


def make(draft: Draft, revision: str | None = None) -> Made:
    """Make the draft's chain once (the command the review page and the API share). With `revision`, only while the
    plan is still the one of that revision (the one the person reviewed). After a stop, or a request that died
    holding the chain, what may have been made is looked for before anything is sent again."""
    key = draft.key
    try:
        flow_spec = services.dataflows().flow_spec(draft.sandbox)
    except AdobeError as error:
        return Made("refused", draft, error=error)
    if draft.plan["spec_id"] not in (flow_spec.get("sourceConnectionSpecIds") or []):
        return Made("unfit", draft)
    if draft.open and revision is not None and revision != draft.revision:
        return Made("changed", draft)
    store = services.store()
    resumed = not draft.open
    if not store.drafts.start_chain(key, LEASE_SECONDS, revision=draft.revision if not resumed else None):
        current = reread(key)
        # A step was saved between the read above and the taking; or another request holds the chain.
        return Made("changed" if current.open else "busy", current)
    draft = reread(key)
    try:
        flow_id = Chain(services.dataflows(), services.data_prep(), store).create(draft, flow_spec, resumed)
    except Stopped as stop:
        log.warning("dataflow chain of draft %s stopped", key[:8])
        _ended(draft, "stopped", "create-dataflow", stop)
        return Made("stopped", reread(key), stop=stop)
    draft = reread(key)
    _ended(
        draft,
        "done",
        "create-dataflow",
        detail=(
            f"dataflow {flow_id} reading {draft.plan['table']} into dataset {draft.plan['dataset']['id']}: "
            f"source connection {draft.source_id}, target connection {draft.target_id}, "
            f"mapping set {draft.mapping_id}"
        ),
    )
    log.info("dataflow %s created from draft %s", flow_id, key[:8])
    return Made("created", reread(key))


def _ended(draft: Draft, state: str, action: str, stop: Stopped | None = None, detail: str | None = None) -> None:
    """End the chain's turn in `state`, with its audit entry in the same transaction."""
    store, name = services.store(), (draft.plan.get("schedule") or {}).get("name")
    store.drafts.end_chain(
        draft.key,
        state,
        stop.message if stop else None,
        entry=audit.entry(
            action,
            "failed" if stop else "ok",
            sandbox=draft.sandbox,
            connection_name=name,
            connection_id=draft.connection_id,
            detail=(stop.message if stop else detail or "")[:1000],
            adobe_request_id=stop.request_id if stop else None,
        ),
    )


def after_other(key: str, wait: float = 30.0, poll: float = 0.1) -> Draft:
    """The draft once the request that holds its chain (a double click, another tab) is done with it, or as it is
    after `wait` seconds."""
    deadline = time.monotonic() + wait
    draft = reread(key)
    while draft.state == "creating" and time.monotonic() < deadline:
        time.sleep(poll)
        draft = reread(key)
    return draft


def _after_other(draft: Draft):
    """Another request holds the chain: wait for it, then show how it ended."""
    draft = after_other(draft.key)
    if draft.created:
        return redirect(url_for("dataflows.show", flow_id=draft.flow_id, sandbox=draft.sandbox))
    if draft.state == "creating":
        return review_page(
            draft,
            409,
            stop=Stopped(
                "Another request is still creating this dataflow. Reload this page in a moment to see how it ended."
            ),
        )
    return review_page(
        draft, 502 if draft.state == "stopped" else 200, stop=Stopped(draft.problem) if draft.problem else None
    )


@bp.post("/dataflows/new/<key>/remove")
def remove(key):
    """Delete what a stopped chain made, the dataflow first, so that nothing is left half-made."""
    draft = load_draft(key)
    form = ChainForm()
    if not form.validate():
        return review_page(draft, 400, stop=Stopped("The form expired: press the button again."))
    if draft.state != "stopped":
        return redirect(url_for(".review", key=key))
    store = services.store()
    if not store.drafts.start_chain(key, LEASE_SECONDS):
        return _after_other(draft)
    draft = reread(key)
    try:
        removed = Chain(services.dataflows(), services.data_prep(), store).remove(draft)
    except Stopped as stop:
        stopped = Stopped(f"Removing stopped: {stop.message}", stop.request_id)
        _ended(draft, "stopped", "remove-dataflow", stopped)
        return review_page(reread(key), 502, stop=stopped)
    _ended(
        draft,
        "removed",
        "remove-dataflow",
        detail="removed "
        + (", ".join(removed) or "nothing")
        + (f"; mapping set {draft.mapping_id} kept" if draft.mapping_id else ""),
    )
    return review_page(reread(key))
