"""What config as code's operations take and give: a file with the secrets' values to plan or apply it with, and the
plan (each object's change, secrets masked) and what applying did. A secret's value is taken, never given back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..config_file.load import MOST_BYTES
from .schemas import SANDBOX, Strict

FieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
Secrets = dict[Annotated[str, Field(max_length=256)], dict[FieldName, Annotated[str, Field(max_length=8192)]]]


class ConfigPlanRequest(Strict):
    """A configuration file (YAML, as text) to plan against a sandbox."""

    sandbox: str = Field(max_length=128, pattern=SANDBOX, description="The sandbox to apply the file to.")
    file: str = Field(max_length=MOST_BYTES, description="The file's text: its schema is /api/config-schema.json.")
    secrets: Secrets = Field(
        default_factory=dict,
        max_length=500,
        description="Each secret's value, by connection name and field, as its reference gives it to whoever "
        "applies the file. Only a keyed hash of each is kept; none is ever given back.",
    )
    prune: bool = Field(default=False, description="Delete what the file does not name (admins only, to apply).")


class ConfigApplyRequest(ConfigPlanRequest):
    plan_digest: str | None = Field(
        default=None,
        max_length=80,
        description="A saved plan's digest: the apply is refused when the plan made now is another.",
    )


class PlanProblem(BaseModel):
    line: int | None = Field(description="The file's line, when the problem is on one.")
    where: str
    message: str


class PlannedChange(BaseModel):
    kind: Literal["connection", "dataflow"]
    name: str
    action: Literal["create", "update", "replace", "delete", "pending", "blocked", "none", "left"] = Field(
        description="What applying does: `left` is in the sandbox and not in the file (deleted only with prune)."
    )
    id: str | None = None
    fields: list[dict] = Field(description="Each field that changes: {field, from, to}, secrets as references only.")
    drift: list[str] = Field(description="What changed outside the file since it was last applied.")
    notes: list[str]
    problems: list[PlanProblem]
    would: str | None = Field(description="For a change blocked only for want of secrets' values: what it would be.")
    waiting: list[str] = Field(description="The secrets (fields) whose values were not given.")


class PlanAnswer(BaseModel):
    sandbox: str
    digest: str = Field(description="Send it with apply (plan_digest) to refuse an apply that would do otherwise.")
    prune: bool
    summary: dict[str, int]
    changes: list[PlannedChange]


class AppliedChange(BaseModel):
    kind: str
    name: str
    action: str
    outcome: Literal["done", "failed", "skipped", "pending"]
    id: str | None = None
    message: str | None = None
    link: str | None = Field(
        default=None,
        description="A credential link for the database owner to type the connection's secrets (written ask), given "
        "this once: pass it on.",
    )


class ApplyAnswer(BaseModel):
    plan: PlanAnswer
    results: list[AppliedChange]
    complete: bool = Field(description="True when every change was made: else apply again to go on from there.")
