"""A base connection, read back from Flow Service."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request

from ..adobe import AdobeError
from ..sources import source_for_spec

bp = Blueprint("connections", __name__)

CONNECTION_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@bp.get("/connections/<connection_id>")
def show(connection_id):
    """Show a connection's id, etag, name, source, sandbox and state as Flow Service has them."""
    settings = current_app.config["SETTINGS"]
    sandbox = request.args.get("sandbox", settings.default_sandbox).lower()
    if not CONNECTION_ID.match(connection_id) or sandbox not in settings.sandboxes:
        abort(404)
    try:
        connection = current_app.extensions["flow_service"].get_connection(sandbox, connection_id)
    except AdobeError as error:
        return render_template("error.html", title="Could not read the connection", message=error.message,
                               adobe_request_id=error.request_id), error.status
    spec_id = (connection.get("connectionSpec") or {}).get("id", "")
    return render_template("connection.html", connection=connection, sandbox=sandbox,
                           source=source_for_spec(spec_id), spec_id=spec_id,
                           curl=current_app.extensions["sent_requests"].get(connection_id))
