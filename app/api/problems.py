"""Errors of the API as RFC 9457 problem details (`application/problem+json`): a title, the status, what to do, the
fields at fault with a message each, and the request ids to quote (the portal's, and Adobe's when Adobe answered)."""

from __future__ import annotations

import json

from flask import Response, g

MEDIA_TYPE = "application/problem+json"
# Problem types: relative URIs on the portal (RFC 9457 §3.1.1), each explained on the API's reference page.
TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid",
    428: "precondition-required",
    429: "too-many-requests",
    500: "server-error",
    502: "adobe-failed",
    503: "unavailable",
}


class Problem(Exception):
    """An answer of the API that is not a success, raised anywhere under a view and answered by the handler."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict] | None = None,
        adobe_request_id: str | None = None,
        headers: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.adobe_request_id = errors, adobe_request_id
        self.headers, self.extra = headers or {}, extra or {}


def field_errors(errors: dict, prefix: str = "") -> list[dict]:
    """WTForms' `form.errors` ({field: [messages]}) as the problem's list, one entry per message."""
    found = []
    for name, messages in errors.items():
        if isinstance(messages, dict):  # a form field's own subfields
            found += field_errors(messages, f"{prefix}{name}.")
            continue
        found += [{"field": f"{prefix}{name}", "message": str(m)} for m in messages]
    return found


def response(problem: Problem) -> Response:
    body = {
        "type": f"/api/docs#problem-{TYPES.get(problem.status, 'error')}",
        "title": problem.title,
        "status": problem.status,
        **({"detail": problem.detail} if problem.detail else {}),
        **({"errors": problem.errors} if problem.errors else {}),
        **({"adobe_request_id": problem.adobe_request_id} if problem.adobe_request_id else {}),
        "request_id": g.get("request_id"),
        **problem.extra,
    }
    answer = Response(json.dumps(body), status=problem.status, mimetype=MEDIA_TYPE)
    for name, value in problem.headers.items():
        answer.headers[name] = value
    return answer
