"""Probes for Docker, Kubernetes and load balancers: alive, and ready to talk to Adobe."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify

from ..adobe import AdobeError
from ..sources import SOURCES

bp = Blueprint("health", __name__)
bp.record_once(lambda state: state.app.extensions.setdefault("readiness", Readiness()))
# A probe every few seconds from every replica must not turn into as many calls to Adobe.
READY_CACHE_SECONDS = 10.0


class Readiness:
    """The last readiness check's answer, reused for READY_CACHE_SECONDS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._checked_at >= READY_CACHE_SECONDS:
                self._problem = self._check()
                self._checked_at = time.monotonic()
            return self._problem

    @staticmethod
    def _check() -> str | None:
        settings = current_app.config["SETTINGS"]
        spec_id = next(iter(SOURCES.values())).connection_spec_id
        try:
            current_app.extensions["flow_service"].check_ready(settings.default_sandbox, spec_id)
        except AdobeError as error:
            return error.message
        return None


@bp.get("/healthz")
def healthz():
    """Say the process serves requests, and whether it talks to Adobe or the emulator."""
    settings = current_app.config["SETTINGS"]
    return jsonify(status="ok", mode="emulator" if settings.emulator else "adobe")


@bp.get("/readyz")
def readyz():
    """Say whether an IMS token can be had and Flow Service answers; 503 with the reason when not."""
    settings = current_app.config["SETTINGS"]
    mode = "emulator" if settings.emulator else "adobe"
    problem = current_app.extensions["readiness"].problem()
    if problem:
        return jsonify(status="not ready", mode=mode, problem=problem), 503
    return jsonify(status="ready", mode=mode)
