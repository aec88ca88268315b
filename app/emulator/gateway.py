"""What every emulated Platform API shares: the API gateway's checks in front of Flow Service, Catalog, the Schema
Registry and Data Prep, and the small answers Flow Service's parts all give (a missing object, a missing body, a new
etag).

Each Platform API's blueprint runs `gateway(state)` before its routes; on success `g.sandbox` is the sandbox the
request works in. Lists are in `listing.py`, JSON Patch in `json_patch.py`, Flow Service's kept objects in
`flow_objects.py`.
"""

from __future__ import annotations

import time
import uuid

from flask import Response, g, request

from .errors import bad_request, flow_error, gateway_error, platform_error

# The sandbox Flow Service works in when a request names none: "If the `x-sandbox-name` header is not specified,
# requests are resolved under the `prod` sandbox" (the Flow Service tutorials, e.g. "Edit destination connections",
# destinations/api/edit-destination); the spec marks the header optional.
DEFAULT_SANDBOX = "prod"


def gateway(state, sandbox_optional: bool = False):
    """The API gateway's checks, then the platform's own headers (troubleshooting guide, error catalogue): one
    before-request hook for every emulated Platform API (Flow Service, Catalog, Schema Registry, Data Prep).

    `sandbox_optional` is Flow Service's: its spec marks `x-sandbox-name` optional and its tutorials resolve a
    request without it under `prod`. Catalog's, the Schema Registry's and Data Prep's specs mark it required.
    """

    def check():
        refusal = _caller_refusal(state)
        if refusal is not None:
            return refusal
        # "All requests that contain a payload (POST, PUT, PATCH) require an additional media type header": one
        # without a payload needs none, as the flow actions are sent ("Update destination dataflows").
        if request.method in ("POST", "PUT", "PATCH") and _has_payload() and request.mimetype != "application/json":
            return bad_request("A valid content-type must be specified")
        return _sandbox_refusal(state, sandbox_optional)

    return check


def _caller_refusal(state) -> Response | None:
    """The gateway's answer to a missing or wrong token, API key or organisation, in the order it checks them."""
    auth = request.headers.get("Authorization", "")
    if not auth:
        return gateway_error(403, "403010", "Oauth token is missing.")
    token = auth[7:] if auth.startswith("Bearer ") else None
    with state._lock:
        issued = state.tokens.get(token or "")
    if not issued or issued[1] <= time.time():
        return gateway_error(401, "401013", "Oauth token is not valid")
    api_key = request.headers.get("x-api-key")
    if not api_key:
        return gateway_error(403, "403000", "Api Key is required")
    if api_key != issued[0]:
        return gateway_error(403, "403003", "Api Key is invalid")
    org = request.headers.get("x-gw-ims-org-id")
    if not org:
        return gateway_error(400, "400003", "Missing header")
    if org != state.org_id:
        return gateway_error(403, "403025", "Profile is not valid")
    return None


def _sandbox_refusal(state, sandbox_optional: bool) -> Response | None:
    """Set `g.sandbox` from `x-sandbox-name` (or the default), or answer why the request names no sandbox it has."""
    sandbox = request.headers.get("x-sandbox-name")
    if not sandbox and not sandbox_optional:
        # Our choice of body: these specs mark the header required and document no answer without it.
        return platform_error(400, "BadRequestError", "The header x-sandbox-name is required.")
    if not sandbox:
        if DEFAULT_SANDBOX not in state.sandboxes:
            return flow_error("2106-404", "The default sandbox information could not be found.")
        sandbox = DEFAULT_SANDBOX
    if sandbox not in state.sandboxes:
        return flow_error(
            "2101-404",
            f"The sandbox with the name '{sandbox}' could not be found. Error from "
            f"Sandbox Management API: Sandbox with name '{sandbox}' not present. "
            "Please check if resource exists.",
        )
    g.sandbox = sandbox
    return None


def _has_payload() -> bool:
    return (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def not_found() -> Response:
    return flow_error(
        "1101-404",
        "The requested resource is not found. Error from flow provider: Resource with given id does not exist.",
    )


def body_or_refusal():
    """(this request's JSON object, None), or (None, Flow Service's refusal of an empty or non-object body)."""
    if not request.get_data():
        return None, flow_error(
            "1405-400", "The request body cannot be null or empty. Please provide a request body and try again."
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, flow_error("1100-400", "The request could not be processed: the body is not a JSON object.")
    return body, None


def refused(problems: list[str]) -> Response:
    return flow_error("1100-400", "The request could not be processed: " + "; ".join(problems) + ".")


def new_etag() -> str:
    return f'"{uuid.uuid4().hex[:8]}-0000-0200-0000-{uuid.uuid4().hex[:12]}"'
