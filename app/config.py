"""Settings read from the environment in one place and checked at start-up."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping

DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
CREDENTIAL_VARIABLES = ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID")
CLOUDS = ("azure", "aws")


class ConfigError(Exception):
    """The environment does not describe a configuration we can start with."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclasses.dataclass(frozen=True)
class Settings:
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    org_id: str
    secret_key: str = dataclasses.field(repr=False)
    scopes: tuple[str, ...] = _split(DEFAULT_SCOPES)
    sandboxes: tuple[str, ...] = ("prod",)
    platform_url: str = "https://platform.adobe.io"
    ims_url: str = "https://ims-na1.adobelogin.com"
    cloud: str = "azure"
    host: str = "127.0.0.1"
    port: int = 8000
    emulator: bool = False
    # Connect and read timeouts (seconds) for every call to Adobe.
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @property
    def default_sandbox(self) -> str:
        return self.sandboxes[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables; raise ConfigError naming every problem."""
        env = os.environ if env is None else env
        problems = []
        present = [name for name in CREDENTIAL_VARIABLES if env.get(name, "").strip()]
        emulator = not present
        if present and len(present) < len(CREDENTIAL_VARIABLES):
            missing = [name for name in CREDENTIAL_VARIABLES if name not in present]
            problems.append(
                "Adobe credentials are incomplete: set "
                + ", ".join(missing)
                + " (or unset "
                + ", ".join(present)
                + " to run on the built-in emulator)."
            )
        secret_key = env.get("WIZARD_SECRET_KEY", "").strip()
        if not secret_key:
            if emulator:
                secret_key = secrets.token_urlsafe(32)
            else:
                problems.append("WIZARD_SECRET_KEY is required when Adobe credentials are set.")
        cloud = env.get("AEP_CLOUD", "azure").strip().lower() or "azure"
        if cloud not in CLOUDS:
            problems.append(f"AEP_CLOUD must be one of {', '.join(CLOUDS)}, not {cloud!r}.")
        sandboxes = tuple(s.lower() for s in _split(env.get("AEP_SANDBOXES", "prod")))
        if not sandboxes:
            problems.append("AEP_SANDBOXES must name at least one sandbox.")
        scopes = _split(env.get("AEP_SCOPES", DEFAULT_SCOPES))
        if not scopes:
            problems.append("AEP_SCOPES must name at least one scope.")
        port_text = env.get("WIZARD_PORT", "8000").strip()
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            problems.append(f"WIZARD_PORT must be a port number from 1 to 65535, not {port_text!r}.")
        urls = {}
        for name, default in (
            ("AEP_PLATFORM_URL", "https://platform.adobe.io"),
            ("AEP_IMS_URL", "https://ims-na1.adobelogin.com"),
        ):
            url = env.get(name, default).strip().rstrip("/") or default
            if not url.startswith(("https://", "http://")):
                problems.append(f"{name} must be an http(s) URL, not {url!r}.")
            urls[name] = url
        if problems:
            raise ConfigError(" ".join(problems))
        return cls(
            client_id=env.get("AEP_CLIENT_ID", "").strip(),
            client_secret=env.get("AEP_CLIENT_SECRET", "").strip(),
            org_id=env.get("AEP_ORG_ID", "").strip(),
            secret_key=secret_key,
            scopes=scopes,
            sandboxes=sandboxes,
            platform_url=urls["AEP_PLATFORM_URL"],
            ims_url=urls["AEP_IMS_URL"],
            cloud=cloud,
            host=env.get("WIZARD_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=int(port_text),
            emulator=emulator,
        )

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)
