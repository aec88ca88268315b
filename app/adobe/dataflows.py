"""What Flow Service holds downstream of a base connection: its source connections and the dataflows reading them.

The reads are those of Adobe's sort-and-filter guide: `GET /sourceConnections?property=baseConnectionId==<id>`,
then `GET /flows?property=sourceConnectionIds[]==<a>,<b>` (a comma means "any of").
"""

from __future__ import annotations

import dataclasses
import email.utils
import threading
import time

from .connections import FILTER_SAFE_NAME, Changed
from .data_prep import Made
from .errors import UNANSWERED, AdobeError
from .gateway import READ_PAGE, Gateway, items_of, json_body

# Ids sent in one `any of` filter (our choice: the length of a URL stays well under any gateway's limit).
IDS_PER_CALL = 50
# The most a listing reads (our choice: a base connection with more is beyond what one page can show).
MOST = 500
# The most a sandbox-wide listing reads (our choice: ten pages; beyond that the page says the list was cut).
SANDBOX_MOST = 1000
# The runs a dataflow's page shows, newest first.
RECENT_RUNS = 10
# The flow spec of database sources, as the dataflow tutorial looks it up.
FLOW_SPEC_NAME = "CRMToAEP"
# How long a flow spec read from Flow Service is reused (our choice: flow specs change with Adobe's releases).
FLOW_SPEC_SECONDS = 3600
# How far before its request a run found after a lost answer may be dated (our choice: Adobe's clock and ours may
# disagree a little; a run of the same dataflow that close is taken as the one this request started).
CLOCK_ALLOWANCE_MS = 60_000
WHAT = {"sourceConnections": "source connection", "targetConnections": "target connection", "flows": "dataflow"}


@dataclasses.dataclass(frozen=True)
class Listed:
    """A sandbox-wide listing: its items, Adobe's clock when it answered (ms, from the Date header; None without one),
    and whether it was read to the end (False past SANDBOX_MOST)."""

    items: list[dict]
    clock_ms: int | None
    complete: bool = True


@dataclasses.dataclass(frozen=True)
class Dependents:
    """The source connections made from one base connection, and the dataflows that read them."""

    source_connections: list[dict]
    flows: list[dict]

    def __bool__(self) -> bool:
        return bool(self.source_connections or self.flows)

    def unused_sources(self) -> list[dict]:
        """Source connections no dataflow reads (left behind by a dataflow deleted elsewhere, say)."""
        used = {source_id for flow in self.flows for source_id in flow.get("sourceConnectionIds") or []}
        return [source for source in self.source_connections if source.get("id") not in used]

    def table_of(self, flow: dict) -> str | None:
        """The table a dataflow reads (its source connection's params.tableName), when known."""
        ids = flow.get("sourceConnectionIds") or []
        for source in self.source_connections:
            if source.get("id") in ids:
                return (source.get("params") or {}).get("tableName")
        return None


class RunUnconfirmed(AdobeError):
    """A request to start a run got no answer, and looking for the run failed too: it may have started."""


@dataclasses.dataclass(frozen=True)
class Retried:
    """The run a retry (or a request to run now) started, and Adobe's request id."""

    run_id: str
    request_id: str | None
    # True when the answer was lost and the run was found afterwards.
    recovered: bool = False


class Dataflows:
    """The dataflow objects of Flow Service, through the gateway (its session, token and error handling)."""

    def __init__(self, gateway: Gateway):
        self._gateway = gateway
        self._flow_specs: dict[tuple[str, str], tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def flow_spec(self, sandbox: str, name: str = FLOW_SPEC_NAME) -> dict:
        """`GET /flowSpecs?property=name=="CRMToAEP"`, as the tutorial reads it; kept for FLOW_SPEC_SECONDS."""
        with self._lock:
            kept = self._flow_specs.get((sandbox, name))
        if kept and kept[0] > time.monotonic():
            return kept[1]
        doing = "Reading the dataflow spec"
        items = items_of(
            self._gateway.call("GET", "/flowSpecs", sandbox, doing, params=[("property", f'name=="{name}"')]), doing
        )
        spec = next((item for item in items if item.get("name") == name and isinstance(item.get("id"), str)), None)
        if spec is None:
            raise AdobeError(f"{doing} failed: Flow Service has no flow spec named {name}.")
        with self._lock:
            self._flow_specs[(sandbox, name)] = (time.monotonic() + FLOW_SPEC_SECONDS, spec)
        return spec

    def create(self, sandbox: str, kind: str, body: dict) -> Made:
        """POST a source connection, target connection or flow (`kind` as in `delete`): its id."""
        doing = f"Creating the {WHAT[kind]}"
        response = self._gateway.call("POST", f"/{kind}", sandbox, doing, ok=(201, 200), json=body)
        answer = json_body(response, doing)
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str) or not answer["id"]:
            raise AdobeError(f"{doing}: Flow Service answered without the new object's id.", code=UNANSWERED)
        return Made(answer["id"], response.headers.get("x-request-id"))

    def find(self, sandbox: str, kind: str, name: str, description: str, narrowed=()) -> str | None:
        """The id of the newest object of `kind` with exactly this name and description (the portal writes a
        marker into each description), or None: what a create whose answer was lost may have made. The listing
        is filtered by name when the name is safe to send, and by the `narrowed` filters always."""
        doing = f"Looking for the {WHAT[kind]}"
        params = [("property", clause) for clause in narrowed]
        if FILTER_SAFE_NAME.match(name):
            params.append(("property", f"name=={name}"))
        for item in self._all(f"/{kind}", sandbox, doing, params):
            if item.get("name") == name and item.get("description") == description and isinstance(item.get("id"), str):
                return item["id"]
        return None

    def dependents(self, sandbox: str, base_connection_id: str) -> Dependents:
        """The source connections of a base connection, and the dataflows that use them (newest first)."""
        doing = "Reading the connection's dataflows"
        sources = self._all(
            "/sourceConnections", sandbox, doing, [("property", f"baseConnectionId=={base_connection_id}")]
        )
        flows = []
        ids = [source["id"] for source in sources if isinstance(source.get("id"), str)]
        for start in range(0, len(ids), IDS_PER_CALL):
            flows += self._all(
                "/flows",
                sandbox,
                doing,
                [("property", "sourceConnectionIds[]==" + ",".join(ids[start : start + IDS_PER_CALL]))],
            )
        return Dependents(sources, flows)

    def flow(self, sandbox: str, flow_id: str) -> dict:
        """GET /flows/{id}: the dataflow (items[0]); AdobeError with status 404 when there is none."""
        return self._one(f"/flows/{flow_id}", sandbox, "Reading the dataflow")

    def source_connection(self, sandbox: str, source_id: str) -> dict:
        return self._one(f"/sourceConnections/{source_id}", sandbox, "Reading the dataflow's source connection")

    def target_connection(self, sandbox: str, target_id: str) -> dict:
        return self._one(f"/targetConnections/{target_id}", sandbox, "Reading the dataflow's target connection")

    def recent_runs(self, sandbox: str, flow_id: str, limit: int = RECENT_RUNS) -> list[dict]:
        """The dataflow's newest runs (`GET /runs?property=flowId==<id>`, as the monitoring tutorial reads them)."""
        doing = "Reading the dataflow's runs"
        params = [("property", f"flowId=={flow_id}"), ("orderby", "-createdAt"), ("limit", str(limit))]
        return items_of(self._gateway.call("GET", "/runs", sandbox, doing, params=params), doing)

    def run(self, sandbox: str, run_id: str) -> dict:
        """GET /runs/{id}: one run (items[0]); AdobeError with status 404 when there is none."""
        return self._one(f"/runs/{run_id}", sandbox, "Reading the run")

    def runs_since(self, sandbox: str, flow_id: str, since_ms: int) -> list[dict]:
        """The dataflow's runs Flow Service dated at or after `since_ms`, newest first: what a start whose answer
        was lost may have made (the filter guide's comparison on `createdAt`, as its runs example filters)."""
        doing = "Looking for the run"
        params = [
            ("property", f"flowId=={flow_id}"),
            ("property", f"createdAt>{since_ms - 1}"),
            ("orderby", "-createdAt"),
            ("limit", str(RECENT_RUNS)),
        ]
        return items_of(self._gateway.call("GET", "/runs", sandbox, doing, params=params), doing)

    def sandbox_flows(self, sandbox: str, most: int = SANDBOX_MOST) -> Listed:
        """Every dataflow of a sandbox, newest first (`GET /flows`, page after page), and Adobe's clock as its answer's
        Date header gives it: one listing for the dataflows page and the watcher, never a read per dataflow."""
        return self._listed("/flows", sandbox, "Reading the sandbox's dataflows", [], most)

    def sandbox_runs(self, sandbox: str, since_ms: int, most: int = SANDBOX_MOST) -> Listed:
        """The runs of every dataflow of a sandbox that Flow Service dated after `since_ms`, newest first (the filter
        guide's comparison on a run's time, as the spec's own example filters `lastRunDetails.startedAtUTC`)."""
        return self._listed(
            "/runs", sandbox, "Reading the sandbox's runs", [("property", f"createdAt>{since_ms}")], most
        )

    def _listed(self, path: str, sandbox: str, doing: str, params: list, most: int) -> Listed:
        found: list[dict] = []
        clock_ms, token = None, None
        while True:
            page, token, answer = self._gateway.listing_page(path, sandbox, params, READ_PAGE, token, doing)
            clock_ms = clock_ms or _clock_ms(answer)
            found += page
            if not token or len(found) >= most:
                return Listed(found, clock_ms, complete=not token)

    def update_flow(self, sandbox: str, flow_id: str, etag: str, operations: list[dict]) -> Changed:
        """`PATCH /flows/{id}` with If-Match and JSON Patch operations, as the "Update dataflows" tutorial sends them:
        the new etag and Adobe's request id. Never retried: a stale etag (412) is the caller's to show."""
        doing = "Changing the dataflow"
        response = self._gateway.call(
            "PATCH", f"/flows/{flow_id}", sandbox, doing, ok=(200,), json=operations, headers={"If-Match": etag}
        )
        body = json_body(response, doing)
        return Changed(
            str(body.get("etag") or "") or None if isinstance(body, dict) else None,
            response.headers.get("x-request-id"),
        )

    def set_enabled(self, sandbox: str, flow_id: str, enabled: bool) -> Changed:
        """`POST /flows/{id}/action?op=enable|disable`, as Adobe's documented call sends it: no body, and so no
        Content-Type either."""
        op = "enable" if enabled else "disable"
        response = self._gateway.call(
            "POST",
            f"/flows/{flow_id}/action",
            sandbox,
            f"{'Enabling' if enabled else 'Disabling'} the dataflow",
            params=[("op", op)],
        )
        body = json_body(response, "Changing the dataflow")
        return Changed(str(body.get("etag") or "") or None, response.headers.get("x-request-id"))

    def retry_run(self, sandbox: str, flow_id: str, run_id: str) -> Retried:
        """`POST /runs/{id}/action?op=re-trigger` ("Retry failed dataflow runs", which sends a Content-Type and no
        body): the new run's id. A lost answer is followed by a look for the run it may have made."""
        doing = "Retrying the run"
        return self._start_run(
            sandbox,
            flow_id,
            doing,
            lambda: self._gateway.call(
                "POST",
                f"/runs/{run_id}/action",
                sandbox,
                doing,
                ok=(200, 201),
                params=[("op", "re-trigger")],
                headers={"Content-Type": "application/json"},
            ),
        )

    def run_now(self, sandbox: str, flow: dict, window_start: int, window_end: int, now: int) -> Retried:
        """An ad hoc run of a dataflow scheduled once (`POST /runs`, "Create a flow run for on-demand ingestion"): the
        rows whose delta column falls in [window_start, window_end), in epoch seconds. The new run's id; a lost
        answer is followed by a look for the run it may have made, never by a second POST."""
        doing = "Starting a run"
        delta = next(
            (
                t.get("params", {}).get("deltaColumn")
                for t in flow.get("transformations") or []
                if isinstance(t, dict) and t.get("name") == "Copy"
            ),
            None,
        )
        if not isinstance(delta, dict) or not delta.get("name"):
            raise AdobeError(
                f"{doing} failed: the dataflow has no delta column, which an ad hoc run needs.", status=409
            )
        body = {
            "flowId": flow["id"],
            "params": {
                "startTime": now,
                "windowStartTime": window_start,
                "windowEndTime": window_end,
                "deltaColumn": {"name": delta["name"]},
            },
        }
        return self._start_run(
            sandbox,
            flow["id"],
            doing,
            lambda: self._gateway.call("POST", "/runs", sandbox, doing, ok=(201, 200), json=body),
        )

    def _start_run(self, sandbox: str, flow_id: str, doing: str, send) -> Retried:
        """Send a request that starts a run; when its answer is lost (or Adobe failed on its side), look for the run
        it may have made before saying anything: the person is never led to start a second one blindly."""
        started_ms = int(time.time() * 1000) - CLOCK_ALLOWANCE_MS
        try:
            return _new_run(send(), doing)
        except AdobeError as error:
            if not error.maybe_done:
                raise
            try:
                found = self.runs_since(sandbox, flow_id, started_ms)
            except AdobeError:
                found = None
            if found:
                return Retried(str(found[0]["id"]), error.request_id, recovered=True)
            if found is None:
                raise RunUnconfirmed(
                    error.message + " Whether a run started is unknown: the wizard could not look. "
                    "Reload the dataflow and look at its runs before you try again.",
                    status=error.status,
                    code=error.code,
                    request_id=error.request_id,
                    upstream_status=error.upstream_status,
                ) from None
            error.message += " The wizard looked, and no run started, so trying again is safe."
            raise

    def delete(self, sandbox: str, kind: str, item_id: str) -> Changed:
        """DELETE a flow, source or target connection (`kind` is "flows", "sourceConnections" or
        "targetConnections"). One that is already gone (404) counts as deleted: a stopped deletion resumes."""
        doing = {
            "flows": "Deleting the dataflow",
            "sourceConnections": "Deleting the source connection",
            "targetConnections": "Deleting the target connection",
        }[kind]
        try:
            response = self._gateway.call("DELETE", f"/{kind}/{item_id}", sandbox, doing, ok=(204, 200))
        except AdobeError as error:
            if error.not_found:
                return Changed(None, error.request_id)
            raise
        return Changed(None, response.headers.get("x-request-id"))

    def _one(self, path: str, sandbox: str, doing: str) -> dict:
        items = items_of(self._gateway.call("GET", path, sandbox, doing), doing)
        if not items:
            raise AdobeError(f"{doing} failed: Flow Service has no such object in sandbox {sandbox}.", status=404)
        return items[0]

    def _all(self, path: str, sandbox: str, doing: str, params: list) -> list[dict]:
        """Every item of a listing, newest first, page after page until the list ends (or MOST)."""
        found: list[dict] = []
        for page, _token in self._gateway.pages(path, sandbox, params, doing):
            found += page
            if len(found) >= MOST:
                break
        return found


def _clock_ms(answer) -> int | None:
    """Adobe's clock as an answer's Date header says (RFC 9110), in ms; None without a readable one."""
    try:
        return int(email.utils.parsedate_to_datetime(answer.headers.get("Date") or "").timestamp() * 1000)
    except (TypeError, ValueError, IndexError):
        return None


def _new_run(response, doing: str) -> Retried:
    """The run an answer names: `{id, etag}`, as the API spec gives it, or `{"items": [{id, etag}]}`, as the on-demand
    ingestion tutorial shows it."""
    body = json_body(response, doing)
    if (
        isinstance(body, dict)
        and isinstance(body.get("items"), list)
        and body["items"]
        and isinstance(body["items"][0], dict)
    ):
        body = body["items"][0]
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        raise AdobeError(
            f"{doing}: Flow Service answered without the new run's id. Reload the dataflow.", code=UNANSWERED
        )
    return Retried(body["id"], response.headers.get("x-request-id"))
