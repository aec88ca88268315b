"""The database sources Flow Service publishes (`GET /connectionSpecs`), fetched with the portal's credentials and kept
a while: an HTTP cache of Adobe's specs, beside the client that reads them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .errors import AdobeError

log = logging.getLogger(__name__)
# After a failed fetch, wait this long before asking Flow Service again.
RETRY_AFTER_FAILURE = 30.0


def is_database(spec: dict) -> bool:
    attributes = spec.get("attributes") or {}
    ui = ((spec.get("sourceSpec") or {}).get("attributes") or {}).get("uiAttributes") or {}
    category = str(attributes.get("category") or ui.get("category") or "").lower()
    return category == "database" and attributes.get("isSource", ui.get("isSource", True)) is not False


def _label(spec: dict) -> str:
    return str((spec.get("attributes") or {}).get("connectorName") or spec.get("name") or spec.get("id", ""))


class SpecCatalog:
    """Database connection specs, fetched at most once per `ttl` seconds. `skip` names specs kept out (the curated
    sources, which have forms of their own); `usable` says which authSpecs can be used (one that cannot is left out,
    and a spec with none left is left out)."""

    def __init__(
        self,
        client,
        sandbox: str,
        ttl: float,
        skip=frozenset(),
        usable: Callable[[dict], bool] = bool,
        clock=time.monotonic,
    ):
        self._client = client
        self._sandbox = sandbox
        self._ttl = ttl
        self._skip = frozenset(skip)
        self._usable = usable
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
            if spec.get("id") in self._skip or not is_database(spec) or not spec.get("authSpec"):
                continue
            usable = [auth_spec for auth_spec in spec["authSpec"] if self._usable(auth_spec)]
            if usable:
                specs.append({**spec, "authSpec": usable})
        self._specs = sorted(specs, key=lambda s: _label(s).lower())
        self._fetched_at, self._problem = now, None

    def spec(self, spec_id: str) -> dict | None:
        """The database spec of this id, or None."""
        specs, _problem = self.database_specs()
        return next((s for s in specs if s["id"] == spec_id), None)

    def offers(self, spec_id: str | None) -> bool:
        """Whether the portal makes and changes what is of this connection spec: a curated source's (`skip`), or a
        database spec it builds forms for."""
        return spec_id in self._skip or self.spec(spec_id or "") is not None
