"""A made dataflow's mapping, changed as Adobe's "Update dataflows using the Flow Service API" tutorial changes it
("Update mapping";
https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/update-dataflows): Data Prep
makes the mapping set's next version (`PUT /mappingSets/{id}`, the Data Prep spec's "Update a mapping set"), then one
`PATCH /flows/{id}` with `If-Match` replaces the flow's Mapping transformation with one naming that version
(`{"name": "Mapping", "params": {"mappingId", "mappingVersion": 2}}`).

The rules of a new dataflow's mapping step (app/dataflows/mapping.py) apply unchanged: the table's columns and the
dataset's schema go in a stand-in draft, which is all those rules read; the mapping set's rows become the mapping
form's data, and what the form asks for is compared with them. A version made by a send whose PATCH then failed is
found again (a version after the dataflow's already holds the rows asked for) and reused, never made twice.
"""

from __future__ import annotations

import dataclasses

from ..adobe import AdobeError
from ..adobe.data_prep import Version, mapping_set, rows_of, source_field
from ..adobe.schema_registry import Schema
from ..together import side_by_side
from .draft import MOST_COLUMNS, Draft, explored_column
from .mapping import CONSTANTS, chosen, mapping_rows

MAPPING = "Mapping"
# The new version's number in the PATCH a review shows: Data Prep gives it only when it makes the version.
NEW_VERSION = "{NEW_MAPPING_VERSION}"
# How many versions after the dataflow's are read for one already holding the rows asked for (our choice: each failed
# send makes at most one; more than this many is someone else's doing).
LOOK_AHEAD = 10
# What the mapping form's fields hold at most (app/dataflows/forms.py: a path, a constant's value).
MOST_PATH, MOST_VALUE = 512, 256

Row = tuple[str, str, str]


class Unshown(Exception):
    """The dataflow's mapping cannot be changed here: why, in words a person acts on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Current:
    """The mapping a dataflow uses: its Mapping transformation's place and params, the mapping set and version it
    names, the set's name and rows at that version, and the stand-in draft (columns and schema) the rules read.
    `data` is the mapping form's data for the rows; None when the form cannot hold them (they are shown only)."""

    index: int
    params: dict
    set_id: str
    version: int
    name: str
    rows: list[Row]
    draft: Draft
    data: dict | None

    @property
    def schema_id(self) -> str:
        return self.draft.plan["schema"]["id"]


def transformation(flow: dict) -> tuple[int, dict] | None:
    """The place and params of the dataflow's Mapping transformation, or None when it has none."""
    for index, item in enumerate(flow.get("transformations") or []):
        if isinstance(item, dict) and item.get("name") == MAPPING:
            return index, dict(item["params"]) if isinstance(item.get("params"), dict) else {}
    return None


def whole(value) -> int | None:
    """A mappingVersion as a number: the dataflow tutorial sends "0", the update tutorial 2."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


def stand_in(sandbox: str, columns: list[dict], schema: Schema) -> Draft:
    """A draft holding only what the mapping rules read: the table's columns and the dataset's schema."""
    return Draft(
        key="",
        owner=None,
        sandbox=sandbox,
        connection_id="",
        state="done",
        plan={
            "columns": columns,
            "schema": {
                "id": schema.id,
                "title": schema.title,
                "version": schema.version,
                "fields": [vars(f) for f in schema.fields],
            },
        },
    )


def form_data(rows: list[Row], draft: Draft) -> dict | None:
    """The mapping form's data for a mapping set's rows: each column's field and the constants; None when the form
    cannot hold them (a source that is no column, a column filling two fields, an expression, more than CONSTANTS
    constants, a field the schema lacks, a value longer than the form takes)."""
    columns, known = draft.plan["columns"], {f.path for f in draft.schema.fields}
    by_source: dict[str, int] = {}
    for i, column in enumerate(columns):
        written = source_field(column["name"])
        if written is not None:
            by_source.setdefault(written, i)
    data: dict = {f"column_{i}": "" for i in range(len(columns))}
    constants: list[tuple[str, str]] = []
    for kind, source, destination in rows:
        if destination not in known or len(destination) > MOST_PATH:
            return None
        if kind == "ATTRIBUTE" and source in by_source and not data[f"column_{by_source[source]}"]:
            data[f"column_{by_source[source]}"] = destination
        elif kind == "STATIC" and len(constants) < CONSTANTS and source == source.strip() and len(source) <= MOST_VALUE:
            constants.append((destination, source))
        else:
            return None
    for j in range(CONSTANTS):
        data[f"constant_path_{j}"], data[f"constant_value_{j}"] = constants[j] if j < len(constants) else ("", "")
    return data


def wanted(form, current: Current) -> list[Row] | None:
    """The rows the form asks for, as a new dataflow's mapping step sends them; None when a column mapped has no
    documented name in Data Prep (the rules' checks say so beside its field)."""
    try:
        return mapping_rows({"mapping": chosen(form, current.draft.plan)})
    except ValueError:
        return None


def same(one: list[Row] | None, other: list[Row] | None) -> bool:
    """The same rows, whatever their order (Data Prep applies each mapping on its own)."""
    return one is not None and other is not None and sorted(one) == sorted(other)


def operation(current: Current, version: int | str) -> dict:
    """The PATCH operation pointing the dataflow at `version` of its mapping set, as the update tutorial writes it: a
    `replace` of the whole Mapping transformation, `mappingVersion` a number (the tutorial sends 2). The tutorial
    replaces `/transformations/0`, its flow's Mapping being first; a dataflow the portal makes has its Copy first, so
    the path names the Mapping's own place, which the `If-Match` etag keeps from moving. Its other params stay."""
    return {
        "op": "replace",
        "path": f"/transformations/{current.index}",
        "value": {
            "name": MAPPING,
            "params": {**current.params, "mappingId": current.set_id, "mappingVersion": version},
        },
    }


def body(current: Current, rows: list[Row]) -> dict:
    """The PUT's body: the set as it is (its name and output schema) with the rows asked for."""
    return mapping_set(current.name, current.schema_id, rows)


def described(rows: list[Row]) -> str:
    """Rows as one line a person reads: `email → personalEmail.address; "gold" → tier`."""
    return "; ".join(
        f"{source if kind == 'ATTRIBUTE' else repr(source)} → {destination}"
        for kind, source, destination in sorted(rows, key=lambda row: row[2])
    )


class Remapper:
    """Reads a dataflow's mapping and makes its next version, with the given clients (as app/dataflows/chain.py)."""

    def __init__(self, dataflows, data_prep, schema_registry, connections):
        self._dataflows, self._data_prep = dataflows, data_prep
        self._schemas, self._connections = schema_registry, connections

    def current(self, sandbox: str, flow: dict) -> Current | None:
        """The mapping the dataflow uses; None when it has no Mapping transformation. Raises Unshown when it cannot be
        changed here, AdobeError when Adobe could not say."""
        found = transformation(flow)
        if found is None:
            return None
        index, params = found
        set_id, version = params.get("mappingId"), whole(params.get("mappingVersion", 0))
        if not isinstance(set_id, str) or not set_id or version is None:
            raise Unshown(
                "The dataflow's Mapping transformation names no mapping set and version Data Prep reads, so "
                "its mapping cannot be changed here; use Experience Platform for that."
            )
        source_id = (flow.get("sourceConnectionIds") or [None])[0]
        source, item = side_by_side(
            [
                lambda: self._dataflows.source_connection(sandbox, source_id),
                lambda: self._data_prep.mapping_set_of(sandbox, set_id, version),
            ]
        )
        for outcome in (source, item):
            if isinstance(outcome, BaseException):
                raise outcome
        rows = rows_of(item)
        schema_id = (
            ((item.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
            if isinstance(item.get("outputSchema"), dict)
            else None
        )
        if rows is None or not isinstance(schema_id, str):
            raise Unshown(
                f"Data Prep's mapping set {set_id} (version {version}) holds no mappings in the shape the "
                "portal reads, so it cannot be changed here; use Experience Platform for that."
            )
        columns = self._columns(sandbox, source)
        draft = stand_in(sandbox, columns, self._schemas.schema(sandbox, schema_id))
        return Current(index, params, set_id, version, str(item.get("name") or ""), rows, draft, form_data(rows, draft))

    def _columns(self, sandbox: str, source: dict) -> list[dict]:
        """The table's columns: as the source connection lists them (a dataflow the portal made), else as Flow Service
        explores the table (one made elsewhere)."""
        params: dict = source["params"] if isinstance(source.get("params"), dict) else {}
        listed = params.get("columns")
        if not isinstance(listed, list) or not listed:
            table, base_id = params.get("tableName"), source.get("baseConnectionId")
            if not isinstance(table, str) or not isinstance(base_id, str):
                raise Unshown(
                    "The dataflow's source connection names no table, so its columns (and its mapping) "
                    "cannot be shown here; use Experience Platform for that."
                )
            listed = self._connections.explore(sandbox, base_id, table)
        columns = [
            explored_column(c) for c in listed if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"]
        ][:MOST_COLUMNS]
        if not columns:
            raise Unshown(
                "Flow Service lists no columns for the dataflow's table, so its mapping cannot be changed here."
            )
        return columns

    def reusable(self, sandbox: str, current: Current, rows: list[Row]) -> int | None:
        """A version of the set after the one the dataflow uses that already holds `rows` (an earlier send made it,
        then the PATCH failed, or the PUT's answer was lost): the version to point at without making another; the
        newest such, or None. Each is read by its number (`?version=N`, from the one after the dataflow's, until Data
        Prep has none or LOOK_AHEAD were read): the spec gives `version` a default of 0, so a read without it is not
        taken to be the newest."""
        found = None
        for version in range(current.version + 1, current.version + 1 + LOOK_AHEAD):
            try:
                item = self._data_prep.mapping_set_of(sandbox, current.set_id, version)
            except AdobeError as error:
                if error.not_found:
                    break
                raise
            if same(rows_of(item), rows):
                found = version
        return found

    def make_version(self, sandbox: str, current: Current, rows: list[Row]) -> Version:
        """PUT the set with `rows`: its next version. Raises AdobeError (the set unchanged, or maybe changed when the
        answer was lost: `reusable` finds such a version on the next send)."""
        return self._data_prep.update(sandbox, current.set_id, body(current, rows))
