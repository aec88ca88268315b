"""Built-in accounts: the users file (`name:hash [groups]` lines, werkzeug password hashes), read and written.

The sign-in page checks passwords here, and `aep-source-wizard add-user` writes lines here; neither needs the other's
module, so the command imports no blueprint.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading

from werkzeug.security import check_password_hash, generate_password_hash

log = logging.getLogger(__name__)

USER_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9._@+/-]{1,128}$")


class UsersFile:
    """`name:hash [group,group…]` lines (werkzeug password hashes), re-read when the file changes."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
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
