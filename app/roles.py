"""Who may do what, in which sandbox: four roles, granted to groups per sandbox pattern (WIZARD_ROLES).

`WIZARD_ROLES="data-eng=creator@dev-*;data-eng=viewer@prod;platform=admin@*"` grants each group
a role in the sandboxes its pattern matches (`*` and `?` as in file names). A person's role in a
sandbox is the highest any of their groups is granted there. Without WIZARD_ROLES every signed-in
person is admin everywhere, as before roles existed.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re

# Each role may do what the one before may, and more.
ROLES = ("viewer", "creator", "editor", "admin")
# The least role each action needs.
NEEDS = {
    "view": "viewer",
    "test": "viewer",
    "explore": "viewer",
    "audit": "viewer",
    "setup": "admin",
    "create": "creator",
    "rename": "editor",
    "rotate": "editor",
    "delete": "admin",
    # A dataflow: enable or disable it, retry a failed run, run one scheduled once.
    "enable": "editor",
    "retry": "editor",
    "run": "editor",
    # Create a dataflow from a connection's table (and remove what a stopped creation made).
    "dataflow": "creator",
    # Change a dataflow's name, schedule or mapping; manage alert rules in a sandbox.
    "edit": "editor",
    "alerts": "editor",
}
GROUP = re.compile(r"^[^=;@\s][^=;@]{0,127}$")
PATTERN = re.compile(r"^[a-z0-9*?][a-z0-9*?-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class Grant:
    group: str
    role: str
    sandboxes: str  # a pattern such as dev-* or prod

    def covers(self, sandbox: str) -> bool:
        return fnmatch.fnmatchcase(sandbox, self.sandboxes)


def parse_roles(text: str) -> tuple[Grant, ...]:
    """Read WIZARD_ROLES; raise ValueError naming every entry that is not `group=role@sandboxes`."""
    grants, problems = [], []
    for number, entry in enumerate((part.strip() for part in text.split(";")), 1):
        if not entry:
            continue
        group, equals, rest = entry.partition("=")
        role, at, pattern = rest.partition("@")
        group, role, pattern = group.strip(), role.strip().lower(), pattern.strip().lower()
        if not equals or not at:
            problems.append(f"entry {number} ({entry!r}) is not group=role@sandboxes")
        elif not GROUP.match(group):
            problems.append(f"entry {number} names no group before “=”")
        elif role not in ROLES:
            problems.append(f"entry {number} gives role {role!r}; the roles are {', '.join(ROLES)}")
        elif not PATTERN.match(pattern):
            problems.append(
                f"entry {number} gives sandboxes {pattern!r}; write a sandbox name or a pattern such as dev-* or *"
            )
        else:
            grants.append(Grant(group, role, pattern))
    if problems:
        raise ValueError("WIZARD_ROLES: " + "; ".join(problems) + ".")
    if text.strip() and not grants:
        raise ValueError("WIZARD_ROLES grants nothing.")
    return tuple(grants)


def role_in(grants: tuple[Grant, ...] | None, groups, sandbox: str) -> str | None:
    """The highest role the groups have in the sandbox; admin for everyone when no roles are configured."""
    if grants is None:
        return "admin"
    held = [ROLES.index(g.role) for g in grants if g.group in groups and g.covers(sandbox)]
    return ROLES[max(held)] if held else None


def may(grants, groups, sandbox: str, action: str) -> bool:
    role = role_in(grants, groups, sandbox)
    return role is not None and ROLES.index(role) >= ROLES.index(NEEDS[action])


def sandboxes_for(grants, groups, sandboxes, action: str) -> tuple[str, ...]:
    """The sandboxes, of those the portal uses, where the groups may do `action`."""
    return tuple(s for s in sandboxes if may(grants, groups, s, action))


def patterns_cover(patterns: str, sandbox: str) -> bool:
    """Whether any of comma-separated sandbox patterns (an API token's scope, such as dev-*,prod) covers `sandbox`."""
    return any(fnmatch.fnmatchcase(sandbox, p.strip()) for p in patterns.split(",") if p.strip())


def narrowed(role: str | None, scope_role: str, patterns: str, sandbox: str) -> str | None:
    """A person's role in a sandbox as a token of theirs may use it: no more than the token's role, and none outside
    the token's sandboxes."""
    if role is None or not patterns_cover(patterns, sandbox):
        return None
    return ROLES[min(ROLES.index(role), ROLES.index(scope_role))]
