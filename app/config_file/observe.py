"""A sandbox as the file would describe it: the connections of the sources the portal offers there, each with its
source's fields (secrets as Flow Service gives them back: masked) and the dataflows it feeds, each written as the
file's entry or named as one the file cannot describe. Export writes what this reads; a plan compares a file with it.
Reads that depend on nothing but the connection (its dataflows; each dataflow's dataset, schema and mapping) are
sent side by side."""

from __future__ import annotations

import dataclasses

from .. import services
from ..adobe import AdobeError
from ..sources.base import Source
from ..together import side_by_side
from ..web import dataflow_actions as actions
from ..web import dataflow_mapping as mapping
from ..web.connections import offered_sources
from ..web.loaders import source_of
from . import export
from .model import SECRET_NAME_RE

# The most connections read (40 pages of Flow Service's listing): a bound, whatever a sandbox holds.
MOST_PAGES = 40
# Reads sent at once for one sandbox: enough to hide Adobe's latency, few enough to stay a good neighbour.
AT_ONCE = 8


@dataclasses.dataclass
class SeenFlow:
    """A dataflow read from a connection: Flow Service's object, and its entry (None when the file cannot describe
    it, `why` saying so)."""

    flow: dict
    entry: dict | None
    why: str | None = None

    @property
    def name(self) -> str:
        return self.flow.get("name") or self.flow.get("id") or ""


@dataclasses.dataclass
class Seen:
    """A connection of an offered source, with its form's fields, which are secret, and its dataflows."""

    connection: dict
    source: Source
    fields: dict
    secret: set[str]
    flows: list[SeenFlow] = dataclasses.field(default_factory=list)
    flows_unread: str | None = None

    @property
    def name(self) -> str:
        return self.connection.get("name") or self.connection["id"]

    @property
    def spec_id(self) -> str:
        return (self.connection.get("connectionSpec") or {}).get("id", "")

    @property
    def spec_name(self) -> str | None:
        return (self.connection.get("auth") or {}).get("specName")

    @property
    def params(self) -> dict:
        return dict((self.connection.get("auth") or {}).get("params") or {})


def connections(sandbox: str) -> list[dict]:
    """Every connection of the sources the portal offers in the sandbox, newest first."""
    spec_ids = [spec_id for spec_id, _title in offered_sources()]
    items, token, pages = [], None, 0
    while pages < MOST_PAGES:
        page, token = services.connections().list_connections(sandbox, spec_ids, limit=100, continuation=token)
        items += page
        pages += 1
        if not token:
            break
    return items


def fields_of(connection: dict, source) -> tuple[dict, set]:
    """The source's form fields for a connection, from its auth params (and which are secret), as rotating it prefills
    them. Flow Service gives secrets back masked, a connection string whole: such a connection is written with its
    string as one reference (and the form's method that takes a pasted string)."""
    auth = connection.get("auth") or {}
    params = dict(auth.get("params") or {})
    method = source.form_class.method_for_spec.get(auth.get("specName"))
    if "connectionString" in params and "connectionString" in source.form_class.spec_of_method:
        method = "connectionString"
    fields = {**({"method": method} if method else {}), **params}
    secret = {name for name in fields if name in source.secret_params or SECRET_NAME_RE.search(name)}
    return fields, secret


def read(sandbox: str, names: set[str] | None = None) -> list[Seen]:
    """The sandbox's connections of offered sources (only those `names` names, when given), with their dataflows."""
    seen = []
    for connection in connections(sandbox):
        if names is not None and connection.get("name") not in names:
            continue
        auth = connection.get("auth") or {}
        source = source_of((connection.get("connectionSpec") or {}).get("id", ""), auth.get("specName"))
        if source is None:
            continue
        fields, secret = fields_of(connection, source)
        seen.append(Seen(connection, source, fields, secret))
    found = side_by_side(lambda s=s: services.dataflows().dependents(sandbox, s.connection["id"]) for s in seen)
    pending: list[tuple[Seen, dict, dict]] = []
    for one, dependents in zip(seen, found, strict=True):
        if isinstance(dependents, AdobeError):
            one.flows_unread = f"Adobe could not list its dataflows ({dependents.message})"
            continue
        if isinstance(dependents, Exception):
            raise dependents
        tables = {s.get("id"): (s.get("params") or {}).get("tableName") for s in dependents.source_connections}
        pending += [(one, flow, tables) for flow in dependents.flows]
    for start in range(0, len(pending), AT_ONCE):
        batch = pending[start : start + AT_ONCE]
        read = side_by_side(lambda p=p: _flow(sandbox, *p) for p in batch)
        for (one, flow, _tables), result in zip(batch, read, strict=True):
            if isinstance(result, AdobeError):
                result = SeenFlow(flow, None, f"Adobe could not read it ({result.message})")
            elif isinstance(result, Exception):
                raise result
            one.flows.append(result)
    return seen


def _flow(sandbox: str, connection: Seen, flow: dict, tables: dict) -> SeenFlow:
    """One dataflow as the file's entry, or why the file cannot describe it."""
    if not actions.acts_on(flow, sandbox):
        return SeenFlow(flow, None, "not one the portal writes (another source, or a destination)")

    def dataset() -> dict:
        target = services.dataflows().target_connection(sandbox, (flow.get("targetConnectionIds") or [""])[0])
        return services.catalog().dataset(sandbox, (target.get("params") or {}).get("dataSetId") or "")

    # The dataset (through the target connection) and the mapping (which reads the schema it writes) side by side.
    read, shown = side_by_side([dataset, lambda: mapping.read(flow, sandbox)])
    if isinstance(read, Exception):
        raise read
    if isinstance(shown, Exception):
        raise shown
    if not shown.editable or shown.current is None or shown.current.data is None:
        return SeenFlow(flow, None, shown.problem or "its mapping cannot be written in this file")
    schema_id = (read.get("schemaRef") or {}).get("id") or ""
    written = shown.current.draft.plan["schema"]
    title = written["title"] if written["id"] == schema_id else None
    if title is None and schema_id:
        title = services.schema_registry().schema(sandbox, schema_id).title
    columns = [c["name"] for c in shown.current.draft.plan["columns"]]
    table = tables.get((flow.get("sourceConnectionIds") or [""])[0])
    if not isinstance(table, str) or not table:
        return SeenFlow(flow, None, "its source connection names no table")
    entry = {
        "name": flow.get("name") or flow.get("id"),
        "connection": connection.name,
        "table": table,
        "dataset": read.get("name") or read.get("id"),
        **({"schema": title} if title else {}),
        "mapping": export.mapping_entry(shown.current.data, columns),
        "schedule": export.schedule_entry(flow),
        "state": flow.get("state") if flow.get("state") in ("enabled", "disabled") else "enabled",
    }
    return SeenFlow(flow, entry)


def datasets_named(sandbox: str, names: set[str]) -> dict[str, list[dict]]:
    """name → the datasets of that name in the sandbox (each with its schema's title), for the names asked."""
    found: dict[str, list[dict]] = {name: [] for name in names}
    start = 0
    for _page in range(MOST_PAGES):
        page = services.catalog().page(sandbox, start=start, limit=99)  # it asks one more, to tell a next page
        for dataset in page.items:
            if dataset.get("name") in found:
                found[dataset["name"]].append(dataset)
        if not page.more:
            break
        start += len(page.items)
    schema_ids = sorted({(d.get("schemaRef") or {}).get("id") or "" for ds in found.values() for d in ds} - {""})
    titles = dict(
        zip(
            schema_ids,
            side_by_side(lambda i=i: services.schema_registry().schema(sandbox, i).title for i in schema_ids),
            strict=True,
        )
    )
    for datasets in found.values():
        for dataset in datasets:
            title = titles.get((dataset.get("schemaRef") or {}).get("id") or "")
            dataset["schema_title"] = title if isinstance(title, str) else None
    return found


def as_file(sandbox: str, wanted: set[str] | None = None) -> tuple[str, int, int]:
    """The sandbox's connections (those `wanted` names, when given) and their dataflows as the file's text, with
    what the file cannot describe named in its opening comments; and how many connections and dataflows it holds."""
    connections: list[dict] = []
    dataflows: list[dict] = []
    left_out: list[str] = []
    for seen in read(sandbox, wanted or None):
        if seen.name in {c["name"] for c in connections}:
            left_out.append(f"connection {seen.name} ({seen.connection['id']}): another of that name is written")
            continue
        source = seen.source
        key = source.key if source.key != "spec" else source.connection_spec_id
        several = (
            source.key == "spec" and len((services.spec_catalog().spec(seen.spec_id) or {}).get("authSpec") or []) > 1
        )
        description = seen.connection.get("description") or ""
        auth = seen.spec_name if several else None
        connections.append(export.connection_entry(seen.name, key, auth, description, seen.fields, seen.secret))
        if seen.flows_unread:
            left_out.append(f"the dataflows of {seen.name}: {seen.flows_unread}")
        for flow in seen.flows:
            if flow.entry is None:
                left_out.append(f"dataflow {flow.name}: {flow.why}")
            elif flow.name in {d["name"] for d in dataflows}:
                left_out.append(f"dataflow {flow.name} ({flow.flow.get('id')}): another of that name is written")
            else:
                dataflows.append(flow.entry)
    missing = sorted((wanted or set()) - {c["name"] for c in connections})
    left_out += [f"connection {name}: none of that name in {sandbox}" for name in missing]
    return export.dump(sandbox, connections, dataflows, left_out), len(connections), len(dataflows)
