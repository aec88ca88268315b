"""Liveness for Docker's HEALTHCHECK and load balancers."""

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say the process serves requests, and whether it talks to Adobe or the emulator."""
    settings = current_app.config["SETTINGS"]
    return jsonify(status="ok", mode="emulator" if settings.emulator else "adobe")
