"""The database sources Flow Service publishes, fetched with the portal's credentials and cached."""

from __future__ import annotations

import logging
import threading
import time

from ..adobe import AdobeError
from ..sources import SOURCES
from ..sources.generic import param_label, source_from_spec, validate_spec_schema

log = logging.getLogger(__name__)
# After a failed fetch, wait this long before asking Flow Service again.
RETRY_AFTER_FAILURE = 30.0
CURATED_IDS = frozenset(source.connection_spec_id for source in SOURCES.values())


def is_database(spec: dict) -> bool:
    attributes = spec.get("attributes") or {}
    ui = ((spec.get("sourceSpec") or {}).get("attributes") or {}).get("uiAttributes") or {}
    category = str(attributes.get("category") or ui.get("category") or "").lower()
    return category == "database" and attributes.get("isSource", ui.get("isSource", True)) is not False


def label_of(spec: dict) -> str:
    return (spec.get("attributes") or {}).get("connectorName") or spec.get("name") or spec.get("id", "")


def summary_of(spec: dict) -> str:
    """A short line for the picker's card: the spec's own description, or how the source connects."""
    text = str(spec.get("description") or "").strip()
    if text:
        return text if len(text) <= 140 else text[:text.rfind(" ", 0, 137)].rstrip(",;:") + "…"
    names = [str(a.get("name")) for a in spec.get("authSpec") or [] if a.get("name")]
    return "Connect with " + " or ".join(names) + "." if names else ""


def describe_auth(auth_spec: dict) -> str:
    """What choosing this authSpec asks of the person, in words (the spec's own text is often the same for all)."""
    schema = auth_spec.get("spec") or {}
    properties = schema.get("properties") or {}
    required = [n for n in schema.get("required") or properties if n in properties]
    if list(properties) == ["connectionString"]:
        shape = str(properties["connectionString"].get("description") or "")
        shape = shape.split(":", 1)[1].strip() if ":" in shape else ""
        return ("Paste one connection string" + (f", shaped like {shape}" if shape else "") +
                ". It holds the password, so it is never shown again.")
    labels = [param_label(n) for n in required]
    words = [label if label.split(" ", 1)[0].isupper() else label[:1].lower() + label[1:] for label in labels]
    listed = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
    return f"Fill in the {listed} one by one." if listed else "Fill in the fields the source asks for."


class SpecCatalog:
    """Database connection specs beyond the curated four, fetched at most once per `ttl` seconds."""

    def __init__(self, client, sandbox: str, ttl: float, clock=time.monotonic):
        self._client = client
        self._sandbox = sandbox
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._specs: list[dict] | None = None
        self._fetched_at = float("-inf")
        self._failed_at = float("-inf")
        self._problem: str | None = None

    def database_specs(self) -> tuple[list[dict], str | None]:
        """The specs, sorted by label, and why none could be had (None when they could)."""
        with self._lock:
            now = self._clock()
            fresh = self._specs is not None and now - self._fetched_at < self._ttl
            if not fresh and now - self._failed_at >= RETRY_AFTER_FAILURE:
                self._fetch(now)
            if self._specs is None:
                return [], self._problem
            return self._specs, None

    def _fetch(self, now: float) -> None:
        try:
            items = self._client.list_connection_specs(self._sandbox)
        except AdobeError as error:
            self._failed_at = now
            self._problem = error.message
            log.warning("could not fetch connection specs: %s", error.code or error.message)
            return
        specs = []
        for spec in items:
            if spec.get("id") in CURATED_IDS or not is_database(spec) or not spec.get("authSpec"):
                continue
            usable = []
            for auth_spec in spec["authSpec"]:
                try:
                    validate_spec_schema(auth_spec)
                    usable.append(auth_spec)
                except Exception:  # noqa: BLE001 - one odd authSpec must not hide the rest
                    log.warning("authSpec %r of %s has no usable schema", auth_spec.get("name"), spec.get("id"))
            if usable:
                specs.append({**spec, "authSpec": usable})
        self._specs = sorted(specs, key=lambda s: label_of(s).lower())
        self._fetched_at, self._problem = now, None

    def offers(self, spec_id: str | None) -> bool:
        """Whether the portal makes and changes what is of this connection spec: a curated source's, or a database
        spec it builds forms for."""
        return spec_id in CURATED_IDS or any(s["id"] == spec_id for s in self.database_specs()[0])

    def source(self, spec_id: str, auth_name: str | None):
        """(the spec, the SpecSource for the chosen authSpec or None when one must be chosen), or (None, None)."""
        specs, _problem = self.database_specs()
        spec = next((s for s in specs if s["id"] == spec_id), None)
        if spec is None:
            return None, None
        auth_specs = spec["authSpec"]
        if auth_name is None and len(auth_specs) == 1:
            auth_name = auth_specs[0]["name"]
        chosen = next((a for a in auth_specs if a["name"] == auth_name), None)
        return spec, (source_from_spec(spec, chosen) if chosen else None)
