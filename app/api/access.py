"""Who calls the API: a personal API token in `Authorization: Bearer …`, never a cookie.

A token acts as its person with the roles they hold now: with built-in accounts, the groups the users file gives
them now (a person removed from the file has no rights left); with single sign-on, the groups of their last sign-in;
behind a proxy, those their last page through the proxy came with; both kept in the store (app/store/tokens.py).
The token's own scope narrows that further (app/web/permissions.py). A wrong, expired or revoked token is the same
401; failures count in the sign-in throttle of the caller's address (app/web/throttle.py).
"""

from __future__ import annotations

import logging
import time

from flask import g, request

from .. import services
from ..web.throttle import FAILURE_WINDOW, FREE_FAILURES_PER_ADDRESS, MAX_WAIT
from .problems import Problem

log = logging.getLogger(__name__)

# Failed calls count against the sign-in page's per-address allowance, in the same throttle (app/web/auth.py). A valid
# token is never held back by others' failures: a team shares an address, and a 256-bit token cannot be guessed (our
# choice).
REFUSED = (
    "This call needs a valid API token in an Authorization: Bearer header. Make one on the portal's API tokens page; "
    "a token that expired or was revoked must be replaced."
)


def _refused() -> Problem:
    address = request.remote_addr or "unknown"
    wait = services.store().sessions.sign_in_attempt(
        {f"address:{address}": FREE_FAILURES_PER_ADDRESS}, time.time(), FAILURE_WINDOW, MAX_WAIT
    )
    if wait:
        return Problem(
            429,
            "Too many refused calls",
            f"Too many calls with a wrong token came from this address. Wait {wait} seconds, then try again.",
            headers={"Retry-After": str(wait)},
        )
    return Problem(401, "Not signed in", REFUSED, headers={"WWW-Authenticate": 'Bearer realm="aep-source-wizard"'})


def authenticate(settings) -> None:
    """Set g.user, g.groups and g.token from the call's token, or raise the Problem that refuses it."""
    sent = request.headers.get("Authorization", "")
    scheme, _, token = sent.partition(" ")
    token = token.strip()
    if settings.auth == "none":
        # Pages need no sign-in on a portal without one (a laptop): nor does the API. A token sent is not read.
        return
    # Whatever happens below, no log line can carry what was sent: the token, or a whole header of another shape.
    services.secrets().add_for_request(*(value for value in (sent.strip(), token) if value))
    if scheme.lower() != "bearer" or not token:
        raise _refused()
    store = services.store()
    row = store.tokens.check(token)
    groups = groups_now(settings, row["user"]) if row else None
    if row is None or groups is None:
        log.warning("API call refused: no valid token")
        raise _refused()
    g.user, g.groups, g.token = row["user"], groups, row
    g.subject, g.email = row["user"], (row["user"] if "@" in row["user"] else None)
    log.info("API call", extra={"token": f"{row['name']} ({row['prefix']})"})


def groups_now(settings, user: str) -> tuple[str, ...] | None:
    """The person's groups as the portal knows them now; None when the person is gone (no longer in the users
    file, or never signed in)."""
    if settings.auth == "accounts":
        users = services.users()
        if users is None or users.fingerprint(user) is None:
            return None
        return users.groups(user)
    person = services.store().tokens.person(user)
    return person["groups"] if person else None
