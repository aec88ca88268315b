"""Creating a dataflow from a connection's table: choose a dataset, map the columns, set the schedule, review, create.

Each step is a page with a form. What the person chose is kept in the store under the draft's key, never in a
worker, so any worker or replica shows the next step; only the person who started a draft can see it. Creating
runs the chain of app/web/chain.py exactly once under that key.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import secrets
import time
import zoneinfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, DecimalField, HiddenField, IntegerField, RadioField, \
    SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from ..adobe import AdobeError
from ..adobe.data_prep import mapping_set, source_field
from ..adobe.catalog import PAGE, name_pattern
from ..adobe.schema_registry import Field, Schema
from ..sources.fields import add_error, choices, no_control_characters
from ..store import MOST_OPEN_DRAFTS
from .. import services
from . import audit, permissions
from .chain import LEASE_SECONDS, Chain, Stopped, mapping_rows, steps
from .connections import with_connection

bp = Blueprint("new_dataflow", __name__)
log = logging.getLogger(__name__)

DRAFT_KEY = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
DATASET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STEPS = (("dataset", "Dataset"), ("mapping", "Mapping"), ("schedule", "Schedule"), ("review", "Review"))
# Constant values a mapping may set besides the columns.
CONSTANTS = 3
# The most columns a table may bring (our choice: a form of more would not fit on a page).
MOST_COLUMNS = 200
# Which XDM field types a column of each type can fill without Data Prep converting text.
FITS = {"integer": {"integer", "number", "string"}, "number": {"number", "string"}, "boolean": {"boolean", "string"},
        "date-time": {"date-time", "date", "string"}, "date": {"date", "date-time", "string"},
        "string": {"string"}}
# The interval each frequency allows (our choice above the minimums: Adobe's flow spec documents 15 for minutes and 1
# otherwise, and no maximum; longer than these, the next unit says it better).
INTERVALS = {"minute": (15, 1440), "hour": (1, 744), "day": (1, 365), "week": (1, 52)}
# How far the first run may be from now (our choice: a form left open a while still submits; a typo of a year does not).
START_PAST = datetime.timedelta(days=1)
START_AHEAD = datetime.timedelta(days=366)
FREQUENCIES = [("once", "Once"), ("minute", "Every N minutes"), ("hour", "Every N hours"), ("day", "Every N days"),
               ("week", "Every N weeks")]
NOT_SAVED = ("This draft's dataflow began to be made (in another tab or window?), so your change was not saved: what "
             "is being made can no longer change. See how it went below.")
SCHEMA_GUIDE = "https://experienceleague.adobe.com/en/docs/experience-platform/xdm/tutorials/create-schema-ui"
DATASET_GUIDE = "https://experienceleague.adobe.com/en/docs/experience-platform/catalog/datasets/user-guide"


class StartForm(FlaskForm):
    table = HiddenField(validators=[InputRequired(), Length(max=512)])


class ChainForm(FlaskForm):
    """Create, continue or remove: the CSRF token, and the revision of the plan the review page showed."""

    revision = HiddenField()


class DatasetForm(FlaskForm):
    dataset = RadioField("Dataset", choices=[], validate_choice=False,
                         validators=[InputRequired("Choose the dataset the dataflow writes to.")],
                         description="Where the rows go. Its XDM schema decides the fields you map to next.")

    def validate_dataset(self, field):
        if not DATASET_ID.match(field.data or ""):
            raise ValidationError("Choose one of the datasets listed.")


def _finite(form, field):
    """Refuse NaN and infinities before any comparison: a Decimal NaN raises when compared."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Give a number from more than 0 to 100, or leave it empty.")


def _two_decimals(form, field):
    """At most two decimals: `1e-999999999` is a Decimal above 0 that JSON would carry as 0.0, which Adobe refuses.
    Trailing zeros do not count (2.500 is 2.5)."""
    if field.data is None:
        return
    sign, digits, exponent = field.data.as_tuple()
    kept = "".join(map(str, digits)).rstrip("0")
    if kept and exponent + (len(digits) - len(kept)) < -2:
        raise StopValidation("Give at most two decimals, such as 2.5 or 0.25.")


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")


def _timezones():
    return choices((zone, zone) for zone in sorted(_zones()))


class ScheduleForm(FlaskForm):
    name = StringField("Dataflow name", validators=[InputRequired("Name the dataflow."), Length(max=200),
                                                    no_control_characters],
                       description="How the dataflow is listed in Experience Platform and on the connection's page.")
    frequency = RadioField("How often", choices=choices(FREQUENCIES), default="hour",
                           description="Once, or every N minutes, hours, days or weeks.")
    interval = IntegerField("Every N", validators=[Optional()], default=1,
                            description="N: 15 to 1440 minutes, 1 to 744 hours, 1 to 365 days or 1 to 52 weeks. "
                                        "Not used for once.")
    start = DateTimeLocalField("First run", format="%Y-%m-%dT%H:%M",
                               validators=[InputRequired("Give the time of the first run.")],
                               description="In the time zone below; Adobe is sent the same moment in UTC.")
    timezone = SelectField("Time zone", choices=[], default="UTC",
                           description="The zone the first run's time is in.")
    backfill = BooleanField("Backfill", default=True,
                            description="The first run reads every row already there, not only rows newer than "
                                        "the first run. Not used for once.")
    delta_column = SelectField("Delta column", choices=[],
                               description="Each run reads the rows whose value here is newer than the last run's. "
                                           "Adobe compares it as UTC: a column kept in local time shifts what each "
                                           "run reads.")
    error_diagnostics = BooleanField("Error diagnostics",
                                     description="Adobe keeps detailed samples of rows that failed.")
    partial_percent = DecimalField("Partial ingestion threshold (%)", places=None,
                                   validators=[Optional(), _finite, _two_decimals, NumberRange(min=0, max=100)],
                                   description="Optional: the share of failed rows a run may have and still "
                                               "succeed. More than 0, at most 100, with at most two decimals. "
                                               "Empty: any failed row fails the run.")

    def validate_interval(self, field):
        if self.frequency.data != "once":
            if field.data is None:
                raise ValidationError("Give N: how many minutes, hours, days or weeks between runs.")
            least, most = INTERVALS.get(self.frequency.data, (1, 1))
            if field.data < least and self.frequency.data == "minute":
                raise ValidationError("For minutes, Adobe requires an interval of 15 or more.")
            if not least <= field.data <= most:
                raise ValidationError(f"Give N from {least} to {most} for {self.frequency.data}s.")

    def validate_start(self, field):
        if not field.data or self.timezone.data not in _zones():
            return
        moment = field.data.replace(tzinfo=zoneinfo.ZoneInfo(self.timezone.data))
        now = datetime.datetime.now(datetime.timezone.utc)
        if moment < now - START_PAST:
            raise ValidationError("The first run is more than a day in the past; give a time from now on.")
        if moment > now + START_AHEAD:
            raise ValidationError("The first run is more than a year away; give a time within the next year.")

    def validate_partial_percent(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError("Give more than 0, or leave it empty.")


def mapping_form_class(plan: dict):
    """A form with one field per column (an XDM field's path, or empty to skip) and CONSTANTS constant rows.

    The paths are typed with the schema's fields offered once in a datalist (`#xdm-fields`), not as a select per
    column: a real schema has hundreds of fields, and a select of each for every column would weigh megabytes."""
    known = {f.path for f in _schema(plan).fields}

    def a_field(form, field):
        if field.data and field.data.strip() not in known:
            raise ValidationError("Choose a field of the schema from the list, or leave it empty.")

    class MappingForm(FlaskForm):
        pass

    kw = {"list": "xdm-fields", "autocomplete": "off", "spellcheck": "false"}
    for i, column in enumerate(plan["columns"]):
        setattr(MappingForm, f"column_{i}", StringField(
            f"{column['name']} ({column['kind']})", validators=[Length(max=512), a_field], default="",
            filters=[_stripped], render_kw=kw,
            description=f"The XDM field the column {column['name']} fills; empty skips the column."))
    for j in range(CONSTANTS):
        setattr(MappingForm, f"constant_path_{j}", StringField(
            f"Constant {j + 1}: field", validators=[Length(max=512), a_field], default="", filters=[_stripped],
            render_kw=kw, description="A field every record gets the same value in."))
        setattr(MappingForm, f"constant_value_{j}", StringField(
            f"Constant {j + 1}: value", validators=[Length(max=256), no_control_characters],
            description="The value, as text: 42, true, 2026-01-31T00:00:00Z…"))
    return MappingForm


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


# Starting a draft, from a table of the connection.

@bp.post("/connections/<connection_id>/dataflows/new")
@with_connection(action="dataflow")
def start(connection, source, sandbox):
    """Read the table's columns and open a draft; the first step is choosing the dataset."""
    form = StartForm()
    if not form.validate():
        return render_template("error.html", title="The form expired",
                               message="Open the table again and press the button once more."), 400
    table = form.table.data
    try:
        columns = services.connections().explore(sandbox, connection["id"], table)
    except AdobeError as error:
        return render_template("error.html", title="Could not read the table's columns", message=error.message,
                               adobe_request_id=error.request_id), error.status
    kept = [_column(c) for c in columns if isinstance(c.get("name"), str) and c["name"]][:MOST_COLUMNS]
    if not kept:
        return render_template("error.html", title="The table has no columns",
                               message=f"Flow Service lists no columns for {table}, so there is nothing to map."), 409
    key = secrets.token_urlsafe(24)
    store = services.store()
    if not store.new_draft(key, g.get("user"), sandbox, connection["id"], {
            "table": table, "columns": kept, "spec_id": (connection.get("connectionSpec") or {}).get("id"),
            "connection_name": connection.get("name") or connection["id"], "dataset": None, "schema": None,
            "mapping": None, "schedule": None}):
        log.warning("dataflow draft refused: %d open drafts already", MOST_OPEN_DRAFTS)
        return _drafts_page(409, full=True)
    audit.record("start-dataflow", "ok", sandbox=sandbox, connection_name=connection.get("name"),
                 connection_id=connection["id"], source="dataflow draft", detail=f"draft {key[:8]} of table {table}")
    log.info("dataflow draft started for %s of connection %s", table, connection["id"])
    return redirect(url_for(".dataset", key=key))


@bp.get("/dataflows/drafts")
def drafts():
    """The person's dataflows being made: drafts to go on with or discard, and chains stopped halfway."""
    permissions.require("dataflow")
    return _drafts_page()


def _drafts_page(status: int = 200, full: bool = False):
    return render_template("dataflow_drafts.html", drafts=services.store().open_drafts(g.get("user")),
                           form=ChainForm(), most=MOST_OPEN_DRAFTS, full=full), status


@bp.post("/dataflows/new/<key>/discard")
def discard(key):
    """Forget a draft nothing was made from yet (one whose chain began is finished or removed on its review page)."""
    draft = _draft(key)
    if not ChainForm().validate():
        abort(400)
    if not services.store().discard_draft(key, draft["owner"]):
        return _review(draft, 409, stop=Stopped("This draft can no longer be discarded: its dataflow is being made, "
                                                "or was. Finish it, or remove what was made, here."))
    audit.record("discard-dataflow", "ok", sandbox=draft["sandbox"], connection_id=draft["connection_id"],
                 connection_name=draft["plan"].get("connection_name"), source="dataflow draft",
                 detail=f"draft {key[:8]} of table {draft['plan'].get('table')}")
    flash("Draft discarded.")
    return redirect(url_for(".drafts"), code=303)


def _column(column: dict) -> dict:
    """A column as Flow Service explores it, with the type a person reads (date-time for a timestamp)."""
    xdm = column.get("xdm") if isinstance(column.get("xdm"), dict) else {}
    kind = column.get("meta:xdmType") or xdm.get("format") or column.get("type") or xdm.get("type") or "string"
    kept = {k: column[k] for k in ("name", "type", "meta:xdmType", "xdm") if k in column}
    return {**kept, "type": str(column.get("type") or "string"), "kind": str(kind)}


def _draft(key: str) -> dict:
    """The person's own draft, or 404: another person's draft does not exist for them."""
    permissions.require("dataflow")  # in some sandbox: a viewer learns nothing of which drafts exist
    if not DRAFT_KEY.match(key):
        abort(404)
    draft = services.store().draft(key)
    if draft is None or draft["owner"] != g.get("user"):
        abort(404)
    permissions.require("dataflow", draft["sandbox"])
    return draft


def editable_step(step: str):
    """Give a step's view the person's draft while it can change; once its chain was begun, send them to the
    review (or to the dataflow made), and to the step before when that one is not done yet."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(key):
            draft = _draft(key)
            if draft["state"] != "draft" and request.method == "POST":
                return _review(draft, 409, stop=Stopped(NOT_SAVED))
            if draft["state"] == "done" and draft["flow_id"]:
                return redirect(url_for("dataflows.show", flow_id=draft["flow_id"], sandbox=draft["sandbox"]))
            if draft["state"] != "draft":
                return redirect(url_for(".review", key=key))
            needs = {"mapping": "dataset", "schedule": "mapping"}.get(step)
            if needs and not draft["plan"].get(needs):
                return redirect(url_for(f".{needs}", key=key))
            return view(draft)
        return wrapper
    return decorate


def _saved(draft: dict, plan: dict):
    """Save a step's choice: None when saved, else the review page saying why not (409): its dataflow began to be
    made meanwhile (in another tab, say), and what is being made can no longer change."""
    if services.store().save_plan(draft["key"], plan):
        return None
    return _review(services.store().draft(draft["key"]), 409, stop=Stopped(NOT_SAVED))


def _page(template: str, draft: dict, step: str, status: int = 200, **context):
    return render_template(template, draft=draft, plan=draft["plan"], step=step, steps=STEPS, **context), status


# Step 1: the dataset.

@bp.route("/dataflows/new/<key>/dataset", methods=["GET", "POST"])
@editable_step("dataset")
def dataset(draft):
    """The sandbox's datasets, a page at a time, with a search; the one chosen is read with its schema."""
    key = draft["key"]
    form = DatasetForm(data={"dataset": (draft["plan"].get("dataset") or {}).get("id")}
                       if request.method == "GET" else None)
    search = (request.args.get("q") or "").strip()[:64]
    try:
        start = max(0, min(int(request.args.get("start", "0")), 100000))
    except ValueError:
        start = 0
    adobe_error = None
    if request.method == "POST" and form.validate():
        sandbox = draft["sandbox"]
        chosen = schema = None
        try:
            chosen = services.catalog().dataset(sandbox, form.dataset.data)
            schema_id = (chosen.get("schemaRef") or {}).get("id") if isinstance(chosen.get("schemaRef"), dict) \
                else None
            if not schema_id:
                add_error(form.dataset, "That dataset follows no XDM schema, so a dataflow cannot write to it; "
                                        "choose another.")
            else:
                schema = services.schema_registry().schema(sandbox, schema_id)
        except AdobeError as error:
            if error.not_found:
                add_error(form.dataset, "That dataset is not in this sandbox any more; choose another." if not chosen
                          else "The Schema Registry has no schema for that dataset; choose another.")
            else:
                adobe_error = error
        if schema is not None:
            plan = dict(draft["plan"])
            if (plan.get("dataset") or {}).get("id") != chosen["id"]:
                plan["mapping"] = None  # another schema: the mapping starts again
            plan["dataset"] = {"id": chosen["id"], "name": str(chosen.get("name") or chosen["id"])}
            plan["schema"] = {"id": schema.id, "title": schema.title, "version": schema.version,
                              "fields": [vars(f) for f in schema.fields]}
            return _saved(draft, plan) or redirect(url_for(".mapping", key=key))
    page, problem = None, None
    if search and name_pattern(search) is None:
        problem = "Search with letters, digits, spaces, _ and - only."
    else:
        try:
            page = services.catalog().page(draft["sandbox"], search, start)
        except AdobeError as error:
            problem = error.message
    preview = None
    shown = request.args.get("schema")
    if page and shown:
        picked = next((d for d in page.items if d["id"] == shown), None)
        if picked:
            try:
                preview = (picked["id"], services.schema_registry().schema(draft["sandbox"],
                                                                    (picked.get("schemaRef") or {}).get("id", "")))
            except AdobeError as error:
                problem = error.message
    status = 400 if form.errors else (adobe_error.status if adobe_error else 200)
    return _page("dataflow_dataset.html", draft, "dataset", status, form=form, page=page, search=search,
                 problem=problem, preview=preview, adobe_error=adobe_error, schema_guide=SCHEMA_GUIDE,
                 dataset_guide=DATASET_GUIDE, page_size=PAGE)


# Step 2: the mapping.

@bp.route("/dataflows/new/<key>/mapping", methods=["GET", "POST"])
@editable_step("mapping")
def mapping(draft):
    """Each column to an XDM field (suggested by name and type) or skipped, constants, then Data Prep's verdict."""
    key = draft["key"]
    plan = draft["plan"]
    # What the page shows first; a sent form is read as sent (a field left out is empty, never a default).
    form = mapping_form_class(plan)(data=_mapping_defaults(plan) if request.method == "GET" else None)
    adobe_error, verdicts = None, {}
    if request.method == "POST" and form.validate() and _mapping_checks(form, plan):
        chosen = _chosen_mapping(form, plan)
        rows = mapping_rows({"mapping": chosen})
        try:
            answers = services.data_prep().validate(draft["sandbox"], mapping_set(
                "validation", plan["schema"]["id"], rows))
        except AdobeError as error:
            adobe_error = error
        else:
            fields = _row_fields(form, plan)
            for field, answer in zip(fields, answers):
                verdicts[field.id] = answer
                if not answer.ok:
                    add_error(field, f"Data Prep refused this: {answer.message or 'no reason given'}.")
            if all(answer.ok for answer in answers):
                return _saved(draft, {**plan, "mapping": chosen}) or redirect(url_for(".schedule", key=key))
    status = 400 if form.errors or any(f.errors for f in form) else (adobe_error.status if adobe_error else 200)
    schema = _schema(plan)
    return _page("dataflow_mapping.html", draft, "mapping", status, form=form, schema=schema, verdicts=verdicts,
                 adobe_error=adobe_error, constants=CONSTANTS,
                 primary=next((f for f in schema.fields if f.primary), None))


def _schema(plan: dict) -> Schema:
    stored = plan["schema"]
    return Schema(stored["id"], stored["title"], stored["version"], [Field(**f) for f in stored["fields"]])


def _mapping_defaults(plan: dict) -> dict:
    """What the form shows first: the saved mapping, or a suggestion for each column."""
    saved = plan.get("mapping")
    if saved:
        data = {f"column_{i}": row.get("path") or "" for i, row in enumerate(saved["columns"])}
        for j, row in enumerate(saved.get("constants", [])[:CONSTANTS]):
            data[f"constant_path_{j}"], data[f"constant_value_{j}"] = row["path"], row["value"]
        return data
    return {f"column_{i}": path for i, path in enumerate(suggest(plan["columns"], _schema(plan).fields))}


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
            score = score or sum(1 for part in re.split(r"[^a-z0-9]+", column["name"].lower())
                                 if len(part) >= 3 and part in whole)
            if score > best_score or (score == best_score and score and len(field.path) < len(best)):
                best, best_score = field.path, score
        if best:
            taken.add(best)
        chosen.append(best)
    return chosen


def _row_fields(form, plan: dict) -> list:
    """The form fields of the rows sent to Data Prep, in the order mapping_rows sends them."""
    fields = [form[f"column_{i}"] for i in range(len(plan["columns"])) if form[f"column_{i}"].data]
    return fields + [form[f"constant_path_{j}"] for j in range(CONSTANTS) if form[f"constant_path_{j}"].data]


def _mapping_checks(form, plan: dict) -> bool:
    """What the portal can tell before Data Prep: one column per field, types that fit, constants whole."""
    schema, claimed, fine = _schema(plan), {}, True
    for i, column in enumerate(plan["columns"]):
        field = form[f"column_{i}"]
        target = schema.field(field.data) if field.data else None
        if target is None:
            continue
        if source_field(column["name"]) is None:
            add_error(field, "Data Prep documents no way to name a column holding {, } or a backslash, so this one "
                             "cannot be mapped; leave it empty to skip it.")
            fine = False
        elif target.path in claimed:
            add_error(field, f"{target.path} already takes the column {claimed[target.path]}; a field takes one.")
            fine = False
        elif target.kind not in FITS.get(column["kind"], {"string"}):
            add_error(field, f"A {column['kind']} column cannot fill {target.path}, a {target.kind} field; "
                             "choose a field of a fitting type, or leave it empty to skip the column.")
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


def _chosen_mapping(form, plan: dict) -> dict:
    return {"columns": [{"column": c["name"], "path": form[f"column_{i}"].data or None}
                        for i, c in enumerate(plan["columns"])],
            "constants": [{"path": form[f"constant_path_{j}"].data, "value": form[f"constant_value_{j}"].data.strip()}
                          for j in range(CONSTANTS) if form[f"constant_path_{j}"].data]}


# Step 3: the schedule.

@bp.route("/dataflows/new/<key>/schedule", methods=["GET", "POST"])
@editable_step("schedule")
def schedule(draft):
    """How often, from when (in the person's zone, sent in UTC), the delta column and the flow spec's options."""
    key = draft["key"]
    plan = draft["plan"]
    timestamps = [c["name"] for c in plan["columns"] if c["kind"] in ("date-time", "date")]
    saved = plan.get("schedule") or {}
    form = ScheduleForm(data=_schedule_defaults(plan, saved, timestamps) if request.method == "GET" else None)
    form.timezone.choices = _timezones()
    form.delta_column.choices = choices((name, name) for name in timestamps)
    if not saved and request.method == "GET":
        form.timezone.render_kw = {"data-guess-zone": ""}  # wizard.js picks the browser's zone; UTC without it
    if timestamps and request.method == "POST" and form.validate():
        zone = zoneinfo.ZoneInfo(form.timezone.data)
        start = int(form.start.data.replace(tzinfo=zone).timestamp())
        return _saved(draft, {**plan, "schedule": {
            "name": form.name.data.strip(), "frequency": form.frequency.data,
            "interval": form.interval.data if form.frequency.data != "once" else None,
            "start": start, "start_local": form.start.data.strftime("%Y-%m-%dT%H:%M"),
            "timezone": form.timezone.data, "backfill": bool(form.backfill.data),
            "delta_column": form.delta_column.data, "error_diagnostics": bool(form.error_diagnostics.data),
            "partial_percent": _number(form.partial_percent.data)}}) or redirect(url_for(".review", key=key))
    return _page("dataflow_schedule.html", draft, "schedule", 400 if form.errors else 200, form=form,
                 timestamps=timestamps)


def _schedule_defaults(plan: dict, saved: dict, timestamps: list[str]) -> dict:
    if saved:
        return {**saved, "start": datetime.datetime.strptime(saved["start_local"], "%Y-%m-%dT%H:%M"),
                "interval": saved.get("interval") or 1}
    soon = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0, tzinfo=None) \
        + datetime.timedelta(minutes=15)
    return {"name": f"{plan['table']} to {plan['dataset']['name']}"[:200], "frequency": "hour", "interval": 1,
            "start": soon, "timezone": "UTC", "backfill": True, "delta_column": timestamps[0] if timestamps else None}


def _number(value):
    """A Decimal as JSON keeps it: an int when whole, a float otherwise, None for none."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# Step 4: review, then the chain.

@bp.get("/dataflows/new/<key>/review")
def review(key):
    """Every request about to be sent, as curl; create. After a stop: what exists, continue or remove it."""
    draft = _draft(key)
    if draft["state"] == "done" and draft["flow_id"]:
        return redirect(url_for("dataflows.show", flow_id=draft["flow_id"], sandbox=draft["sandbox"]))
    # Only a draft still open sends the person to a step (the steps send anything else here: never a loop).
    for needed in ("dataset", "mapping", "schedule"):
        if draft["state"] == "draft" and not draft["plan"].get(needed):
            return redirect(url_for(f".{needed}", key=key))
    return _review(draft)


def _review(draft: dict, status: int = 200, adobe_error=None, stop: Stopped | None = None):
    flow_spec, problem = None, None
    try:
        flow_spec = services.dataflows().flow_spec(draft["sandbox"])
    except AdobeError as error:
        problem = error.message
    if flow_spec and draft["plan"]["spec_id"] not in (flow_spec.get("sourceConnectionSpecIds") or []):
        problem = (f"Flow Service's {flow_spec.get('name')} flow spec does not take this connection's source "
                   f"({draft['plan']['spec_id']}), so the portal cannot make a dataflow from it.")
        flow_spec = None
    complete = all(draft["plan"].get(needed) for needed in ("dataset", "mapping", "schedule"))
    client, ids = services.gateway(), {c: draft[c] for c in ("source_id", "target_id", "mapping_id", "flow_id")}
    curls = [(s, client.curl(s.method, s.path, draft["sandbox"], s.body, s.service))
             for s in steps(draft, flow_spec, ids)] if flow_spec and complete else []
    form = ChainForm()
    form.revision.data = draft["revision"]
    lease_over = draft["state"] == "creating" and (draft["lease_until"] or 0) < time.time()
    return _page("dataflow_review.html", draft, "review", status, form=form, curls=curls, ids=ids,
                 problem=problem, adobe_error=adobe_error, stop=stop, made=any(ids.values()), complete=complete,
                 lease_over=lease_over)


@bp.post("/dataflows/new/<key>/create")
def create(key):
    """Make the chain: once, however often this is sent; after a stop, go on with the same objects."""
    draft = _draft(key)
    form = ChainForm()
    if not form.validate():
        return _review(draft, 400, stop=Stopped("The form expired: press the button again."))
    if draft["state"] == "done" and draft["flow_id"]:
        return redirect(url_for("dataflows.show", flow_id=draft["flow_id"], sandbox=draft["sandbox"]))
    if draft["state"] == "removed" or not all(draft["plan"].get(s) for s in ("dataset", "mapping", "schedule")):
        return redirect(url_for(".review", key=key))
    try:
        flow_spec = services.dataflows().flow_spec(draft["sandbox"])
    except AdobeError as error:
        return _review(draft, error.status, adobe_error=error)
    if draft["plan"]["spec_id"] not in (flow_spec.get("sourceConnectionSpecIds") or []):
        return _review(draft, 409)
    changed = Stopped("This draft changed since that page was shown (in another tab or window?), so nothing was "
                      "sent. Review it again below, then create.")
    if draft["state"] == "draft" and form.revision.data != draft["revision"]:
        return _review(draft, 409, stop=changed)
    store = services.store()
    # A stop, or a request that died holding the chain, may have left an unconfirmed object: look before sending.
    resumed = draft["state"] != "draft"
    if not store.start_chain(key, LEASE_SECONDS, revision=draft["revision"] if not resumed else None):
        current = store.draft(key)
        if current["state"] == "draft":  # a step was saved between the read above and the taking
            return _review(current, 409, stop=changed)
        return _after_other(key)
    draft = store.draft(key)
    try:
        flow_id = Chain(services.dataflows(), services.data_prep(), store).create(draft, flow_spec, resumed)
    except Stopped as stop:
        log.warning("dataflow chain of draft %s stopped", key[:8])
        return _ended(draft, "stopped", "create-dataflow", stop)
    draft = store.draft(key)
    _ended(draft, "done", "create-dataflow", detail=(
        f"dataflow {flow_id} reading {draft['plan']['table']} into dataset {draft['plan']['dataset']['id']}: "
        f"source connection {draft['source_id']}, target connection {draft['target_id']}, "
        f"mapping set {draft['mapping_id']}"))
    log.info("dataflow %s created from draft %s", flow_id, key[:8])
    return redirect(url_for("dataflows.show", flow_id=flow_id, sandbox=draft["sandbox"]))


def _ended(draft: dict, state: str, action: str, stop: Stopped | None = None, detail: str | None = None):
    """End the chain's turn in `state`, with its audit entry in the same transaction; after a stop, the review page
    saying what stopped it."""
    store, name = services.store(), (draft["plan"].get("schedule") or {}).get("name")
    store.end_chain(draft["key"], state, stop.message if stop else None, entry=audit.entry(
        action, "failed" if stop else "ok", sandbox=draft["sandbox"], connection_name=name,
        connection_id=draft["connection_id"], detail=(stop.message if stop else detail or "")[:1000],
        adobe_request_id=stop.request_id if stop else None))
    return _review(store.draft(draft["key"]), 502, stop=stop) if stop else None


def _after_other(key: str, wait: float = 30.0, poll: float = 0.1):
    """Another request holds the chain (a double click, another tab): wait for it, then show how it ended."""
    deadline = time.monotonic() + wait
    draft = services.store().draft(key)
    while draft["state"] == "creating" and time.monotonic() < deadline:
        time.sleep(poll)
        draft = services.store().draft(key)
    if draft["state"] == "done" and draft["flow_id"]:
        return redirect(url_for("dataflows.show", flow_id=draft["flow_id"], sandbox=draft["sandbox"]))
    if draft["state"] == "creating":
        return _review(draft, 409, stop=Stopped("Another request is still creating this dataflow. Reload this page "
                                                "in a moment to see how it ended."))
    return _review(draft, 502 if draft["state"] == "stopped" else 200,
                   stop=Stopped(draft["problem"]) if draft["problem"] else None)


@bp.post("/dataflows/new/<key>/remove")
def remove(key):
    """Delete what a stopped chain made, the dataflow first, so that nothing is left half-made."""
    draft = _draft(key)
    form = ChainForm()
    if not form.validate():
        return _review(draft, 400, stop=Stopped("The form expired: press the button again."))
    if draft["state"] != "stopped":
        return redirect(url_for(".review", key=key))
    store = services.store()
    if not store.start_chain(key, LEASE_SECONDS):
        return _after_other(key)
    draft = store.draft(key)
    try:
        removed = Chain(services.dataflows(), services.data_prep(), store).remove(draft)
    except Stopped as stop:
        return _ended(draft, "stopped", "remove-dataflow", Stopped(f"Removing stopped: {stop.message}",
                                                                   stop.request_id))
    _ended(draft, "removed", "remove-dataflow", detail="removed " + (", ".join(removed) or "nothing") + (
        f"; mapping set {draft['mapping_id']} kept" if draft["mapping_id"] else ""))
    return _review(store.draft(key))
