"""Every error page, one handler per kind of error: what went wrong in words, and the request id to quote."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from ..store.health import StoreUnavailable
from .loaders import AdobeFailed, ReadOnlyHere
from .permissions import NotPermitted

log = logging.getLogger(__name__)


def page(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


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
    return render_template(
        "error.html", title=failed.title, message=failed.error.message, adobe_request_id=failed.error.request_id
    ), failed.error.status


def read_only(refused: ReadOnlyHere):
    return page(refused.title, refused.message, 403)


def store_unavailable(error: StoreUnavailable):
    """The portal's own database cannot be reached: nothing was sent to Adobe, and the person is told when to try."""
    response = render_template(
        "error.html",
        title="The portal's database cannot be reached",
        message="The portal cannot reach its own database just now, so nothing was done and "
        "nothing was sent to Adobe. Try again in a minute; whoever runs the portal has "
        "been told in its log.",
    )
    return response, 503, {"Retry-After": str(error.retry_after)}


def bad_request(_error):
    return page("Bad request", "The wizard could not read what was sent. Start again from the list of sources.", 400)


def not_found(_error):
    return page("Page not found", "There is no page at this address. Start again from the list of sources.", 404)


def not_allowed(_error):
    return page("Not allowed", "This page cannot be used that way. Start again from the list of sources.", 405)


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
