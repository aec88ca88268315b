"""OAuth Server-to-Server access tokens from Adobe IMS, cached until shortly before expiry."""

from __future__ import annotations

import logging
import threading
import time

from .errors import AdobeError
from .http import CallFailed, ConnectFailed, Session

log = logging.getLogger(__name__)

# Renew this long before IMS says the token expires (or a tenth of its life, if shorter).
RENEW_BEFORE_SECONDS = 300


class TokenProvider:
    """Hands out a valid access token, fetching a new one only when needed.

    One lock guards the cache, so when many requests need a token at the same
    moment one thread fetches and the others wait for that answer.
    """

    def __init__(
        self,
        session: Session,
        ims_url: str,
        client_id: str,
        client_secret: str,
        scopes,
        timeout,
        clock=time.monotonic,
        on_token=None,
        quotes_secret=None,
    ):
        self._session = session
        self._url = f"{ims_url.rstrip('/')}/ims/token/v3"
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = ",".join(scopes)
        self._timeout = timeout
        self._clock = clock
        # Told of each new token, so the log formatter can scrub it wherever it might appear.
        self._on_token = on_token or (lambda token: None)
        # Whether a text holds a secret: IMS's text that does is withheld, never edited.
        self._quotes_secret = quotes_secret or (lambda text: self._client_secret in text)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self):
        return f"TokenProvider(url={self._url!r}, client_id={self._client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, self._renew_at = self._fetch()
            return self._token

    def fresh(self) -> None:
        """Ask IMS for a token now, as the set-up check does (app/doctor.py); the new token is the one used next."""
        with self._lock:
            self._token, self._renew_at = self._fetch()

    def invalidate(self, token: str) -> None:
        """Forget `token` after Adobe refused it, unless another thread already renewed it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        started = self._clock()
        try:
            response = self._session.request(
                "POST",
                self._url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "scope": self._scopes,
                },
                timeout=self._timeout,
            )
        except CallFailed as failure:
            if not failure.timed_out and isinstance(failure, ConnectFailed):
                raise AdobeError(
                    f"The wizard could not reach Adobe IMS at {self._url}. Nothing was sent to Flow "
                    "Service; an administrator should check AEP_IMS_URL and the network."
                ) from None
            if not failure.timed_out:
                raise AdobeError(
                    "The answer from Adobe IMS broke off when the wizard asked for an access token. "
                    "Nothing was sent to Flow Service; try again in a minute."
                ) from None
            raise AdobeError(
                "Adobe IMS did not answer in time when the wizard asked for an access token. "
                "Nothing was sent to Flow Service; try again in a minute."
            ) from None
        body = None
        try:
            body = response.json()
        except ValueError:
            pass
        if response.status_code != 200:
            raise self._error(response, body)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise AdobeError(
                "Adobe IMS answered without an access token. Nothing was sent to Flow Service; "
                "try again, and if it persists an administrator should check AEP_IMS_URL."
            )
        try:
            expires_in = float(body.get("expires_in", 0))
        except (TypeError, ValueError):
            expires_in = 0.0
        renew_before = min(RENEW_BEFORE_SECONDS, expires_in / 10)
        self._on_token(body["access_token"])
        log.info("fetched an IMS access token valid for %.0f s", expires_in)
        return body["access_token"], started + expires_in - renew_before

    def _error(self, response, body) -> AdobeError:
        code = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        if code == "invalid_client":
            advice = (
                "An administrator should check AEP_CLIENT_ID and AEP_CLIENT_SECRET against "
                "the OAuth Server-to-Server credential in the Adobe Developer Console."
            )
        elif code == "invalid_scope":
            advice = "An administrator should check AEP_SCOPES against the credential's scopes."
        elif response.status_code >= 500:
            advice = "IMS had a problem on its side; try again in a minute."
        else:
            advice = "An administrator should check the Adobe credentials the wizard runs with."
        detail = f" ({code}: {description})" if code else ""
        if self._quotes_secret(response.text or ""):
            # IMS's words repeat a secret (the client secret, say): none of them is shown.
            detail = f" ({code})" if code and not self._quotes_secret(str(code)) else ""
            code = code if detail else None
        return AdobeError(
            f"Adobe IMS refused to issue an access token: it answered {response.status_code}{detail}. "
            f"Nothing was sent to Flow Service. {advice}",
            code=code,
            request_id=response.headers.get("x-request-id"),
            upstream_status=response.status_code,
        )
