"""Start-up settings: which sign-in is configured, and every refusal names what to set."""

import os
import stat
import subprocess
import sys

import pytest

from app.accounts import read_users
from app.config import ConfigError, Settings
from app.gunicorn_conf import timeout as worker_timeout

from .helpers.servers import REPO, clean_env

ADOBE = {
    "AEP_CLIENT_ID": "id",
    "AEP_CLIENT_SECRET": "secret-value-7",
    "AEP_ORG_ID": "org@AdobeOrg",
    "WIZARD_SECRET_KEY": "k",
}


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users"
    path.write_text("ada:scrypt:32768:8:1$salt$abc\n")
    return str(path)


@pytest.mark.parametrize(
    "env, auth",
    [
        ({}, "none"),
        ({"WIZARD_AUTH": "none"}, "none"),
        ({"WIZARD_TRUSTED_USER_HEADER": "X-Forwarded-Email", "WIZARD_PROXY_COUNT": "1"}, "proxy"),
        ({"WIZARD_USERS_FILE": "{users}"}, "accounts"),
        ({**ADOBE, "WIZARD_AUTH": "none"}, "none"),
        ({**ADOBE, "WIZARD_USERS_FILE": "{users}"}, "accounts"),
        ({**ADOBE, "WIZARD_TRUSTED_USER_HEADER": "X-Auth-Request-Email", "WIZARD_PROXY_COUNT": "2"}, "proxy"),
    ],
)
def test_sign_in_modes(env, auth, users_file):
    env = {k: v.replace("{users}", users_file) for k, v in env.items()}
    assert Settings.from_env(env).auth == auth


@pytest.mark.parametrize(
    "env, message",
    [
        (ADOBE, "WIZARD_TRUSTED_USER_HEADER (and WIZARD_PROXY_COUNT)"),
        (ADOBE, "WIZARD_USERS_FILE"),
        (ADOBE, "WIZARD_AUTH=none"),
        ({"WIZARD_TRUSTED_USER_HEADER": "X-Forwarded-Email"}, "set WIZARD_PROXY_COUNT"),
        ({"WIZARD_TRUSTED_USER_HEADER": "X-Forwarded-Email", "WIZARD_PROXY_COUNT": "0"}, "set WIZARD_PROXY_COUNT"),
        ({"WIZARD_TRUSTED_USER_HEADER": "X Forwarded: Email", "WIZARD_PROXY_COUNT": "1"}, "must be a header name"),
        (
            {"WIZARD_TRUSTED_USER_HEADER": "X-User", "WIZARD_PROXY_COUNT": "1", "WIZARD_USERS_FILE": "{users}"},
            "not both",
        ),
        ({"WIZARD_USERS_FILE": "/no/such/file"}, "does not exist: create it with aep-source-wizard add-user"),
        ({"WIZARD_AUTH": "sometimes"}, "WIZARD_AUTH must be one of none, proxy, accounts"),
        ({"WIZARD_AUTH": "accounts"}, "does not match"),
        ({"WIZARD_PROXY_COUNT": "many"}, "WIZARD_PROXY_COUNT must be a whole number"),
        ({"WIZARD_SESSION_HOURS": "0"}, "WIZARD_SESSION_HOURS must be a number of hours"),
        ({"WIZARD_SESSION_HOURS": "soon"}, "WIZARD_SESSION_HOURS must be a number of hours"),
        ({"WIZARD_SPEC_CACHE_SECONDS": "-1"}, "WIZARD_SPEC_CACHE_SECONDS must be a whole number"),
    ],
)
def test_refusals_name_what_to_set(env, message, users_file):
    env = {k: v.replace("{users}", users_file) for k, v in env.items()}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert message in str(refused.value)
    assert "secret-value-7" not in str(refused.value)


def test_the_worker_timeout_outlasts_every_call_a_create_can_make():
    settings = Settings.from_env({})
    # IMS, the POST, a token renewal and the look-up after a lost answer, each bounded.
    assert worker_timeout > 3 * (settings.connect_timeout + settings.read_timeout)


def test_web_concurrency_sets_the_workers_and_a_bad_value_is_refused():
    code = "from app.cli import gunicorn_options; print(gunicorn_options()['workers'])"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=clean_env(WEB_CONCURRENCY="3"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.stdout.strip() == "3"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=clean_env(WEB_CONCURRENCY="lots"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode != 0 and "WEB_CONCURRENCY must be a whole number" in run.stderr


def add_user(*args, password="a long portal password", env=None):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "add-user", *args],
        cwd=REPO,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(**(env or {})),
    )


def test_add_user_writes_a_werkzeug_hash_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "users"
    result = add_user("ada", "--file", str(path))
    assert result.returncode == 0 and "added ada" in result.stdout
    assert "a long portal password" not in result.stdout + result.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = read_users(str(path))["ada"]
    assert first[0].startswith(("scrypt:", "pbkdf2:")) and first[1] == ()
    assert add_user("grace", env={"WIZARD_USERS_FILE": str(path)}).returncode == 0
    result = add_user("ada", "--file", str(path), password="another long password")
    assert "updated ada" in result.stdout
    users = read_users(str(path))
    assert set(users) == {"ada", "grace"} and users["ada"] != first
    assert add_user("lin", "--file", str(path), "--groups", "data-eng, platform").returncode == 0
    assert read_users(str(path))["lin"][1] == ("data-eng", "platform")


def test_secrets_can_come_from_files(tmp_path):
    (tmp_path / "aep").write_text("from-a-file\n")
    (tmp_path / "key").write_text("key-from-a-file")
    settings = Settings.from_env(
        {
            "AEP_CLIENT_ID": "c",
            "AEP_CLIENT_SECRET_FILE": str(tmp_path / "aep"),
            "AEP_ORG_ID": "o@AdobeOrg",
            "WIZARD_SECRET_KEY_FILE": str(tmp_path / "key"),
            "WIZARD_AUTH": "none",
        }
    )
    assert settings.client_secret == "from-a-file" and settings.secret_key == "key-from-a-file"
    with pytest.raises(ConfigError, match="cannot be read"):
        Settings.from_env({"AEP_CLIENT_SECRET_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env({"AEP_CLIENT_SECRET": "x", "AEP_CLIENT_SECRET_FILE": str(tmp_path / "aep")})


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["ada"], "a long portal password", "WIZARD_USERS_FILE"),
        (["ada:admin", "--file", "{path}"], "a long portal password", "A user name is"),
        (["ada", "--file", "{path}"], "short", "at least 12 characters"),
    ],
)
def test_add_user_refusals(tmp_path, args, password, message):
    args = [a.replace("{path}", str(tmp_path / "users")) for a in args]
    result = add_user(*args, password=password)
    assert result.returncode != 0 and message in result.stderr
    assert not (tmp_path / "users").exists()
