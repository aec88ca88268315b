"""A draft's mapping: each column of the table to a field of the dataset's XDM schema, or skipped, and constants.

The rules the portal checks before Data Prep is asked (one column per field, a type that fits, a whole constant), the
suggestion of a field for each column by name and type, and the rows sent to Data Prep, each column named as Data
Prep reads a source field.
"""

from __future__ import annotations

import re

from ..adobe.data_prep import source_field
from ..adobe.schema_registry import Field
from ..sources.fields import add_error
from .draft import Draft

# Constant values a mapping may set besides the columns.
CONSTANTS = 3
# Which XDM field types a column of each type can fill without Data Prep converting text.
FITS = {
    "integer": {"integer", "number", "string"},
    "number": {"number", "string"},
    "boolean": {"boolean", "string"},
    "date-time": {"date-time", "date", "string"},
    "date": {"date", "date-time", "string"},
    "string": {"string"},
}


def defaults(draft: Draft) -> dict:
    """What the form shows first: the saved mapping, or a suggestion for each column."""
    plan = draft.plan
    saved = plan.get("mapping")
    if saved:
        data = {f"column_{i}": row.get("path") or "" for i, row in enumerate(saved["columns"])}
        for j, row in enumerate(saved.get("constants", [])[:CONSTANTS]):
            data[f"constant_path_{j}"], data[f"constant_value_{j}"] = row["path"], row["value"]
        return data
    return {f"column_{i}": path for i, path in enumerate(suggest(plan["columns"], draft.schema.fields))}


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def suggest(columns: list[dict], fields: list[Field]) -> list[str]:
    """A field for each column, by name and type ("" when nothing fits), never one field for two columns."""
    taken, chosen = set(), []
    for column in columns:
        if source_field(column["name"]) is None:  # a name Data Prep cannot be told: nothing to suggest
            chosen.append("")
            continue
        name, fits = _words(column["name"]), FITS.get(column["kind"], {"string"})
        best, best_score = "", 0
        for field in fields:
            if field.path in taken or field.kind not in fits:
                continue
            leaf, whole = _words(field.path.rsplit(".", 1)[-1]), _words(field.path)
            score = 3 if leaf == name else 2 if name and (name in whole or leaf in name) else 0
            score = score or sum(
                1 for part in re.split(r"[^a-z0-9]+", column["name"].lower()) if len(part) >= 3 and part in whole
            )
            if score > best_score or (score == best_score and score and len(field.path) < len(best)):
                best, best_score = field.path, score
        if not best and column["kind"] == "date-time":
            # No name fits: by type, a date-time column suggests the schema's `timestamp` (XDM ExperienceEvent's
            # time of the event, which time-series schemas require), while no column has taken it.
            best = next(
                (f.path for f in fields if f.path not in taken and f.kind == "date-time" and f.path == "timestamp"), ""
            )
        if best:
            taken.add(best)
        chosen.append(best)
    return chosen


def row_fields(form, plan: dict) -> list:
    """The form fields of the rows sent to Data Prep, in the order mapping_rows sends them."""
    fields = [form[f"column_{i}"] for i in range(len(plan["columns"])) if form[f"column_{i}"].data]
    return fields + [form[f"constant_path_{j}"] for j in range(CONSTANTS) if form[f"constant_path_{j}"].data]


def checks(form, draft: Draft) -> bool:
    """What the portal can tell before Data Prep: one column per field, types that fit, constants whole. Each
    refusal is put beside its field."""
    plan = draft.plan
    schema, fine = draft.schema, True
    claimed: dict[str, str] = {}
    for i, column in enumerate(plan["columns"]):
        field = form[f"column_{i}"]
        target = schema.field(field.data) if field.data else None
        if target is None:
            continue
        if source_field(column["name"]) is None:
            add_error(
                field,
                "Data Prep documents no way to name a column holding {, } or a backslash, so this one "
                "cannot be mapped; leave it empty to skip it.",
            )
            fine = False
        elif target.path in claimed:
            add_error(field, f"{target.path} already takes the column {claimed[target.path]}; a field takes one.")
            fine = False
        elif target.kind not in FITS.get(column["kind"], {"string"}):
            add_error(
                field,
                f"A {column['kind']} column cannot fill {target.path}, a {target.kind} field; "
                "choose a field of a fitting type, or leave it empty to skip the column.",
            )
            fine = False
        claimed.setdefault(target.path, column["name"])
    for j in range(CONSTANTS):
        path, value = form[f"constant_path_{j}"], form[f"constant_value_{j}"]
        if path.data and not (value.data or "").strip():
            add_error(value, "Give the constant's value, or leave its field empty.")
            fine = False
        elif value.data and value.data.strip() and not path.data:
            add_error(path, "Choose the field this value goes in, or clear the value.")
            fine = False
        elif path.data in claimed:
            add_error(path, f"{path.data} already takes the column {claimed[path.data]}; a field takes one value.")
            fine = False
        elif path.data:
            claimed[path.data] = "a constant"
    if fine and not any(form[f"column_{i}"].data for i in range(len(plan["columns"]))):
        add_error(form["column_0"], "Map at least one column: a dataflow of constants alone reads nothing.")
        fine = False
    return fine


def chosen(form, plan: dict) -> dict:
    """The mapping as the draft keeps it: each column's field (None to skip) and the constants."""
    return {
        "columns": [
            {"column": c["name"], "path": form[f"column_{i}"].data or None} for i, c in enumerate(plan["columns"])
        ],
        "constants": [
            {"path": form[f"constant_path_{j}"].data, "value": form[f"constant_value_{j}"].data.strip()}
            for j in range(CONSTANTS)
            if form[f"constant_path_{j}"].data
        ],
    }


def mapping_rows(plan: dict) -> list[tuple[str, str, str]]:
    """(sourceType, source, destination) for each mapped column and each constant of the plan; a column is named as
    Data Prep reads a source field (`source_field`: `order.id` is `${order\\.id}`)."""
    rows = [("ATTRIBUTE", _named(row["column"]), row["path"]) for row in plan["mapping"]["columns"] if row.get("path")]
    rows += [("STATIC", row["value"], row["path"]) for row in plan["mapping"].get("constants", [])]
    return rows


def _named(column: str) -> str:
    written = source_field(column)
    if written is None:  # `checks` refuses to map such a column before any row is made
        raise ValueError(f"no documented way to name the column {column!r}")
    return written
