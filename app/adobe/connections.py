"""Flow Service's base connections: the one place that creates, reads, lists, searches, tests, explores, changes and
deletes them, over the Platform gateway. A create is never sent twice: after a lost answer the connection is looked
for first."""

from __future__ import annotations

import dataclasses
import logging
import re
import time

from .errors import AdobeError, flow_service_error
from .gateway import Gateway, items_of, json_body
from .http import ConnectFailed, NoAnswer

log = logging.getLogger(__name__)

# How many connections a search or an exact-name look-up reads at most, newest first.
SEARCH_CAP = 500
# Names sent in a `name==` filter: nothing Flow Service's filter syntax might read as an operator, a list
# ("a comma means any of") or quoting, and no edge spaces. Other names are compared in the portal only.
FILTER_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.()/:@+-]+(?: [A-Za-z0-9_.()/:@+-]+)*$")


@dataclasses.dataclass(frozen=True)
class CreatedConnection:
    id: str
    etag: str
    # True when the POST's answer was lost and the connection was found afterwards.
    recovered: bool = False
    # Adobe's id for the request that created it (or for the look-up that found it), for the audit trail.
    request_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Changed:
    """What Flow Service answered to a change: the new etag (none after a delete) and its request id."""

    etag: str | None
    request_id: str | None


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """Connections whose name contains the text, newest first, and how far the search read."""

    items: list
    # Where to go on reading, or None when the list ended.
    next_token: str | None
    # How many connections were read to find `items`.
    scanned: int
    # True when the search stopped at SEARCH_CAP connections before it had a page of matches.
    capped: bool


class Connections:
    """Base connections, through the gateway (its session, token and error handling)."""

    def __init__(self, gateway: Gateway):
        self._gateway = gateway
        self.base_url = gateway.base_url

    def curl_for_create(self, sandbox: str, redacted_body: dict) -> str:
        """The POST /connections call as a curl command, the token replaced by a placeholder.

        The caller redacts the body's secrets; this adds what the client sends besides.
        """
        return self._gateway.curl("POST", "/connections", sandbox, redacted_body)

    def create_connection(self, sandbox: str, body: dict) -> CreatedConnection:
        """POST /connections. Never sends twice: after a lost answer it looks for the connection."""
        doing = "Creating the connection"
        started_ms = int(time.time() * 1000)
        try:
            response = self._gateway._send("POST", "/connections", sandbox, json=body)
        except ConnectFailed as failure:
            if failure.timed_out:
                raise AdobeError(
                    f"The wizard could not reach Flow Service at {self._gateway.base_url} in time, so nothing was "
                    "created. Try again in a minute."
                ) from None
            raise AdobeError(
                f"The wizard could not reach Flow Service at {self._gateway.base_url}, so nothing was "
                "created. An administrator should check AEP_PLATFORM_URL and the network."
            ) from None
        except NoAnswer as failure:
            what = (
                "Flow Service did not answer in time"
                if failure.timed_out
                else "the connection to Flow Service broke before it answered"
            )
            return self._recover(sandbox, body, started_ms, what)
        if response.status_code == 201:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
                return CreatedConnection(
                    answer["id"], str(answer.get("etag") or ""), request_id=response.headers.get("x-request-id")
                )
            return self._recover(sandbox, body, started_ms, "Flow Service answered 201 without a connection id")
        if response.status_code >= 500:
            found = self._find_created(sandbox, body, started_ms)
            if found:
                return found
            error = flow_service_error(response, doing, self._gateway.quotes_secret)
            error.message += " No connection was created, so submitting again is safe."
            raise error
        raise flow_service_error(response, doing, self._gateway.quotes_secret)

    def _recover(self, sandbox: str, body: dict, started_ms: int, what_happened: str) -> CreatedConnection:
        found = self._find_created(sandbox, body, started_ms)
        if found:
            return found
        raise AdobeError(
            f"Creating the connection is unconfirmed: {what_happened}, and no connection named "
            f"“{body['name']}” was created in sandbox {sandbox} since you submitted. It was not created; "
            "submit again."
        )

    def _find_created(self, sandbox: str, body: dict, started_ms: int) -> CreatedConnection | None:
        """The connection `body` would have created, if Flow Service did: same name, same spec, dated after the POST."""
        try:
            # Only a connection Flow Service dated after the POST started can be this POST's. No allowance for
            # clocks that disagree: missing our own connection is safe (a new submit is warned of the namesake),
            # taking someone else's is not.
            matches = self.find_connections(
                sandbox, body["name"], body["connectionSpec"]["id"], created_since_ms=started_ms
            )
        except AdobeError:
            return None
        if not matches:
            return None
        newest = max(matches, key=lambda item: item["createdAt"])
        log.info("found connection %s after an unconfirmed create", newest.get("id"))
        return CreatedConnection(str(newest["id"]), str(newest.get("etag") or ""), recovered=True)

    def find_connections(
        self, sandbox: str, name: str, connection_spec_id: str | None = None, created_since_ms: int | None = None
    ) -> list[dict]:
        """Connections named exactly `name` (compared here, never trusted to a filter), newest first.

        A name that Flow Service's filter syntax could misread (a comma means "any of") is not sent at all:
        the newest SEARCH_CAP connections are read and compared here instead. With `created_since_ms`, only
        connections dated at or after it count, and reading stops at the first older one.
        """
        params = []
        if connection_spec_id:
            params.append(("property", f"connectionSpec.id=={connection_spec_id}"))
        if FILTER_SAFE_NAME.match(name):
            params.append(("property", f"name=={name}"))
        matches, read = [], 0
        for page, _token in self._gateway.pages("/connections", sandbox, params, "Looking up connections by name"):
            read += len(page)
            for item in page:
                created = item.get("createdAt")
                if created_since_ms is not None and not (
                    isinstance(created, (int, float)) and created >= created_since_ms
                ):
                    continue
                if item.get("name") == name and (
                    connection_spec_id is None or (item.get("connectionSpec") or {}).get("id") == connection_spec_id
                ):
                    matches.append(item)
            oldest = page[-1].get("createdAt") if page else None
            if created_since_ms is not None and isinstance(oldest, (int, float)) and oldest < created_since_ms:
                break
            if read >= SEARCH_CAP:
                break
        return matches

    def check_ready(self, sandbox: str, connection_spec_id: str) -> None:
        """Get a token and read one connection spec: raise AdobeError saying which of the two failed."""
        self._gateway.tokens.token()
        self._gateway.call("GET", f"/connectionSpecs/{connection_spec_id}", sandbox, "Reading a connection spec")

    def list_connection_specs(self, sandbox: str) -> list[dict]:
        """GET /connectionSpecs: every source Flow Service offers, with its authSpecs."""
        doing = "Reading the list of sources"
        return items_of(self._gateway.call("GET", "/connectionSpecs", sandbox, doing), doing)

    def get_connection(self, sandbox: str, connection_id: str) -> dict:
        """GET /connections/{id} → the connection (items[0])."""
        doing = "Reading the connection"
        items = items_of(self._gateway.call("GET", f"/connections/{connection_id}", sandbox, doing), doing)
        if not items:
            raise AdobeError(
                f"{doing} failed: Flow Service has no connection {connection_id} in sandbox {sandbox}.",
                status=404,
            )
        return items[0]

    def list_connections_page(
        self,
        sandbox: str,
        params: list,
        limit: int,
        continuation: str | None,
        doing: str = "Listing connections",
        orderby: str = "-createdAt",
    ) -> tuple[list[dict], str | None]:
        """One page of GET /connections with `params` (documented `==` filters only), newest first by default."""
        items, token, _answer = self._gateway.listing_page(
            "/connections", sandbox, params, limit, continuation, doing, orderby
        )
        return items, token

    def list_connections(
        self,
        sandbox: str,
        connection_spec_ids,
        limit: int = 25,
        continuation: str | None = None,
        state: str | None = None,
        orderby: str = "-createdAt",
    ) -> tuple[list[dict], str | None]:
        """One page of the connections of these specs (in `state`, when given), in `orderby` order; the
        continuation token of the next page, or None."""
        return self.list_connections_page(
            sandbox, _list_filters(connection_spec_ids, state), limit, continuation, orderby=orderby
        )

    def count_connections(self, sandbox: str, connection_spec_ids, state: str | None = None) -> int:
        """How many connections of these specs (in `state`, when given) there are: `count=true`, without `limit`."""
        doing = "Counting connections"
        params = [*_list_filters(connection_spec_ids, state), ("count", "true")]
        body = json_body(self._gateway.call("GET", "/connections", sandbox, doing, params=params), doing)
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise AdobeError(f"{doing} failed: Flow Service answered without a count. Try again.")
        return count

    def connections_by_id(self, sandbox: str, connection_ids) -> list[dict]:
        """The connections with these ids (`property=id==a,b,…`, 50 to a call), newest first."""
        found = []
        ids = list(connection_ids)
        for start in range(0, len(ids), 50):
            params = [("property", "id==" + ",".join(ids[start : start + 50]))]
            for page, _token in self._gateway.pages("/connections", sandbox, params, "Listing your connections"):
                found += page
        return sorted(
            found, key=lambda c: c.get("createdAt") if isinstance(c.get("createdAt"), (int, float)) else 0, reverse=True
        )

    def search_connections(
        self,
        sandbox: str,
        connection_spec_ids,
        name_contains: str,
        want: int = 25,
        continuation: str | None = None,
        cap: int = SEARCH_CAP,
        state: str | None = None,
        orderby: str = "-createdAt",
    ) -> SearchResult:
        """Connections of these specs whose name contains the text, in any case, newest first.

        Flow Service documents only exact filters (its catalogue has "1440-400 Operator '~' not implemented"),
        so the portal lists by spec and matches names itself: it reads pages until it has `want` matches,
        the list ends, or `cap` connections were read.
        """
        wanted = name_contains.casefold()
        params = _list_filters(connection_spec_ids, state)
        found, scanned, token = [], 0, continuation
        pages = self._gateway.pages("/connections", sandbox, params, "Searching connections", continuation, orderby)
        for page, token in pages:  # noqa: B007 - the last page's token is read after the loop
            scanned += len(page)
            found += [item for item in page if wanted in str(item.get("name") or "").casefold()]
            if len(found) >= want or scanned >= cap:
                break
        return SearchResult(found, token, scanned, capped=bool(token) and len(found) < want)

    def test_connection(self, sandbox: str, connection_id: str) -> bool:
        """GET /connections/{id}/test → whether Flow Service could connect with the stored credentials."""
        doing = "Testing the connection"
        body = json_body(self._gateway.call("GET", f"/connections/{connection_id}/test", sandbox, doing), doing)
        if not isinstance(body, dict) or not isinstance(body.get("result"), bool):
            raise AdobeError(f"{doing} failed: Flow Service answered without a result. Try again.")
        return body["result"]

    def explore(self, sandbox: str, connection_id: str, table_path: str | None = None):
        """The tables (objectType=root) or one table's columns (objectType=table&object=path)."""
        doing = "Exploring the connection"
        # Lower case, as Adobe's tutorials ("Explore a database") and Adobe's own client aepp send it.
        params = {"objectType": "table", "object": table_path} if table_path else {"objectType": "root"}
        body = json_body(
            self._gateway.call("GET", f"/connections/{connection_id}/explore", sandbox, doing, params=params), doing
        )
        if table_path is None:
            if not isinstance(body, list):
                raise AdobeError(f"{doing} failed: Flow Service did not answer with a list of tables. Try again.")
            return [item for item in body if isinstance(item, dict)]
        columns = ((body or {}).get("schema") or {}).get("columns") if isinstance(body, dict) else None
        if not isinstance(columns, list):
            raise AdobeError(f"{doing} failed: Flow Service did not answer with the table's columns. Try again.")
        return [column for column in columns if isinstance(column, dict)]

    def update_connection(self, sandbox: str, connection_id: str, etag: str, operations: list[dict]) -> Changed:
        """PATCH /connections/{id} with If-Match and JSON Patch operations → the new etag and Adobe's request id."""
        if not etag:
            raise ValueError("an update needs the etag the person saw")  # 1403-400 must never happen
        doing = "Updating the connection"
        response = self._gateway.call(
            "PATCH", f"/connections/{connection_id}", sandbox, doing, json=operations, headers={"If-Match": etag}
        )
        body = json_body(response, doing)
        if not isinstance(body, dict) or not body.get("etag"):
            raise AdobeError(f"{doing}: Flow Service answered without the new etag. Reload the connection.")
        return Changed(str(body["etag"]), response.headers.get("x-request-id"))

    def delete_connection(self, sandbox: str, connection_id: str) -> Changed:
        """DELETE /connections/{id} → Adobe's request id."""
        response = self._gateway.call(
            "DELETE", f"/connections/{connection_id}", sandbox, "Deleting the connection", ok=(204, 200)
        )
        return Changed(None, response.headers.get("x-request-id"))


def _list_filters(connection_spec_ids, state: str | None) -> list[tuple[str, str]]:
    """The documented `==` filters of a listing: these specs (a comma means "any of"), and a state."""
    params = [("property", "connectionSpec.id==" + ",".join(connection_spec_ids))]
    if state:
        params.append(("property", f"state=={state}"))
    return params
