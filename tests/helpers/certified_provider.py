"""An OpenID Certified provider that nobody here wrote, for the sign-in tests: panva's oidc-provider on Node.js.

`tests/oidc_node/provider.mjs` configures it as strict providers are (claims only at userinfo, one token endpoint
authentication, RFC 9207 `iss`, RP-Initiated Logout). Its packages are installed by `npm ci` into
`tests/oidc_node/node_modules` (gitignored) the first time, and again only when package-lock.json changes. Without
Node.js the tests that need it are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from .ci import unavailable
from .servers import free_port

FOLDER = Path(__file__).resolve().parents[1] / "oidc_node"
# What the node_modules folder was installed from: a new lock file installs again.
STAMP = FOLDER / "node_modules" / ".installed-from"
_install_lock = threading.Lock()


@contextlib.contextmanager
def _folder_locked() -> Iterator[None]:
    """The folder locked against other processes too (pytest-xdist's workers): one `npm ci` in it at a time."""
    folder = os.open(FOLDER, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # and with it the lock


def install() -> float:
    """`npm ci` when node_modules is missing or from another lock file; the seconds it took (0 when cached)."""
    with _install_lock, _folder_locked():
        lock = hashlib.sha256((FOLDER / "package-lock.json").read_bytes()).hexdigest()
        if STAMP.exists() and STAMP.read_text() == lock:
            return 0.0
        npm = shutil.which("npm")
        if not npm or not shutil.which("node"):
            unavailable("Node.js and npm are needed for the certified provider (apt-get install nodejs npm)")
        started = time.monotonic()
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            unavailable(f"npm ci in {FOLDER} failed: {result.stderr[-2000:]}")
        STAMP.write_text(lock)
        return time.monotonic() - started


class CertifiedProvider:
    """oidc-provider as a process on a free loopback port, with a client registered for the portal at `portal_url`."""

    def __init__(
        self,
        portal_url: str,
        users: dict[str, dict[str, Any]],
        port: int | None = None,
        token_auth_method: str = "client_secret_post",
        client_id: str = "aep-wizard",
        client_secret: str = "certified-client-secret-1",
    ) -> None:
        node = shutil.which("node")
        if not node:
            unavailable("Node.js is needed for the certified provider (apt-get install nodejs npm)")
        install()
        self.client_id, self.client_secret = client_id, client_secret
        port = port or free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        config = {
            "port": port,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": portal_url + "/sign-in/callback",
            "post_logout_redirect_uri": portal_url + "/signed-out",
            "token_auth_method": token_auth_method,
            "users": users,
        }
        self.process = subprocess.Popen(
            [node, "provider.mjs", json.dumps(config)],
            cwd=FOLDER,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        listening = threading.Event()

        def read() -> None:
            # Every line is kept (for a failure's message) and read, so the pipe never fills.
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)
                if line.startswith("listening "):
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(30):
            self.stop()
            raise AssertionError("the certified provider did not start:\n" + "".join(self.output)[-3000:])

    def discovery(self) -> dict[str, Any]:
        return requests.get(self.issuer + "/.well-known/openid-configuration", timeout=10).json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def form_of(page: requests.Response) -> tuple[str, dict[str, str]]:
    """The first form of a provider's page: its action (absolute) and its fields, as a browser would send them."""
    text = page.text
    found = re.search(r'<form[^>]*action="([^"]*)"', text)
    assert found, text[:500]
    action = html.unescape(found.group(1))
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', text)
    }
    return requests.compat.urljoin(page.url, action), fields


def log_in(browser: requests.Session, page: requests.Response, who: str) -> requests.Response:
    """Fill in the provider's sign-in form (the library's own page) as `who`; the answer, redirects followed."""
    assert 'name="login"' in page.text, page.text[:500]
    action, fields = form_of(page)
    return browser.post(
        action, data={**fields, "prompt": "login", "login": who, "password": "any password"}, timeout=15
    )
