"""The file: `apiVersion`, then connections (source, name, description, the source's fields with every secret a
reference) and dataflows (the connection by name, the table, the dataset and schema by name since ids differ per
sandbox, the mapping, the schedule and the state). Its JSON Schema is generated from these models; a field whose name
looks secret must hold a reference, never a value (the editor and the portal both say so)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = "aep-source-wizard/v1"
# A secret's reference: an environment variable, a file, or the database owner asked through the portal.
ENV_REFERENCE = r"^\$\{[A-Z_][A-Z0-9_]{0,127}\}$"
ASK = "ask"
# What a secret field's name looks like (app/sources/secrecy.py's rule, as a pattern an editor can apply): anything
# naming a password, secret, token, key, credential, signature, SAS or passphrase, and a connection string.
SECRET_WORDS = ("pwd", "pass", "secret", "token", "key", "credential", "signature", "sas", "connectionstring")
# Written without inline flags, which the regular expressions of JSON Schema (ECMA-262) lack: [pP][wW][dD]|…
SECRET_NAME = "|".join("".join(f"[{c}{c.upper()}]" for c in word) for word in SECRET_WORDS)
SECRET_NAME_RE = re.compile(SECRET_NAME)
NAME = r"^[^\x00-\x1f\x7f]{1,256}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileReference(Strict):
    file: str = Field(min_length=1, max_length=1024, description="A file holding the secret (its whole content).")


# A secret as the file holds it: the reference, never the value.
SECRET_REFERENCE: dict = {
    "description": "A secret: ${ENV_NAME}, {file: PATH}, or ask (the database owner types it in the portal).",
    "oneOf": [
        {"type": "string", "pattern": ENV_REFERENCE},
        {"const": ASK},
        {"$ref": "#/$defs/FileReference"},
    ],
}


class Connection(Strict):
    name: str = Field(pattern=NAME, description="The connection's name: how a dataflow names it, and how it is found.")
    source: str = Field(max_length=64, description="A source's key (postgresql, redshift…) or connection spec id.")
    auth: str | None = Field(default=None, max_length=128, description="For a source of several kinds: the authSpec.")
    description: str = Field(default="", max_length=1024)
    fields: dict[str, str | int | float | bool | FileReference] = Field(
        description="The source's fields, as its form names them; every secret a reference.",
    )


class Constant(Strict):
    path: str = Field(max_length=512)
    value: str = Field(max_length=256)


class Mapping(Strict):
    columns: dict[str, str] = Field(description="Each column mapped, by name, to an XDM field's path.")
    constants: list[Constant] = Field(default_factory=list, max_length=3)


class Schedule(Strict):
    frequency: Literal["once", "minute", "hour", "day", "week"] = "hour"
    interval: int | None = Field(default=1, ge=1, le=1440)
    start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", description="YYYY-MM-DDTHH:MM in `timezone`.")
    timezone: str = Field(default="UTC", max_length=64)
    backfill: bool = True
    delta_column: str | None = Field(default=None, max_length=256)
    error_diagnostics: bool = False
    partial_percent: float | None = Field(default=None, gt=0, le=100)


class Dataflow(Strict):
    name: str = Field(pattern=NAME)
    connection: str = Field(pattern=NAME, description="The name of a connection of this file.")
    table: str = Field(max_length=1024)
    dataset: str = Field(pattern=NAME, description="The dataset's name in the sandbox applied to.")
    schema_: str | None = Field(
        default=None, alias="schema", pattern=NAME, description="The dataset's XDM schema's title, to check it."
    )
    mapping: Mapping | None = Field(default=None, description="Left out: the mapping the portal suggests.")
    schedule: Schedule
    state: Literal["enabled", "disabled"] = "enabled"


class ConfigFile(Strict):
    """A sandbox's connections and dataflows, as `aep-source-wizard export` writes them and `plan` and `apply` read."""

    model_config = ConfigDict(extra="forbid", title="AEP Source Wizard configuration")

    apiVersion: Literal["aep-source-wizard/v1"]  # noqa: N815 - the file's own key, as Kubernetes writes it
    connections: list[Connection] = Field(default_factory=list, max_length=500)
    dataflows: list[Dataflow] = Field(default_factory=list, max_length=2000)


def json_schema() -> dict:
    """The file's JSON Schema (draft 2020-12), as editors read it."""
    schema = ConfigFile.model_json_schema(by_alias=True)
    # A field whose name looks secret holds a reference only: the rule editors apply as they type.
    schema["$defs"]["Connection"]["properties"]["fields"].update(
        patternProperties={SECRET_NAME: SECRET_REFERENCE},
        propertyNames={"pattern": r"^[A-Za-z][A-Za-z0-9_]{0,63}$"},
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "/api/config-schema.json", **schema}
