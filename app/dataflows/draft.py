"""A dataflow draft: what a person chose so far, step by step, and the objects its chain made, as the store keeps it.

The steps' order is written here once: each step needs the one before it done, and a draft whose three parts are
chosen can be reviewed and created.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..adobe.schema_registry import Field, Schema

DRAFT_KEY = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
# The steps, in order, with their names on the page; the first three each choose one part of the plan.
STEPS = (("dataset", "Dataset"), ("mapping", "Mapping"), ("schedule", "Schedule"), ("review", "Review"))
PARTS = tuple(step for step, _label in STEPS[:-1])
# The objects of the chain, each a column of the store, in the order they are made.
OBJECTS = ("source_id", "target_id", "mapping_id", "flow_id")
# The most columns a table may bring (our choice: a form of more would not fit on a page).
MOST_COLUMNS = 200
# The kinds of column a dataflow's delta column may be (app/adobe/bodies.py's DELTA_FORMATS): timestamps and dates.
DELTA_KINDS = ("date-time", "date")


def before(step: str) -> str | None:
    """The step that must be done before `step` (None for the first)."""
    names = [name for name, _label in STEPS]
    return names[names.index(step) - 1] if names.index(step) else None


@dataclasses.dataclass(frozen=True)
class Draft:
    key: str
    owner: str | None
    sandbox: str
    connection_id: str
    plan: dict
    # draft (being chosen), creating, stopped, done, removed
    state: str
    lease_until: float | None = None
    source_id: str | None = None
    target_id: str | None = None
    mapping_id: str | None = None
    flow_id: str | None = None
    problem: str | None = None
    # The plan's digest as stored: what a review page showed, checked again at create.
    revision: str = ""

    @classmethod
    def of(cls, row: dict | None) -> Draft | None:
        if row is None:
            return None
        values: dict[str, Any] = {field.name: row.get(field.name) for field in dataclasses.fields(cls)}
        return cls(**values)

    @property
    def open(self) -> bool:
        """Still being chosen: its plan may change."""
        return self.state == "draft"

    @property
    def made(self) -> dict[str, str | None]:
        """The chain's objects, by store column, None where not made."""
        return {column: getattr(self, column) for column in OBJECTS}

    @property
    def created(self) -> bool:
        return self.state == "done" and bool(self.flow_id)

    @property
    def missing(self) -> str | None:
        """The first part of the plan not chosen yet (the step to go to), or None when all are."""
        return next((part for part in PARTS if not self.plan.get(part)), None)

    def reached(self, step: str) -> bool:
        """Whether the person may open `step`: the one before it is done."""
        needed = before(step)
        return needed is None or bool(self.plan.get(needed))

    @property
    def schema(self) -> Schema:
        stored = self.plan["schema"]
        return Schema(stored["id"], stored["title"], stored["version"], [Field(**f) for f in stored["fields"]])

    @property
    def timestamps(self) -> list[str]:
        """The columns a delta column can be: timestamps and dates."""
        return [c["name"] for c in self.plan["columns"] if c["kind"] in DELTA_KINDS]


def explored_column(column: dict) -> dict:
    """A column as Flow Service explores it, with the type a person reads (date-time for a timestamp)."""
    xdm = column["xdm"] if isinstance(column.get("xdm"), dict) else {}
    kind = column.get("meta:xdmType") or xdm.get("format") or column.get("type") or xdm.get("type") or "string"
    kept = {k: column[k] for k in ("name", "type", "meta:xdmType", "xdm") if k in column}
    return {**kept, "type": str(column.get("type") or "string"), "kind": str(kind)}
