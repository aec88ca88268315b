"""Headers, cookies and CSRF: what a security review of the portal looks at first (error pages: app/web/errors.py)."""

from __future__ import annotations

import logging

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

from .. import services

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# What every answer carries unless its view set its own.
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
csrf = CSRFProtect()
# Where the token-authenticated API lives (app/api).
API_PATH = "/api/v1/"


class _SessionSerializer(URLSafeTimedSerializer):
    """The session cookie's serializer: zlib only for a payload long enough to gain from it (a flash message).
    A few dozen bytes gain nothing, and each zlib.compress sets up a 256 KiB state. Either kind reads back."""

    def dump_payload(self, obj) -> bytes:
        payload = Serializer.dump_payload(self, obj)  # the JSON, before the mixin's zlib
        return super().dump_payload(obj) if len(payload) > 200 else base64_encode(payload)


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the page came over HTTPS (as the proxy in front says).

    Over HTTPS it is also named `__Host-session`: browsers keep such a cookie only when it is Secure, for
    Path=/ and no Domain, so nothing on a sibling subdomain or a plain-http page can plant or overwrite it
    (session fixation). A cookie without the prefix is not read over HTTPS; plain http (a laptop) keeps the
    plain name, which browsers would refuse with the prefix.

    Its signing serializer is built once per app and key, not twice a request as Flask's is.
    """

    HOST_PREFIX = "__Host-"

    # The API (app/api) is authenticated by its bearer tokens alone: a cookie sent with a call is never read, and no
    # answer of the API sets one.
    def open_session(self, app, request):
        if request.path.startswith(API_PATH):
            return self.session_class()
        return super().open_session(app, request)

    def should_set_cookie(self, app, session):
        return not request.path.startswith(API_PATH) and super().should_set_cookie(app, session)

    def save_session(self, app, session, response):
        if request.path.startswith(API_PATH):
            return None
        return super().save_session(app, session, response)

    def get_cookie_name(self, app):
        name = app.config["SESSION_COOKIE_NAME"]
        return self.HOST_PREFIX + name if request.is_secure else name

    def get_cookie_domain(self, app):
        return None if request.is_secure else super().get_cookie_domain(app)

    def get_cookie_path(self, app):
        return "/" if request.is_secure else super().get_cookie_path(app)

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    _serializer: tuple | None = None

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._serializer  # one interface per app (init_app sets it), so one serializer per app and key
        if kept is None or kept[0] != keys:
            kept = (
                keys,
                _SessionSerializer(
                    [*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key],
                    salt=self.salt,
                    serializer=self.serializer,
                    signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
                ),
            )
            self._serializer = kept
        return kept[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    # Every POST, sign-in and sign-out included, must carry the session's CSRF token.
    csrf.init_app(app)

    policies: dict[tuple[str, ...], str] = {}

    @app.after_request
    def add_headers(response):
        # One look at what the view set (werkzeug's setdefault raises and catches a KeyError per absent header).
        present = {name.lower() for name, _ in response.headers}
        for name, value in HEADERS:
            if name.lower() not in present:
                origins_of = services.current().form_action_origins
                if name == "Content-Security-Policy" and origins_of:
                    # Signing out with single sign-on is a form whose answer redirects to the identity
                    # provider, and browsers hold every redirect of a form to form-action: that origin is let in.
                    origins = origins_of()
                    if origins not in policies:
                        policies[origins] = value.replace(
                            "form-action 'self'", " ".join(("form-action 'self'", *origins))
                        )
                    value = policies[origins]
                response.headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            response.headers.add("Strict-Transport-Security", HSTS)
        if request.endpoint != "assets.static" and "cache-control" not in present:
            # Forms and results must not linger in shared caches or the back-forward cache. A view that
            # sets its own (the namesake look-up, private and brief) has decided otherwise.
            response.headers["Cache-Control"] = "no-store"
        return response
