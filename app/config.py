"""Settings read from the environment in one place and checked at start-up."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Mapping

from .roles import Grant, parse_roles

DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
CREDENTIAL_VARIABLES = ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID")
CLOUDS = ("azure", "aws")
AUTH_MODES = ("none", "proxy", "accounts", "oidc")
# How the portal proves itself at the identity provider's token endpoint (OpenID Connect Core 9).
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# Secrets may come from files (Docker and Kubernetes secrets): NAME_FILE holds NAME's value.
SECRET_VARIABLES = ("AEP_CLIENT_SECRET", "WIZARD_SECRET_KEY", "WIZARD_OIDC_CLIENT_SECRET", "WIZARD_SMTP_URL")
# Where Adobe I/O Events serves the public keys that sign its deliveries (its guide: fetch them from this domain only,
# never from a host the request names).
IO_EVENTS_KEYS = "https://static.adobeioevents.com"
# A forwarded header name as WSGI exposes it: letters, digits and dashes.
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")


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
    # The backoff factor (seconds) between retries of a call to Adobe that may be repeated (app/adobe/http.py).
    retry_backoff: float = 0.5
    # Who may use the portal: "none" (anyone who reaches it), "proxy" (a trusted
    # header set by an authenticating proxy) or "accounts" (WIZARD_USERS_FILE).
    auth: str = "none"
    trusted_user_header: str = ""
    users_file: str = ""
    # How many proxies sit in front and set X-Forwarded-*; 0 trusts none of them.
    proxy_count: int = 0
    session_hours: float = 8.0
    # How long the list of sources fetched from Flow Service is reused.
    spec_cache_seconds: int = 3600
    # Where the SQLite store lives, unless WIZARD_DATABASE_URL names a shared PostgreSQL.
    data_dir: str = "wizard-data"
    database_url: str = dataclasses.field(default="", repr=False)
    # Behind a proxy: the header that lists the user's groups (comma-separated), as oauth2-proxy sends them.
    trusted_groups_header: str = ""
    # WIZARD_ROLES: who may do what in which sandbox; None means every signed-in person is admin.
    roles: tuple[Grant, ...] | None = None
    # Single sign-on with OpenID Connect: the issuer (discovery at /.well-known/openid-configuration),
    # this portal's client, and the ID token claim that lists the person's groups.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = dataclasses.field(default="", repr=False)
    oidc_groups_claim: str = "groups"
    oidc_scopes: str = "openid email profile"
    # client_secret_basic or client_secret_post, as the client is registered; "" picks from the discovery document.
    oidc_token_auth_method: str = ""
    # Watching dataflows (app/watch): seconds between rounds (0: no watching); mail for alerts, when set
    # (smtp[s]://[user:password@]host[:port]); the portal's own address in what alerts link to.
    watch_seconds: float = 60.0
    smtp_url: str = dataclasses.field(default="", repr=False)
    smtp_from: str = "aep-source-wizard@localhost"
    public_url: str = ""
    # Whether alerts may go to this machine (a webhook on loopback): off, so that nobody can aim the portal at a
    # service listening only locally.
    alerts_to_loopback: bool = False
    # Credential links (app/web/owner.py): how long a link stays valid, and whether opening one needs a sign-in.
    credential_link_hours: float = 24.0
    credential_link_sign_in: bool = False
    # Not from the environment: I/O Events' key domain (the emulator's URL in emulator mode), and the first wait
    # before a failed alert is sent again (I/O Events' own schedule: 1, 2, 4, 8, then 15 minutes, for a day).
    io_events_keys: str = IO_EVENTS_KEYS
    alert_retry_seconds: float = 60.0

    @property
    def default_sandbox(self) -> str:
        return self.sandboxes[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables; raise ConfigError naming every problem."""
        env = os.environ if env is None else env
        problems: list[str] = []
        env = _read_secret_files(env, problems)
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
        proxy_count = 0
        proxy_text = env.get("WIZARD_PROXY_COUNT", "0").strip() or "0"
        if proxy_text.isdigit() and int(proxy_text) <= 5:
            proxy_count = int(proxy_text)
        else:
            problems.append(f"WIZARD_PROXY_COUNT must be a whole number from 0 to 5, not {proxy_text!r}.")
        session_hours = _hours(env, "WIZARD_SESSION_HOURS", 8.0, problems)
        cache_text = env.get("WIZARD_SPEC_CACHE_SECONDS", "3600").strip() or "3600"
        if not cache_text.isdigit() or int(cache_text) > 7 * 24 * 3600:
            problems.append(
                f"WIZARD_SPEC_CACHE_SECONDS must be a whole number of seconds up to 604800, not {cache_text!r}."
            )
        database_url = env.get("WIZARD_DATABASE_URL", "").strip()
        if database_url and not database_url.startswith(
            ("postgresql://", "postgres://", "postgresql+psycopg://", "sqlite:///")
        ):
            problems.append(
                "WIZARD_DATABASE_URL must be a postgresql:// URL (or unset, for SQLite under WIZARD_DATA_DIR)."
            )
        auth, header, users_file = _auth_mode(env, emulator, proxy_count, problems)
        groups_header = env.get("WIZARD_TRUSTED_GROUPS_HEADER", "").strip()
        if groups_header and (auth != "proxy" or not HEADER_NAME.match(groups_header)):
            problems.append(
                "WIZARD_TRUSTED_GROUPS_HEADER goes with WIZARD_TRUSTED_USER_HEADER and must be a header "
                f"name such as X-Forwarded-Groups, not {groups_header!r}."
            )
        token_auth_method = env.get("WIZARD_OIDC_TOKEN_AUTH_METHOD", "").strip().lower()
        if token_auth_method and (auth != "oidc" or token_auth_method not in TOKEN_AUTH_METHODS):
            problems.append(
                "WIZARD_OIDC_TOKEN_AUTH_METHOD goes with WIZARD_OIDC_ISSUER and must be "
                f"{' or '.join(TOKEN_AUTH_METHODS)} (as the client is registered at the identity "
                f"provider), not {token_auth_method!r}; unset, the provider's discovery document decides."
            )
        roles = None
        if env.get("WIZARD_ROLES", "").strip():
            try:
                roles = parse_roles(env["WIZARD_ROLES"])
            except ValueError as error:
                problems.append(str(error))
            if auth == "none":
                problems.append("WIZARD_ROLES grants roles to groups, so people must sign in: " + SIGN_IN_OPTIONS + ".")
        watch = _watch_settings(env, problems)
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
            auth=auth,
            trusted_user_header=header,
            users_file=users_file,
            proxy_count=proxy_count,
            session_hours=session_hours,
            spec_cache_seconds=int(cache_text) if cache_text.isdigit() else 3600,
            data_dir=env.get("WIZARD_DATA_DIR", "").strip() or "wizard-data",
            database_url=database_url,
            trusted_groups_header=groups_header,
            roles=roles,
            oidc_issuer=env.get("WIZARD_OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=env.get("WIZARD_OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=env.get("WIZARD_OIDC_CLIENT_SECRET", "").strip(),
            oidc_groups_claim=env.get("WIZARD_OIDC_GROUPS_CLAIM", "").strip() or "groups",
            # "openid" always; Dex, for one, sends groups only when the "groups" scope is asked for.
            oidc_scopes=" ".join(dict.fromkeys(["openid", *env.get("WIZARD_OIDC_SCOPES", "email profile").split()])),
            oidc_token_auth_method=token_auth_method,
            **watch,
        )

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


SIGN_IN_OPTIONS = (
    "set WIZARD_OIDC_ISSUER (with WIZARD_OIDC_CLIENT_ID and WIZARD_OIDC_CLIENT_SECRET) for single sign-on, "
    "WIZARD_TRUSTED_USER_HEADER (and WIZARD_PROXY_COUNT) behind an authenticating proxy, "
    "or WIZARD_USERS_FILE for built-in accounts (aep-source-wizard add-user NAME writes one)"
)


def _watch_settings(env: Mapping[str, str], problems: list[str]) -> dict:
    """WIZARD_WATCH_SECONDS, WIZARD_SMTP_URL, WIZARD_SMTP_FROM, WIZARD_PUBLIC_URL, WIZARD_ALERTS_TO_LOOPBACK and the
    credential links' WIZARD_CREDENTIAL_LINK_HOURS and WIZARD_CREDENTIAL_LINK_SIGN_IN, checked."""
    text = env.get("WIZARD_WATCH_SECONDS", "60").strip() or "60"
    if not text.isdigit() or not (int(text) == 0 or 1 <= int(text) <= 3600):
        problems.append(
            f"WIZARD_WATCH_SECONDS must be a whole number of seconds from 1 to 3600 (0 stops watching "
            f"dataflows), not {text!r}."
        )
        text = "60"
    smtp_url = env.get("WIZARD_SMTP_URL", "").strip()
    if smtp_url and not re.match(r"^smtps?://[^/?#\s]+$", smtp_url):
        # Never quoted back: it may hold the mail server's password.
        problems.append(
            "WIZARD_SMTP_URL must be smtp://host:port or smtps://host:port (with user:password@ before "
            "the host when the server asks for one)."
        )
    smtp_from = env.get("WIZARD_SMTP_FROM", "").strip() or "aep-source-wizard@localhost"
    if not re.match(r"^[^@\s<>]+@[^@\s<>]+$", smtp_from):
        problems.append(f"WIZARD_SMTP_FROM must be an email address, not {smtp_from!r}.")
    public_url = env.get("WIZARD_PUBLIC_URL", "").strip().rstrip("/")
    if public_url and not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", public_url):
        problems.append(
            f"WIZARD_PUBLIC_URL must be the portal's address as people open it (https://host/path), not {public_url!r}."
        )
    return {
        "watch_seconds": float(text),
        "smtp_url": smtp_url,
        "smtp_from": smtp_from,
        "public_url": public_url,
        "alerts_to_loopback": _flag(env, "WIZARD_ALERTS_TO_LOOPBACK", problems),
        "credential_link_hours": _hours(env, "WIZARD_CREDENTIAL_LINK_HOURS", 24.0, problems),
        "credential_link_sign_in": _flag(env, "WIZARD_CREDENTIAL_LINK_SIGN_IN", problems),
    }


def _hours(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    """A number of hours above 0 and at most 720 (30 days), or the default when unset."""
    text = env.get(name, "").strip() or str(default)
    try:
        hours = float(text)
        if not 0 < hours <= 24 * 30:
            raise ValueError
    except ValueError:
        problems.append(f"{name} must be a number of hours above 0 and at most 720, not {text!r}.")
        return default
    return hours


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    """1 (or true) or 0 (or false); unset is 0."""
    text = env.get(name, "").strip().lower()
    if text not in ("", "0", "1", "true", "false"):
        problems.append(f"{name} must be 1 or 0, not {text!r}.")
    return text in ("1", "true")


def _read_secret_files(env: Mapping[str, str], problems: list[str]) -> Mapping[str, str]:
    """`NAME_FILE=/run/secrets/x` gives NAME the file's content (one trailing newline dropped)."""
    values = dict(env)
    for name in SECRET_VARIABLES:
        path = env.get(f"{name}_FILE", "").strip()
        if not path:
            continue
        if env.get(name, "").strip():
            problems.append(f"Set {name} or {name}_FILE, not both.")
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                values[name] = handle.read().rstrip("\n")
        except OSError as error:
            problems.append(f"{name}_FILE {path!r} cannot be read ({error.strerror}).")
    return values


def _auth_mode(env: Mapping[str, str], emulator: bool, proxy_count: int, problems: list[str]) -> tuple[str, str, str]:
    """Decide how people sign in; with Adobe credentials set, someone must be asked."""
    header = env.get("WIZARD_TRUSTED_USER_HEADER", "").strip()
    users_file = env.get("WIZARD_USERS_FILE", "").strip()
    issuer = env.get("WIZARD_OIDC_ISSUER", "").strip()
    explicit = env.get("WIZARD_AUTH", "").strip().lower()
    if explicit and explicit not in AUTH_MODES:
        problems.append(f"WIZARD_AUTH must be one of {', '.join(AUTH_MODES)}, not {explicit!r}.")
        return "none", "", ""
    if sum(map(bool, (header, users_file, issuer))) > 1:
        problems.append(
            "Choose one sign-in, not both: WIZARD_OIDC_ISSUER, WIZARD_TRUSTED_USER_HEADER or WIZARD_USERS_FILE."
        )
        return "none", "", ""
    if issuer:
        missing = [n for n in ("WIZARD_OIDC_CLIENT_ID", "WIZARD_OIDC_CLIENT_SECRET") if not env.get(n, "").strip()]
        if missing:
            problems.append("Single sign-on needs " + " and ".join(missing) + " besides WIZARD_OIDC_ISSUER.")
        if not issuer.startswith(("https://", "http://")):
            problems.append(f"WIZARD_OIDC_ISSUER must be the issuer's URL, not {issuer!r}.")
        mode = "oidc"
    elif header:
        if not HEADER_NAME.match(header):
            problems.append(
                f"WIZARD_TRUSTED_USER_HEADER must be a header name such as X-Forwarded-Email, not {header!r}."
            )
        if proxy_count < 1:
            # Without a proxy in front, anyone could send the header and be whoever they like.
            problems.append(
                "WIZARD_TRUSTED_USER_HEADER is trusted only behind a proxy: set WIZARD_PROXY_COUNT "
                "to the number of proxies in front of the wizard (1 for oauth2-proxy alone)."
            )
        mode = "proxy"
    elif users_file:
        if not os.path.isfile(users_file):
            problems.append(
                f"WIZARD_USERS_FILE {users_file!r} does not exist: create it with aep-source-wizard add-user NAME."
            )
        mode = "accounts"
    else:
        mode = "none"
    if explicit and explicit != mode:
        problems.append(f"WIZARD_AUTH={explicit} does not match the sign-in that is configured ({mode}).")
    if mode == "none" and not emulator and explicit != "none":
        problems.append(
            f"Nobody would have to sign in to create connections with the Adobe credentials: "
            f"{SIGN_IN_OPTIONS}; or set WIZARD_AUTH=none if something else already guards the portal."
        )
    return mode, header, users_file
