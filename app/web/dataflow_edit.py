"""Changing a dataflow after it is made, as Adobe's "Update dataflows" tutorial does: its name and description, how
often it runs, and its mapping. Name, description and schedule are one `PATCH /flows/{id}` with `If-Match`. A mapping
changed (edited as a new dataflow's mapping step edits it, with the same rules) is first the mapping set's next version
(Data Prep's `PUT /mappingSets/{id}`), then the same PATCH replaces the Mapping transformation with one naming that
version (app/dataflows/remap.py; app/web/dataflow_mapping.py). Every request is shown as curl before it is sent;
nothing is sent when nothing differs. A colleague's change in between is shown beside the person's own, nothing is
sent, and saving over it is a choice of its own. When the PATCH fails after the version was made, the page says so,
and the next send points the dataflow at that version instead of making another. Editors only, and only on dataflows
the portal writes."""

from __future__ import annotations

import dataclasses
import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import services
from ..adobe import AdobeError
from ..dataflows import mapping as rules
from ..dataflows import remap
from ..dataflows.forms import ChangeForm
from . import audit
from . import dataflow_mapping as mapping
from .changing import ETAG, STALE_MESSAGE
from .dataflows import acting_flow, acting_on
from .loaders import load_flow, sandbox_of

bp = Blueprint("dataflow_edit", __name__)
log = logging.getLogger(__name__)

STALE = STALE_MESSAGE.replace("connection", "dataflow")


def operations(flow: dict, form: ChangeForm) -> list[dict]:
    """The JSON Patch the change is: only what differs, as the tutorial writes each (`replace` the name and schedule,
    which every dataflow has; `add` the description, which one made elsewhere may lack)."""
    ops = []
    if form.name.data.strip() != flow.get("name"):
        ops.append({"op": "replace", "path": "/name", "value": form.name.data.strip()})
    if (form.description.data or "").strip() != (flow.get("description") or ""):
        ops.append({"op": "add", "path": "/description", "value": (form.description.data or "").strip()})
    schedule = flow.get("scheduleParams") or {}
    if "frequency" in form:
        if form.frequency.data != schedule.get("frequency"):
            ops.append({"op": "replace", "path": "/scheduleParams/frequency", "value": form.frequency.data})
        if str(form.interval.data) != str(schedule.get("interval")):
            # A string, as the dataflow tutorial sends it and the spec's ScheduleSpecDTO types it.
            ops.append({"op": "replace", "path": "/scheduleParams/interval", "value": str(form.interval.data)})
    return ops


def _shown(flow: dict, shown: mapping.Shown) -> list[tuple[str, str]]:
    schedule = flow.get("scheduleParams") or {}
    rows = [
        ("Name", flow.get("name") or ""),
        ("Description", flow.get("description") or ""),
        ("How often", str(schedule.get("frequency") or "")),
        ("Every N", str(schedule.get("interval") or "")),
    ]
    if shown.current is not None:
        rows.append(("Mapping", remap.described(shown.current.rows)))
    return rows


def _yours(flow: dict, form: ChangeForm, asked: list | None) -> list[tuple[str, str]]:
    scheduled = "frequency" in form
    rows = [
        ("Name", form.name.data.strip()),
        ("Description", (form.description.data or "").strip()),
        (
            "How often",
            form.frequency.data if scheduled else str((flow.get("scheduleParams") or {}).get("frequency") or ""),
        ),
        ("Every N", str(form.interval.data) if scheduled else ""),
    ]
    if asked is not None:
        rows.append(("Mapping", remap.described(asked)))
    return rows


def _page(form, flow: dict, sandbox: str, shown: mapping.Shown, status: int = 200, **context):
    return render_template(
        "dataflow_edit.html", form=form, flow=flow, sandbox=sandbox, mapping=shown, constants=rules.CONSTANTS, **context
    ), status


@bp.route("/dataflows/<flow_id>/edit", methods=["GET", "POST"])
def edit(flow_id):
    """The change form; a first POST shows the requests as curl, the second (`send=1`) sends them."""
    if request.method == "GET":
        sandbox = sandbox_of("edit")
        flow, page = acting_flow(flow_id, sandbox, "edit")
        if page:
            return page
        shown = mapping.read(flow, sandbox)
        schedule = flow.get("scheduleParams") or {}
        data = {
            "name": flow.get("name"),
            "description": flow.get("description") or "",
            "frequency": schedule.get("frequency"),
            "interval": _whole(schedule.get("interval")),
            "etag": flow.get("etag"),
            **((shown.current.data or {}) if shown.editable and shown.current else {}),
        }
        form = shown.form_class()(data=data, scheduled=schedule.get("frequency") != "once")
        return _page(form, flow, sandbox, shown)
    sandbox, flow, page = acting_on(flow_id, "edit")
    if page:
        return page
    shown = mapping.read(flow, sandbox)
    form = shown.form_class()(scheduled=(flow.get("scheduleParams") or {}).get("frequency") != "once")
    if request.form.get("mapping_shown") == "1" and not shown.editable:
        # The person typed a mapping that cannot be compared now: nothing is sent rather than their mapping dropped.
        return _page(form, flow, sandbox, shown, 502 if shown.failed else 409, mapping_lost=True)
    if not form.validate():
        return _page(form, flow, sandbox, shown, 400)
    asked = shown.asked(form)
    changed = shown.changed(asked)
    # The mapping rules are those of a new dataflow's mapping step; a mapping left as it is is not checked again.
    if changed and (shown.current is None or not rules.checks(form, shown.current.draft) or asked is None):
        return _page(form, flow, sandbox, shown, 400)
    rows = asked if changed else None
    ops = operations(flow, form)
    etag = (request.form.get("seen_etag") if request.form.get("overwrite") == "1" else form.etag.data) or ""
    if not ops and rows is None:
        flash("Nothing changed, so nothing was sent.")
        return redirect(url_for("dataflows.show", flow_id=flow["id"], sandbox=sandbox), code=303)
    if request.form.get("send") != "1":
        return _review(form, flow, sandbox, shown, ops, rows, etag)
    return _send(flow, sandbox, form, shown, ops, rows, asked, etag)


def _whole(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _review(form, flow: dict, sandbox: str, shown: mapping.Shown, ops: list[dict], rows: list | None, etag: str):
    """The requests as curl, in the order they are sent; nothing is sent. A mapping changed is first given Data
    Prep's verdict, beside each field."""
    curls, reused, verdicts = [], None, {}
    carried: dict = {"seen_etag": request.form.get("seen_etag"), "overwrite": request.form.get("overwrite")}
    if rows is not None and shown.current is not None:
        try:
            verdicts = mapping.data_prep_verdicts(form, shown, rows, sandbox)
            if any(f.errors for f in form):
                return _page(form, flow, sandbox, shown, 400, verdicts=verdicts, **carried)
            reused = mapping.reusable(shown, rows, sandbox)
        except AdobeError as error:
            return _page(form, flow, sandbox, shown, error.status, adobe_error=error, **carried)
        if reused is None:
            curls.append(
                (
                    "curl-mapping",
                    "Data Prep makes the mapping set's next version",
                    mapping.put_curl(shown, rows, sandbox),
                )
            )
        ops = ops + [remap.operation(shown.current, remap.NEW_VERSION if reused is None else reused)]
    curls.append(
        (
            "curl",
            "Flow Service changes the dataflow",
            services.gateway().curl("PATCH", f"/flows/{flow['id']}", sandbox, ops, headers={"If-Match": etag}),
        )
    )
    return _page(form, flow, sandbox, shown, curls=curls, review=True, reused=reused, verdicts=verdicts, **carried)


@dataclasses.dataclass
class Sent:
    """How sending a change went: `kind` is changed, stale (a change was made meanwhile: nothing more sent),
    mapping_failed (Data Prep did not make the version: nothing more sent) or refused (Adobe refused the PATCH;
    `note` says what a version made for it leaves)."""

    kind: str
    version: int | None = None
    error: AdobeError | None = None
    note: str | None = None


def send(flow: dict, sandbox: str, shown: mapping.Shown, ops: list[dict], rows: list | None, etag: str) -> Sent:
    """The mapping set's version (found again, or made), then the PATCH with the etag the sender saw, each on record;
    the command the change page and the API share. No version is made for an etag known stale."""
    on_record = {
        "sandbox": sandbox,
        "connection_name": flow.get("name"),
        "connection_id": flow["id"],
        "source": "dataflow",
    }
    changes = [op["path"].rsplit("/", 1)[1] for op in ops]
    version = None
    if rows is not None and shown.current is not None:
        current = shown.current
        if etag != flow.get("etag"):
            # Flow Service would refuse the PATCH: no version is made for it.
            audit.record("change-dataflow", "failed", detail="stale", **on_record)
            return Sent("stale")
        try:
            version, made = mapping.version_for(shown, rows, sandbox)
        except AdobeError as error:
            audit.record(
                "change-dataflow",
                "failed",
                detail=f"mapping set {current.set_id}: {error.code or error.message[:160]}",
                adobe_request_id=error.request_id,
                **on_record,
            )
            return Sent("mapping_failed", error=error)
        ops = ops + [remap.operation(current, version)]
        changes.append(
            f"mapping (mapping set {current.set_id} version {current.version} to {version}, "
            f"{'made now' if made else 'made by an earlier send'})"
        )
    try:
        if not ETAG.match(etag):
            raise AdobeError(STALE_MESSAGE, status=409, code="stale")
        changed = services.dataflows().update_flow(sandbox, flow["id"], etag, ops)
    except AdobeError as error:
        note = mapping.not_pointed(shown, version) if version is not None else None
        audit.record(
            "change-dataflow",
            "failed",
            detail=(error.code or error.message[:160])
            + (f"; mapping set version {version} stays unused" if note else ""),
            adobe_request_id=error.request_id,
            **on_record,
        )
        if error.stale or error.code == "stale":
            return Sent("stale", version, error, note)
        log.warning("change of dataflow %s failed: %s", flow["id"], error.code)
        return Sent("refused", version, error, note)
    audit.record(
        "change-dataflow",
        "ok",
        detail="changed " + ", ".join(changes),
        adobe_request_id=changed.request_id,
        **on_record,
    )
    return Sent("changed", version)


def _send(
    flow: dict,
    sandbox: str,
    form,
    shown: mapping.Shown,
    ops: list[dict],
    rows: list | None,
    asked: list | None,
    etag: str,
):
    """Send the change; stale: the page shows theirs beside yours, and nothing more is sent."""
    sent = send(flow, sandbox, shown, ops, rows, etag)
    if sent.kind == "stale":
        if sent.error is None:
            return _stale(form, flow, sandbox, shown, asked)
        fresh = load_flow(flow["id"], sandbox)
        return _stale(form, fresh, sandbox, mapping.read(fresh, sandbox), asked, note=sent.note)
    if sent.kind == "mapping_failed" and sent.error:
        return _page(form, flow, sandbox, shown, sent.error.status, adobe_error=sent.error, mapping_failed=True)
    if sent.kind == "refused" and sent.error:
        return _page(form, flow, sandbox, shown, sent.error.status, adobe_error=sent.error, mapping_note=sent.note)
    flash(
        "Dataflow changed."
        if sent.version is None
        else f"Dataflow changed: it now uses version {sent.version} of its mapping set."
    )
    return redirect(url_for("dataflows.show", flow_id=flow["id"], sandbox=sandbox), code=303)


def _stale(form, fresh: dict, sandbox: str, shown: mapping.Shown, asked: list | None, note: str | None = None):
    """Theirs, as Flow Service has it now, beside the person's own, which was not sent (409)."""
    return _page(
        form,
        fresh,
        sandbox,
        shown,
        409,
        stale=STALE,
        seen_etag=fresh.get("etag"),
        theirs=_shown(fresh, shown),
        yours=_yours(fresh, form, asked if shown.current else None),
        mapping_note=note,
    )
