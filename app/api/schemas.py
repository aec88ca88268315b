"""What the API takes and gives, as pydantic models: each checks what a call sends and describes, in the OpenAPI
document, what the portal answers. Secrets are taken (in a new connection's or a rotation's `fields`) and never
given: a connection's params come back masked, as its page shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# An id of Flow Service, a sandbox name, a page cursor: what each looks like, checked before anything is sent.
SANDBOX = r"^[a-z0-9][a-z0-9-]{0,127}$"
CURSOR = r"^[A-Za-z0-9._~=+/-]{1,512}$"
FieldValue = str | int | float | bool


class Strict(BaseModel):
    """A body or query that refuses what it does not know: a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description="Where the fault is: a body field (fields.host), a query parameter, or a header.")
    message: str
    line: int | None = Field(default=None, description="For a configuration file: the line the fault is on.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    adobe_request_id: str | None = Field(default=None, description="Adobe's x-request-id, when Adobe answered.")
    request_id: str | None = Field(default=None, description="The portal's request id, as its log has it.")


class SandboxQuery(Strict):
    sandbox: str | None = Field(
        default=None,
        max_length=128,
        pattern=SANDBOX,
        description="The sandbox; the first the token may view when left out.",
    )


class ConnectionsQuery(SandboxQuery):
    name: str | None = Field(default=None, max_length=256, description="Connections whose name holds this text.")
    source: str | None = Field(default=None, max_length=64, description="Only this source's: its connection spec id.")
    state: Literal["enabled", "disabled"] | None = None
    sort: Literal["newest", "oldest", "name", "name-desc"] = "newest"
    mine: bool = Field(default=False, description="Only the connections the token's person created through the portal.")
    cursor: str | None = Field(
        default=None, max_length=512, pattern=CURSOR, description="The next_cursor of the last page."
    )


class ExploreQuery(SandboxQuery):
    table: str | None = Field(
        default=None, max_length=1024, description="A table's path: its columns rather than the tables."
    )


class SourceRef(BaseModel):
    key: str = Field(description="The source's key in /api/v1/sources.")
    title: str
    connection_spec_id: str


class Tested(BaseModel):
    outcome: Literal["ok", "failed", "error"]
    message: str


TESTED = "The test run right after the credentials were sent: whether Flow Service reaches the database with them."


class Connection(BaseModel):
    id: str
    name: str | None = None
    description: str | None = None
    sandbox: str
    state: str | None = None
    etag: str | None = Field(default=None, description="Send it back in If-Match to rename or rotate.")
    created_at: int | None = Field(
        default=None, description="When Flow Service made it, in milliseconds since the epoch."
    )
    source: SourceRef | None = Field(
        default=None, description="None: a source the portal does not offer (read-only here)."
    )
    auth_spec: str | None = None
    params: dict[str, str] = Field(description="The auth params, every secret masked.")
    tested: Tested | None = Field(default=None, description=TESTED + " Given only after a rotation.")
    read_only: bool = Field(description="True for a connection of a source the portal does not offer.")
    created_by: str | None = Field(default=None, description="Who created it through the portal, when it was.")


class ConnectionPage(BaseModel):
    items: list[Connection]
    next_cursor: str | None = None
    count: int | None = Field(default=None, description="How many match in all, when Flow Service counts them.")


class NewConnection(Strict):
    """A connection to create: the same fields as the source's form (GET /api/v1/sources/{key} describes them)."""

    source: str = Field(max_length=64, description="A source's key, as /api/v1/sources lists them.")
    auth: str | None = Field(
        default=None,
        max_length=128,
        description="For a source with several kinds of authentication: the authSpec's name.",
    )
    sandbox: str = Field(max_length=128, pattern=SANDBOX)
    name: str = Field(max_length=256)
    description: str = Field(default="", max_length=1024)
    fields: dict[str, FieldValue] = Field(
        description="The source's own fields, by name; secrets are used once and never given back.", max_length=64
    )
    allow_duplicate_name: bool = Field(
        False, description="Create it even when connections of that name exist in the sandbox (else 409)."
    )


class Rename(Strict):
    name: str = Field(max_length=256)
    description: str = Field(default="", max_length=1024)


class Rotate(Strict):
    fields: dict[str, FieldValue] = Field(
        description="The source's fields anew, secrets included; the kind of authentication cannot change.",
        max_length=64,
    )


class Created(BaseModel):
    connection: Connection | None = Field(default=None, description="The connection, as Flow Service has it now.")
    id: str
    repeated: bool = Field(description="True when this Idempotency-Key had made it already: nothing new was sent.")
    recorded_later: bool = Field(
        default=False, description="Made, and put on the portal's record once its database answers."
    )
    tested: Tested | None = Field(default=None, description=TESTED + " None for a repeated Idempotency-Key.")


class TestResult(BaseModel):
    connection_id: str
    outcome: Literal["ok", "failed", "error"]
    message: str


class Explored(BaseModel):
    connection_id: str
    table: str | None = None
    tables: list[dict[str, Any]] | None = None
    columns: list[dict[str, Any]] | None = None
    delta_columns: list[str] | None = Field(default=None, description="The columns a dataflow can read changes by.")


class Deleted(BaseModel):
    id: str
    deleted: bool = True


class Namesakes(ProblemDetails):
    namesakes: list[dict[str, Any]] = Field(description="The connections already so named: id, name, created.")


class SourceSummary(BaseModel):
    key: str
    title: str
    summary: str | None = None
    connection_spec_id: str
    deprecated: str | None = None
    auth_specs: list[str] | None = Field(
        default=None, description="A source of several kinds of authentication: their names, one for `auth`."
    )


class SourceList(BaseModel):
    items: list[SourceSummary]


class SourceQuery(Strict):
    auth: str | None = Field(
        default=None, max_length=128, description="For a source of several kinds of authentication: which one."
    )


class SourceFields(SourceSummary):
    fields: dict[str, Any] = Field(description="The JSON Schema of the `fields` of a new connection of this source.")


class AuditQuery(Strict):
    action: str | None = Field(default=None, max_length=32)
    outcome: Literal["ok", "failed"] | None = None
    user: str | None = Field(default=None, max_length=256)
    sandbox: str | None = Field(default=None, max_length=128)
    text: str | None = Field(default=None, max_length=256)
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$", description="The last page's next_cursor.")


class AuditEntry(BaseModel):
    at: str
    user: str | None = None
    role: str | None = None
    action: str
    outcome: str
    source: str | None = None
    sandbox: str | None = None
    connection_name: str | None = None
    connection_id: str | None = None
    detail: str | None = None
    adobe_request_id: str | None = None
    request_id: str | None = None
    token: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None = None


class DataflowsQuery(Strict):
    sandbox: str | None = Field(default=None, max_length=128, pattern=SANDBOX, description="Only this sandbox's.")
    state: Literal["enabled", "disabled"] | None = None
    status: str | None = Field(default=None, max_length=16, description="The last run's status, such as failed.")
    health: str | None = Field(default=None, max_length=16, description="failing, partial, late, disabled, healthy…")
    source: str | None = Field(default=None, max_length=64, description="Only this source's: its connection spec id.")
    q: str | None = Field(
        default=None, max_length=100, description="Dataflows whose name, table or dataset holds this."
    )
    sort: str | None = Field(default=None, max_length=16)
    cursor: str | None = Field(default=None, max_length=64, pattern=CURSOR, description="The last page's next_cursor.")


class DataflowSummary(BaseModel):
    id: str
    name: str
    sandbox: str
    state: str
    source: str = Field(description="The source's name.")
    table: str | None = None
    dataset: str | None = None
    dataset_id: str | None = None
    health: str = Field(description="failing, partial, late, disabled or healthy.")
    last_status: str
    last_run_ms: int | None = None
    records_24h: int
    failures_in_row: int
    read_only: bool


class DataflowPage(BaseModel):
    items: list[DataflowSummary]
    next_cursor: str | None = None
    count: int
    problems: list[str] = Field(description="What could not be read (a sandbox Adobe did not answer for, say).")


class Dataflow(BaseModel):
    id: str
    name: str | None = None
    description: str | None = None
    sandbox: str
    state: str | None = None
    etag: str | None = None
    created_at: int | None = None
    flow_spec_id: str | None = None
    source_connection_ids: list[str]
    target_connection_ids: list[str]
    base_connection_id: str | None = None
    schedule: dict[str, Any] = Field(description="Flow Service's scheduleParams.")
    read_only: bool


class Run(BaseModel):
    id: str
    status: str = Field(description="success, partial, failed, or Flow Service's word while it runs.")
    created_ms: int
    completed_ms: int | None = None
    records_read: int
    records_written: int
    records_failed: int
    errors: list[dict[str, str]]


class RunList(BaseModel):
    items: list[Run]


class Done(BaseModel):
    id: str = Field(description="The dataflow's id.")
    message: str
    run_id: str | None = Field(default=None, description="The run started, for a retry or a run now.")


class Constant(Strict):
    path: str = Field(max_length=512, description="The XDM field every record gets the value in.")
    value: str = Field(max_length=256)


class NewMapping(Strict):
    columns: dict[str, str] = Field(
        description="Each column to map, by name, to the path of an XDM field of the dataset's schema; a column left "
        "out is skipped.",
        max_length=200,
    )
    constants: list[Constant] = Field(default_factory=list, max_length=3)


class NewSchedule(Strict):
    name: str = Field(max_length=200, description="The dataflow's name.")
    frequency: Literal["once", "minute", "hour", "day", "week"] = "hour"
    interval: int | None = Field(default=1, description="Every N: 15 to 1440 minutes, 1 to 744 hours, 1 to 365 days…")
    start: str = Field(max_length=16, description="The first run, YYYY-MM-DDTHH:MM in `timezone`.")
    timezone: str = Field(default="UTC", max_length=64)
    backfill: bool = True
    delta_column: str | None = Field(default=None, max_length=256, description="A timestamp or date column.")
    error_diagnostics: bool = False
    partial_percent: float | None = Field(default=None, description="More than 0, at most 100, two decimals at most.")


class NewDataflow(Strict):
    """A dataflow to make from a connection's table: the same choices as the pages' steps, in one document."""

    sandbox: str = Field(max_length=128, pattern=SANDBOX)
    connection_id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9-]{1,64}$")
    table: str = Field(max_length=1024, description="The table's path, as exploring the connection lists it.")
    dataset_id: str = Field(max_length=64, description="The dataset (of an XDM schema) the dataflow writes to.")
    mapping: NewMapping | None = Field(default=None, description="Left out: the mapping the portal suggests.")
    schedule: NewSchedule


class CreatedDataflow(BaseModel):
    id: str
    dataflow: Dataflow | None = None
    repeated: bool = Field(description="True when this Idempotency-Key had made it already: nothing new was sent.")
    made: dict[str, str | None] = Field(description="The chain's objects: source, target, mapping set and flow ids.")


class DataflowChange(Strict):
    """What to change of a dataflow: any of its name, description, schedule and mapping; the rest stays."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1024)
    frequency: Literal["minute", "hour", "day", "week"] | None = Field(
        default=None, description="Not for a dataflow scheduled once, which keeps that."
    )
    interval: int | None = None
    mapping: NewMapping | None = Field(
        default=None, description="The whole mapping anew: the columns to map by name, and the constants."
    )


class ChangedDataflow(BaseModel):
    id: str
    changed: bool = Field(description="False when nothing differed: nothing was sent.")
    mapping_version: int | None = Field(default=None, description="The mapping set version the dataflow now uses.")
    dataflow: Dataflow | None = None


class ExportQuery(Strict):
    sandbox: str | None = Field(default=None, max_length=128, pattern=SANDBOX, description="The sandbox to export.")
    connection: list[Annotated[str, Field(max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]] | None = Field(
        default=None, max_length=100, description="Only these connections (by name), with their dataflows."
    )
