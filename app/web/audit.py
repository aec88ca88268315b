"""The audit trail: who created, renamed, re-keyed or deleted which connection, and how it went."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request

from .. import services
from . import permissions

bp = Blueprint("audit", __name__)
# Each action the trail records (its code, as the CSV export and the filter's URL carry it) in plain words.
ACTION_WORDS = {
    "create": "Created a connection",
    "rename": "Renamed a connection",
    "rotate": "Rotated a connection's credentials",
    "delete": "Deleted a connection",
    "enable": "Enabled a dataflow",
    "disable": "Disabled a dataflow",
    "retry": "Retried a failed run",
    "run": "Started a run now",
    "start-dataflow": "Began a dataflow draft",
    "discard-dataflow": "Discarded a dataflow draft",
    "create-dataflow": "Created a dataflow",
    "remove-dataflow": "Removed what a stopped dataflow made",
    "change-dataflow": "Changed a dataflow",
    "add-alert-rule": "Added an alert rule",
    "change-alert-rule": "Changed an alert rule",
    "remove-alert-rule": "Removed an alert rule",
    "test-alert-rule": "Sent a test alert",
    "resend-alert": "Sent an alert again",
    "create-token": "Made an API token",
    "revoke-token": "Revoked an API token",
    "export": "Exported a sandbox as a file",
    "plan": "Planned a file against a sandbox",
    "apply": "Applied a file to a sandbox",
}
ACTIONS = tuple(ACTION_WORDS)


def record(action: str, outcome: str, **details) -> None:
    """Put one action on record, with the signed-in user and the request id; never a secret."""
    services.store().audit.record(**entry(action, outcome, **details))


def entry(
    action: str,
    outcome: str,
    *,
    sandbox,
    connection_name=None,
    connection_id=None,
    source=None,
    detail=None,
    adobe_request_id=None,
) -> dict:
    """The audit entry for an action, for the store to record (alone, or with what the action finished)."""
    return dict(
        action=action,
        outcome=outcome,
        user=g.get("user"),
        subject=g.get("subject"),
        email=g.get("email"),
        role=permissions.role_in(sandbox) if sandbox else None,
        sandbox=sandbox,
        connection_name=connection_name,
        connection_id=connection_id,
        source=source,
        detail=detail,
        adobe_request_id=adobe_request_id,
        request_id=g.get("request_id"),
        token=f"{g.token['name']} ({g.token['prefix']})" if g.get("token") else None,
    )


def _filters() -> dict:
    """The filters asked for, each checked; text filters cut to their columns' lengths by the store."""
    args = request.args
    return {
        "action": args.get("action") if args.get("action") in ACTIONS else None,
        "outcome": args.get("outcome") if args.get("outcome") in ("ok", "failed") else None,
        "user": (args.get("user") or "").strip()[:256] or None,
        "sandbox": (args.get("sandbox") or "").strip()[:128] or None,
        "text": (args.get("text") or "").strip()[:256] or None,
    }


def visible() -> dict:
    """Which entries the person may read: those of the sandboxes where they may (None: all, when no roles are
    configured and no token narrows them), and those of no sandbox for an admin of every sandbox."""
    if services.settings().roles is None and not g.get("token"):
        return {"sandboxes": None}
    return {"sandboxes": permissions.sandboxes_for("audit"), "unsandboxed": permissions.admin_everywhere()}


@bp.get("/audit")
def index():
    """The latest actions, newest first, with filters."""
    permissions.require("audit")
    filters = _filters()
    entries = services.store().audit.audit_entries(**filters, **visible())
    return render_template("audit.html", entries=entries, filters=filters, actions=ACTIONS, words=ACTION_WORDS)


@bp.get("/audit.csv")
def export():
    """The same entries as CSV, for a spreadsheet or a ticket."""
    permissions.require("audit")
    store = services.store()
    body = store.audit.as_csv(store.audit.audit_entries(**_filters(), limit=100000, **visible()))
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="aep-source-wizard-audit.csv"'}
    )
