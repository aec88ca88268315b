import pytest

from app.sources.connection_string import (
    ConnectionStringError,
    build_connection_string,
    parse_connection_string,
    quote_value,
)

AWKWARD = [
    "plain",
    "p;a}ss{=",
    "semi;colon",
    "}",
    "{",
    "{}",
    "}}{{",
    "a=b",
    " leading",
    "trailing ",
    "  ",
    'double"quote',
    "single'quote",
    "ünïcödé ✓ 密码",
    "ends with brace}",
    "{starts",
    "x;y=z{w}",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_build_then_parse_gives_back_every_value(value):
    text = build_connection_string([("HOST", "db.example.com"), ("PWD", value), ("UID", "u")])
    assert parse_connection_string(text) == {"HOST": "db.example.com", "PWD": value, "UID": "u"}


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("plain", "plain"), ("p;a}ss{=", "{p;a}}ss{=}"), (" x", "{ x}"), ("x ", "{x }"), ("a=b", "{a=b}"),
     ('q"uote', 'q"uote')],
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
