"""Every error page, one handler per kind of error: what went wrong in words, and the request id to quote. Under the
API (/api/v1) the same words come as a problem document (app/api/problems.py) instead of a page."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from ..api.problems import Problem
from ..api.problems import response as problem_response
from ..store.health import StoreUnavailable
from .loaders import AdobeFailed, ReadOnlyHere
from .permissions import NotPermitted
from .security import API_PATH

log = logging.getLogger(__name__)


def page(title: str, message: str, status: int, adobe_request_id: str | None = None, headers: dict | None = None):
    if request.path.startswith(API_PATH):
        return problem_response(Problem(status, title, message, adobe_request_id=adobe_request_id, headers=headers))
    page = render_template("error.html", title=title, message=message, adobe_request_id=adobe_request_id)
    return page, status, headers or {}


def problem(error: Problem):
    """A problem raised by the API (app/api)."""
    return problem_response(error)


def csrf_failed(error: CSRFError):
    log.warning("POST refused: %s", error.description)
    return page(
        "Form expired",
        "This form's security token was missing, expired or from another site, so "
        "nothing was sent. Open the page again from the portal and resubmit.",
        400,
    )


def not_permitted(error: NotPermitted):
    return page("Not allowed for your role", error.description or "", 403)


def adobe_failed(failed: AdobeFailed):
    return page(failed.title, failed.error.message, failed.error.status, adobe_request_id=failed.error.request_id)


def read_only(refused: ReadOnlyHere):
    return page(refused.title, refused.message, 403)


def store_unavailable(error: StoreUnavailable):
    """The portal's own database cannot be reached: nothing was sent to Adobe, and the person is told when to try."""
    return page(
        "The portal's database cannot be reached",
        "The portal cannot reach its own database just now, so nothing was done and nothing was sent to Adobe. Try "
        "again in a minute; whoever runs the portal has been told in its log.",
        503,
        headers={"Retry-After": str(error.retry_after)},
    )


def bad_request(_error):
    return page("Bad request", "The portal could not read what was sent.", 400)


def not_found(_error):
    return page("Page not found", "There is no page at this address. Start again from the list of sources.", 404)


def not_allowed(_error):
    return page("Not allowed", "This address cannot be used with that method.", 405)


def too_large(_error):
    return page("Form too large", "What was sent is larger than any connection form needs.", 413)


def server_error(_error):
    # Flask has logged the traceback (secrets scrubbed); the page says only how to quote it.
    return page(
        "Something went wrong",
        "The wizard hit an unexpected problem. Nothing you typed was shown or "
        "logged. Try again; if it happens again, give whoever runs the portal the request id below.",
        500,
    )


def init_app(app: Flask) -> None:
    for kind, handler in (
        (Problem, problem),
        (CSRFError, csrf_failed),
        (NotPermitted, not_permitted),
        (AdobeFailed, adobe_failed),
        (ReadOnlyHere, read_only),
        (StoreUnavailable, store_unavailable),
        (400, bad_request),
        (404, not_found),
        (405, not_allowed),
        (413, too_large),
        (500, server_error),
    ):
        app.register_error_handler(kind, handler)
