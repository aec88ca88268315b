"""The installed product: a wheel that carries its templates and static files, and the console script."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .helpers.servers import REPO, clean_env, serve, wait_until_up


@pytest.mark.slow
def test_a_non_editable_install_serves_templates_and_static_files(tmp_path):
    venv = tmp_path / "venv"
    # A venv of its own: it installs the wheel and its dependencies as a user's would.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    build = tmp_path / "src"
    shutil.copytree(REPO, build, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info"))
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(build)], check=True, cwd=tmp_path
    )
    shutil.rmtree(build)  # whatever the app serves now must come from the installed package
    located = subprocess.run(
        [python, "-c", "import app; print(app.__file__)"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert str(venv) in located
    url, process = serve([str(venv / "bin" / "aep-source-wizard")], cwd=tmp_path)
    try:
        wait_until_up(url, process)
        assert "Connect a database to Experience Platform" in requests.get(url, timeout=5).text
        assert "deprecated by Adobe" in requests.get(url, timeout=5).text
        assert requests.get(url + "/sources/phoenix", timeout=5).status_code == 200
        assert "--blue" in requests.get(url + "/static/style.css", timeout=5).text
        assert "addSecretToggle" in requests.get(url + "/static/wizard.js", timeout=5).text
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.slow
def test_the_command_without_credentials_serves_on_the_emulator_with_a_banner():
    url, process = serve([sys.executable, "-m", "app.cli"], cwd=REPO)
    try:
        wait_until_up(url, process)
        assert requests.get(url + "/healthz", timeout=5).json()["mode"] == "emulator"
        assert "Emulator:</strong> nothing is sent to Adobe" in requests.get(url + "/sources/redshift", timeout=5).text
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert "built-in emulator" in output


def test_partial_credentials_stop_the_command_naming_what_is_missing():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=clean_env(AEP_CLIENT_ID="abc", AEP_CLIENT_SECRET="do-not-print-me"),
        timeout=30,
    )
    assert result.returncode != 0
    assert "AEP_ORG_ID" in result.stderr
    assert "do-not-print-me" not in result.stderr + result.stdout


def test_real_mode_requires_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=clean_env(AEP_CLIENT_ID="a", AEP_CLIENT_SECRET="b", AEP_ORG_ID="c@AdobeOrg"),
        timeout=30,
    )
    assert result.returncode != 0 and "WIZARD_SECRET_KEY" in result.stderr


def test_real_mode_without_sign_in_refuses_to_start_naming_both_options():
    result = subprocess.run(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=clean_env(AEP_CLIENT_ID="a", AEP_CLIENT_SECRET="b", AEP_ORG_ID="c@AdobeOrg", WIZARD_SECRET_KEY="k"),
        timeout=30,
    )
    assert result.returncode == 2
    for option in ("WIZARD_TRUSTED_USER_HEADER", "WIZARD_USERS_FILE", "WIZARD_AUTH=none"):
        assert option in result.stderr


def test_with_all_credentials_it_talks_to_the_configured_adobe_urls(fresh_emulator):
    url, process = serve(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        AEP_CLIENT_ID=fresh_emulator.client_id,
        AEP_CLIENT_SECRET=fresh_emulator.client_secret,
        AEP_ORG_ID=fresh_emulator.org_id,
        AEP_PLATFORM_URL=fresh_emulator.url,
        AEP_IMS_URL=fresh_emulator.url,
        WIZARD_SECRET_KEY="test-secret-key",
        WIZARD_AUTH="none",
    )
    try:
        wait_until_up(url, process)
        assert requests.get(url + "/healthz", timeout=5).json()["mode"] == "adobe"
        assert requests.get(url + "/readyz", timeout=5).json() == {"status": "ready", "mode": "adobe"}
        page = requests.get(url + "/", timeout=5).text
        assert "nothing is sent to Adobe" not in page
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert fresh_emulator.url in output and fresh_emulator.client_secret not in output


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
