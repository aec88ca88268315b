"""Is the set-up right? Read-only checks, one by one, each with the fix in plain words, for `aep-source-wizard doctor`
and the admins' Set-up page: the settings, the store, reaching Adobe IMS and a token with the configured scopes, the
clocks, each sandbox of AEP_SANDBOXES known and readable (connections, dataflows, datasets, schemas, mapping sets), and
the single sign-on provider's discovery document and keys when one is set.

Nothing is created, changed or deleted anywhere: every call is a read (and IMS's token request, which the portal makes
anyway). Nothing secret is shown: Adobe's words pass through AdobeError, which withholds any that quote a secret.
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
from collections.abc import Callable, Iterator

import requests

from .adobe import AdobeError
from .adobe.errors import UNANSWERED, UNREACHED
from .adobe.gateway import FLOW_SERVICE
from .services import Services
from .store import StoreUnavailable

# How far the portal's clock may be from Adobe's before tokens and signed events go wrong (our choice: five minutes,
# the skew most token checks allow).
CLOCK_SKEW_SECONDS = 300
# Where each read's permission is granted: Experience Platform's access control (Admin Console → Products →
# Adobe Experience Platform → the credential's product profile → Permissions), as its permissions list names them
# (access-control/home: "View Sources", "Manage Sources", "View Datasets: read-only access for datasets and schemas",
# "View Schemas"). Adobe names no permission for Data Prep's mapping sets; sources' dataflows make them, so our
# choice is to point at Manage Sources.
PERMISSIONS = {
    "connections": "View Sources (and Manage Sources, to create connections)",
    "dataflows": "View Sources (and Manage Sources, to create dataflows)",
    "datasets": "View Datasets",
    "schemas": "View Schemas (or View Datasets)",
    "mapping sets": "Manage Sources (Adobe names no permission of Data Prep's own)",
}
LIMIT_ONE = [("limit", "1")]
NETWORK_FIX = (
    "From this machine, {url} must answer over HTTPS: behind a proxy set HTTPS_PROXY (and NO_PROXY for what must "
    "not go through it); a proxy that inspects TLS needs its CA in a bundle named by REQUESTS_CA_BUNDLE."
)


@dataclasses.dataclass(frozen=True)
class Check:
    """One thing checked: `ok` True (passed), False (failed: `fix` says what to do) or None (not checked: `detail`
    says why, such as a check it needs that failed)."""

    title: str
    ok: bool | None
    detail: str
    fix: str = ""


def run(services: Services) -> Iterator[Check]:
    """Every check, in order; a check that needs one that failed is listed as not checked."""
    settings = services.settings
    where = "the built-in emulator (no Adobe credentials are set)" if settings.emulator else settings.platform_url
    yield Check(
        "Settings",
        True,
        f"Experience Platform at {where}; IMS at {settings.ims_url}; organisation {settings.org_id}; "
        f"sandboxes {', '.join(settings.sandboxes)}; sign-in: {settings.auth}.",
    )
    yield _store(services)
    token = _token(services)
    yield token
    if not token.ok:
        for sandbox in settings.sandboxes:
            yield Check(f"Sandbox {sandbox}", None, "Not checked: it needs an access token.")
    else:
        yield from _platform(services)
    if settings.auth == "oidc":
        yield from _sign_in(settings.oidc_issuer, (settings.connect_timeout, settings.read_timeout))


def _store(services: Services) -> Check:
    try:
        services.store.ping()
    except StoreUnavailable as error:
        return Check(
            "The portal's database",
            False,
            f"It cannot be reached ({error.reason}).",
            "Check WIZARD_DATABASE_URL (or WIZARD_DATA_DIR for SQLite): the database's host and port reachable from "
            "the portal, its user and password, and that the database exists.",
        )
    return Check("The portal's database", True, "It answers.")


def _token(services: Services) -> Check:
    settings = services.settings
    title = "Adobe IMS: an access token"
    try:
        services.tokens.fresh()
    except AdobeError as error:
        if error.code == "invalid_client":
            fix = (
                "Set AEP_CLIENT_ID and AEP_CLIENT_SECRET to the OAuth Server-to-Server credential's, as the Adobe "
                "Developer Console shows them (Project → Credentials → OAuth Server-to-Server)."
            )
        elif error.code == "invalid_scope":
            fix = (
                "Set AEP_SCOPES to scopes the credential has (Developer Console → the credential → Scopes), "
                f"comma-separated; it is now {','.join(settings.scopes)}."
            )
        elif error.upstream_status is None:
            fix = NETWORK_FIX.format(url=settings.ims_url) + " Check AEP_IMS_URL too."
        else:
            fix = "Check AEP_CLIENT_ID, AEP_CLIENT_SECRET and AEP_SCOPES against the credential."
        return Check(title, False, error.message, fix)
    return Check(title, True, f"IMS issued a token for the scopes {','.join(settings.scopes)}.")


def _platform(services: Services) -> Iterator[Check]:
    settings = services.settings
    clock_checked = False
    for sandbox in settings.sandboxes:
        try:
            answer = services.gateway.call(
                "GET",
                "/connections",
                sandbox,
                "Reading connections",
                params=LIMIT_ONE,
                service=FLOW_SERVICE,
            )
        except AdobeError as error:
            yield _refused(f"Sandbox {sandbox}", sandbox, "connections", error, settings.platform_url)
            continue
        if not clock_checked:
            clock_checked = True
            yield _clock(answer.headers.get("Date"))
        yield Check(f"Sandbox {sandbox}", True, "Known, and its connections can be read.")
        for what, read in _reads(services, sandbox):
            try:
                read()
            except AdobeError as error:
                yield _refused(f"Sandbox {sandbox}: {what}", sandbox, what, error, settings.platform_url)
                continue
            yield Check(f"Sandbox {sandbox}: {what}", True, f"Its {what} can be read.")


def _reads(services: Services, sandbox: str) -> list[tuple[str, Callable[[], object]]]:
    """The reads the portal's pages make, one of each kind, at their smallest."""

    datasets: list[dict] = []

    def read_datasets():
        datasets[:] = services.catalog.page(sandbox, limit=1).items

    def schemas():
        # The schema of the dataset just read, if any: a read of its own only when the datasets could be read.
        schema_id = ((datasets[0].get("schemaRef") or {}).get("id")) if datasets else None
        if schema_id:
            services.schema_registry.schema(sandbox, schema_id)

    return [
        ("dataflows", lambda: services.gateway.call("GET", "/flows", sandbox, "Reading dataflows", params=LIMIT_ONE)),
        ("datasets", read_datasets),
        ("schemas", schemas),
        ("mapping sets", lambda: services.data_prep.find(sandbox, "aep-source-wizard set-up check")),
    ]


def _refused(title: str, sandbox: str, what: str, error: AdobeError, platform_url: str) -> Check:
    """A read Adobe refused, with the fix its status points to."""
    if error.code in (UNREACHED, UNANSWERED) and error.upstream_status is None:
        fix = NETWORK_FIX.format(url=platform_url) + " Check AEP_PLATFORM_URL too."
    elif error.unknown_sandbox:
        fix = (
            f"The organisation has no sandbox named {sandbox}: correct AEP_SANDBOXES to sandbox names (not titles) as "
            "Experience Platform's Sandboxes page lists them."
        )
    elif error.upstream_status in (401, 403):
        fix = (
            f"Give the credential's product profile the permission to read {what} in sandbox {sandbox}: in the Admin "
            f"Console, Adobe Experience Platform → the profile → Permissions → {PERMISSIONS[what]}, and add sandbox "
            f"{sandbox} to the profile's sandboxes. If {sandbox} is not the sandbox's name (the name, not its title), "
            "correct AEP_SANDBOXES."
        )
    else:
        fix = "Try again in a minute; if it persists, Adobe's status page says whether Experience Platform is down."
    return Check(title, False, error.message, fix)


def _clock(date_header: str | None) -> Check:
    try:
        adobe = email.utils.parsedate_to_datetime(date_header or "").timestamp()
    except (TypeError, ValueError, IndexError):
        return Check("Clock", None, "Not checked: Adobe's answer had no Date header.")
    skew = time.time() - adobe
    if abs(skew) > CLOCK_SKEW_SECONDS:
        return Check(
            "Clock",
            False,
            f"This machine's clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} Adobe's.",
            "Set the clock right (NTP: timedatectl set-ntp true, or the host's time service): tokens, sign-in and "
            "signed alerts depend on it.",
        )
    return Check("Clock", True, f"Within {max(1, round(abs(skew)))} s of Adobe's.")


def _sign_in(issuer: str, timeout: tuple[float, float]) -> Iterator[Check]:
    """The provider's discovery document (for this issuer) and its signing keys."""
    title = "Single sign-on provider"
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = requests.get(url, timeout=timeout)
        document = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError) as error:
        yield Check(title, False, f"{url} could not be read ({type(error).__name__}).", NETWORK_FIX.format(url=url))
        return
    if not isinstance(document, dict) or document.get("issuer") not in (issuer, issuer.rstrip("/")):
        yield Check(
            title,
            False,
            f"{url} answered {answer.status_code} without a discovery document for issuer {issuer}.",
            "Set WIZARD_OIDC_ISSUER to the provider's issuer exactly as its discovery document writes it.",
        )
        return
    try:
        keys = requests.get(str(document.get("jwks_uri")), timeout=timeout).json().get("keys")
    except (requests.RequestException, ValueError, AttributeError):
        keys = None
    if not isinstance(keys, list) or not keys:
        yield Check(
            title,
            False,
            f"The provider's signing keys ({document.get('jwks_uri')}) could not be read.",
            "The provider must publish its keys at its jwks_uri; check the provider, and the network to it.",
        )
        return
    yield Check(title, True, f"Its discovery document and {len(keys)} signing key(s) can be read.")
