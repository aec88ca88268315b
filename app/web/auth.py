"""Who may use the portal: a header from an authenticating proxy, built-in accounts with a sign-in page, or single
sign-on with OpenID Connect (Authlib's Flask client, with the checks strict providers expect of a client)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from .. import services
from ..accounts import UsersFile, split_groups
from ..api import access
from ..store.health import StoreUnavailable
from ..wording import plural
from . import sso
from .security import API_PATH
from .throttle import FAILURE_WINDOW, FREE_FAILURES, FREE_FAILURES_PER_ADDRESS, MAX_WAIT

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

# Reachable without signing in: probes, assets, the sign-in page itself, and Adobe's signed notifications.
OPEN_ENDPOINTS = {
    "health.healthz",
    "health.readyz",
    "assets.static",
    "auth.sign_in",
    "auth.oidc_callback",
    "auth.signed_out",
    # Adobe I/O Events' deliveries: signed by Adobe, checked by the view (app/web/adobe_events.py).
    "adobe_events.challenge",
    "adobe_events.notification",
    # The API's document and reference: what any client may read before it has a token.
    "api_docs.openapi",
    "api_docs.reference",
    "api_docs.config_schema",
    # A database owner's credential link: the link is the credential (app/web/owner.py), unless the operator asks
    # for a sign-in as well (WIZARD_CREDENTIAL_LINK_SIGN_IN).
    "owner.enter",
}


class SignInForm(FlaskForm):
    username = StringField(
        "User name",
        validators=[InputRequired("Enter your user name."), Length(max=64)],
        description="As given to you by whoever runs this portal.",
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=1024)],
        description="Your portal password, not a database password.",
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host, which would make sign-in an open redirect.

    The target is read as a browser reads a Location (the URL standard): tabs and newlines removed,
    edge spaces and control characters trimmed, a backslash taken as a slash. What is left must be a
    path that names no scheme and no host; it is returned in that cleaned form.
    """
    default = url_for("wizard.picker")
    if not target or len(target) > 2048:
        return default
    cleaned = re.sub(r"[\t\n\r]", "", target).strip("".join(map(chr, range(0x21)))).replace("\\", "/")
    if not cleaned.startswith("/") or cleaned.startswith("//") or not cleaned.isprintable():
        return default
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return default
    return cleaned


def _settings():
    return services.settings()


def _provider_unreachable(error: Exception):
    if isinstance(error, sso.SignInRefused):
        log.error("single sign-on cannot start: %s", error)
    else:
        log.error(
            "single sign-on: the identity provider's discovery document could not be read (%s)", type(error).__name__
        )
    return render_template(
        "error.html",
        title="Sign-in unavailable",
        message="Single sign-on is not working just now, so nobody can sign in. Try again in "
        "a minute; if it goes on, tell whoever runs the portal.",
    ), 503


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Ask for a user name and password (a correct pair starts a session), or go to the identity provider."""
    if _settings().auth == "oidc":
        if request.method == "POST":
            abort(405)
        try:
            client, _metadata = sso.provider()
        except Exception as error:  # noqa: BLE001 - any failure to read or use the discovery document
            return _provider_unreachable(error)
        # Authlib keeps state, nonce and the PKCE verifier in the session until the provider sends the person back.
        session["next"] = safe_next(request.args.get("next"))
        return client.authorize_redirect(url_for("auth.oidc_callback", _external=True))
    if _settings().auth != "accounts":
        return redirect(url_for("wizard.picker"))
    form = SignInForm()
    services.secrets().add_for_request(request.form.get("password", ""))
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        return render_template("sign_in.html", form=form, ended=request.args.get("ended"))
    if not form.validate():
        return render_template("sign_in.html", form=form), 400
    name = form.username.data.strip()
    address = request.remote_addr or "unknown"
    name_key, address_key = f"name:{name.lower()}|address:{address}", f"address:{address}"
    store = services.store()
    wait = store.sessions.sign_in_attempt(
        {name_key: FREE_FAILURES, address_key: FREE_FAILURES_PER_ADDRESS}, time.time(), FAILURE_WINDOW, MAX_WAIT
    )
    if wait:
        log.warning("sign-in refused: too many failures", extra={"attempted_user": name})
        form.password.errors = [
            f"Too many failed sign-ins for this name from this address. Wait {plural(wait, 'second')}, then try again."
        ]
        response = current_app.make_response((render_template("sign_in.html", form=form), 429))
        response.headers["Retry-After"] = str(wait)
        return response
    users = _accounts()
    if not users.check(name, form.password.data):
        log.warning("sign-in failed", extra={"attempted_user": name})
        form.password.errors = ["That user name and password do not match. Check both and try again."]
        return render_template("sign_in.html", form=form), 401
    store.sessions.sign_in_succeeded(forget=name_key, take_back=address_key)
    target = safe_next(form.next.data)
    # A fresh session, kept in the store: nothing from before sign-in (a planted token, say) carries over, and
    # signing out ends it everywhere, whatever copies of the cookie exist.
    session.clear()
    session.permanent = True
    session_id = secrets.token_urlsafe(32)
    store.sessions.start_session(session_id, name, users.fingerprint(name), _settings().session_hours * 3600)
    session["sid"] = session_id
    log.info("signed in", extra={"signed_in_user": name})
    return redirect(target, code=303)


@bp.post("/sign-out")
def sign_out():
    """End the session, in the store: a copy of the cookie opens nothing afterwards.

    With single sign-on, the provider's session is ended too when it offers an end_session_endpoint (OpenID
    Connect RP-Initiated Logout 1.0); otherwise the next visit would sign the same person straight back in.
    """
    log.info("signed out")
    store = services.store()
    live = store.sessions.session(session["sid"]) if isinstance(session.get("sid"), str) and session["sid"] else None
    if live:
        store.sessions.end_session(session["sid"])
    session.clear()
    if _settings().auth == "accounts":
        return redirect(url_for("auth.sign_in"), code=303)
    if _settings().auth == "oidc":
        try:
            client, metadata = sso.provider()
        except Exception:  # noqa: BLE001 - the provider is away: the portal's own session has ended all the same
            metadata = {}
        if metadata.get("end_session_endpoint"):
            # Authlib adds a state and keeps it in the (now empty) session, for the page we come back to.
            response = client.logout_redirect(
                post_logout_redirect_uri=url_for("auth.signed_out", _external=True),
                id_token_hint=(live or {}).get("id_token"),
                client_id=_settings().oidc_client_id,
            )
            response.status_code = 303
            return response
        # Not straight back to the provider, whose own session would sign the person in again at once.
        return render_template("signed_out.html", at_provider=False), 200
    return redirect(url_for("wizard.picker"), code=303)


@bp.get("/signed-out")
def signed_out():
    """Where the identity provider sends the person after ending its session: a page that needs no sign-in and
    never sends them back to the provider (which would ask them to sign in at once)."""
    if _settings().auth != "oidc":
        abort(404)
    from authlib.integrations.base_client import OAuthError

    try:
        # The state Authlib kept when signing out: this page was reached from our own sign-out.
        services.oidc().validate_logout_response()
        at_provider = True
    except OAuthError:
        at_provider = False
    if g.user:
        # Someone signed in who followed a link here is not signed out: no page should say they are.
        return redirect(url_for("wizard.picker"), code=303)
    return render_template("signed_out.html", at_provider=at_provider), 200


@bp.get("/sign-in/callback")
def oidc_callback():
    """The identity provider sends the person back: check state, nonce, PKCE and the ID token, then sign in."""
    if _settings().auth != "oidc":
        abort(404)
    next_path = safe_next(session.get("next"))
    secrets_registry = services.secrets()
    try:
        client, metadata = sso.provider()
        sso.check_issuer_parameter(metadata)
        token = client.authorize_access_token()
        # The tokens are scrubbed from anything this request logs.
        secrets_registry.add_for_request(
            *(str(token.get(name) or "") for name in ("access_token", "id_token", "refresh_token"))
        )
        claims = token.get("userinfo") or {}
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise sso.SignInRefused("the ID token names no subject")
        claims = sso.claims_with_userinfo(client, token, claims)
    except Exception as error:  # noqa: BLE001 - Authlib raises many kinds; each is a refused sign-in
        code = getattr(error, "error", None)
        reason = (
            str(error)
            if isinstance(error, sso.SignInRefused)
            else (code if isinstance(code, str) and sso.ERROR_CODE.match(code) else "")
        )
        log.warning("single sign-on refused: %s%s", type(error).__name__, f" ({reason})" if reason else "")
        session.clear()
        return render_template(
            "error.html",
            title="Sign-in failed",
            message="The identity provider's answer could not be accepted, so you are not "
            "signed in. Sign in again from the start.",
        ), 401
    # An address the provider says is unverified names nobody.
    verified = claims.get("email_verified", True) is not False
    email = claims["email"] if isinstance(claims.get("email"), str) and verified else None
    raw_groups = claims.get(_settings().oidc_groups_claim) or []
    groups = split_groups(",".join(g for g in raw_groups if isinstance(g, str))) if isinstance(raw_groups, list) else ()
    user = email or claims["sub"]
    session.clear()
    session.permanent = True
    session_id = secrets.token_urlsafe(32)
    services.store().sessions.start_session(
        session_id,
        user,
        None,
        _settings().session_hours * 3600,
        subject=claims["sub"],
        email=email,
        groups=groups,
        id_token=token.get("id_token"),
    )
    session["sid"] = session_id
    # The groups of this sign-in, for the calls the person's API tokens make until the next (app/api/access.py).
    services.store().tokens.remember(user, groups)
    log.info("signed in with single sign-on", extra={"signed_in_user": user})
    return redirect(next_path, code=303)


def _accounts() -> UsersFile:
    """The users file; only asked for with built-in accounts, where the services always hold one."""
    users = services.users()
    if users is None:
        raise RuntimeError("built-in accounts are not configured (WIZARD_USERS_FILE)")
    return users


def _signed_in_user():
    """The session's row, and whether a session existed but has ended (signed out, expired, new password)."""
    session_id = session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None, False
    store = services.store()
    live = store.sessions.session(session_id)
    users = services.users()
    if live is None or (users is not None and users.fingerprint(live["user"]) != live["key"]):
        if live is not None:
            store.sessions.end_session(session_id)
        session.clear()
        return None, True
    return live, False


def _remember_proxied(user: str, groups) -> None:
    """Behind a proxy, the person's groups as they come now, kept for the calls their API tokens make (which carry no
    proxy header): written when they differ from what this browser's session last saw, not on every page."""
    seen = hashlib.sha256(f"{user}\n{','.join(groups)}".encode()).hexdigest()[:16]
    if session.get("groups_seen") == seen:
        return
    try:
        services.store().tokens.remember(user, groups)
    except StoreUnavailable:
        return  # the page says what the store's absence means; the groups are kept at the next page
    session["groups_seen"] = seen


def _refuse(message: str):
    return render_template("error.html", title="Sign-in required", message=message), 401


def init_app(app) -> None:
    settings = app.config["SETTINGS"]
    if settings.auth == "oidc":
        kept = services.of(app)
        kept.oidc = client = sso.register_client(app, settings)
        kept.form_action_origins = lambda: sso.provider_origins(client, settings.oidc_issuer)
    app.register_blueprint(bp)

    @app.before_request
    def require_sign_in():
        g.user, g.groups, g.subject, g.email = None, (), None, None
        if request.path.startswith(API_PATH):
            # The API is its tokens' alone: no cookie, no proxy header, is read for it.
            return access.authenticate(settings)
        if settings.auth == "proxy":
            value = request.headers.get(settings.trusted_user_header, "").strip()
            if value and len(value) <= 256 and value.isprintable():
                g.user = value
                if settings.trusted_groups_header:
                    g.groups = split_groups(request.headers.get(settings.trusted_groups_header, "")[:4096])
                _remember_proxied(g.user, g.groups)
        elif settings.auth in ("accounts", "oidc"):
            live, g.session_ended = _signed_in_user()
            if live:
                g.user = live["user"]
                if settings.auth == "accounts":
                    g.groups = _accounts().groups(g.user)
                else:
                    g.groups, g.subject, g.email = live["groups"], live["subject"], live["email"]
        if g.user and not g.subject:
            # The identity as sign-in gave it: the proxy's header or the account name; an email when it is one.
            g.subject, g.email = g.user, (g.user if "@" in g.user else None)
        if settings.auth == "none" or g.user or request.endpoint in OPEN_ENDPOINTS:
            return None
        if settings.auth == "proxy":
            log.warning("request without the trusted user header %s", settings.trusted_user_header)
            return _refuse(
                "This portal takes your identity from the sign-in proxy in front of it, and none "
                "arrived with this request. Open the portal through its usual address."
            )
        if request.method in ("GET", "HEAD"):
            return redirect(
                url_for("auth.sign_in", next=request.full_path.rstrip("?"), ended=1 if g.session_ended else None)
            )
        return _refuse("Your session has ended, so this was not sent. Sign in again, then repeat it.")
