"""The HTTP session used for every call to Adobe: timeouts, retries, no secrets in errors."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "aep-source-wizard/0.1"


def make_session(retry_methods: frozenset[str] = frozenset({"GET"})) -> requests.Session:
    """A session that retries connection failures and 502/503/504 for `retry_methods` only.

    POST /connections is not idempotent, so it is never retried here: a retry
    after a lost answer could create a second connection.
    """
    retry = Retry(
        total=2,
        connect=2,
        read=False,  # re-raise read timeouts as themselves: the request may have been acted on
        status=2,
        backoff_factor=0.25,
        status_forcelist=(502, 503, 504),
        allowed_methods=retry_methods,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
