"""Reading a configuration file: YAML parsed safely, checked against the file's JSON Schema and then for what a schema
cannot say (a dataflow naming no connection of the file, two objects of one name), each problem given with the line
it is on. A secret written in clear is said without its value."""

from __future__ import annotations

import dataclasses
from typing import Any

import jsonschema
import yaml

from .model import SECRET_NAME_RE, ConfigFile, json_schema

# The most a file may be: far more than a sandbox's connections and dataflows need, far less than a parser chokes on.
MOST_BYTES = 2 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Problem:
    line: int | None
    where: str  # connections[0].fields.password
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.where}: {self.message}" if self.line else f"{self.where}: {self.message}"


class Refused(Exception):
    """The file cannot be used; `problems` says each thing at fault, with its line."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _lines(node, path: tuple = (), found: dict | None = None) -> dict[tuple, int]:
    """Each path of the document (keys and indexes) → its line, 1-based, from the YAML nodes."""
    found = {} if found is None else found
    found.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)
    return found


def where(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


def _message(error: jsonschema.ValidationError) -> str:
    """The schema's refusal in words, never quoting a value (which may be a secret written in clear)."""
    name = error.absolute_path[-1] if error.absolute_path else None
    if error.validator == "oneOf" and isinstance(name, str) and SECRET_NAME_RE.search(name):
        return "a secret written in clear: write ${ENV_NAME}, {file: PATH} or ask, never the value."
    if error.validator == "required":
        return error.message.split(" is a required")[0].strip("'") + " is required."
    if error.validator in ("type", "const", "enum", "pattern", "maxLength", "minimum", "maximum", "maxItems"):
        return (
            f"not allowed here ({error.validator}: {error.validator_value!r})"
            if error.validator != "type"
            else (f"must be {error.validator_value}")
        )
    return f"does not fit the file's schema ({error.validator})."


def lines_of(text: str) -> dict[tuple, int]:
    """Each path of a file `load` took → its line."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return _lines(node) if node is not None else {}


def load(text: str) -> ConfigFile:
    """The file, checked; Refused with every problem found, each on its line."""
    if len(text.encode()) > MOST_BYTES:
        raise Refused([Problem(None, "the file", f"larger than {MOST_BYTES // 1024 // 1024} MiB")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise Refused(
            [Problem(line, "the file", f"not YAML: {getattr(error, 'problem', '') or 'unreadable'}")]
        ) from None
    if node is None or not isinstance(data, dict):
        raise Refused([Problem(1, "the file", "must be a mapping with apiVersion, connections and dataflows.")])
    lines = _lines(node)
    validator = jsonschema.Draft202012Validator(json_schema())
    problems = []
    for found in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(found.absolute_path)
        if found.validator == "additionalProperties":
            # Each key the file does not know, on its own line.
            for key in sorted(set(found.instance) - set(found.schema.get("properties", {}))):
                problems.append(Problem(lines.get((*path, key)), where((*path, key)), "not a key this file knows."))
            continue
        problems.append(Problem(lines.get(path), where(path), _message(found)))
    problems += _names(data, lines) if not problems else []
    if problems:
        raise Refused(problems)
    return ConfigFile.model_validate(data)


def _names(data: dict, lines: dict) -> list[Problem]:
    """What the schema cannot say: names said twice, and a dataflow naming no connection of the file."""
    problems = []
    for kind in ("connections", "dataflows"):
        seen: set[str] = set()
        for index, item in enumerate(data.get(kind) or []):
            if item["name"] in seen:
                path = (kind, index, "name")
                problems.append(Problem(lines.get(path), where(path), f"{item['name']} is named twice."))
            seen.add(item["name"])
    connections = {item["name"] for item in data.get("connections") or []}
    for index, item in enumerate(data.get("dataflows") or []):
        if item["connection"] not in connections:
            path = ("dataflows", index, "connection")
            problems.append(Problem(lines.get(path), where(path), "names no connection of this file."))
    return problems
