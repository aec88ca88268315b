"""The set-up checks (`aep-source-wizard doctor` and the admins' Set-up page): against the emulator every check passes;
each failure is made by the emulator (or a closed port) answering as Adobe does in that case, and its fix names what to
change. Read-only: no check sends anything but reads (and IMS's token request)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from app import create_app, doctor, services
from app.emulator import Fault

from .helpers.live import settings_for
from .helpers.oidc_provider import Provider

FLOW = "/data/foundation/flowservice"


def _checks(settings) -> list[doctor.Check]:
    return list(doctor.run(services.of(create_app(settings))))


def _failed(checks) -> dict[str, doctor.Check]:
    return {check.title: check for check in checks if check.ok is False}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_against_the_emulator_every_check_passes_and_only_reads_are_sent(fresh_emulator):
    checks = _checks(settings_for(fresh_emulator))
    assert [c.title for c in checks if not c.ok] == []
    titles = [c.title for c in checks]
    for sandbox in ("prod", "dev"):
        for what in ("dataflows", "datasets", "schemas", "mapping sets"):
            assert f"Sandbox {sandbox}: {what}" in titles
    assert {"Settings", "The portal's database", "Adobe IMS: an access token", "Clock"} <= set(titles)
    platform = [r for r in fresh_emulator.received if not r.path.startswith(("/ims", "/_emulator"))]
    assert platform and {r.method for r in platform} == {"GET"}


def test_the_command_prints_each_check_and_exits_0_on_the_emulator(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env.update(WIZARD_DATA_DIR=str(tmp_path), AEP_SANDBOXES="prod,dev")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "doctor"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    Settings: Experience Platform at the built-in emulator")
    assert any(line.startswith("ok    Sandbox dev: mapping sets") for line in lines)
    assert not any(line.startswith("FAIL") for line in lines) and "{" not in result.stdout  # no log lines


def test_a_wrong_client_secret_names_the_credential_to_fix(fresh_emulator):
    checks = _checks(settings_for(fresh_emulator, client_secret="not-the-secret-0"))
    failed = _failed(checks)
    assert "AEP_CLIENT_SECRET" in failed["Adobe IMS: an access token"].fix
    assert "invalid_client" in failed["Adobe IMS: an access token"].detail
    # Nothing else can be checked without a token: it says so rather than failing each.
    assert {c.title: c.ok for c in checks}["Sandbox prod"] is None
    assert "not-the-secret-0" not in repr(checks)


def test_a_scope_the_credential_lacks_names_aep_scopes(fresh_emulator):
    fresh_emulator.faults.append(
        Fault("POST", "/ims/token/v3", 400, {"error": "invalid_scope", "error_description": "invalid_scope"})
    )
    check = _failed(_checks(settings_for(fresh_emulator)))["Adobe IMS: an access token"]
    assert "AEP_SCOPES" in check.fix and "openid" in check.fix


def test_ims_out_of_reach_points_at_the_proxy_and_the_ca_bundle(fresh_emulator):
    ims = f"http://127.0.0.1:{_closed_port()}"
    check = _failed(_checks(settings_for(fresh_emulator, ims_url=ims)))["Adobe IMS: an access token"]
    assert "could not reach Adobe IMS" in check.detail
    assert "HTTPS_PROXY" in check.fix and "REQUESTS_CA_BUNDLE" in check.fix and ims in check.fix


def test_a_sandbox_the_organisation_lacks_is_named(fresh_emulator):
    checks = _checks(settings_for(fresh_emulator, sandboxes=("prod", "prdo")))
    failed = _failed(checks)
    assert list(failed) == ["Sandbox prdo"]
    assert "no sandbox named prdo" in failed["Sandbox prdo"].fix and "AEP_SANDBOXES" in failed["Sandbox prdo"].fix
    assert {c.title: c.ok for c in checks}["Sandbox prod: schemas"] is True


# Flow Service's refusal as "Update dataflow labels" prints it (FLOW-2120-403); Catalog's and Data Prep's specs give a
# 403 no body, so the gateway's shape stands in for theirs (the troubleshooting guide's 403027, a credential without
# an Experience Platform product profile).
FORBIDDEN_FLOW = {
    "type": "https://ns.adobe.com/aep/errors/FLOW-2120-403",
    "title": "Forbidden",
    "status": 403,
    "report": {
        "detailed-message": "You do not have sufficient permissions to perform the operation. Please contact your "
        "administrator to resolve permissions and try again."
    },
}
FORBIDDEN_GATEWAY = {"error_code": "403027", "message": "User region is missing"}


@pytest.mark.parametrize(
    ("path", "body", "what", "permission"),
    [
        (f"{FLOW}/flows", FORBIDDEN_FLOW, "dataflows", "View Sources"),
        ("/data/foundation/catalog/dataSets", FORBIDDEN_GATEWAY, "datasets", "View Datasets"),
        ("/data/foundation/conversion/mappingSets", FORBIDDEN_GATEWAY, "mapping sets", "Manage Sources"),
    ],
)
def test_a_read_the_product_profile_does_not_allow_names_the_permission(fresh_emulator, path, body, what, permission):
    fresh_emulator.faults.append(Fault("GET", path, 403, body))
    failed = _failed(_checks(settings_for(fresh_emulator, sandboxes=("prod",))))
    assert list(failed) == [f"Sandbox prod: {what}"]
    assert permission in failed[f"Sandbox prod: {what}"].fix and "sandbox prod" in failed[f"Sandbox prod: {what}"].fix


def test_a_clock_far_from_adobes_is_said(fresh_emulator):
    fresh_emulator.clock_offset = 3600.0
    check = _failed(_checks(settings_for(fresh_emulator)))["Clock"]
    seconds = re.search(r"clock is (\d+) s behind Adobe's", check.detail)
    assert seconds and abs(int(seconds.group(1)) - 3600) <= 2 and "NTP" in check.fix  # Date has whole seconds


def test_a_database_out_of_reach_names_its_setting(fresh_emulator):
    url = f"postgresql://wizard:pw-in-url-9@127.0.0.1:{_closed_port()}/wizard"
    checks = _checks(settings_for(fresh_emulator, database_url=url))
    check = _failed(checks)["The portal's database"]
    assert "WIZARD_DATABASE_URL" in check.fix and "pw-in-url-9" not in repr(checks)


def test_a_sign_in_provider_out_of_reach_is_said():
    issuer = f"http://127.0.0.1:{_closed_port()}/realms/team"
    (check,) = doctor._sign_in(issuer, (1.0, 1.0))
    assert check.ok is False and check.title == "Single sign-on provider" and issuer in check.fix


def test_a_sign_in_provider_is_checked_by_its_discovery_document_and_keys():
    provider = Provider()
    try:
        (good,) = doctor._sign_in(provider.issuer, (2.0, 2.0))
        (other,) = doctor._sign_in(provider.issuer + "/realms/other", (2.0, 2.0))
    finally:
        provider.stop()
    assert good.ok is True and "1 signing key" in good.detail
    assert other.ok is False and "WIZARD_OIDC_ISSUER" in other.fix


def test_the_page_shows_each_check_to_an_admin(client, fresh_emulator):
    fresh_emulator.faults.append(Fault("GET", f"{FLOW}/flows", 403, FORBIDDEN_FLOW))
    page = client.get("/setup").get_data(as_text=True)
    assert "1 check failed" in page and "Failed:</strong> Sandbox prod: dataflows" in page
    assert "View Sources" in page and "Passed:</strong> Sandbox dev: schemas" in page
