"""The HTTP session used for every call to Adobe: timeouts, retries, no secrets in errors."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "aep-source-wizard/0.1"


# The longest a Retry-After from Adobe may hold a person's request before we give up and say so.
MAX_RETRY_AFTER = 10.0


class CappedRetry(Retry):
    """urllib3's Retry, honouring Retry-After only up to MAX_RETRY_AFTER seconds."""

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def make_session(retry_methods: frozenset[str] = frozenset({"GET", "DELETE"})) -> requests.Session:
    """A session that retries `retry_methods` on connection failures, 429 and 502/503/504.

    Backoff is exponential (0.5 s, 1 s, 2 s... capped at 4 s) with jitter, and a
    429's Retry-After is honoured (up to MAX_RETRY_AFTER). POST /connections is not
    idempotent, so it is never retried here: a retry after a lost answer could
    create a second connection. PATCH carries an etag and is not retried either.
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
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
