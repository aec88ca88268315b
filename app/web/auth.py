"""Who may use the portal: a header from an authenticating proxy, built-in accounts with a sign-in page, or single
sign-on with OpenID Connect (Authlib's Flask client, with the checks strict providers expect of a client)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..wording import plural

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

USER_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9._@+/-]{1,128}$")
# Reachable without signing in: probes, assets and the sign-in page itself.
OPEN_ENDPOINTS = {"health.healthz", "health.readyz", "assets.static", "auth.sign_in", "auth.oidc_callback",
                  "auth.signed_out"}
# Failed sign-ins allowed before each further try must wait: for a name at one address, and from one address
# whatever the names (more, as a team may sit behind one address). Kept in the store, shared by every worker
# and replica; someone else's failures, from elsewhere, never lock a person out.
FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = 15 * 60
MAX_WAIT = 300


class UsersFile:
    """`name:hash [group,group…]` lines (werkzeug password hashes), re-read when the file changes."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._stamp = None
        self._users: dict[str, tuple[str, tuple[str, ...]]] = {}
        # Checked for unknown names too, so timing does not tell which names exist.
        self._dummy = generate_password_hash(os.urandom(16).hex())

    def _current(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        with self._lock:
            try:
                info = os.stat(self.path)
                stamp = (info.st_mtime_ns, info.st_size)
            except OSError:
                log.error("users file %s cannot be read; nobody can sign in", self.path)
                return {}
            if stamp != self._stamp:
                self._users, self._stamp = read_users(self.path), stamp
            return self._users

    def check(self, name: str, password: str) -> bool:
        stored = self._current().get(name)
        ok = check_password_hash(stored[0] if stored else self._dummy, password)
        return bool(stored) and ok

    def fingerprint(self, name: str) -> str | None:
        """A short digest of the stored hash: changing the password ends the sessions signed in with the old one."""
        stored = self._current().get(name)
        return hashlib.sha256(stored[0].encode()).hexdigest()[:16] if stored else None

    def groups(self, name: str) -> tuple[str, ...]:
        stored = self._current().get(name)
        return stored[1] if stored else ()


def read_users(path: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    users = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, rest = line.partition(":")
            hashed, _, groups = rest.partition(" ")
            if not USER_NAME.match(name) or not hashed:
                log.warning("users file %s line %d is not name:hash; skipped", path, number)
                continue
            users[name] = (hashed, split_groups(groups))
    return users


def split_groups(text: str) -> tuple[str, ...]:
    """Comma-separated group names, as a users file line or a proxy's groups header gives them."""
    return tuple(dict.fromkeys(g.strip() for g in text.split(",") if g.strip() and len(g.strip()) <= 128))[:64]


def add_user(path: str, name: str, password: str, groups=()) -> bool:
    """Write `name` with a hash of `password` (and its groups) into the users file; True when it replaced a line."""
    if not USER_NAME.match(name):
        raise ValueError("A user name is 1 to 64 letters, digits or . _ @ + -")
    if any(not GROUP_NAME.match(group) for group in groups):
        raise ValueError("A group name is 1 to 128 letters, digits or . _ @ + - /")
    if len(password) < 12:
        raise ValueError("Choose a password of at least 12 characters.")
    lines, replaced = [], False
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.partition(":")[0].strip() == name:
                    replaced = True
                    continue
                lines.append(line if line.endswith("\n") else line + "\n")
    lines.append(f"{name}:{generate_password_hash(password)}" + (f" {','.join(groups)}" if groups else "") + "\n")
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".users-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return replaced


class SignInForm(FlaskForm):
    username = StringField("User name", validators=[InputRequired("Enter your user name."), Length(max=64)],
                           description="As given to you by whoever runs this portal.",
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", validators=[InputRequired("Enter your password."), Length(max=1024)],
                             description="Your portal password, not a database password.",
                             render_kw={"autocomplete": "current-password"})
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
    return current_app.config["SETTINGS"]


class SignInRefused(Exception):
    """A single sign-on answer we will not accept; the message names the reason and never a token."""


# An OAuth error code (RFC 6749 5.2), safe to log: the provider's description is not, as it may quote what was sent.
ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")


def token_auth_method(setting: str, metadata: dict) -> str:
    """How to authenticate at the token endpoint: the setting, else what the discovery document offers.

    OpenID Connect Core 9 makes client_secret_basic the default, and Discovery 3 the default of an absent
    token_endpoint_auth_methods_supported, so basic wins when both are offered.
    """
    if setting:
        return setting
    offered = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    for method in ("client_secret_basic", "client_secret_post"):
        if method in offered:
            return method
    raise SignInRefused(f"the identity provider offers none of client_secret_basic and client_secret_post at its "
                        f"token endpoint (it offers {', '.join(map(str, offered))[:200]})")


def _provider():
    """Authlib's client and the issuer's discovery document (read once per worker, then kept by Authlib)."""
    client = current_app.extensions["oidc"]
    metadata = client.load_server_metadata()
    if "token_endpoint_auth_method" not in client.client_kwargs:
        # Authlib always sends client_secret_basic unless told otherwise; a client registered for
        # client_secret_post would be refused with invalid_client.
        client.client_kwargs["token_endpoint_auth_method"] = token_auth_method(
            _settings().oidc_token_auth_method, metadata)
    return client, metadata


def _check_issuer_parameter(metadata: dict) -> None:
    """RFC 9207: the `iss` of an authorization response names the issuer that sent it (the mix-up defence).

    When the provider announces it, it must be there; when it is there, it must be our issuer (RFC 9207 2.4).
    Authlib's client does not check it, so we do, before the code is sent anywhere.
    """
    sent = request.args.get("iss")
    if sent is None:
        if metadata.get("authorization_response_iss_parameter_supported") is True:
            raise SignInRefused("the authorization response lacks the iss parameter its provider announces")
    elif sent != metadata.get("issuer"):
        raise SignInRefused("the authorization response names another issuer (iss)")


def _claims_with_userinfo(client, token: dict, claims: dict) -> dict:
    """The ID token's claims, completed from the userinfo endpoint when it lacks email or the groups claim.

    Providers that follow OpenID Connect Core 5.4 strictly answer claims asked for by scope only at userinfo.
    Its answer is about the same person only when its `sub` is the ID token's (Core 5.3.2); the ID token's own
    claims win over it.
    """
    groups_claim = _settings().oidc_groups_claim
    missing = [name for name in ("email", groups_claim) if name not in claims]
    if not missing or not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    extra = client.userinfo(token=token)
    if extra.get("sub") != claims["sub"]:
        raise SignInRefused("the userinfo answer names another subject than the ID token")
    claims = dict(claims)
    if "email" in missing and "email" in extra:
        # An address and whether it was verified come together, from one source.
        claims["email"] = extra["email"]
        claims["email_verified"] = extra.get("email_verified", True)
    if groups_claim in missing and groups_claim in extra:
        claims[groups_claim] = extra[groups_claim]
    return claims


def _provider_unreachable(error: Exception):
    if isinstance(error, SignInRefused):
        log.error("single sign-on cannot start: %s", error)
    else:
        log.error("single sign-on: the identity provider's discovery document could not be read (%s)",
                  type(error).__name__)
    return render_template("error.html", title="Sign-in unavailable",
                           message="Single sign-on is not working just now, so nobody can sign in. Try again in "
                                   "a minute; if it goes on, tell whoever runs the portal."), 503


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Ask for a user name and password (a correct pair starts a session), or go to the identity provider."""
    if _settings().auth == "oidc":
        if request.method == "POST":
            abort(405)
        try:
            client, _metadata = _provider()
        except Exception as error:  # noqa: BLE001 - any failure to read or use the discovery document
            return _provider_unreachable(error)
        # Authlib keeps state, nonce and the PKCE verifier in the session until the provider sends the person back.
        session["next"] = safe_next(request.args.get("next"))
        return client.authorize_redirect(url_for("auth.oidc_callback", _external=True))
    if _settings().auth != "accounts":
        return redirect(url_for("wizard.picker"))
    form = SignInForm()
    current_app.extensions["secrets"].add_for_request(request.form.get("password", ""))
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        return render_template("sign_in.html", form=form, ended=request.args.get("ended"))
    if not form.validate():
        return render_template("sign_in.html", form=form), 400
    name = form.username.data.strip()
    address = request.remote_addr or "unknown"
    name_key, address_key = f"name:{name.lower()}|address:{address}", f"address:{address}"
    store = current_app.extensions["store"]
    wait = store.sign_in_attempt({name_key: FREE_FAILURES, address_key: FREE_FAILURES_PER_ADDRESS},
                                 time.time(), FAILURE_WINDOW, MAX_WAIT)
    if wait:
        log.warning("sign-in refused: too many failures", extra={"attempted_user": name})
        form.password.errors = [f"Too many failed sign-ins for this name from this address. "
                                f"Wait {plural(wait, 'second')}, then try again."]
        response = current_app.make_response((render_template("sign_in.html", form=form), 429))
        response.headers["Retry-After"] = str(wait)
        return response
    users: UsersFile = current_app.extensions["users"]
    if not users.check(name, form.password.data):
        log.warning("sign-in failed", extra={"attempted_user": name})
        form.password.errors = ["That user name and password do not match. Check both and try again."]
        return render_template("sign_in.html", form=form), 401
    store.sign_in_succeeded(forget=name_key, take_back=address_key)
    target = safe_next(form.next.data)
    # A fresh session, kept in the store: nothing from before sign-in (a planted token, say) carries over, and
    # signing out ends it everywhere, whatever copies of the cookie exist.
    session.clear()
    session.permanent = True
    session_id = secrets.token_urlsafe(32)
    store.start_session(session_id, name, users.fingerprint(name), _settings().session_hours * 3600)
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
    store = current_app.extensions["store"]
    live = store.session(session["sid"]) if isinstance(session.get("sid"), str) and session["sid"] else None
    if live:
        store.end_session(session["sid"])
    session.clear()
    if _settings().auth == "accounts":
        return redirect(url_for("auth.sign_in"), code=303)
    if _settings().auth == "oidc":
        try:
            client, metadata = _provider()
        except Exception:  # noqa: BLE001 - the provider is away: the portal's own session has ended all the same
            metadata = {}
        if metadata.get("end_session_endpoint"):
            # Authlib adds a state and keeps it in the (now empty) session, for the page we come back to.
            response = client.logout_redirect(
                post_logout_redirect_uri=url_for("auth.signed_out", _external=True),
                id_token_hint=(live or {}).get("id_token"), client_id=_settings().oidc_client_id)
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
        current_app.extensions["oidc"].validate_logout_response()
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
    secrets_registry = current_app.extensions["secrets"]
    try:
        client, metadata = _provider()
        _check_issuer_parameter(metadata)
        token = client.authorize_access_token()
        # The tokens are scrubbed from anything this request logs.
        secrets_registry.add_for_request(*(str(token.get(name) or "") for name in ("access_token", "id_token",
                                                                                    "refresh_token")))
        claims = token.get("userinfo") or {}
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise SignInRefused("the ID token names no subject")
        claims = _claims_with_userinfo(client, token, claims)
    except Exception as error:  # noqa: BLE001 - Authlib raises many kinds; each is a refused sign-in
        code = getattr(error, "error", None)
        reason = str(error) if isinstance(error, SignInRefused) else (
            code if isinstance(code, str) and ERROR_CODE.match(code) else "")
        log.warning("single sign-on refused: %s%s", type(error).__name__, f" ({reason})" if reason else "")
        session.clear()
        return render_template("error.html", title="Sign-in failed",
                               message="The identity provider's answer could not be accepted, so you are not "
                                       "signed in. Sign in again from the start."), 401
    # An address the provider says is unverified names nobody.
    verified = claims.get("email_verified", True) is not False
    email = claims["email"] if isinstance(claims.get("email"), str) and verified else None
    raw_groups = claims.get(_settings().oidc_groups_claim) or []
    groups = split_groups(",".join(g for g in raw_groups if isinstance(g, str))) if isinstance(raw_groups, list) \
        else ()
    user = email or claims["sub"]
    session.clear()
    session.permanent = True
    session_id = secrets.token_urlsafe(32)
    current_app.extensions["store"].start_session(session_id, user, None, _settings().session_hours * 3600,
                                                  subject=claims["sub"], email=email, groups=groups,
                                                  id_token=token.get("id_token"))
    session["sid"] = session_id
    log.info("signed in with single sign-on", extra={"signed_in_user": user})
    return redirect(next_path, code=303)


# A host and port as a CSP source may name them: nothing that could end the directive or add another.
CSP_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not CSP_HOST.match(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _provider_origins(app) -> tuple[str, ...]:
    """Where signing out may send the browser: the issuer's origin, and the end_session_endpoint's once the
    discovery document has been read (a page served before then still names the issuer's)."""
    endpoint = app.extensions["oidc"].server_metadata.get("end_session_endpoint")
    origins = [_origin(app.config["SETTINGS"].oidc_issuer), _origin(endpoint) if isinstance(endpoint, str) else None]
    return tuple(dict.fromkeys(origin for origin in origins if origin))


def _signed_in_user():
    """The session's row, and whether a session existed but has ended (signed out, expired, new password)."""
    session_id = session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None, False
    store = current_app.extensions["store"]
    live = store.session(session_id)
    users: UsersFile | None = current_app.extensions.get("users")
    if live is None or (users is not None and users.fingerprint(live["user"]) != live["key"]):
        if live is not None:
            store.end_session(session_id)
        session.clear()
        return None, True
    return live, False


def _refuse(message: str):
    return render_template("error.html", title="Sign-in required", message=message), 401


def init_app(app) -> None:
    settings = app.config["SETTINGS"]
    if settings.auth == "accounts":
        app.extensions["users"] = UsersFile(settings.users_file)
    if settings.auth == "oidc":
        from authlib.integrations.flask_client import OAuth

        # Discovery from the issuer; the authorization-code flow with PKCE (S256), state and nonce; the ID
        # token's signature (the issuer's JWKS), issuer, audience, expiry and nonce checked by Authlib.
        # The token endpoint's client authentication is set from the setting here, or from the discovery
        # document on first use (_provider); the RFC 9207 iss check, the userinfo claims and signing out at the
        # provider are in the views above.
        client_kwargs = {"scope": settings.oidc_scopes, "code_challenge_method": "S256"}
        if settings.oidc_token_auth_method:
            client_kwargs["token_endpoint_auth_method"] = settings.oidc_token_auth_method
        app.extensions["oidc"] = OAuth(app).register(
            "oidc", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs)
    app.register_blueprint(bp)
    if settings.auth == "oidc":
        app.extensions["form_action_origins"] = lambda: _provider_origins(app)

    @app.before_request
    def require_sign_in():
        g.user, g.groups, g.subject, g.email = None, (), None, None
        if settings.auth == "proxy":
            value = request.headers.get(settings.trusted_user_header, "").strip()
            if value and len(value) <= 256 and value.isprintable():
                g.user = value
                if settings.trusted_groups_header:
                    g.groups = split_groups(request.headers.get(settings.trusted_groups_header, "")[:4096])
        elif settings.auth in ("accounts", "oidc"):
            live, g.session_ended = _signed_in_user()
            if live:
                g.user = live["user"]
                if settings.auth == "accounts":
                    g.groups = current_app.extensions["users"].groups(g.user)
                else:
                    g.groups, g.subject, g.email = live["groups"], live["subject"], live["email"]
        if g.user and not g.subject:
            # The identity as sign-in gave it: the proxy's header or the account name; an email when it is one.
            g.subject, g.email = g.user, (g.user if "@" in g.user else None)
        if settings.auth == "none" or g.user or request.endpoint in OPEN_ENDPOINTS:
            return None
        if settings.auth == "proxy":
            log.warning("request without the trusted user header %s", settings.trusted_user_header)
            return _refuse("This portal takes your identity from the sign-in proxy in front of it, and none "
                           "arrived with this request. Open the portal through its usual address.")
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?"),
                                    ended=1 if g.session_ended else None))
        return _refuse("Your session has ended, so this was not sent. Sign in again, then repeat it.")
