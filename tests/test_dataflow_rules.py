"""The dataflow package on its own: mapping suggestions and rows, the draft's steps, the chain's request bodies."""

from __future__ import annotations

import pytest

from app.adobe.bodies import flow_body, source_connection_body
from app.adobe.data_prep import source_field
from app.adobe.schema_registry import Field
from app.dataflows.draft import Draft, before
from app.dataflows.mapping import mapping_rows, suggest

FIELDS = [
    Field("person.name.firstName", "string", None, "First name"),
    Field("person.name.lastName", "string", None, "Last name"),
    Field("personalEmail.address", "string", None, "Email"),
    Field("_tenant.loyaltyId", "string", None, "Loyalty id"),
    Field("_tenant.points", "integer", None, "Points"),
    Field("_tenant.joinedAt", "string", "date-time", "Joined"),
]


def column(name: str, kind: str = "string") -> dict:
    return {"name": name, "type": "string", "kind": kind}


def test_suggestions_go_by_name_then_type_and_never_give_one_field_twice():
    columns = [
        column("first_name"),
        column("firstname"),
        column("email"),
        column("points", "integer"),
        column("joined_at", "date-time"),
        column("notes"),
    ]
    assert suggest(columns, FIELDS) == [
        "person.name.firstName",
        "",
        "personalEmail.address",
        "_tenant.points",
        "_tenant.joinedAt",
        "",
    ]


def test_a_date_time_column_whose_name_fits_nothing_suggests_the_events_timestamp_once():
    fields = [*FIELDS, Field("timestamp", "string", "date-time", "Timestamp")]
    columns = [column("changed_on", "date-time"), column("updated", "date-time"), column("joined_at", "date-time")]
    assert suggest(columns, fields) == ["timestamp", "", "_tenant.joinedAt"]
    assert suggest([column("changed_on", "string")], fields) == [""]  # by type only: a text column is not a time


def test_a_type_that_cannot_fit_is_never_suggested():
    assert suggest([column("points", "boolean")], FIELDS) == [""]
    assert suggest([column("points", "date-time")], FIELDS) == [""]


def test_a_column_data_prep_cannot_be_told_of_gets_no_suggestion():
    assert suggest([column("email}")], FIELDS) == [""]


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("email", "email"),
        ("ümlaut", "ümlaut"),
        ("_id", "_id"),
        ("$x", "$x"),
        ("order.id", "${order\\.id}"),
        ("first name", "${first name}"),
        ("a-b", "${a-b}"),
        ("1st", "${1st}"),
        ("size", "${size}"),
        ("date", "${date}"),
        ("Size", "Size"),
        ("line\n", "${line\n}"),
        ("a{b", None),
        ("a}b", None),
        ("a\\b", None),
        ("", None),
    ],
)
def test_a_column_is_named_as_data_prep_reads_a_source_field(name, written):
    assert source_field(name) == written


def test_mapping_rows_send_escaped_columns_and_constants():
    plan = {
        "mapping": {
            "columns": [{"column": "order.id", "path": "_tenant.loyaltyId"}, {"column": "skipped", "path": None}],
            "constants": [{"path": "_tenant.points", "value": "10"}],
        }
    }
    assert mapping_rows(plan) == [
        ("ATTRIBUTE", "${order\\.id}", "_tenant.loyaltyId"),
        ("STATIC", "10", "_tenant.points"),
    ]


def test_the_steps_go_in_order_and_a_draft_knows_what_is_missing():
    assert [before(step) for step in ("dataset", "mapping", "schedule", "review")] == [
        None,
        "dataset",
        "mapping",
        "schedule",
    ]
    draft = Draft.of(
        {
            "key": "k" * 32,
            "owner": None,
            "sandbox": "prod",
            "connection_id": "c",
            "state": "draft",
            "plan": {"dataset": {"id": "d"}, "mapping": None, "schedule": None},
        }
    )
    assert draft.missing == "mapping" and draft.reached("mapping") and not draft.reached("schedule")
    assert (
        draft.open
        and not draft.created
        and draft.made == dict.fromkeys(("source_id", "target_id", "mapping_id", "flow_id"))
    )


def test_the_source_connection_describes_columns_with_adobes_keys_only():
    body = source_connection_body(
        "n",
        "d",
        "base",
        "spec",
        "public.t",
        [{"name": "a", "type": "string", "kind": "string", "xdm": {"type": "string"}, "other": 1}],
    )
    assert body["params"]["columns"] == [{"name": "a", "type": "string", "xdm": {"type": "string"}}]


@pytest.mark.parametrize(
    ("kind", "date_format"),
    [("date", "YYYY-MM-DD"), ("date-time", "yyyy-MM-dd HH:mm:ss"), ("string", "yyyy-MM-dd HH:mm:ss")],
)
def test_the_delta_columns_format_follows_its_type(kind, date_format):
    body = flow_body(
        "n",
        "d",
        {"id": "spec", "version": "1.0"},
        "s",
        "t",
        "m",
        start=1,
        frequency="once",
        interval=None,
        backfill=False,
        delta_column="c",
        delta_kind=kind,
    )
    assert body["transformations"][0]["params"]["deltaColumn"] == {
        "name": "c",
        "dateFormat": date_format,
        "timezone": "UTC",
    }
    assert "interval" not in body["scheduleParams"] and "options" not in body


def test_options_go_only_when_turned_on():
    body = flow_body(
        "n",
        "d",
        {"id": "spec"},
        "s",
        "t",
        "m",
        start=1,
        frequency="hour",
        interval=2,
        backfill=True,
        delta_column="c",
        delta_kind="date-time",
        error_diagnostics=True,
        partial_percent=2.5,
    )
    assert body["options"] == {"errorDiagnosticsEnabled": True, "partialIngestionPercent": 2.5}
    assert body["scheduleParams"] == {"startTime": 1, "frequency": "hour", "interval": "2", "backfill": True}
