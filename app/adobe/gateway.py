"""The Platform gateway: every call to a Platform API (Flow Service, Catalog, the Schema Registry, Data Prep) goes
through `Gateway.call` with a fresh IMS token and the gateway's headers, and every failure becomes an AdobeError that
says what was being done. Flow Service's listings are paged here, once, for every client."""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import time
from urllib.parse import parse_qs, urlsplit

from .errors import UNANSWERED, UNREACHED, AdobeError, flow_service_error, never
from .http import Answer, CallFailed, ConnectFailed, Session
from .ims import TokenProvider

log = logging.getLogger(__name__)

BASE_PATH = "/data/foundation/flowservice"
# One page as the portal reads it when it filters in its own memory (our choice: Adobe documents no maximum).
READ_PAGE = 100


@dataclasses.dataclass(frozen=True)
class Service:
    """A Platform API behind the same gateway, token and headers: its name in messages and its base path."""

    name: str
    path: str


FLOW_SERVICE = Service("Flow Service", BASE_PATH)
CATALOG = Service("Catalog Service", "/data/foundation/catalog")
SCHEMA_REGISTRY = Service("the Schema Registry", "/data/foundation/schemaregistry")
DATA_PREP = Service("Data Prep", "/data/foundation/conversion")


class Gateway:
    """Calls to the Platform APIs behind Adobe's gateway, with the organisation's credential."""

    def __init__(
        self,
        platform_url: str,
        tokens: TokenProvider,
        client_id: str,
        org_id: str,
        session: Session,
        timeout,
        quotes_secret=never,
    ):
        self.platform_url = platform_url.rstrip("/")
        self.base_url = self.platform_url + BASE_PATH
        self.tokens = tokens
        self._client_id = client_id
        self._org_id = org_id
        self.session = session
        self._timeout = timeout
        # Whether a text holds a secret known now (app.logs.SecretRegistry): Adobe's text that does is withheld.
        self.quotes_secret = quotes_secret

    def headers(self, sandbox: str, token: str, json_body: bool = False) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": self._client_id,
            "x-gw-ims-org-id": self._org_id,
            "x-sandbox-name": sandbox.lower(),
            "Accept": "application/json",
        }
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def curl(
        self,
        method: str,
        path: str,
        sandbox: str,
        body: dict | list | None = None,
        service: Service = FLOW_SERVICE,
        headers: dict[str, str] | None = None,
    ) -> str:
        """A call as a curl command, the token a placeholder; `body` must hold no secret."""
        lines = [f"curl -X {method} {shlex.quote(self.platform_url + service.path + path)}"]
        sent = {**self.headers(sandbox, "{ACCESS_TOKEN}", json_body=body is not None), **(headers or {})}
        for name, value in sent.items():
            lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
        if body is not None:
            lines.append(f"-d {shlex.quote(json.dumps(body, indent=2, ensure_ascii=False))}")
        return " \\\n  ".join(lines)

    def _send(self, method: str, path: str, sandbox: str, service: Service = FLOW_SERVICE, **kwargs) -> Answer:
        """Send one call with a fresh token; when the gateway refuses the token, renew it once."""
        extra_headers = kwargs.pop("headers", {})
        url = self.platform_url + service.path + path
        for attempt in (1, 2):
            token = self.tokens.token()
            headers = {**self.headers(sandbox, token, json_body="json" in kwargs), **extra_headers}
            started = time.monotonic()
            response = self.session.request(method, url, headers=headers, timeout=self._timeout, **kwargs)
            log.info(
                "%s %s sandbox=%s -> %s in %.0f ms request-id=%s",
                method,
                service.path + path.split("?")[0],
                sandbox,
                response.status_code,
                (time.monotonic() - started) * 1000,
                response.headers.get("x-request-id", "-"),
            )
            # 401 comes from the gateway before Flow Service acts, so a retry cannot duplicate.
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate(token)
                continue
            return response
        raise AssertionError("unreachable: the second attempt always returns")

    def call(
        self, method: str, path: str, sandbox: str, doing: str, ok=(200,), service: Service = FLOW_SERVICE, **kwargs
    ) -> Answer:
        """One call whose failure, of any kind, becomes an AdobeError that says what `doing` was."""
        response = self.send(method, path, sandbox, doing, service, **kwargs)
        if response.status_code not in ok:
            raise flow_service_error(response, doing, self.quotes_secret, service.name)
        return response

    def send(
        self, method: str, path: str, sandbox: str, doing: str, service: Service = FLOW_SERVICE, **kwargs
    ) -> Answer:
        """One call, whatever its status; a failure to connect or to read the answer becomes an AdobeError whose
        `code` says which ("unreached": nothing was sent; "unanswered": it may have been acted on)."""
        try:
            return self._send(method, path, sandbox, service, **kwargs)
        except CallFailed as failure:
            code = UNREACHED if isinstance(failure, ConnectFailed) else UNANSWERED
            if failure.timed_out:
                raise AdobeError(
                    f"{doing} failed: {service.name} did not answer in time. Try again.", code=code
                ) from None
            if isinstance(failure, ConnectFailed):
                raise AdobeError(
                    f"{doing} failed: the wizard could not reach {service.name}. Try again.", code=code
                ) from None
            raise AdobeError(
                f"{doing} failed: the answer from {service.name} broke off. Try again.", code=code
            ) from None

    def listing_page(
        self,
        path: str,
        sandbox: str,
        params: list,
        limit: int,
        continuation: str | None,
        doing: str,
        orderby: str = "-createdAt",
    ) -> tuple[list[dict], str | None, Answer]:
        """One page of a Flow Service listing (`GET /connections`, `/flows`…) with `params` (documented `==` filters),
        in `orderby` order: its items, the continuation token of the next page (None at the end), and the answer."""
        query = [*params, ("orderby", orderby), ("limit", str(limit))]
        if continuation:
            query.append(("continuationToken", continuation))
        response = self.call("GET", path, sandbox, doing, params=query)
        return items_of(response, doing), next_token(response, doing), response

    def pages(
        self, path: str, sandbox: str, params: list, doing: str, token: str | None = None, orderby: str = "-createdAt"
    ):
        """Pages of READ_PAGE items, each with the token of the next page; the caller stops reading whenever it has
        enough."""
        while True:
            page, token, _answer = self.listing_page(path, sandbox, params, READ_PAGE, token, doing, orderby)
            yield page, token
            if not token:
                return


def next_token(response: Answer, doing: str) -> str | None:
    """The continuation token of a listing's `_links.next.href`, or None at the end."""
    links = json_body(response, doing).get("_links")
    href = ((links if isinstance(links, dict) else {}).get("next") or {}).get("href") or ""
    return parse_qs(urlsplit(str(href)).query).get("continuationToken", [None])[0]


def json_body(response: Answer, doing: str):
    try:
        return response.json()
    except ValueError:
        raise AdobeError(f"{doing} failed: Flow Service answered with a body that is not JSON. Try again.") from None


def items_of(response: Answer, doing: str) -> list[dict]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise AdobeError(
            f"{doing} failed: Flow Service answered {response.status_code} with a body that is not "
            'the documented {"items": [...]} shape. Try again.'
        )
    return [item for item in body["items"] if isinstance(item, dict)]
