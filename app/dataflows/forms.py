"""The forms of a dataflow draft's steps: the dataset chosen, one field per column, the schedule and its options, and
the buttons that create, continue, remove or discard. Each field is checked here; what needs the schema or Data Prep
is in app/dataflows/mapping.py."""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from ..sources.fields import choices, no_control_characters
from .draft import Draft
from .mapping import CONSTANTS

DATASET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The interval each frequency allows (our choice above the minimums: Adobe's flow spec documents 15 for minutes and 1
# otherwise, and no maximum; longer than these, the next unit says it better).
INTERVALS = {"minute": (15, 1440), "hour": (1, 744), "day": (1, 365), "week": (1, 52)}
# How far the first run may be from now (our choice: a form left open a while still submits; a typo of a year does not).
START_PAST = datetime.timedelta(days=1)
START_AHEAD = datetime.timedelta(days=366)
FREQUENCIES = [
    ("once", "Once"),
    ("minute", "Every N minutes"),
    ("hour", "Every N hours"),
    ("day", "Every N days"),
    ("week", "Every N weeks"),
]


def check_interval(frequency: str, interval: int | None) -> None:
    """ValidationError unless `interval` is an N the frequency allows."""
    if interval is None:
        raise ValidationError("Give N: how many minutes, hours, days or weeks between runs.")
    least, most = INTERVALS.get(frequency, (1, 1))
    if interval < least and frequency == "minute":
        raise ValidationError("For minutes, Adobe requires an interval of 15 or more.")
    if not least <= interval <= most:
        raise ValidationError(f"Give N from {least} to {most} for {frequency}s.")


class StartForm(FlaskForm):
    table = HiddenField(validators=[InputRequired(), Length(max=512)])


class ChainForm(FlaskForm):
    """Create, continue or remove: the CSRF token, and the revision of the plan the review page showed."""

    revision = HiddenField()


class DatasetForm(FlaskForm):
    dataset = RadioField(
        "Dataset",
        choices=[],
        validate_choice=False,
        validators=[InputRequired("Choose the dataset the dataflow writes to.")],
        description="Where the rows go. Its XDM schema decides the fields you map to next.",
    )

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


def timezones():
    return choices((zone, zone) for zone in sorted(_zones()))


class ScheduleForm(FlaskForm):
    name = StringField(
        "Dataflow name",
        validators=[InputRequired("Name the dataflow."), Length(max=200), no_control_characters],
        description="How the dataflow is listed in Experience Platform and on the connection's page.",
    )
    frequency = RadioField(
        "How often",
        choices=choices(FREQUENCIES),
        default="hour",
        description="Once, or every N minutes, hours, days or weeks.",
    )
    interval = IntegerField(
        "Every N",
        validators=[Optional()],
        default=1,
        description="N: 15 to 1440 minutes, 1 to 744 hours, 1 to 365 days or 1 to 52 weeks. Not used for once.",
    )
    start = DateTimeLocalField(
        "First run",
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired("Give the time of the first run.")],
        description="In the time zone below; Adobe is sent the same moment in UTC.",
    )
    timezone = SelectField("Time zone", choices=[], default="UTC", description="The zone the first run's time is in.")
    backfill = BooleanField(
        "Backfill",
        default=True,
        description="The first run reads every row already there, not only rows newer than "
        "the first run. Not used for once.",
    )
    delta_column = SelectField(
        "Delta column",
        choices=[],
        description="Each run reads the rows whose value here is newer than the last run's. "
        "Adobe compares it as UTC: a column kept in local time shifts what each "
        "run reads.",
    )
    error_diagnostics = BooleanField(
        "Error diagnostics", description="Adobe keeps detailed samples of rows that failed."
    )
    partial_percent = DecimalField(
        "Partial ingestion threshold (%)",
        places=None,
        validators=[Optional(), _finite, _two_decimals, NumberRange(min=0, max=100)],
        description="Optional: the share of failed rows a run may have and still "
        "succeed. More than 0, at most 100, with at most two decimals. "
        "Empty: any failed row fails the run.",
    )

    def validate_interval(self, field):
        if self.frequency.data != "once":
            check_interval(self.frequency.data, field.data)

    def validate_start(self, field):
        if not field.data or self.timezone.data not in _zones():
            return
        moment = field.data.replace(tzinfo=zoneinfo.ZoneInfo(self.timezone.data))
        now = datetime.datetime.now(datetime.UTC)
        if moment < now - START_PAST:
            raise ValidationError("The first run is more than a day in the past; give a time from now on.")
        if moment > now + START_AHEAD:
            raise ValidationError("The first run is more than a year away; give a time within the next year.")

    def validate_partial_percent(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError("Give more than 0, or leave it empty.")


def mapping_form_class(draft: Draft):
    """A form with one field per column (an XDM field's path, or empty to skip) and CONSTANTS constant rows.

    The paths are typed with the schema's fields offered once in a datalist (`#xdm-fields`), not as a select per
    column: a real schema has hundreds of fields, and a select of each for every column would weigh megabytes."""
    plan = draft.plan
    known = {f.path for f in draft.schema.fields}

    def a_field(form, field):
        if field.data and field.data.strip() not in known:
            raise ValidationError("Choose a field of the schema from the list, or leave it empty.")

    class MappingForm(FlaskForm):
        pass

    kw = {"list": "xdm-fields", "autocomplete": "off", "spellcheck": "false"}
    for i, column in enumerate(plan["columns"]):
        setattr(
            MappingForm,
            f"column_{i}",
            StringField(
                f"{column['name']} ({column['kind']})",
                validators=[Length(max=512), a_field],
                default="",
                filters=[_stripped],
                render_kw=kw,
                description=f"The XDM field the column {column['name']} fills; empty skips the column.",
            ),
        )
    for j in range(CONSTANTS):
        setattr(
            MappingForm,
            f"constant_path_{j}",
            StringField(
                f"Constant {j + 1}: field",
                validators=[Length(max=512), a_field],
                default="",
                filters=[_stripped],
                render_kw=kw,
                description="A field every record gets the same value in.",
            ),
        )
        setattr(
            MappingForm,
            f"constant_value_{j}",
            StringField(
                f"Constant {j + 1}: value",
                validators=[Length(max=256), no_control_characters],
                description="The value, as text: 42, true, 2026-01-31T00:00:00Z…",
            ),
        )
    return MappingForm


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def schedule_defaults(draft: Draft) -> dict:
    """What the schedule's form shows first: the saved schedule, or every hour from a quarter of an hour on."""
    plan, saved, timestamps = draft.plan, draft.plan.get("schedule") or {}, draft.timestamps
    if saved:
        return {
            **saved,
            "start": datetime.datetime.strptime(saved["start_local"], "%Y-%m-%dT%H:%M"),
            "interval": saved.get("interval") or 1,
        }
    soon = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0, tzinfo=None) + datetime.timedelta(
        minutes=15
    )
    return {
        "name": f"{plan['table']} to {plan['dataset']['name']}"[:200],
        "frequency": "hour",
        "interval": 1,
        "start": soon,
        "timezone": "UTC",
        "backfill": True,
        "delta_column": timestamps[0] if timestamps else None,
    }


def number(value):
    """A Decimal as JSON keeps it: an int when whole, a float otherwise, None for none."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class ChangeForm(FlaskForm):
    """Change a dataflow after it is made, as Adobe's "Update dataflows" tutorial does: its name and description, and
    how often it runs (the first run's time cannot change once it has passed, so it is not offered)."""

    name = StringField(
        "Dataflow name",
        validators=[InputRequired("Name the dataflow."), Length(max=200), no_control_characters],
        description="How the dataflow is listed in Experience Platform.",
    )
    description = StringField(
        "Description",
        validators=[Length(max=1024), no_control_characters],
        description="Optional: what the dataflow is for.",
    )
    frequency = RadioField(
        "How often",
        choices=choices(FREQUENCIES[1:]),
        validate_choice=True,
        description="Every N minutes, hours, days or weeks. A dataflow made to run once keeps that.",
    )
    interval = IntegerField(
        "Every N",
        validators=[Optional()],
        description="N: 15 to 1440 minutes, 1 to 744 hours, 1 to 365 days or 1 to 52 weeks.",
    )
    etag = HiddenField()

    def __init__(self, *args, scheduled: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not scheduled:
            del self.frequency
            del self.interval

    def validate_interval(self, field):
        check_interval(self.frequency.data, field.data)


def change_form_class(draft: Draft | None):
    """ChangeForm, with the mapping step's fields for the columns and schema of `draft` (a stand-in draft of a made
    dataflow, app/dataflows/remap.py) when its mapping can be changed here; ChangeForm alone otherwise."""
    if draft is None:
        return ChangeForm
    return type("MappingChangeForm", (ChangeForm, mapping_form_class(draft)), {})
