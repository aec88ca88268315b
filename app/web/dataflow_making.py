"""What each step of making a dataflow decides, as commands the step pages (new_dataflow.py) and the API share: the
draft opened from a table's columns, the dataset chosen (with its schema), the mapping checked (by the portal, then
by Data Prep), and the schedule as the draft keeps it. Each raises or returns what went wrong; the callers say it.
"""

from __future__ import annotations

import zoneinfo

from .. import services
from ..adobe import AdobeError
from ..adobe.data_prep import mapping_set
from ..dataflows import mapping as rules
from ..dataflows.draft import MOST_COLUMNS, Draft, explored_column
from ..dataflows.forms import number
from ..sources.fields import add_error


class Unfit(Exception):
    """What was chosen cannot be used (a dataset without a schema, a table without columns): the message says why."""


def table_columns(sandbox: str, connection_id: str, table: str) -> list[dict]:
    """The table's columns as the draft keeps them (raises AdobeError; Unfit when it has none)."""
    columns = services.connections().explore(sandbox, connection_id, table)
    kept = [explored_column(c) for c in columns if isinstance(c.get("name"), str) and c["name"]][:MOST_COLUMNS]
    if not kept:
        raise Unfit(f"Flow Service lists no columns for {table}, so there is nothing to map.")
    return kept


def first_plan(connection: dict, table: str, columns: list[dict]) -> dict:
    """A new draft's plan: the table and its columns; dataset, mapping and schedule to choose."""
    return {
        "table": table,
        "columns": columns,
        "spec_id": (connection.get("connectionSpec") or {}).get("id"),
        "connection_name": connection.get("name") or connection["id"],
        "dataset": None,
        "schema": None,
        "mapping": None,
        "schedule": None,
    }


def with_dataset(plan: dict, sandbox: str, dataset_id: str) -> dict:
    """The plan with the dataset and its XDM schema read (a new schema starts the mapping again). Raises Unfit for a
    dataset that is gone or follows no schema, AdobeError when Adobe could not answer."""
    chosen = None
    try:
        chosen = services.catalog().dataset(sandbox, dataset_id)
        schema_id = (chosen.get("schemaRef") or {}).get("id") if isinstance(chosen.get("schemaRef"), dict) else None
        if not schema_id:
            raise Unfit("That dataset follows no XDM schema, so a dataflow cannot write to it; choose another.")
        schema = services.schema_registry().schema(sandbox, schema_id)
    except AdobeError as error:
        if error.not_found:
            raise Unfit(
                "That dataset is not in this sandbox any more; choose another."
                if not chosen
                else "The Schema Registry has no schema for that dataset; choose another."
            ) from None
        raise
    plan = dict(plan)
    if (plan.get("dataset") or {}).get("id") != chosen["id"]:
        plan["mapping"] = None  # another schema: the mapping starts again
    plan["dataset"] = {"id": chosen["id"], "name": str(chosen.get("name") or chosen["id"])}
    plan["schema"] = {
        "id": schema.id,
        "title": schema.title,
        "version": schema.version,
        "fields": [vars(f) for f in schema.fields],
    }
    return plan


def checked_mapping(form, draft: Draft) -> tuple[dict | None, dict, AdobeError | None]:
    """(the mapping as the draft keeps it, or None; Data Prep's verdict per form field id; Adobe's fault) for a
    validated mapping form: the portal's rules first, then Data Prep's, each refusal put beside its field."""
    plan = draft.plan
    verdicts: dict = {}
    if not rules.checks(form, draft):
        return None, verdicts, None
    chosen = rules.chosen(form, plan)
    rows = rules.mapping_rows({"mapping": chosen})
    try:
        answers = services.data_prep().validate(draft.sandbox, mapping_set("validation", plan["schema"]["id"], rows))
    except AdobeError as error:
        return None, verdicts, error
    for field, answer in zip(rules.row_fields(form, plan), answers, strict=False):
        verdicts[field.id] = answer
        if not answer.ok:
            add_error(field, f"Data Prep refused this: {answer.message or 'no reason given'}.")
    return (chosen if all(answer.ok for answer in answers) else None), verdicts, None


def schedule_of(form) -> dict:
    """A validated schedule form as the draft keeps it: the first run in the person's zone, sent in UTC."""
    zone = zoneinfo.ZoneInfo(form.timezone.data)
    return {
        "name": form.name.data.strip(),
        "frequency": form.frequency.data,
        "interval": form.interval.data if form.frequency.data != "once" else None,
        "start": int(form.start.data.replace(tzinfo=zone).timestamp()),
        "start_local": form.start.data.strftime("%Y-%m-%dT%H:%M"),
        "timezone": form.timezone.data,
        "backfill": bool(form.backfill.data),
        "delta_column": form.delta_column.data,
        "error_diagnostics": bool(form.error_diagnostics.data),
        "partial_percent": number(form.partial_percent.data),
    }
