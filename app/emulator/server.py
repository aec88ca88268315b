"""The emulator as a real HTTP server on loopback: IMS and every emulated Platform API assembled, started, stopped.

The wizard's client talks to it exactly as it talks to Adobe. Tests reach into
`Emulator` (its state) to inject faults and to read what was received; nothing
in the wizard knows it exists.
"""

from __future__ import annotations

import email.utils
import logging
import threading

from flask import Flask, request
from werkzeug.serving import WSGIRequestHandler, make_server

from . import faults
from .catalog import catalog_blueprint
from .connections import connections_blueprint
from .data_prep import data_prep_blueprint
from .errors import flow_error
from .events import events_blueprint
from .flows import flows_blueprint
from .ims import ims_blueprint
from .runs import clock_blueprint, runs_blueprint
from .schema_registry import schema_registry_blueprint
from .source_target import source_target_blueprint
from .state import EmulatorState


class _QuietHandler(WSGIRequestHandler):
    """Log requests at debug level under our own name, not on werkzeug's stderr."""

    def log_request(self, code="-", size="-"):
        logging.getLogger("app.emulator").debug('"%s" %s', self.requestline, code)


def create_emulator_app(state: EmulatorState) -> Flask:
    app = Flask("aep-emulator")
    faults.install(app, state)
    app.register_blueprint(ims_blueprint(state))
    # Flow Service, in the parts app/adobe/ calls separately: base connections, then what a dataflow is made of.
    app.register_blueprint(connections_blueprint(state))
    app.register_blueprint(source_target_blueprint(state))
    app.register_blueprint(flows_blueprint(state))
    app.register_blueprint(runs_blueprint(state))
    app.register_blueprint(clock_blueprint(state))
    # Adobe I/O Events: webhook registrations, the notifications of runs, the public keys that sign them.
    app.register_blueprint(events_blueprint(state))
    app.register_blueprint(catalog_blueprint(state))
    app.register_blueprint(schema_registry_blueprint(state))
    app.register_blueprint(data_prep_blueprint(state))

    @app.errorhandler(404)
    def not_found(_error):
        return flow_error("1101-404", f"The requested resource is not found: no endpoint {request.path}.")

    @app.errorhandler(405)
    def not_allowed(_error):
        # Our choice: Adobe documents no answer for a method a path lacks.
        return flow_error(
            "1100-400", f"The request could not be processed: {request.method} is not supported on {request.path}."
        )

    return app


class Emulator(EmulatorState):
    def __init__(self, *, host="127.0.0.1", port=0, **state):
        super().__init__(**state)
        clock = self.now

        class Handler(_QuietHandler):
            def date_time_string(self, timestamp=None):
                """Every answer dated by emulator time (RFC 9110's Date), so a client comparing Adobe's times with
                Adobe's clock (is a dataflow late?) sees emulator time as it would see Adobe's."""
                return email.utils.formatdate(clock() if timestamp is None else timestamp, usegmt=True)

        self._server = make_server(host, port, create_emulator_app(self), threaded=True, request_handler=Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
