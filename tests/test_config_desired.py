"""What a file asks of a sandbox (app/config_file/desired.py), function by function: a connection as its source's form
makes it (secrets by reference, problems on their lines, keyed hashes of the values), the values as compared, the
schedule in UTC and a past first run moved on its cadence. The plan and apply tests go through these end to end; these
pin each rule, so that a change to one is noticed (mutation testing runs them)."""

from __future__ import annotations

import datetime
import hashlib
import hmac

import pytest

from app import services
from app.config_file import desired
from app.config_file.model import Connection, Dataflow, FileReference, Mapping, Schedule
from app.sources import SOURCES

PG = SOURCES["postgresql"].connection_spec_id
MYSQL = "26d738e0-8963-47ea-aadf-c60de735468a"
BASIC = {
    "method": "basic",
    "server": "db.example.com",
    "port": 5432,
    "database": "d",
    "username": "u",
    "password": "${PW}",
    "sslMode": "Verify Full",
}


def wanted(app, fields: dict, given: dict | None = None, lines: dict | None = None, **entry):
    with app.test_request_context():
        connection = Connection(**{"name": "Pg", "source": "postgresql", "fields": fields, **entry})
        return desired.connection(connection, entry.pop("index", 0), "prod", given or {}, lines or {})


def print_of(app, sandbox: str, connection: str, field: str, value: str) -> str:
    key = services.of(app).settings.secret_key.encode()
    return hmac.new(key, f"{sandbox}\n{connection}\n{field}\n{value}".encode(), hashlib.sha256).hexdigest()


def test_a_reference_is_written_as_the_file_writes_it():
    assert desired.reference(FileReference(file="secrets/pw")) == "{file: secrets/pw}"
    assert desired.reference("${PW}") == "${PW}" and desired.reference("ask") == "ask"


@pytest.mark.parametrize(
    "value, is_one",
    [
        (FileReference(file="pw"), True),
        ("${PG_PASSWORD}", True),
        ("ask", True),
        ("Ask", False),
        ("${lower}", False),
        ("${PW", False),
        ("x${PW}", False),
        ("plain", False),
        (5432, False),
        (True, False),
    ],
)
def test_what_is_a_reference(value, is_one):
    assert desired.is_reference(value) is is_one


@pytest.mark.parametrize(
    "value, compared", [(True, "true"), (False, "false"), (5432, "5432"), (1.5, "1.5"), ("Verify Full", "Verify Full")]
)
def test_a_value_is_compared_as_flow_service_keeps_it_as_text(value, compared):
    assert desired.normal(value) == compared


def test_a_fingerprint_is_an_hmac_of_the_sandbox_connection_field_and_value_with_the_portals_key(app):
    with app.app_context():
        made = desired.fingerprint("prod", "Pg", "password", "pw-1")
        others = {
            desired.fingerprint("dev", "Pg", "password", "pw-1"),
            desired.fingerprint("prod", "Pg2", "password", "pw-1"),
            desired.fingerprint("prod", "Pg", "token", "pw-1"),
            desired.fingerprint("prod", "Pg", "password", "pw-2"),
        }
    assert made == print_of(app, "prod", "Pg", "password", "pw-1") and made not in others and len(others) == 4


def test_params_are_compared_as_text_a_connection_string_with_its_secrets_hidden_other_secrets_not_at_all():
    params = {"server": "h", "port": 5432, "password": "x", "connectionString": "Server=h;Pwd=secret;Port=1"}
    assert desired.comparable(params, {"password", "connectionString"}) == {
        "connectionString (secrets hidden)": "Server=h;Pwd={PASSWORD};Port=1",
        "port": "5432",
        "server": "h",
    }
    assert desired.comparable({"connectionString": "not pairs"}, {"connectionString"}) == {}
    assert desired.comparable({"connectionString": desired.NOT_GIVEN}, {"connectionString"}) == {}
    assert desired.comparable({"connectionString": 12}, {"connectionString"}) == {}


def test_a_basic_connection_is_the_forms_body_with_the_given_secret_and_its_fingerprint(app):
    made = wanted(app, BASIC, {"password": "pw-1"}, description="Orders")
    assert made.problems == [] and made.asked == [] and made.missing == []
    assert made.body == {
        "name": "Pg",
        "description": "Orders",
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "db.example.com",
                "port": "5432",
                "database": "d",
                "username": "u",
                "password": "pw-1",
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": {"id": PG, "version": "1.0"},
    }
    assert made.secret == {"password"} and made.references == {"password": "${PW}"}
    assert made.fingerprints == {"password": print_of(app, "prod", "Pg", "password", "pw-1")}
    assert (made.spec_id, made.spec_name) == (PG, "Basic Authentication")
    assert made.normalized() == {
        "source": PG,
        "auth": "Basic Authentication",
        "description": "Orders",
        "params": {
            "database": "d",
            "port": "5432",
            "server": "db.example.com",
            "sslMode": "Verify Full",
            "username": "u",
        },
        "secrets": {"password": "${PW}"},
    }


def test_a_connection_string_built_from_fields_is_compared_with_its_secrets_hidden(app):
    fields = {k: v for k, v in BASIC.items() if k != "sslMode"} | {"method": "fields"}
    made = wanted(app, fields, {"password": "pw-1"})
    assert made.secret == {"connectionString"} and made.references == {"password": "${PW}"}
    assert made.params == {"connectionString": "Server=db.example.com;Database=d;Port=5432;UID=u;Password=pw-1"}
    assert made.normalized()["params"] == {
        "connectionString (secrets hidden)": "Server=db.example.com;Database=d;Port=5432;UID=u;Password={PASSWORD}"
    }
    assert made.fingerprints == {"password": print_of(app, "prod", "Pg", "password", "pw-1")}


def test_a_connection_string_to_ask_is_compared_by_what_the_rest_says(app):
    made = wanted(app, {"method": "connectionString", "connectionString": "ask"})
    assert made.problems == [] and made.asked == ["connectionString"] and made.missing == []
    assert made.body == {
        "auth": {"specName": "Connection String Based Authentication", "params": {}},
        "connectionSpec": {"id": PG},
    }
    assert made.secret == set() and made.fingerprints == {}
    assert made.normalized()["secrets"] == {"connectionString": "ask"}


def test_a_secret_asked_of_the_owner_or_not_given_is_never_sent_nor_fingerprinted(app):
    made = wanted(app, {**BASIC, "password": "ask"}, {"password": "typed anyway"})
    assert made.asked == ["password"] and made.missing == [] and made.fingerprints == {}
    assert made.params["password"] == desired.NOT_GIVEN
    missing = wanted(app, BASIC)
    assert missing.missing == ["password"] and missing.asked == [] and missing.fingerprints == {}
    assert missing.params["password"] == desired.NOT_GIVEN


def test_a_reference_in_any_field_is_a_secret_and_each_secrets_line_is_kept(app):
    lines = {("connections", 0, "fields", "database"): 11, ("connections", 0, "fields", "password"): 12}
    made = wanted(app, {**BASIC, "database": "${DB}"}, {"password": "pw-1", "database": "orders"}, lines)
    assert made.references == {"database": "${DB}", "password": "${PW}"} and made.lines == {
        "database": 11,
        "password": 12,
    }
    assert made.secret == {"database", "password"} and made.params["database"] == "orders"
    assert set(made.fingerprints) == {"database", "password"}
    assert "database" not in made.normalized()["params"]


def test_an_unknown_source_and_a_refused_field_are_problems_on_their_lines(app):
    unknown = wanted(app, {}, lines={("connections", 0, "source"): 7}, source="nosuch")
    assert [(p.line, p.where) for p in unknown.problems] == [(7, "connections[0].source")]
    assert "no source of that key" in unknown.problems[0].message and unknown.body is None
    refused = wanted(app, {**BASIC, "port": "abc"}, {"password": "pw"}, {("connections", 0, "fields", "port"): 9})
    assert [(p.line, p.where, p.message) for p in refused.problems] == [
        (9, "connections[0].fields.port", "Enter the port as a whole number from 1 to 65535.")
    ]
    unnamed = wanted(app, {**BASIC, "port": "abc"}, {"password": "pw"})
    assert unnamed.problems[0].line is None
    belled = wanted(app, BASIC, {"password": "pw"}, {("connections", 0, "description"): 3}, description="a\x07b")
    assert [(p.line, p.where) for p in belled.problems] == [(3, "connections[0].description")]


def test_a_source_of_several_kinds_is_built_for_the_kind_the_file_names(app):
    fields = {"server": "db.example.com", "port": 3306, "database": "d", "username": "u", "password": "${PW}"}
    made = wanted(
        app, {**fields, "sslMode": "PREFERRED"}, {"password": "pw"}, source=MYSQL, auth="Basic Authentication"
    )
    assert made.problems == [] and made.spec_name == "Basic Authentication"
    none = wanted(app, fields, {"password": "pw"}, source=MYSQL)
    assert none.problems and none.problems[0].where == "connections[0].source"


def test_the_schedule_is_compared_in_utc_with_what_the_file_leaves_out_filled_in():
    paris = Schedule(frequency="hour", interval=None, start="2026-07-01T10:00", timezone="Europe/Paris")
    assert desired.schedule(paris) == {
        "frequency": "hour",
        "start": "2026-07-01T08:00",
        "interval": 1,
        "backfill": True,
        "error_diagnostics": False,
    }
    full = Schedule(
        frequency="day",
        interval=2,
        start="2026-01-01T00:30",
        timezone="America/New_York",
        backfill=False,
        delta_column="updated_at",
        error_diagnostics=True,
        partial_percent=5,
    )
    assert desired.schedule(full) == {
        "frequency": "day",
        "start": "2026-01-01T05:30",
        "interval": 2,
        "backfill": False,
        "delta_column": "updated_at",
        "error_diagnostics": True,
        "partial_percent": 5,
    }
    once = Schedule(frequency="once", start="2026-07-01T10:00")
    assert desired.schedule(once) == {"frequency": "once", "start": "2026-07-01T10:00", "error_diagnostics": False}


def test_the_schedule_is_in_utc_whatever_the_machines_own_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert (
            desired.schedule(Schedule(start="2026-07-01T10:00", timezone="Europe/Paris"))["start"] == "2026-07-01T08:00"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_field_or_param_is_secret_when_its_source_says_or_its_name_looks_secret():
    class Marked:
        secret_params = frozenset({"pat"})

    assert desired.is_secret(Marked, "pat") and desired.is_secret(Marked, "apiToken")
    assert desired.is_secret(Marked, "accountKey") and desired.is_secret(Marked, "connectionString")
    assert not desired.is_secret(Marked, "server") and not desired.is_secret(Marked, "host")


def test_an_exported_schedule_reads_like_a_files():
    exported = {"frequency": "hour", "interval": 1, "start": "2026-07-01T08:00", "timezone": "UTC", "backfill": True}
    assert desired.observed_schedule(exported) == {
        "frequency": "hour",
        "interval": 1,
        "start": "2026-07-01T08:00",
        "backfill": True,
        "error_diagnostics": False,
    }
    assert desired.observed_schedule({**exported, "error_diagnostics": True})["error_diagnostics"] is True


def test_a_dataflow_is_compared_by_its_connection_table_dataset_mapping_schedule_and_state():
    schedule = Schedule(start="2026-07-01T10:00")
    mapped = Dataflow(
        name="F",
        connection="Pg",
        table="public.t",
        dataset="D",
        mapping=Mapping(columns={"id": "_id"}),
        schedule=schedule,
        state="disabled",
    )
    assert desired.dataflow(mapped) == {
        "connection": "Pg",
        "table": "public.t",
        "dataset": "D",
        "mapping": {"columns": {"id": "_id"}, "constants": []},
        "schedule": desired.schedule(schedule),
        "state": "disabled",
    }
    unmapped = Dataflow(name="F", connection="Pg", table="public.t", dataset="D", schedule=schedule)
    assert desired.dataflow(unmapped)["mapping"] is None and desired.dataflow(unmapped)["state"] == "enabled"


def at(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC).timestamp()


@pytest.mark.parametrize(
    "schedule, now, first, moved",
    [
        # Still ahead (a minute on is soon enough): as the file says.
        (Schedule(frequency="hour", start="2026-07-01T10:00"), "2026-07-01T09:59:00", "2026-07-01T10:00", False),
        # Past: the next run on its cadence from a minute on.
        (Schedule(frequency="hour", start="2026-07-01T10:00"), "2026-07-01T12:30:00", "2026-07-01T13:00", True),
        (Schedule(frequency="hour", start="2026-07-01T10:00"), "2026-07-01T12:59:00", "2026-07-01T13:00", True),
        (Schedule(frequency="hour", start="2026-07-01T10:00"), "2026-07-01T12:59:30", "2026-07-01T14:00", True),
        (
            Schedule(frequency="hour", interval=3, start="2026-07-01T10:00"),
            "2026-07-01T11:00:00",
            "2026-07-01T13:00",
            True,
        ),
        (
            Schedule(frequency="minute", interval=15, start="2026-07-01T10:00"),
            "2026-07-01T10:20:00",
            "2026-07-01T10:30",
            True,
        ),
        (Schedule(frequency="day", start="2026-07-01T10:00"), "2026-07-03T11:00:00", "2026-07-04T10:00", True),
        (Schedule(frequency="week", start="2026-07-01T10:00"), "2026-07-02T00:00:00", "2026-07-08T10:00", True),
        # In the file's zone: 12:00 in Paris is 10:00 UTC.
        (
            Schedule(frequency="day", start="2026-07-01T12:00", timezone="Europe/Paris"),
            "2026-07-01T09:00:00",
            "2026-07-01T10:00",
            False,
        ),
        # Once: a minute on, whole minutes.
        (Schedule(frequency="once", start="2026-07-01T10:00"), "2026-07-01T12:30:40", "2026-07-01T12:32", True),
        # An interval left out is one; each cadence exactly, over years (a second off a step would show).
        (
            Schedule(frequency="hour", interval=None, start="2026-07-01T10:00"),
            "2026-07-01T12:30:00",
            "2026-07-01T13:00",
            True,
        ),
        (Schedule(frequency="minute", start="2020-01-01T00:00"), "2026-07-01T12:00:05", "2026-07-01T12:02", True),
        (Schedule(frequency="day", start="2020-01-01T10:00"), "2026-07-01T11:00:00", "2026-07-02T10:00", True),
        (Schedule(frequency="week", start="2020-01-01T10:00"), "2026-07-02T00:00:00", "2026-07-08T10:00", True),
    ],
)
def test_a_past_first_run_moves_to_the_next_on_its_cadence(schedule, now, first, moved):
    found, note = desired.first_run(schedule, at(now))
    assert found == first
    if moved:
        assert note == f"its first run in the file is past: it starts at {first} UTC, the next on its cadence"
    else:
        assert note is None
