"""Faults a test or benchmark injects: a status, a body, a delay, a dropped connection, a spoilt answer.

The hooks run around every emulated request; the control endpoints let a
process that is not the emulator's (a gunicorn worker, a benchmark) queue faults.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import uuid

from flask import Blueprint, Response, g, request

from .errors import json_response, too_large
from .outcomes import OUTCOMES

# The largest request body the emulator reads (our choice: Adobe documents no request size limit for Flow Service,
# Catalog, the Schema Registry or Data Prep; the portal's largest body, a mapping set, is a few kilobytes).
MAX_BODY = 1024 * 1024


@dataclasses.dataclass
class Fault:
    """Make the next `times` requests matching method and path misbehave.

    With `after_handling`, the request is handled first (a connection really is
    created) and only the answer is spoilt: the lost-answer case.
    """

    method: str
    path: str
    status: int | None = None
    body: str | dict | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    after_handling: bool = False
    # Close the connection instead of answering (the client sees it drop).
    drop: bool = False
    # Answer with a body that claims to be JSON and is not.
    malformed: bool = False

    @property
    def spoils(self) -> bool:
        return self.status is not None or self.drop or self.malformed


def install(app, state) -> None:
    """Record every request, and apply the fault queued for it before or after it is handled."""

    @app.before_request
    def receive():
        g.request_id = str(uuid.uuid4())
        if (request.content_length or 0) > MAX_BODY:
            # Read and drop the body, so that the client sees the answer rather than a reset connection; what was
            # received is kept without it.
            while request.stream.read(65536):
                pass
            state.receive(request.method, request.path, request.query_string.decode(), dict(request.headers), b"")
            return too_large(MAX_BODY)
        state.receive(
            request.method, request.path, request.query_string.decode(), dict(request.headers), request.get_data()
        )
        if state.latency and not request.path.startswith(("/_emulator", "/ims")):
            with state._lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                time.sleep(state.latency)
            finally:
                with state._lock:
                    state.in_flight -= 1
        fault = g.fault = state.take_fault(request.method, request.path)
        if fault and not fault.after_handling:
            time.sleep(fault.delay)
            if fault.spoils:
                return _fault_response(fault)
        return None

    @app.after_request
    def spoil(response):
        response.headers["x-request-id"] = g.get("request_id", "")
        fault = g.get("fault")
        if fault and fault.after_handling:
            time.sleep(fault.delay)
            if fault.spoils:
                return _fault_response(fault, response.status_code)
        return response

    app.register_blueprint(_control_blueprint(state))


def _fault_response(fault: Fault, handled_status: int = 200) -> Response:
    if fault.drop:
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return Response(b"", status=fault.status or handled_status)
    if fault.malformed:
        return Response(
            '{"id": "truncated',
            status=fault.status or handled_status,
            mimetype="application/json",
            headers={"x-request-id": g.request_id, **fault.headers},
        )
    body = fault.body if isinstance(fault.body, str) else json.dumps(fault.body or {})
    mimetype = "application/json" if not isinstance(fault.body, str) else "text/html"
    return Response(
        body, status=fault.status, mimetype=mimetype, headers={"x-request-id": g.request_id, **fault.headers}
    )


def _control_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_control", __name__, url_prefix="/_emulator")

    @bp.post("/faults")
    def add_fault():
        """Make the next `times` calls to a route misbehave (see Fault's fields)."""
        spec = request.get_json(silent=True)
        fields = {f.name for f in dataclasses.fields(Fault)}
        if not isinstance(spec, dict) or not {"method", "path"} <= spec.keys() or not set(spec) <= fields:
            return json_response({"error": f"send a JSON object with method, path and any of {sorted(fields)}"}, 400)
        state.inject(Fault(**spec))
        return json_response({"queued": spec}, 201)

    @bp.delete("/faults")
    def clear_faults():
        with state._lock:
            state.faults.clear()
        return Response(status=204)

    @bp.post("/runs")
    def queue_run_outcomes():
        """Decide how a flow's next runs end: {"flowId": …, "outcomes": ["failed", "partial", "success", …]}; or stop
        its runs coming ({"flowId": …, "stalled": true}: times it falls due pass with no run, so it is late) and let
        them come again ("stalled": false)."""
        spec = request.get_json(silent=True)
        outcomes = spec.get("outcomes", []) if isinstance(spec, dict) else None
        stalled = spec.get("stalled") if isinstance(spec, dict) else None
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("flowId"), str)
            or not isinstance(outcomes, list)
            or not all(o in OUTCOMES for o in outcomes)
            or stalled not in (None, True, False)
            or not (outcomes or stalled is not None)
        ):
            return json_response(
                {
                    "error": 'send {"flowId": "…", "outcomes": ["success" | "partial" | "failed" | "copy-failed", …]} '
                    'or {"flowId": "…", "stalled": true | false}'
                },
                400,
            )
        with state._lock:
            state.run_outcomes.setdefault(spec["flowId"], []).extend(outcomes)
            if stalled is not None:
                (state.stalled.add if stalled else state.stalled.discard)(spec["flowId"])
        return json_response({"queued": spec}, 201)

    @bp.post("/latency")
    def set_latency():
        """Answer every Platform API call after this many seconds: {"seconds": 0.3} stands in for Adobe's latency."""
        spec = request.get_json(silent=True)
        seconds = spec.get("seconds") if isinstance(spec, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 10:
            return json_response({"error": 'send {"seconds": s}, from 0 to 10'}, 400)
        state.latency = float(seconds)
        return json_response({"seconds": state.latency})

    @bp.get("/stats")
    def stats():
        """How many tokens were fetched and connections made, for benchmarks."""
        with state._lock:
            return json_response({"token_fetches": state.token_fetches, "connections": len(state.connections)})

    return bp
