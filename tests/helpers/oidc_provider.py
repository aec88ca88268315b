"""A small OpenID Connect provider on loopback for the tests: discovery, authorization code with PKCE, ID tokens.

It signs RS256 ID tokens with a key of its own and can be told to misbehave
(`spoil`: a tampered signature, an expired token, a wrong nonce, issuer or
audience, a wrong or missing RFC 9207 `iss`, a userinfo answer about someone
else), so the wizard's refusals are tested against real HTTP and real JWTs.

It can also behave as strict real providers do (`strict=True`, or each part on
its own): claims asked for by scope only at userinfo (OpenID Connect Core 5.4),
client_secret_post as the one token endpoint authentication, the `iss`
parameter announced and sent (RFC 9207), and an end_session_endpoint
(RP-Initiated Logout 1.0).

Like a real provider it keeps a session of its own in the browser (a cookie):
whoever signed in there is signed in again at once on the next authorization
request, until the end_session_endpoint ends it. Who signs in when it asks is
set by the test (`login_as`): there is no login form; `logins` counts the asks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

BOTH_METHODS = ("client_secret_basic", "client_secret_post")


class Provider:
    def __init__(
        self,
        client_id: str = "aep-wizard",
        client_secret: str = "oidc-client-secret-1",
        *,
        strict: bool = False,
        claims_in_userinfo: bool | None = None,
        auth_methods: Iterable[str] | None = None,
        iss_parameter: bool | None = None,
        end_session: bool | None = None,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.claims_in_userinfo = strict if claims_in_userinfo is None else claims_in_userinfo
        self.auth_methods = tuple(auth_methods or (("client_secret_post",) if strict else BOTH_METHODS))
        self.iss_parameter = strict if iss_parameter is None else iss_parameter
        self.end_session = strict if end_session is None else end_session
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.users: dict[str, dict[str, Any]] = {}
        self.login_as: str | None = None
        self.spoil: str | None = None
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.id_tokens: list[str] = []  # every ID token issued, for tests that look for them where none may be
        self.sessions: dict[str, str] = {}  # the provider's own browser sessions: cookie value → user name
        self.token_requests = 0
        self.token_auth_used: list[str] = []
        self.userinfo_requests = 0
        self.logins = 0
        self.logouts: list[dict[str, Any]] = []
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll: stop() returns at once rather than after serve_forever's default half second.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def add_user(self, name: str, groups: Iterable[str] = (), email: str | None = None, verified: bool = True) -> None:
        self.users[name] = {
            "sub": f"sub-{name}",
            "email": email or f"{name}@example.com",
            "groups": list(groups),
            "email_verified": verified,
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _id_token(self, code: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": code["user"]["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": code["nonce"],
        }
        if not self.claims_in_userinfo:
            claims.update(
                email=code["user"]["email"],
                email_verified=code["user"]["email_verified"],
                groups=code["user"]["groups"],
            )
        if self.spoil == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.spoil == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.spoil == "issuer":
            claims["iss"] = "https://someone-else.example.com"
        elif self.spoil == "audience":
            claims["aud"] = "another-client"
        token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        if self.spoil == "signature":
            # The same signature over a payload that grants more: the signature no longer matches.
            head, _body, signature = token.split(".")
            forged = json.dumps(dict(claims, groups=["g-admin"])).encode()
            token = ".".join((head, base64.urlsafe_b64encode(forged).decode().rstrip("="), signature))
        return token

    def _app(self) -> Flask:
        app = Flask("oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> ResponseReturnValue:
            document: dict[str, Any] = {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile", "groups"],
                "token_endpoint_auth_methods_supported": list(self.auth_methods),
            }
            if self.iss_parameter:
                document["authorization_response_iss_parameter_supported"] = True
            if self.end_session:
                document["end_session_endpoint"] = f"{self.issuer}/end-session"
            return jsonify(document)

        @app.get("/jwks")
        def jwks() -> ResponseReturnValue:
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> ResponseReturnValue:
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return jsonify({"error": "unauthorized_client"}), 400
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                return jsonify({"error": "invalid_request", "error_description": "PKCE S256 is required"}), 400
            if not args.get("state") or not args.get("nonce") or "openid" not in args.get("scope", "").split():
                return jsonify({"error": "invalid_request", "error_description": "state, nonce, openid"}), 400
            cookie = request.cookies.get("op_session", "")
            if cookie in self.sessions:
                who = self.sessions[cookie]  # signed in here already: nobody is asked
            else:
                assert self.login_as, "the test sets login_as before anyone signs in"
                who, cookie = self.login_as, secrets.token_urlsafe(16)
                self.sessions[cookie] = who
                self.logins += 1
            code = secrets.token_urlsafe(24)
            self.codes[code] = {
                "redirect_uri": args["redirect_uri"],
                "nonce": args["nonce"],
                "used": False,
                "challenge": args["code_challenge"],
                "user": self.users[who],
            }
            answer = {"code": code, "state": args["state"]}
            if self.spoil == "iss":
                answer["iss"] = "https://someone-else.example.com"
            elif self.iss_parameter and self.spoil != "no-iss":
                answer["iss"] = self.issuer
            response = redirect(args["redirect_uri"] + "?" + urlencode(answer))
            response.set_cookie("op_session", cookie, httponly=True, samesite="Lax")
            return response

        @app.post("/token")
        def token() -> ResponseReturnValue:
            self.token_requests += 1
            form = request.form
            auth = request.authorization
            method = "client_secret_basic" if auth else "client_secret_post"
            self.token_auth_used.append(method)
            client_id = auth.username if auth else form.get("client_id")
            client_secret = auth.password if auth else form.get("client_secret")
            if method not in self.auth_methods or client_id != self.client_id or client_secret != self.client_secret:
                return jsonify({"error": "invalid_client"}), 401
            code = self.codes.get(form.get("code", ""))
            if code is None or code["used"] or form.get("redirect_uri") != code["redirect_uri"]:
                return jsonify({"error": "invalid_grant", "error_description": "unknown or used code"}), 400
            code["used"] = True
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if challenge != code["challenge"]:
                return jsonify({"error": "invalid_grant", "error_description": "PKCE verifier"}), 400
            access_token, id_token = secrets.token_urlsafe(24), self._id_token(code)
            self.access_tokens[access_token] = code["user"]
            self.id_tokens.append(id_token)
            return jsonify(
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token,
                    "scope": "openid email profile",
                }
            )

        @app.get("/userinfo")
        def userinfo() -> ResponseReturnValue:
            self.userinfo_requests += 1
            header = request.headers.get("Authorization", "")
            user = self.access_tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
            if user is None:
                return jsonify({"error": "invalid_token"}), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            answer = dict(user)
            if self.spoil == "userinfo-subject":
                answer["sub"] = "sub-someone-else"
            return jsonify(answer)

        @app.get("/end-session")
        def end_session() -> ResponseReturnValue:
            args = request.args
            try:
                # An expired ID token is still a good hint (RP-Initiated Logout 2); its signature must be ours.
                hint = jwt.decode(args.get("id_token_hint", ""), self.key).claims
            except Exception:  # noqa: BLE001 - any unreadable hint
                return jsonify({"error": "invalid_request", "error_description": "id_token_hint"}), 400
            if hint.get("aud") != self.client_id or args.get("client_id") != self.client_id:
                return jsonify({"error": "invalid_request", "error_description": "client"}), 400
            self.logouts.append(
                {
                    "sub": hint.get("sub"),
                    **{name: args.get(name) for name in ("client_id", "post_logout_redirect_uri", "state")},
                }
            )
            self.sessions.pop(request.cookies.get("op_session", ""), None)
            target = args.get("post_logout_redirect_uri")
            response = (
                redirect(target + "?" + urlencode({"state": args["state"]}))
                if target
                else ("You are signed out of the provider.", 200)
            )
            response = app.make_response(response)
            response.delete_cookie("op_session")
            return response

        return app
