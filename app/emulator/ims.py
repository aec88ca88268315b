"""Adobe IMS's token endpoint for OAuth Server-to-Server credentials (client_credentials grant)."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, request

from .errors import json_response


def ims_blueprint(state) -> Blueprint:
    bp = Blueprint("emulator_ims", __name__)

    @bp.post("/ims/token/v3")
    def token():
        """Issue a bearer token; refusals in OAuth 2.0's error shape (RFC 6749 §5.2), as IMS answers."""
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_response(
                {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}, 400
            )
        if form.get("client_id") != state.client_id:
            return json_response({"error": "invalid_client", "error_description": "invalid client_id parameter"}, 400)
        if not secrets.compare_digest(form.get("client_secret", ""), state.client_secret):
            # 400, as Adobe's own OAuth Server-to-Server client reads IMS's refusal of a wrong secret (Adobe's
            # asset-compute-client, lib/oauthservertoserver.js: `response.status === 400 && json.error ===
            # "invalid_client"`); Adobe documents no error of its token endpoint.
            return json_response(
                {"error": "invalid_client", "error_description": "invalid client_secret parameter"}, 400
            )
        if not form.get("scope"):
            return json_response({"error": "invalid_scope", "error_description": "scope is required"}, 400)
        issued = "emulator-" + secrets.token_urlsafe(32)
        with state._lock:
            state.token_fetches += 1
            state.tokens[issued] = (state.client_id, time.time() + state.token_lifetime)
        return json_response({"access_token": issued, "token_type": "bearer", "expires_in": state.token_lifetime})

    return bp
