"""The real command (`aep-source-wizard`, gunicorn) starts in every sign-in mode, and a person signs in through it.

The other tests build the app without the command, so a start-up that fails in one mode (the log line once knew
only three) would go unseen. The four processes start side by side; each is asked over HTTP as a browser would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from app.config import AUTH_MODES

from .helpers.markup import csrf_token
from .helpers.oidc_provider import Provider
from .helpers.servers import REPO, serve, wait_until_up

COMMAND = str(Path(sys.executable).parent / "aep-source-wizard")
PASSWORD = "served-password-7c2e"


def adobe(emulator) -> dict:
    """Real mode against the emulator: with Adobe credentials, sign-in is required unless WIZARD_AUTH=none."""
    return dict(
        AEP_CLIENT_ID=emulator.client_id,
        AEP_CLIENT_SECRET=emulator.client_secret,
        AEP_ORG_ID=emulator.org_id,
        AEP_PLATFORM_URL=emulator.url,
        AEP_IMS_URL=emulator.url,
        AEP_SANDBOXES="prod,dev",
        WIZARD_SECRET_KEY="served-secret-key-91ab",
    )


def sign_out(url: str, browser: requests.Session) -> requests.Response:
    page = browser.get(url + "/connections?sandbox=prod", timeout=15)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return browser.post(url + "/sign-out", data={"csrf_token": token}, timeout=15)


@pytest.fixture
def provider():
    provider = Provider(strict=True)  # claims at userinfo, client_secret_post, RFC 9207 iss, end_session_endpoint
    provider.add_user("ada", ["g-admin"])
    provider.add_user("vera", ["g-viewer"])
    yield provider
    provider.stop()


def start_every_mode(emulator, provider, tmp_path) -> dict:
    """One `aep-source-wizard` per sign-in mode, all started before any is waited for: {mode: (url, process)}."""
    users = tmp_path / "users"
    # The account is made as an operator would: `aep-source-wizard add-user`, the password on standard input.
    made = subprocess.run(
        [COMMAND, "add-user", "ada", "--file", str(users), "--groups", "g-admin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    roles = {"WIZARD_ROLES": "g-admin=admin@*;g-viewer=viewer@*"}
    modes = {
        "none": {"WIZARD_AUTH": "none"},
        "proxy": {
            "WIZARD_TRUSTED_USER_HEADER": "X-Forwarded-Email",
            "WIZARD_TRUSTED_GROUPS_HEADER": "X-Forwarded-Groups",
            "WIZARD_PROXY_COUNT": "1",
            **roles,
        },
        "accounts": {"WIZARD_USERS_FILE": str(users), **roles},
        "oidc": {
            "WIZARD_OIDC_ISSUER": provider.issuer,
            "WIZARD_OIDC_CLIENT_ID": provider.client_id,
            "WIZARD_OIDC_CLIENT_SECRET": provider.client_secret,
            "WIZARD_OIDC_SCOPES": "email profile groups",
            **roles,
        },
    }
    assert set(modes) == set(AUTH_MODES)
    return {
        mode: serve([COMMAND], cwd=REPO, WIZARD_DATA_DIR=str(tmp_path / mode), **adobe(emulator), **env)
        for mode, env in modes.items()
    }


@pytest.mark.slow
def test_the_command_starts_in_every_sign_in_mode_and_people_sign_in(fresh_emulator, provider, tmp_path):
    started = start_every_mode(fresh_emulator, provider, tmp_path)
    urls = {mode: url for mode, (url, _process) in started.items()}
    try:
        for url, process in started.values():
            wait_until_up(url, process, seconds=60)

        # none: nobody is asked.
        page = requests.get(urls["none"] + "/connections?sandbox=prod", timeout=15)
        assert page.status_code == 200 and "Signed in as" not in page.text

        # proxy: the header names the person and their groups; without it, nobody.
        header = {"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Groups": "g-admin"}
        page = requests.get(urls["proxy"] + "/sources/redshift", headers=header, timeout=15)
        assert page.status_code == 200 and "Signed in as <strong>ada@example.com</strong>" in page.text
        assert requests.get(urls["proxy"] + "/connections", timeout=15).status_code == 401

        # accounts: the sign-in form, with the account that add-user wrote.
        browser = requests.Session()
        form = browser.get(urls["accounts"] + "/sign-in", timeout=15)
        page = browser.post(
            urls["accounts"] + "/sign-in",
            timeout=15,
            data={
                "csrf_token": csrf_token(form.text),
                "username": "ada",
                "password": PASSWORD,
                "next": "/sources/redshift",
            },
        )
        assert page.status_code == 200 and "Signed in as <strong>ada</strong>" in page.text
        assert page.url == urls["accounts"] + "/sources/redshift"

        # oidc: a strict provider (claims only at userinfo, client_secret_post, iss), and signing out there too.
        provider.login_as = "ada"
        browser = requests.Session()
        page = browser.get(urls["oidc"] + "/sources/redshift", timeout=15)
        assert page.status_code == 200 and "Signed in as <strong>ada@example.com</strong>" in page.text
        assert provider.token_auth_used == ["client_secret_post"] and provider.userinfo_requests == 1
        landed = sign_out(urls["oidc"], browser)
        assert landed.url.startswith(urls["oidc"] + "/signed-out")
        assert "of your organisation's sign-in" in landed.text
        provider.login_as = "vera"
        page = browser.get(urls["oidc"] + "/connections?sandbox=prod", timeout=15)
        assert "Signed in as <strong>vera@example.com</strong>" in page.text and provider.logins == 2
    finally:
        for _url, process in started.values():
            process.terminate()
        outputs = {mode: process.communicate(timeout=20)[0] for mode, (_url, process) in started.items()}
    assert "sign-in: nobody is asked" in outputs["none"]
    assert "sign-in: trusted proxy header" in outputs["proxy"]
    assert "sign-in: built-in accounts" in outputs["accounts"]
    assert f"sign-in: single sign-on with OpenID Connect at {provider.issuer}" in outputs["oidc"]
    assert "signed in with single sign-on" in outputs["oidc"]
    # The whole run's output holds no secret: neither the client secret nor any token the provider issued.
    for secret in [provider.client_secret, *provider.access_tokens, *provider.id_tokens]:
        assert secret not in outputs["oidc"]
