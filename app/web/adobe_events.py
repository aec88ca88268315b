"""`/events/adobe`: where Adobe I/O Events delivers Experience Platform's flow run notifications, registered in the
Developer Console (docs/team.md says how). No sign-in and no CSRF token: Adobe signs each delivery, and only a
delivery whose signature verifies is read. What it tells is made into the same events as the watcher's, each once;
the watcher remains the fallback for anything Adobe does not send."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, jsonify, request

from .. import services
from ..adobe import AdobeError
from ..watch import health
from ..watch.adobe_events import CHALLENGE, genuine, runs_in
from ..watch.watcher import Watcher
from .security import csrf

bp = Blueprint("adobe_events", __name__)
log = logging.getLogger(__name__)
# The largest delivery read (our choice: I/O Events batches up to 2 MB; a single notification is a few kilobytes).
MOST_BYTES = 2 * 1024 * 1024


@bp.get("/events/adobe")
def challenge():
    """Answer I/O Events' challenge when the webhook is registered: the value back, as JSON."""
    value = request.args.get("challenge", "")
    if not CHALLENGE.match(value):
        abort(400)
    return jsonify(challenge=value)


@bp.post("/events/adobe")
@csrf.exempt
def notification():
    """Take a signed flow run notification: 200 once read (even when it tells of nothing here), 401 unsigned."""
    request.max_content_length = MOST_BYTES
    body = request.get_data(cache=False)
    if not genuine(services.io_event_keys(), body, request.headers):
        log.warning("refused an I/O Events delivery whose signature does not verify")
        return jsonify(error="signature"), 401
    try:
        payload = json.loads(body)
    except ValueError:
        return jsonify(error="not JSON"), 400
    built = services.current()
    settings = built.settings
    watcher = Watcher(built, settings.watch_seconds or 60)
    told = 0
    for run in runs_in(payload, settings.client_id):
        sandbox = run["sandboxName"].lower()
        if sandbox not in settings.sandboxes:
            continue  # a sandbox this portal does not serve
        row = health.run_row(run, sandbox)
        if row is None or row["status"] not in health.FINAL:
            continue
        built.store.watch.keep_runs([row])
        flow = {"id": row["flow_id"]}
        try:
            flow = built.dataflows.flow(sandbox, row["flow_id"])
        except AdobeError as error:
            log.info("I/O Events run %s: its dataflow could not be read (%s)", row["run_id"], error.code)
        told += watcher.notice(sandbox, row, flow, "adobe")
    return jsonify(events=told)
