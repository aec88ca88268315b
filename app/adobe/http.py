"""The HTTP session used for every call to Adobe: timeouts, retries, no secrets in errors."""

from __future__ import annotations

import os

import requests
from requests.adapters import HTTPAdapter
from requests.utils import should_bypass_proxies
from urllib3.util.retry import Retry

USER_AGENT = "aep-source-wizard/0.1"


# The longest a Retry-After from Adobe may hold a person's request before we give up and say so.
MAX_RETRY_AFTER = 10.0


class CappedRetry(Retry):
    """urllib3's Retry, honouring Retry-After only up to MAX_RETRY_AFTER seconds."""

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def network_settings(base_url: str, environ=None) -> tuple[dict[str, str], str | bool]:
    """(proxies, verify) for calls to `base_url`, read from the environment once, at start-up.

    HTTPS_PROXY / HTTP_PROXY (either case) unless NO_PROXY covers the host; REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE for a private CA. The session then never consults the environment again: requests
    would otherwise look up proxies, CA bundles and ~/.netrc on every call, and a ~/.netrc entry for
    Adobe's host would replace the bearer token.
    """
    environ = os.environ if environ is None else environ
    proxies = {}
    for scheme in ("http", "https"):
        value = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies[scheme] = value
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if proxies and no_proxy and should_bypass_proxies(base_url, no_proxy=no_proxy):
        proxies = {}
    verify = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify


def make_session(retry_methods: frozenset[str] = frozenset({"GET", "DELETE"}), base_url: str = "",
                 environ=None) -> requests.Session:
    """A session that retries `retry_methods` on connection failures, 429 and 502/503/504.

    Backoff is exponential (0.5 s, 1 s, 2 s... capped at 4 s) with jitter, and a
    429's Retry-After is honoured (up to MAX_RETRY_AFTER). POST /connections is not
    idempotent, so it is never retried here: a retry after a lost answer could
    create a second connection. PATCH carries an etag and is not retried either.
    Proxies and the CA bundle come from network_settings, once.
    """
    retry = CappedRetry(
        total=3,
        connect=3,
        read=False,  # re-raise read timeouts as themselves: the request may have been acted on
        status=3,
        backoff_factor=0.5,
        backoff_max=4.0,
        backoff_jitter=0.25,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=retry_methods,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.trust_env = False
    session.proxies, session.verify = network_settings(base_url, environ)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
