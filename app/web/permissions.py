"""What the signed-in person may do, in which sandbox: the one place views ask, and the 403 page when they may not.

The person's groups come from sign-in (`g.groups`); WIZARD_ROLES grants roles to groups per sandbox
(`app.roles`). Without WIZARD_ROLES everyone signed in is admin everywhere.
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
    return roles.role_in(_grants(), g.get("groups", ()), sandbox)


def may(action: str, sandbox: str) -> bool:
    return roles.may(_grants(), g.get("groups", ()), sandbox, action)


def sandboxes_for(action: str) -> tuple[str, ...]:
    """The portal's sandboxes where the person may do `action`, in AEP_SANDBOXES order."""
    return roles.sandboxes_for(_grants(), g.get("groups", ()), services.settings().sandboxes, action)


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
