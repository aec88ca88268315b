"""Single sign-on with OpenID Connect: Authlib's Flask client, and the checks strict providers expect of a client
that Authlib leaves to us (the token endpoint's client authentication, RFC 9207's `iss`, claims from userinfo)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, request

from .. import services
from ..config import Settings


def register_client(app: Flask, settings: Settings):
    """Authlib's client of the identity provider: discovery from the issuer; the authorization-code flow with PKCE
    (S256), state and nonce; the ID token's signature (the issuer's JWKS), issuer, audience, expiry and nonce checked
    by Authlib. The token endpoint's client authentication is set from the setting here, or from the discovery
    document on first use (`provider`)."""
    from authlib.integrations.flask_client import OAuth

    client_kwargs = {"scope": settings.oidc_scopes, "code_challenge_method": "S256"}
    if settings.oidc_token_auth_method:
        client_kwargs["token_endpoint_auth_method"] = settings.oidc_token_auth_method
    return OAuth(app).register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )


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
    raise SignInRefused(
        f"the identity provider offers none of client_secret_basic and client_secret_post at its "
        f"token endpoint (it offers {', '.join(map(str, offered))[:200]})"
    )


def provider():
    """Authlib's client and the issuer's discovery document (read once per worker, then kept by Authlib)."""
    client = services.oidc()
    metadata = client.load_server_metadata()
    if "token_endpoint_auth_method" not in client.client_kwargs:
        # Authlib always sends client_secret_basic unless told otherwise; a client registered for
        # client_secret_post would be refused with invalid_client.
        client.client_kwargs["token_endpoint_auth_method"] = token_auth_method(
            services.settings().oidc_token_auth_method, metadata
        )
    return client, metadata


def check_issuer_parameter(metadata: dict) -> None:
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


def claims_with_userinfo(client, token: dict, claims: dict) -> dict:
    """The ID token's claims, completed from the userinfo endpoint when it lacks email or the groups claim.

    Providers that follow OpenID Connect Core 5.4 strictly answer claims asked for by scope only at userinfo.
    Its answer is about the same person only when its `sub` is the ID token's (Core 5.3.2); the ID token's own
    claims win over it.
    """
    groups_claim = services.settings().oidc_groups_claim
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


# A host and port as a CSP source may name them: nothing that could end the directive or add another.
CSP_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not CSP_HOST.match(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def provider_origins(client, issuer: str) -> tuple[str, ...]:
    """Where signing out may send the browser: the issuer's origin, and the end_session_endpoint's once the
    discovery document has been read (a page served before then still names the issuer's)."""
    endpoint = client.server_metadata.get("end_session_endpoint")
    origins = [_origin(issuer), _origin(endpoint) if isinstance(endpoint, str) else None]
    return tuple(dict.fromkeys(origin for origin in origins if origin))
