"""The Flow Service client: the one place that creates and reads base connections."""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import time
from urllib.parse import parse_qs, urlsplit

import requests

from .errors import AdobeError, flow_service_error
from .ims import TokenProvider

log = logging.getLogger(__name__)

BASE_PATH = "/data/foundation/flowservice"
# How far back a look-up after a lost answer searches for the connection it may have created.
RECENT_SECONDS = 10 * 60


@dataclasses.dataclass(frozen=True)
class CreatedConnection:
    id: str
    etag: str
    # True when the POST's answer was lost and the connection was found afterwards.
    recovered: bool = False


class FlowServiceClient:
    def __init__(self, platform_url: str, tokens: TokenProvider, client_id: str, org_id: str,
                 session: requests.Session, timeout):
        self.base_url = platform_url.rstrip("/") + BASE_PATH
        self._tokens = tokens
        self._client_id = client_id
        self._org_id = org_id
        self._session = session
        self._timeout = timeout

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

    def curl_for_create(self, sandbox: str, redacted_body: dict) -> str:
        """The POST /connections call as a curl command, the token replaced by a placeholder.

        The caller redacts the body's secrets; this adds what the client sends besides.
        """
        lines = [f"curl -X POST {shlex.quote(self.base_url + '/connections')}"]
        for name, value in self.headers(sandbox, "{ACCESS_TOKEN}", json_body=True).items():
            lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
        lines.append(f"-d {shlex.quote(json.dumps(redacted_body, indent=2, ensure_ascii=False))}")
        return " \\\n  ".join(lines)

    def _send(self, method: str, path: str, sandbox: str, **kwargs) -> requests.Response:
        """Send one call with a fresh token; when the gateway refuses the token, renew it once."""
        extra_headers = kwargs.pop("headers", {})
        for attempt in (1, 2):
            token = self._tokens.token()
            headers = {**self.headers(sandbox, token, json_body="json" in kwargs), **extra_headers}
            started = time.monotonic()
            response = self._session.request(
                method, self.base_url + path, headers=headers, timeout=self._timeout, **kwargs
            )
            log.info(
                "%s %s sandbox=%s -> %s in %.0f ms request-id=%s",
                method, path.split("?")[0], sandbox, response.status_code,
                (time.monotonic() - started) * 1000, response.headers.get("x-request-id", "-"),
            )
            # 401 comes from the gateway before Flow Service acts, so a retry cannot duplicate.
            if response.status_code == 401 and attempt == 1:
                self._tokens.invalidate(token)
                continue
            return response
        raise AssertionError("unreachable: the second attempt always returns")

    def create_connection(self, sandbox: str, body: dict) -> CreatedConnection:
        """POST /connections. Never sends twice: after a lost answer it looks for the connection."""
        doing = "Creating the connection"
        try:
            response = self._send("POST", "/connections", sandbox, json=body)
        except requests.ConnectTimeout:
            raise AdobeError(
                f"The wizard could not reach Flow Service at {self.base_url} in time, so nothing was "
                "created. Try again in a minute."
            ) from None
        except requests.ConnectionError as exc:
            if not _was_sent(exc):
                raise AdobeError(
                    f"The wizard could not reach Flow Service at {self.base_url}, so nothing was "
                    "created. An administrator should check AEP_PLATFORM_URL and the network."
                ) from None
            return self._recover(sandbox, body, "the connection to Flow Service broke before it answered")
        except requests.Timeout:
            return self._recover(sandbox, body, "Flow Service did not answer in time")
        if response.status_code == 201:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
                return CreatedConnection(answer["id"], str(answer.get("etag") or ""))
            return self._recover(sandbox, body, "Flow Service answered 201 without a connection id")
        if response.status_code >= 500:
            found = self._find_created(sandbox, body)
            if found:
                return found
            error = flow_service_error(response, doing)
            error.message += " No connection was created, so submitting again is safe."
            raise error
        raise flow_service_error(response, doing)

    def _recover(self, sandbox: str, body: dict, what_happened: str) -> CreatedConnection:
        found = self._find_created(sandbox, body)
        if found:
            return found
        raise AdobeError(
            f"Creating the connection is unconfirmed: {what_happened}, and no connection named "
            f"“{body['name']}” exists in sandbox {sandbox}. It was not created; submit again."
        )

    def _find_created(self, sandbox: str, body: dict) -> CreatedConnection | None:
        """The connection `body` would have created, if Flow Service did create it."""
        try:
            matches = self.find_connections(sandbox, body["name"], body["connectionSpec"]["id"])
        except (AdobeError, requests.RequestException):
            return None
        # Only a connection made in the last minutes can be the one this request created.
        since = (time.time() - RECENT_SECONDS) * 1000
        matches = [m for m in matches if not isinstance(m.get("createdAt"), (int, float)) or m["createdAt"] >= since]
        if not matches:
            return None
        newest = max(matches, key=lambda item: item.get("createdAt") or 0)
        log.info("found connection %s after an unconfirmed create", newest.get("id"))
        return CreatedConnection(str(newest["id"]), str(newest.get("etag") or ""), recovered=True)

    def find_connections(self, sandbox: str, name: str, connection_spec_id: str | None = None) -> list[dict]:
        """GET /connections filtered by name (exactly) and, when given, connection spec."""
        params = [("property", f"name=={name}")]
        if connection_spec_id:
            params.append(("property", f"connectionSpec.id=={connection_spec_id}"))
        response = self._send("GET", "/connections", sandbox, params=params)
        if response.status_code != 200:
            raise flow_service_error(response, "Looking up connections")
        return _items(response, "Looking up connections")

    def check_ready(self, sandbox: str, connection_spec_id: str) -> None:
        """Get a token and read one connection spec: raise AdobeError saying which of the two failed."""
        self._tokens.token()
        self._call("GET", f"/connectionSpecs/{connection_spec_id}", sandbox, "Reading a connection spec")

    def _call(self, method: str, path: str, sandbox: str, doing: str, ok=(200,), **kwargs) -> requests.Response:
        """One call whose failure, of any kind, becomes an AdobeError that says what `doing` was."""
        try:
            response = self._send(method, path, sandbox, **kwargs)
        except requests.Timeout:
            raise AdobeError(f"{doing} failed: Flow Service did not answer in time. Try again.") from None
        except requests.ConnectionError:
            raise AdobeError(f"{doing} failed: the wizard could not reach Flow Service. Try again.") from None
        if response.status_code not in ok:
            raise flow_service_error(response, doing)
        return response

    def list_connection_specs(self, sandbox: str) -> list[dict]:
        """GET /connectionSpecs: every source Flow Service offers, with its authSpecs."""
        doing = "Reading the list of sources"
        return _items(self._call("GET", "/connectionSpecs", sandbox, doing), doing)

    def get_connection(self, sandbox: str, connection_id: str) -> dict:
        """GET /connections/{id} → the connection (items[0])."""
        doing = "Reading the connection"
        items = _items(self._call("GET", f"/connections/{connection_id}", sandbox, doing), doing)
        if not items:
            raise AdobeError(
                f"{doing} failed: Flow Service has no connection {connection_id} in sandbox {sandbox}.",
                status=404,
            )
        return items[0]

    def list_connections(self, sandbox: str, connection_spec_ids, name_contains: str = "", limit: int = 25,
                         continuation: str | None = None) -> tuple[list[dict], str | None]:
        """One page of GET /connections, newest first; the continuation token of the next page, or None."""
        doing = "Listing connections"
        params = [("property", "connectionSpec.id==" + ",".join(connection_spec_ids))]
        if name_contains:
            params.append(("property", f"name~{name_contains}"))
        params += [("orderby", "-createdAt"), ("limit", str(limit))]
        if continuation:
            params.append(("continuationToken", continuation))
        response = self._call("GET", "/connections", sandbox, doing, params=params)
        items = _items(response, doing)
        href = ((response.json().get("_links") or {}).get("next") or {}).get("href") or ""
        token = parse_qs(urlsplit(href).query).get("continuationToken", [None])[0]
        return items, token

    def test_connection(self, sandbox: str, connection_id: str) -> bool:
        """GET /connections/{id}/test → whether Flow Service could connect with the stored credentials."""
        doing = "Testing the connection"
        body = _json_body(self._call("GET", f"/connections/{connection_id}/test", sandbox, doing), doing)
        if not isinstance(body, dict) or not isinstance(body.get("result"), bool):
            raise AdobeError(f"{doing} failed: Flow Service answered without a result. Try again.")
        return body["result"]

    def explore(self, sandbox: str, connection_id: str, table_path: str | None = None):
        """The tables (objectType=root) or one table's columns (objectType=table&object=path)."""
        doing = "Exploring the connection"
        # Upper case as the OpenAPI spec's enum has it (Adobe's tutorials write root and table).
        params = {"objectType": "TABLE", "object": table_path} if table_path else {"objectType": "ROOT"}
        body = _json_body(self._call("GET", f"/connections/{connection_id}/explore", sandbox, doing,
                                     params=params), doing)
        if table_path is None:
            if not isinstance(body, list):
                raise AdobeError(f"{doing} failed: Flow Service did not answer with a list of tables. Try again.")
            return [item for item in body if isinstance(item, dict)]
        columns = ((body or {}).get("schema") or {}).get("columns") if isinstance(body, dict) else None
        if not isinstance(columns, list):
            raise AdobeError(f"{doing} failed: Flow Service did not answer with the table's columns. Try again.")
        return [column for column in columns if isinstance(column, dict)]

    def update_connection(self, sandbox: str, connection_id: str, etag: str, operations: list[dict]) -> str:
        """PATCH /connections/{id} with If-Match and JSON Patch operations → the new etag."""
        if not etag:
            raise ValueError("an update needs the etag the person saw")  # 1403-400 must never happen
        doing = "Updating the connection"
        body = _json_body(self._call("PATCH", f"/connections/{connection_id}", sandbox, doing,
                                     json=operations, headers={"If-Match": etag}), doing)
        if not isinstance(body, dict) or not body.get("etag"):
            raise AdobeError(f"{doing}: Flow Service answered without the new etag. Reload the connection.")
        return str(body["etag"])

    def delete_connection(self, sandbox: str, connection_id: str) -> None:
        """DELETE /connections/{id}."""
        self._call("DELETE", f"/connections/{connection_id}", sandbox, "Deleting the connection", ok=(204, 200))


def _json_body(response: requests.Response, doing: str):
    try:
        return response.json()
    except ValueError:
        raise AdobeError(f"{doing} failed: Flow Service answered with a body that is not JSON. Try again.") from None


def _items(response: requests.Response, doing: str) -> list[dict]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise AdobeError(f"{doing} failed: Flow Service answered {response.status_code} with a body that is not "
                         "the documented {\"items\": [...]} shape. Try again.")
    return [item for item in body["items"] if isinstance(item, dict)]


def _was_sent(exc: requests.ConnectionError) -> bool:
    """Whether the request may have reached the server before the connection failed."""
    text = repr(exc)
    return not any(marker in text for marker in ("NewConnectionError", "NameResolutionError", "Connection refused"))
