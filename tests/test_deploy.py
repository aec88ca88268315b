"""The team deployment in deploy/: a valid Compose file whose secrets stay in files, health-checked, behind one
proxy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

from .helpers.servers import REPO

DEPLOY = REPO / "deploy"
SCHEMA = Path(__file__).resolve().parent / "fixtures" / "compose" / "compose_spec.json"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft201909Validator(schema).iter_errors(compose()))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # The checker itself refuses a broken file.
    broken = {**compose(), "services": {"wizard": {"image": 5, "restart": "sometimes", "ports": [{"x": 1}]}}}
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(broken))


def test_every_service_is_health_checked_and_every_volume_named():
    spec = compose()
    assert set(spec["services"]) == {"proxy", "wizard", "migrate", "postgres", "keycloak"}
    for name, service in spec["services"].items():
        if name == "migrate":  # a step that runs once and exits, before the portal: nothing to health-check
            assert service["command"] == ["aep-source-wizard", "migrate"] and service["restart"] == "no"
            assert spec["services"]["wizard"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
            continue
        assert service["healthcheck"]["test"], name
    assert all(volume.get("name") for volume in spec["volumes"].values())


def test_secrets_stay_in_files():
    spec = compose()
    wizard = spec["services"]["wizard"]["environment"]
    for name in ("AEP_CLIENT_SECRET", "WIZARD_SECRET_KEY", "WIZARD_OIDC_CLIENT_SECRET"):
        assert name not in wizard and wizard[f"{name}_FILE"].startswith("/run/secrets/")
    for service in spec["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD|TOKEN", key):
                assert key.endswith("_FILE"), key
            assert (
                "://" not in str(value)
                or "@" not in str(value).split("://", 1)[1].split("/")[0]
                or ":" not in str(value).split("://", 1)[1].split("@")[0]
            ), f"{key} holds a password"
    for secret in spec["secrets"].values():
        example = DEPLOY / "secrets.example" / Path(secret["file"]).name
        assert example.is_file(), example
    assert "deploy/secrets/" in (REPO / ".gitignore").read_text()


def test_only_the_proxy_and_the_sign_in_page_are_published():
    services = compose()["services"]
    assert "ports" not in services["wizard"] and "ports" not in services["postgres"]
    assert services["wizard"]["environment"]["WIZARD_PROXY_COUNT"] == "1"
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_request_buffering on" in nginx and "proxy_pass http://wizard:8000" in nginx


def test_the_identity_provider_sample_matches_the_wizard():
    realm = json.loads((DEPLOY / "keycloak" / "aep-realm.json").read_text())
    client = realm["clients"][0]
    wizard = compose()["services"]["wizard"]["environment"]
    assert client["clientId"] == wizard["WIZARD_OIDC_CLIENT_ID"]
    assert wizard["WIZARD_OIDC_ISSUER"].endswith("/realms/" + realm["realm"])
    assert client["redirectUris"] == ["http://localhost:8080/sign-in/callback"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert (DEPLOY / "secrets.example" / "oidc_client_secret").read_text().strip() == client["secret"]
    groups = {g["name"] for g in realm["groups"]}
    for entry in wizard["WIZARD_ROLES"].split(";"):
        assert entry.split("=")[0] in groups


def test_the_image_context_leaves_out_the_venv_and_the_store():
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".venv", "wizard-data", ".git", "deploy"):
        assert entry in ignored
