"""What the signed-in person may do, in which sandbox: the one place views ask, and the 403 page when they may not.

The person's groups come from sign-in (`g.groups`); WIZARD_ROLES grants roles to groups per sandbox
(`app.roles`). Without WIZARD_ROLES everyone signed in is admin everywhere. A call with an API token (`g.token`) may
do no more than the token's role, in the token's sandboxes.
"""

from __future__ import annotations

import logging

from flask import g
from werkzeug.exceptions import Forbidden

from .. import roles, services

log = logging.getLogger(__name__)


class NotPermitted(Forbidden):
    """The person's role does not allow this; the description says which role would."""


def _grants():
    return services.settings().roles


def role_in(sandbox: str) -> str | None:
    """The person's role in `sandbox`; through an API token, no more than the token's scope allows there."""
    role = roles.role_in(_grants(), g.get("groups", ()), sandbox)
    token = g.get("token")
    return roles.narrowed(role, token["role"], token["sandboxes"], sandbox) if token else role


def may(action: str, sandbox: str) -> bool:
    role = role_in(sandbox)
    return role is not None and roles.ROLES.index(role) >= roles.ROLES.index(roles.NEEDS[action])


def sandboxes_for(action: str) -> tuple[str, ...]:
    """The portal's sandboxes where the person may do `action`, in AEP_SANDBOXES order."""
    return tuple(s for s in services.settings().sandboxes if may(action, s))


def admin_everywhere() -> bool:
    """Whether the person is admin in every sandbox of the portal: who sees and revokes everyone's API tokens, and
    reads the audit entries of no sandbox (tokens made and revoked)."""
    return sandboxes_for("setup") == services.settings().sandboxes


def require(action: str, sandbox: str | None = None) -> None:
    """Raise NotPermitted unless the person may do `action` in `sandbox` (or, with None, in some sandbox)."""
    allowed = may(action, sandbox) if sandbox else bool(sandboxes_for(action))
    if not allowed:
        needed = roles.NEEDS[action]
        where = f"in sandbox {sandbox}" if sandbox else "in at least one sandbox"
        log.warning("refused %s %s: needs %s", action, sandbox or "", needed)
        raise NotPermitted(
            f"This needs the {needed} role {where}. Ask whoever runs the portal to add one of your "
            "groups to WIZARD_ROLES."
        )
