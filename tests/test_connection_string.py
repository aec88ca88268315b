import re

import pytest

from app.sources.connection_string import (
    ConnectionStringError,
    build_connection_string,
    parse_connection_string,
    quote_value,
    read_pasted,
)

from .helpers.forms import form_data
from .helpers.pasted import AWKWARD, PASTED


@pytest.mark.parametrize("value", AWKWARD)
def test_build_then_parse_gives_back_every_value(value):
    text = build_connection_string([("HOST", "db.example.com"), ("PWD", value), ("UID", "u")])
    assert parse_connection_string(text) == {"HOST": "db.example.com", "PWD": value, "UID": "u"}


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", "plain"),
        ("p;a}ss{=", "{p;a}}ss{=}"),
        (" x", "{ x}"),
        ("x ", "{x }"),
        ("a=b", "{a=b}"),
        ('q"uote', 'q"uote'),
    ],
)
def test_only_values_that_need_it_are_braced_with_braces_doubled(value, quoted):
    assert quote_value(value) == quoted


def test_build_keeps_key_order_as_the_tutorial_pattern():
    text = build_connection_string([("HOST", "h"), ("PORT", 5432), ("DB", "d"), ("UID", "u"), ("PWD", "p")])
    assert text == "HOST=h;PORT=5432;DB=d;UID=u;PWD=p"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("HOST=h;PWD={abc", "never closes it"),
        ("HOST=h;justtext;PWD=p", "is not a key=value pair"),
        ("=v", "missing its key"),
        ("HOST=a;host=b", "given twice"),
        ("PWD={a}b;", "Expected “;”"),
    ],
)
def test_unreadable_strings_say_what_is_wrong(text, message):
    with pytest.raises(ConnectionStringError, match=message):
        parse_connection_string(text)


def test_trailing_semicolon_and_spaces_between_pairs_are_accepted():
    assert parse_connection_string("Server=s; Port=1;") == {"Server": "s", "Port": "1"}


@pytest.mark.parametrize("text", PASTED)
def test_no_message_about_a_pasted_string_quotes_a_value(text):
    try:
        _kind, pairs = read_pasted(text)
    except ConnectionStringError as error:
        message = str(error)
        for part in ("Winter", "2024!Secret", "pg.example.com", "never closed", "again", "justtext", "pw@"):
            assert part not in message
    else:
        assert pairs


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("host=pg.example.com port=5433 dbname=orders user=etl password='p w;x' sslmode=require", "libpq"),
        ("postgresql://etl:p%20w%3Bx@pg.example.com:5433/orders?sslmode=require", "URI"),
    ],
)
def test_split_reads_libpq_and_uri_strings_into_the_fields(client, fresh_emulator, text, kind):
    key, data = form_data("postgresql-string", connectionString=text, action="split")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert read_pasted(text)[0] == kind
    assert 'value="pg.example.com"' in page and 'value="5433"' in page and 'value="orders"' in page
    assert 'value="etl"' in page
    # sslmode=require kept as the driver's choice: always encrypt, the certificate not checked; not left out.
    assert re.search(r'<option selected value="1">Always encrypt', page) or '<option value="1" selected>' in page
    assert re.search(r'id="validateServerCertificate".*?<option selected value="0">', page, re.S)
    assert "left out" not in page
    assert "p w;x" not in page and "p%20w" not in page and text not in page


def test_an_sslmode_the_driver_has_no_choice_for_is_said_to_be_left_out(client, fresh_emulator):
    key, data = form_data("postgresql-string", connectionString="postgresql://etl@pg.example.com/orders?sslmode=odd")
    page = client.post(f"/sources/{key}", data=data | {"action": "split"}).get_data(as_text=True)
    assert "These keys have no field and were left out: sslmode" in page


@pytest.mark.parametrize(
    "text",
    [
        "host=pg.example.com password=hunter2-secret dbname=orders",
        "postgresql://etl:hunter2-secret@pg.example.com:5432/orders",
        "Server=pg.example.com;Password=hunter2-secret",
    ],
)
def test_a_connection_string_in_the_server_box_is_refused_and_not_echoed(client, fresh_emulator, text):
    key, data = form_data("postgresql-basic", server=text)
    response = client.post(f"/sources/{key}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "looks like a whole connection string" in page
    assert "hunter2-secret" not in page and not fresh_emulator.creations()


def test_a_libpq_string_sent_as_the_connection_string_is_refused_without_echo(client, fresh_emulator):
    key, data = form_data("postgresql-string", connectionString="host=pg port=5432 password=hunter2-secret")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert "This is a libpq connection string" in page and "hunter2-secret" not in page


def test_a_parse_error_names_a_position_never_the_password(client, fresh_emulator):
    key, data = form_data("greenplum-string", connectionString="HOST=gp;PORT=5432;DB=d;UID=u;PWD=Winter;2024!Secret")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert "Part 6 (after PWD) is not a key=value pair" in page
    assert "2024!Secret" not in page and "Winter" not in page
