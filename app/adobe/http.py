"""The HTTP session used for every call to Adobe: timeouts, retries, no secrets in errors.

It is urllib3 itself (pools, Retry, TLS), not requests on top of it: requests merges session and
environment settings, cookies and hooks on every call, which cost more CPU than the rest of a submission's
server-side work together (bench/overhead.py). What the client reads of an answer is `Answer`; what can go
wrong before one arrives is `ConnectFailed` (nothing reached Adobe) or `NoAnswer` (it may have).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

USER_AGENT = "aep-source-wizard/0.1"


# The longest a Retry-After from Adobe may hold a person's request before we give up and say so.
MAX_RETRY_AFTER = 10.0


class CappedRetry(Retry):
    """urllib3's Retry, honouring Retry-After only up to MAX_RETRY_AFTER seconds."""

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


class CallFailed(Exception):
    """A call to Adobe that got no whole answer. Its text names the host and the kind of failure, nothing sent."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class ConnectFailed(CallFailed):
    """Nothing reached Adobe: the name did not resolve, the connection (or TLS, or the proxy) failed or timed out."""


class NoAnswer(CallFailed):
    """The request may have reached Adobe, but no whole answer came back: it timed out or broke off."""


class Sent:
    """The request as it went out, for whoever checks it (the OpenAPI checker in the tests)."""

    __slots__ = ("method", "url", "headers", "body")

    def __init__(self, method: str, url: str, headers: dict, body: bytes | None):
        self.method, self.url, self.headers, self.body = method, url, headers, body


class Answer:
    """What Adobe answered: status, headers (case-insensitive), the body as bytes, and the request sent."""

    __slots__ = ("status_code", "headers", "content", "request")

    def __init__(self, status_code: int, headers, content: bytes, request: Sent):
        self.status_code, self.headers, self.content, self.request = status_code, headers, content, request

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


def network_settings(base_url: str, environ=None) -> tuple[dict[str, str], str | bool]:
    """(proxies, verify) for calls to `base_url`, read from the environment once, at start-up.

    HTTPS_PROXY / HTTP_PROXY (either case) unless NO_PROXY covers the host; REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE for a private CA. Nothing else of the environment is read, ever: no ~/.netrc, which
    with requests would replace the bearer token for a host it names.
    """
    environ = os.environ if environ is None else environ
    proxies = {}
    for scheme in ("http", "https"):
        value = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies[scheme] = value
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if proxies and no_proxy and _bypasses(urlsplit(base_url).hostname or "", no_proxy):
        proxies = {}
    verify = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify


def _bypasses(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY (`*`, or host names and domain suffixes, comma-separated) covers `host`."""
    host = host.lower()
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        entry = entry.split(":")[0].lstrip("*")  # "*.adobe.io" and ".adobe.io" mean the same; ports ignored
        if entry in ("", "."):
            if no_proxy.strip() == "*":
                return True
            continue
        if host == entry.lstrip(".") or host.endswith(entry if entry.startswith(".") else "." + entry):
            return True
    return False


class Session:
    """Pooled keep-alive connections to one Adobe service, with retries for the methods safe to repeat."""

    def __init__(self, retry: Retry, base_url: str = "", environ=None):
        proxies, verify = network_settings(base_url, environ)
        scheme = urlsplit(base_url).scheme or "https"
        self.proxy_url = proxies.get(scheme)
        self.ca_bundle = verify if isinstance(verify, str) else _default_ca_bundle()
        self._pool = (
            urllib3.ProxyManager(
                self.proxy_url,
                num_pools=10,
                maxsize=10,
                retries=retry,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self.ca_bundle,
            )
            if self.proxy_url
            else urllib3.PoolManager(
                num_pools=10, maxsize=10, retries=retry, cert_reqs="CERT_REQUIRED", ca_certs=self.ca_bundle
            )
        )
        self.headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        # Called with each Answer (the tests' OpenAPI checker); nothing in the wizard adds one.
        self.observers: list = []

    def request(
        self, method: str, url: str, *, headers=None, timeout=(10, 30), params=None, json=None, data=None
    ) -> Answer:
        """Send one request; an Answer whatever its status, or CallFailed when none came."""
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        sent_headers = {**self.headers, **(headers or {})}
        body = None
        if json is not None:
            body = _json_bytes(json)
            sent_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urlencode(data).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connect, read = timeout
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=sent_headers,
                redirect=False,
                timeout=urllib3.Timeout(connect=connect, read=read),
            )
        except MaxRetryError as exc:
            reason = exc.reason
            if isinstance(reason, NewConnectionError):  # refused, unresolvable: nothing was sent
                raise ConnectFailed(f"{method} {_host(url)}: {type(reason).__name__}") from None
            if isinstance(reason, ConnectTimeoutError):
                raise ConnectFailed(f"{method} {_host(url)}: no connection in time", timed_out=True) from None
            # TLS or a proxy failed, perhaps after the request went out: treated as possibly sent.
            raise NoAnswer(f"{method} {_host(url)}: {type(reason).__name__}") from None
        except ReadTimeoutError:
            raise NoAnswer(f"{method} {_host(url)}: no answer in time", timed_out=True) from None
        except (HTTPError, OSError) as exc:
            # A connection reset, a truncated or undecodable answer: the request may have been acted on.
            raise NoAnswer(f"{method} {_host(url)}: {type(exc).__name__}") from None
        answer = Answer(response.status, response.headers, response.data, Sent(method, url, sent_headers, body))
        for observer in self.observers:
            observer(answer)
        return answer


def _json_bytes(value) -> bytes:
    return json.dumps(value, allow_nan=False).encode("utf-8")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _default_ca_bundle() -> str | None:
    """certifi's bundle, as requests would use; the system's when certifi is not installed."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with requests, which Authlib needs
        return None
    return certifi.where()


def make_session(
    retry_methods: frozenset[str] = frozenset({"GET", "DELETE"}), base_url: str = "", environ=None, backoff: float = 0.5
) -> Session:
    """A session that retries `retry_methods` on connection failures, 429 and 502/503/504.

    Backoff is exponential (urllib3's `backoff` factor: 1 s, then 2 s at 0.5, capped at 4 s) with
    jitter of up to half the factor (Settings.retry_backoff), and a
    429's Retry-After is honoured (up to MAX_RETRY_AFTER). POST /connections is not
    idempotent, so it is never retried here: a retry after a lost answer could
    create a second connection. PATCH carries an etag and is not retried either.
    A failure to connect is retried whatever the method: nothing was sent.
    Proxies and the CA bundle come from network_settings, once.
    """
    retry = CappedRetry(
        total=3,
        connect=3,
        read=False,  # re-raise read timeouts as themselves: the request may have been acted on
        status=3,
        other=0,  # urllib3 would retry any other failure (TLS mid-answer, say) whatever the method
        redirect=0,
        backoff_factor=backoff,
        backoff_max=4.0,
        backoff_jitter=backoff / 2,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=retry_methods,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    return Session(retry, base_url, environ)
