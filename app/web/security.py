"""Headers, cookies, CSRF and error pages: what a security review of the portal looks at first."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the page came over HTTPS (as the proxy in front says)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _page(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


def csrf_failed(error: CSRFError):
    log.warning("POST refused: %s", error.description)
    return _page("Form expired", "This form's security token was missing, expired or from another site, so "
                 "nothing was sent. Open the page again from the portal and resubmit.", 400)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    # Every POST, sign-in and sign-out included, must carry the session's CSRF token.
    csrf.init_app(app)

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "assets.static" and "Cache-Control" not in response.headers:
            # Forms and results must not linger in shared caches or the back-forward cache. A view that
            # sets its own (the namesake look-up, private and brief) has decided otherwise.
            response.headers["Cache-Control"] = "no-store"
        return response

    app.register_error_handler(CSRFError, csrf_failed)

    @app.errorhandler(400)
    def bad_request(_error):
        return _page("Bad request", "The wizard could not read what was sent. Start again from the list of sources.",
                     400)

    @app.errorhandler(404)
    def not_found(_error):
        return _page("Page not found", "There is no page at this address. Start again from the list of sources.", 404)

    @app.errorhandler(405)
    def not_allowed(_error):
        return _page("Not allowed", "This page cannot be used that way. Start again from the list of sources.", 405)

    @app.errorhandler(413)
    def too_large(_error):
        return _page("Form too large", "What was sent is larger than any connection form needs.", 413)

    @app.errorhandler(500)
    def server_error(_error):
        # Flask has logged the traceback (secrets scrubbed); the page says only how to quote it.
        return _page("Something went wrong", "The wizard hit an unexpected problem. Nothing you typed was shown or "
                     "logged. Try again; if it happens again, give whoever runs the portal the request id below.",
                     500)
