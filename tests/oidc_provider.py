"""A small OpenID Connect provider on loopback for the tests: discovery, authorization code with PKCE, ID tokens.

It signs RS256 ID tokens with a key of its own and can be told to misbehave
(`spoil`: a tampered signature, an expired token, a wrong nonce, issuer or
audience), so the wizard's refusals are tested against real HTTP and real JWTs.
Who signs in is set by the test (`login_as`): there is no login form.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


class Provider:
    def __init__(self, client_id="aep-wizard", client_secret="oidc-client-secret-1"):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.users: dict[str, dict] = {}
        self.login_as: str | None = None
        self.spoil: str | None = None
        self.codes: dict[str, dict] = {}
        self.token_requests = 0
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def add_user(self, name: str, groups=(), email: str | None = None, verified: bool = True) -> None:
        self.users[name] = {"sub": f"sub-{name}", "email": email or f"{name}@example.com", "groups": list(groups),
                            "email_verified": verified}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _id_token(self, code: dict) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": code["user"]["sub"], "aud": self.client_id, "iat": now,
                  "exp": now + 300, "nonce": code["nonce"], "email": code["user"]["email"],
                  "email_verified": code["user"]["email_verified"], "groups": code["user"]["groups"]}
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
        def discovery():
            return jsonify({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return jsonify({"error": "unauthorized_client"}), 400
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                return jsonify({"error": "invalid_request", "error_description": "PKCE S256 is required"}), 400
            if not args.get("state") or not args.get("nonce") or "openid" not in args.get("scope", "").split():
                return jsonify({"error": "invalid_request", "error_description": "state, nonce, openid"}), 400
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"redirect_uri": args["redirect_uri"], "nonce": args["nonce"], "used": False,
                                "challenge": args["code_challenge"], "user": self.users[self.login_as]}
            return redirect(args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]}))

        @app.post("/token")
        def token():
            self.token_requests += 1
            form = request.form
            auth = request.authorization
            client_id = auth.username if auth else form.get("client_id")
            client_secret = auth.password if auth else form.get("client_secret")
            if client_id != self.client_id or client_secret != self.client_secret:
                return jsonify({"error": "invalid_client"}), 401
            code = self.codes.get(form.get("code", ""))
            if code is None or code["used"] or form.get("redirect_uri") != code["redirect_uri"]:
                return jsonify({"error": "invalid_grant", "error_description": "unknown or used code"}), 400
            code["used"] = True
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if challenge != code["challenge"]:
                return jsonify({"error": "invalid_grant", "error_description": "PKCE verifier"}), 400
            return jsonify({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                            "id_token": self._id_token(code), "scope": "openid email profile"})

        return app
