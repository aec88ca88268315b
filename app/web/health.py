"""Probes for Docker, Kubernetes and load balancers: alive, and ready to talk to Adobe."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say the process serves requests, and whether it talks to Adobe or the emulator."""
    settings = services.settings()
    return jsonify(status="ok", mode="emulator" if settings.emulator else "adobe")


@bp.get("/readyz")
def readyz():
    """Say whether the portal's database answers, an IMS token can be had and Flow Service answers; 503 with the reason
    when not."""
    settings = services.settings()
    mode = "emulator" if settings.emulator else "adobe"
    problem = services.readiness().problem()
    if problem:
        return jsonify(status="not ready", mode=mode, problem=problem), 503
    return jsonify(status="ready", mode=mode)
