"""What a file asks of a sandbox, object by object: each connection as the source's own form makes its request (its
fields checked as the page and the API check them, every secret's value given by whoever applies the file, or asked
of the database owner), and each dataflow's schedule in UTC, the zone Flow Service keeps it in. Problems are given with
the file's line; a secret's value is never quoted, and only a keyed hash of it (its fingerprint) is kept."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import re
import zoneinfo

from .. import services
from ..api import forms
from ..api.problems import Problem as ApiProblem
from ..sources import secrecy
from ..sources.base import Source
from .load import Problem, where
from .model import ASK, ENV_REFERENCE, SECRET_NAME_RE, Connection, Dataflow, FileReference, Schedule

# A connection string compared with its secrets hidden, under this name.
HIDDEN = " (secrets hidden)"
# What stands for a secret not given (asked of the owner, or not set) while the other fields are checked: never sent.
NOT_GIVEN = "not-given-0"


def reference(value) -> str:
    """A secret's reference as the file writes it: ${NAME}, {file: PATH} or ask."""
    return f"{{file: {value.file}}}" if isinstance(value, FileReference) else str(value)


def fingerprint(sandbox: str, connection: str, field: str, value: str) -> str:
    """A keyed hash of a secret's value (HMAC-SHA256 with the portal's secret key), per sandbox, connection and field:
    tells a changed value without the value ever being kept."""
    text = "\n".join((sandbox, connection, field, value))
    return hmac.new(services.settings().secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def normal(value) -> str:
    """A param's value as compared: Flow Service keeps what was sent, a file writes 5432 or "5432" alike."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclasses.dataclass
class WantedConnection:
    """A connection of the file, as it would be sent: `body` holds the secrets' values (or NOT_GIVEN)."""

    entry: Connection
    index: int
    source: Source | None = None
    body: dict | None = None
    secret: set[str] = dataclasses.field(default_factory=set)
    references: dict[str, str] = dataclasses.field(default_factory=dict)
    asked: list[str] = dataclasses.field(default_factory=list)  # written `ask`: the owner types them
    missing: list[str] = dataclasses.field(default_factory=list)  # a reference whose value was not given
    fingerprints: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    lines: dict[str, int | None] = dataclasses.field(default_factory=dict)  # each secret's line in the file

    @property
    def spec_id(self) -> str:
        return (self.body or {}).get("connectionSpec", {}).get("id", "")

    @property
    def spec_name(self) -> str | None:
        return (self.body or {}).get("auth", {}).get("specName")

    @property
    def params(self) -> dict:
        return dict((self.body or {}).get("auth", {}).get("params") or {})

    def normalized(self) -> dict:
        """What is compared and kept as applied: never a secret's value, only its reference."""
        return {
            "source": self.spec_id,
            "auth": self.spec_name,
            "description": self.entry.description,
            "params": comparable(self.params, self.secret),
            "secrets": dict(sorted(self.references.items())),
        }


def connection(entry: Connection, index: int, sandbox: str, given: dict[str, str], lines: dict) -> WantedConnection:
    """The file's connection as its source's form makes it, each problem on its line."""
    wanted = WantedConnection(entry, index)

    def problem(path: tuple, message: str) -> None:
        full = ("connections", index, *path)
        wanted.problems.append(Problem(lines.get(full), where(full), message))

    try:
        wanted.source = forms.find_source(entry.source, entry.auth)
    except ApiProblem as refused:
        problem(("source",), refused.detail or refused.title)
        return wanted
    fields: dict = {}
    for name, value in entry.fields.items():
        if not (is_reference(value) or is_secret(wanted.source, name)):
            fields[name] = value
            continue
        wanted.references[name] = reference(value)
        wanted.lines[name] = lines.get(("connections", index, "fields", name))
        if value == ASK:
            wanted.asked.append(name)
        elif name not in given:
            wanted.missing.append(name)
        fields[name] = given.get(name, NOT_GIVEN) if value != ASK else NOT_GIVEN
    services.secrets().add_for_request(*(v for v in given.values() if v))
    try:
        form = forms.checked_form(
            wanted.source, fields, {"name": entry.name, "description": entry.description, "sandbox": sandbox}, [sandbox]
        )
    except ApiProblem as refused:
        unsent = set(wanted.asked) | set(wanted.missing)
        errors = [e for e in refused.errors or [] if e["field"].removeprefix("fields.") not in unsent]
        for error in errors:
            field = error["field"]
            name = field.removeprefix("fields.")
            problem(("fields", name) if name != field else (field,), error["message"])
        if errors:
            return wanted
        form = None
    if form is None:
        # Only a secret not given is at fault (a connection string to ask for): what the rest says, compared only.
        params = {k: v for k, v in fields.items() if k != "method" and v != NOT_GIVEN}
        spec_name = wanted.source.form_class.spec_of_method.get(str(fields.get("method")))
        wanted.body = {
            "auth": {"specName": spec_name, "params": params},
            "connectionSpec": {"id": wanted.source.connection_spec_id},
        }
    else:
        wanted.body = wanted.source.request_body(form)
    params = wanted.params
    wanted.secret = {k for k in params if is_secret(wanted.source, k)}
    wanted.secret |= set(wanted.references) & set(params)
    # Each of the file's secrets by its own field: a form may send several inside one param (a connection string
    # built from the password and the other fields).
    wanted.fingerprints = {
        field: fingerprint(sandbox, entry.name, field, given[field])
        for field in wanted.references
        if field in given and field not in wanted.asked
    }
    return wanted


def is_secret(source: Source, name: str) -> bool:
    """Whether a field or param is secret: the source marks it so, or its name looks secret (over-hiding is the safe
    mistake)."""
    return name in source.secret_params or SECRET_NAME_RE.search(name) is not None


def is_reference(value) -> bool:
    """A value the file gives by reference: ${NAME}, {file: PATH} or ask. It is a secret wherever it stands (our
    choice: whoever applies gives its value, and a value given so is never shown)."""
    return isinstance(value, FileReference) or (
        isinstance(value, str) and (value == ASK or re.match(ENV_REFERENCE, value) is not None)
    )


def comparable(params: dict, secret: set[str]) -> dict:
    """Auth params as a plan compares them: the others as text, a connection string with its secrets hidden (so that
    its server or port changing shows), any other secret left to its fingerprint."""
    found = {}
    for name, value in sorted(params.items()):
        if name not in secret:
            found[name] = normal(value)
        elif name == "connectionString" and isinstance(value, str) and value != NOT_GIVEN:
            shown = secrecy.redact_param(name, value)
            if shown != "{CONNECTION_STRING}":  # one that does not read as pairs is a secret whole
                found[f"{name}{HIDDEN}"] = shown
    return found


def schedule(entry: Schedule) -> dict:
    """The schedule as compared: its first run in UTC (what export writes), the rest as the file says. A zone the
    portal does not know raises zoneinfo's error."""
    zone = zoneinfo.ZoneInfo(entry.timezone)
    start = datetime.datetime.strptime(entry.start, "%Y-%m-%dT%H:%M").replace(tzinfo=zone).astimezone(datetime.UTC)
    found: dict = {"frequency": entry.frequency, "start": start.strftime("%Y-%m-%dT%H:%M")}
    if entry.frequency != "once":
        found["interval"] = entry.interval or 1
        found["backfill"] = entry.backfill
    if entry.delta_column:
        found["delta_column"] = entry.delta_column
    found["error_diagnostics"] = entry.error_diagnostics
    if entry.partial_percent is not None:
        found["partial_percent"] = entry.partial_percent
    return found


def observed_schedule(schedule_entry: dict) -> dict:
    """export's schedule entry in the same shape as `schedule`'s."""
    found = {k: v for k, v in schedule_entry.items() if k != "timezone"}
    found.setdefault("error_diagnostics", False)
    return found


def dataflow(entry: Dataflow) -> dict:
    """What is compared of a dataflow and kept as applied."""
    return {
        "connection": entry.connection,
        "table": entry.table,
        "dataset": entry.dataset,
        "mapping": entry.mapping.model_dump() if entry.mapping else None,
        "schedule": schedule(entry.schedule),
        "state": entry.state,
    }


def first_run(entry: Schedule, now: float) -> tuple[str, str | None]:
    """The first run to make a dataflow with, in UTC (YYYY-MM-DDTHH:MM), and a note when the file's is past: then the
    next run on its cadence from a minute on (a run once, a minute on). The portal's form refuses a first run more
    than a day past; Flow Service keeps a dataflow's first run (our choice: carry the cadence, not the date)."""
    start = datetime.datetime.strptime(schedule(entry)["start"], "%Y-%m-%dT%H:%M").replace(tzinfo=datetime.UTC)
    soon = datetime.datetime.fromtimestamp(now + 60, datetime.UTC)
    if start >= soon:
        return start.strftime("%Y-%m-%dT%H:%M"), None
    seconds = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}.get(entry.frequency)
    if seconds is None:
        moved = soon + datetime.timedelta(minutes=1)
    else:
        step = seconds * (entry.interval or 1)
        moved = start + datetime.timedelta(seconds=step * -(-(soon - start).total_seconds() // step))
    text = moved.strftime("%Y-%m-%dT%H:%M")
    return text, f"its first run in the file is past: it starts at {text} UTC, the next on its cadence"
