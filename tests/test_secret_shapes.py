"""Secrets in the shapes they come in (issue 30's leaks, each reproduced): a connection string as a URI or a lone
pair is masked whole unless its secrets are found in it; a param whose name looks secret is masked whatever its source
says; a URI's password is among the values logs scrub and Adobe's text is checked for, raw and percent-decoded; a
secret holding a quote, a backslash or a tab is scrubbed from a log record's extra fields and from a traceback that
shows its repr."""

from __future__ import annotations

import io
import json
import logging
import os
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import logs
from app.sources import secrecy
from app.sources.connection_string import (
    ConnectionStringError,
    build_connection_string,
    parse_connection_string,
    read_pairs,
    read_pasted,
)
from app.sources.secrecy import MASK, masked_params, secret_values


@pytest.mark.parametrize(
    "string",
    [
        "mongodb://appuser:pw-9x@db:27017/crm?authSource=admin",
        "mongodb+srv://appuser:pw-9x@cluster0.example.net/crm",
        "postgresql://etl:pw-9x@pg.example.com:5432/orders?sslmode=require",
        "jdbc:postgresql://pg.example.com:5432/orders?user=etl&password=pw-9x",
        "pa=pw-9x",
        "Server=pg.example.com;Pwd={unclosed pw-9x",
    ],
)
def test_a_connection_string_not_read_cleanly_as_pairs_with_its_secrets_is_masked_whole(string):
    assert masked_params({"connectionString": string}) == [("connectionString", MASK)]


def test_a_connection_string_of_pairs_keeps_all_but_its_secrets():
    shown = dict(masked_params({"connectionString": "Server=pg.example.com;Port=5432;UID=etl;Pwd=pw-9x"}))
    assert shown["connectionString"] == f"Server=pg.example.com;Port=5432;UID=etl;Pwd={MASK}"


@pytest.mark.parametrize(
    "name",
    ["clientSecret", "accountKey", "sasToken", "privateKey", "privateKeyPassphrase", "accessToken", "s3SecretKey"],
)
def test_a_param_whose_name_looks_secret_is_masked_whatever_the_source_says(name):
    assert dict(masked_params({name: "pw-9x", "host": "h"}, secret_names=frozenset())) == {name: MASK, "host": "h"}


def test_a_uris_password_is_a_secret_value_raw_and_percent_decoded():
    found = secret_values({"connectionString": "postgresql://etl:p%40ss-9x@h/db"}, {"connectionString"})
    assert "p%40ss-9x" in found and "p@ss-9x" in found


def test_dead_code_is_gone():
    assert not hasattr(secrecy, "placeholders")


@pytest.mark.parametrize("secret", ['quote"d-pw-9', "back\\slash-pw-9", "tab\tbed-pw-9"])
def test_a_secret_with_a_quote_backslash_or_tab_leaves_no_trace_in_a_json_line(secret):
    registry = logs.SecretRegistry()
    registry.add_permanent(secret)
    logs._registries.add(registry)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test_secret_shapes")
    logger.addHandler(handler)
    try:
        logger.warning("extra field", extra={"typed": secret})
        try:
            {}[secret]
        except KeyError:
            logger.exception("a KeyError shows its key as repr")
    finally:
        logger.removeHandler(handler)
        logs._registries.discard(registry)
    text = stream.getvalue()
    for shape in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]):
        assert shape not in text, shape
    assert text.count(logs.REDACTED) >= 2


def test_the_scrubber_replaces_secrets_from_the_stated_length_on_and_longest_first():
    registry = logs.SecretRegistry()
    short, long_enough = "a" * (logs.SCRUBBED_FROM - 1), "b" * logs.SCRUBBED_FROM
    registry.add_permanent(short, long_enough, "pw-9x", "pw-9x-and-more")
    assert registry.scrub(f"{short} {long_enough}") == f"{short} {logs.REDACTED}"
    assert registry.scrub("pw-9x-and-more") == logs.REDACTED, "never half-replaced"


def test_each_shape_of_a_secret_is_scrubbed_and_withheld_from_adobes_text():
    secret = 'p@ss "w\\rd"\t9'
    registry = logs.SecretRegistry()
    registry.add_permanent(secret)
    assert logs.shapes_of(secret) == {
        secret,
        'p@ss \\"w\\\\rd\\"\\t9',
        'p@ss "w\\\\rd"\\t9',
        'p@ss \\"w\\\\\\\\rd\\"\\\\t9',
        "p%40ss%20%22w%5Crd%22%099",
        "p%40ss+%22w%5Crd%22%099",
    }
    assert logs.shapes_of("plain-Token_1.x~") == {"plain-Token_1.x~"}
    for shape in logs.shapes_of(secret):
        assert registry.scrub(f"before {shape} after") == f"before {logs.REDACTED} after"
        assert registry.quotes_secret(f"Adobe says: {shape}")
    assert not registry.quotes_secret("Adobe says nothing of it")


# Property-based: passwords from the whole printable and non-ASCII range, with the characters connection strings and
# logs treat specially. Each starts with a marker no page or log line holds by itself, so that finding any shape of
# it means it leaked (a one-letter password would be "found" everywhere).
SPECIAL = list(";{}=\"\\'@:/?#% \t")
PASSWORDS = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))),
    min_size=1,
    max_size=40,
).map(lambda text: "Zq9" + text)
EXAMPLES = 500 if os.environ.get("CI") else 100


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(PASSWORDS)
def test_build_then_parse_gives_each_password_back_and_the_masked_text_never_holds_it(password):
    string = build_connection_string([("Server", "pg.example.com"), ("UID", "etl"), ("Pwd", password)])
    assert parse_connection_string(string) == {"Server": "pg.example.com", "UID": "etl", "Pwd": password}
    assert password in secret_values({"connectionString": string}, {"connectionString"})
    shown = str(masked_params({"connectionString": string, "password": password}))
    assert not any(shape in shown for shape in logs.shapes_of(password))


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(PASSWORDS)
def test_no_shape_of_a_password_reaches_a_json_log_line(password):
    registry = logs.SecretRegistry()
    registry.add_permanent(password)
    logs._registries.add(registry)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test_secret_shapes.property")
    logger.addHandler(handler)
    try:
        logger.warning("typed %s", password, extra={"typed": password, "url": f"https://h/?pw={quote(password)}"})
        try:
            {}[password]
        except KeyError:
            logger.exception("missing")
    finally:
        logger.removeHandler(handler)
        logs._registries.discard(registry)
    text = stream.getvalue()
    assert not any(shape in text for shape in logs.shapes_of(password)), text


# The shapes people paste, each with the exact pairs read (kind: Flow Service's key=value;, libpq's or a URI), the
# exact text shown masked (SHOWN) and redacted for curl, and the exact secret values logs scrub. Only Flow Service's
# key=value; pairs with a secret key, and no other value that could hold a secret, are shown part by part.
SHAPES = [
    (
        "Server=pg.example.com;Port=5432;Database=orders;UID=etl;Pwd={p;a}}ss}",
        "key=value;",
        {"Server": "pg.example.com", "Port": "5432", "Database": "orders", "UID": "etl", "Pwd": "p;a}ss"},
        f"Server=pg.example.com;Port=5432;Database=orders;UID=etl;Pwd={MASK}",
        "Server=pg.example.com;Port=5432;Database=orders;UID=etl;Pwd={PASSWORD}",
        ["p;a}ss", "{p;a}}ss}"],
    ),
    (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=YWJj+ZGVm==;EndpointSuffix=core.windows.net",
        "key=value;",
        {
            "DefaultEndpointsProtocol": "https",
            "AccountName": "acct",
            "AccountKey": "YWJj+ZGVm==",
            "EndpointSuffix": "core.windows.net",
        },
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={MASK};EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={ACCOUNT_KEY};EndpointSuffix=core.windows.net",
        ["YWJj+ZGVm=="],
    ),
    (
        "Server = h ;Pwd={p;a}}ss} ;UID=etl",
        "key=value;",
        {"Server": " h ", "Pwd": "p;a}ss", "UID": "etl"},
        f"Server = h ;Pwd={MASK} ;UID=etl",
        "Server = h ;Pwd={PASSWORD} ;UID=etl",
        ["p;a}ss", "{p;a}}ss}"],
    ),
    ("Pwd=x", "key=value;", {"Pwd": "x"}, f"Pwd={MASK}", "Pwd={PASSWORD}", ["x"]),
    ("Server=h;Pwd=", "key=value;", {"Server": "h", "Pwd": ""}, f"Server=h;Pwd={MASK}", "Server=h;Pwd={PASSWORD}", []),
    ("pa=ss", "key=value;", {"pa": "ss"}, MASK, "{CONNECTION_STRING}", []),
    (
        "host=h password=s;Pwd=x",
        "libpq",
        {"host": "h", "password": "s;Pwd=x"},
        MASK,
        "{CONNECTION_STRING}",
        ["x", "s;Pwd=x"],
    ),
    ("Url=pg://u:p@h/db;Pwd=x", "key=value;", {"Url": "pg://u:p@h/db", "Pwd": "x"}, MASK, "{CONNECTION_STRING}", ["x"]),
    (
        "UID=etl@corp;Pwd=x",
        "key=value;",
        {"UID": "etl@corp", "Pwd": "x"},
        f"UID=etl@corp;Pwd={MASK}",
        "UID=etl@corp;Pwd={PASSWORD}",
        ["x"],
    ),
    (
        "host=pg.example.com port=5432 dbname=orders user=etl password='p a\\'ss'",
        "libpq",
        {"host": "pg.example.com", "port": "5432", "dbname": "orders", "user": "etl", "password": "p a'ss"},
        MASK,
        "{CONNECTION_STRING}",
        ["p a'ss"],
    ),
    (
        "host = pg.example.com  port= 5432 password ='a\\\\b'",
        "libpq",
        {"host": "pg.example.com", "port": "5432", "password": "a\\b"},
        MASK,
        "{CONNECTION_STRING}",
        ["a\\b"],
    ),
    (
        "  host=h\tuser=u   password=x\\y",
        "libpq",
        {"host": "h", "user": "u", "password": "xy"},
        MASK,
        "{CONNECTION_STRING}",
        ["xy"],
    ),
    (
        "host=h user=u password=p\\ ass sslmode=require",
        "libpq",
        {"host": "h", "user": "u", "password": "p ass", "sslmode": "require"},
        MASK,
        "{CONNECTION_STRING}",
        ["p ass"],
    ),
    ("host=h user=u password=''", "libpq", {"host": "h", "user": "u", "password": ""}, MASK, "{CONNECTION_STRING}", []),
    (
        "postgresql://etl:p%40ss@pg.example.com:5432/orders?sslmode=require",
        "URI",
        {
            "host": "pg.example.com",
            "port": "5432",
            "dbname": "orders",
            "user": "etl",
            "password": "p@ss",
            "sslmode": "require",
        },
        MASK,
        "{CONNECTION_STRING}",
        ["p@ss", "p%40ss"],
    ),
    (
        "postgres://etl@pg.example.com/orders",
        "URI",
        {"host": "pg.example.com", "dbname": "orders", "user": "etl"},
        MASK,
        "{CONNECTION_STRING}",
        [],
    ),
    ("postgresql://pg.example.com", "URI", {"host": "pg.example.com"}, MASK, "{CONNECTION_STRING}", []),
    (
        "postgresql://etl@h/db?application_name=a://b",
        "URI",
        {"host": "h", "dbname": "db", "user": "etl", "application_name": "a://b"},
        MASK,
        "{CONNECTION_STRING}",
        [],
    ),
    (
        "POSTGRESQL://ETL:PW@PG.EXAMPLE.COM/DB",
        "URI",
        {"host": "PG.EXAMPLE.COM", "dbname": "DB", "user": "ETL", "password": "PW"},
        MASK,
        "{CONNECTION_STRING}",
        ["PW"],
    ),
    (
        "mongodb://appuser:pw@db:27017/crm?authSource=admin",
        "URI",
        {"host": "db", "port": "27017", "dbname": "crm", "user": "appuser", "password": "pw", "authSource": "admin"},
        MASK,
        "{CONNECTION_STRING}",
        ["pw"],
    ),
    (
        "mongodb+srv://appuser:pw@cluster0.example.net/crm?retryWrites=true&w=majority",
        "URI",
        {
            "host": "cluster0.example.net",
            "dbname": "crm",
            "user": "appuser",
            "password": "pw",
            "retryWrites": "true",
            "w": "majority",
        },
        MASK,
        "{CONNECTION_STRING}",
        ["pw"],
    ),
    (
        "jdbc:postgresql://pg.example.com:5432/orders?user=etl&password=pw",
        "URI",
        {"host": "pg.example.com", "port": "5432", "dbname": "orders", "user": "etl", "password": "pw"},
        MASK,
        "{CONNECTION_STRING}",
        ["pw"],
    ),
    ("jdbc:sqlserver://h:1433", "URI", {"host": "h", "port": "1433"}, MASK, "{CONNECTION_STRING}", []),
    (
        "postgresql://etl:pw@[2001:db8::1]:5432/orders",
        "URI",
        {"host": "2001:db8::1", "port": "5432", "dbname": "orders", "user": "etl", "password": "pw"},
        MASK,
        "{CONNECTION_STRING}",
        ["pw"],
    ),
    (
        "postgresql://etl:pw@[2001:db8::1]/orders",
        "URI",
        {"host": "2001:db8::1", "dbname": "orders", "user": "etl", "password": "pw"},
        MASK,
        "{CONNECTION_STRING}",
        ["pw"],
    ),
    (
        "postgresql://etl:p%3Aw@pg.example.com/or%20ders?application_name=&x=1#frag",
        "URI",
        {
            "host": "pg.example.com",
            "dbname": "or ders",
            "user": "etl",
            "password": "p:w",
            "application_name": "",
            "x": "1",
        },
        MASK,
        "{CONNECTION_STRING}",
        ["p:w", "p%3Aw"],
    ),
    (
        "XServer=1;Pwd=x",
        "key=value;",
        {"XServer": "1", "Pwd": "x"},
        f"XServer=1;Pwd={MASK}",
        "XServer=1;Pwd={PASSWORD}",
        ["x"],
    ),
    (
        "Server = h; UID = u; PWD = hunter22",
        "key=value;",
        {"Server": " h", "UID": " u", "PWD": " hunter22"},
        f"Server = h; UID = u; PWD ={MASK}",
        "Server = h; UID = u; PWD ={PASSWORD}",
        [" hunter22", "hunter22"],
    ),
    ("РWD=hunter2;PWD=x", "key=value;", {"РWD": "hunter2", "PWD": "x"}, MASK, "{CONNECTION_STRING}", ["x"]),
    (
        "Server=h;UID=admin:hunter22@h;PWD=x",
        "key=value;",
        {"Server": "h", "UID": "admin:hunter22@h", "PWD": "x"},
        MASK,
        "{CONNECTION_STRING}",
        ["x"],
    ),
    (
        "PWD=x;postgresql://admin:hunter22@h/db?sslmode=require",
        "key=value;",
        {"PWD": "x", "postgresql://admin:hunter22@h/db?sslmode": "require"},
        MASK,
        "{CONNECTION_STRING}",
        ["x"],
    ),
    (
        "Server=h;Auth=Bearer eyJ",
        "key=value;",
        {"Server": "h", "Auth": "Bearer eyJ"},
        f"Server=h;Auth={MASK}",
        "Server=h;Auth={AUTH}",
        ["Bearer eyJ"],
    ),
    (
        "Server=h;AuthMech=3;Pwd=x",
        "key=value;",
        {"Server": "h", "AuthMech": "3", "Pwd": "x"},
        f"Server=h;AuthMech=3;Pwd={MASK}",
        "Server=h;AuthMech=3;Pwd={PASSWORD}",
        ["x"],
    ),
    ("host=h password=", "libpq", {"host": "h", "password": ""}, MASK, "{CONNECTION_STRING}", []),
    ("host=h password=ab\\", "libpq", {"host": "h", "password": "ab\\"}, MASK, "{CONNECTION_STRING}", ["ab\\"]),
    (
        "host=h password='x'user=u",
        "libpq",
        {"host": "h", "password": "x", "user": "u"},
        MASK,
        "{CONNECTION_STRING}",
        ["x"],
    ),
    (
        "jdbc:sqlserver://h:1433;databaseName=d;user=u;password=hunter22",
        "URI",
        {"host": "h", "port": "1433", "databaseName": "d", "user": "u", "password": "hunter22"},
        MASK,
        "{CONNECTION_STRING}",
        ["hunter22"],
    ),
    (
        "jdbc:databricks://h:443/default;AuthMech=3;UID=token;PWD=dapi1234abcd",
        "URI",
        {"host": "h", "port": "443", "dbname": "default", "AuthMech": "3", "UID": "token", "PWD": "dapi1234abcd"},
        MASK,
        "{CONNECTION_STRING}",
        ["dapi1234abcd"],
    ),
]
REFUSED = [
    ("postgresql://etl:pw@h1:5432,h2:5432/orders", "The URI names several hosts; paste one host, or fill the fields."),
    ("postgresql://etl:pw@pg.example.com/orders?user=other", "user is given twice in the URI; keep one."),
    ("postgresql://:pw@/orders", "The URI names no host; write it as scheme://user@host:port/database."),
    ("host=h password='unclosed", "The value of password opens a quote but never closes it."),
    ("host=h host=g", "host is given twice; keep one."),
    ("host=h user=u ;x", "Part 3 (after user) is not a key=value pair."),
    (
        "host=h user=u port=5 ;x",
        "Part 4 (after port) is not a key=value pair. Separate pairs with spaces, and quote a value that holds "
        "spaces: password='…'.",
    ),
    ("host=h password='ab\\", "The value of password opens a quote but never closes it."),
    ("host=h password='a\\'", "The value of password opens a quote but never closes it."),
    ("postgresql://u@h1,h2/db", "The URI names several hosts; paste one host, or fill the fields."),
    (
        "postgresql://etl:pw@[::1]]:5/db",
        "The URI's port is not a number; write it as scheme://user@host:port/database.",
    ),
    ("jdbc:sqlserver://h;user=u;user=v", "user is given twice; keep one."),
    ("postgresql://h/db?sslmode=require&sslmode=disable", "sslmode is given twice in the URI; keep one."),
    (
        "a;b=1;c=2",
        "Part 1 is not a key=value pair. Separate pairs with “;”, and wrap a value that holds “;” in braces: PWD={…}.",
    ),
    ("Server=h;=x;Pwd=y", "A pair is missing its key before “=”."),
    ("Server=h;Pwd={a}}", "The value of Pwd opens “{” but never closes it; end it with “}”."),
    ("jdbc:sqlserver://u@h;user=v", "user is given twice in the URI; keep one."),
]


@pytest.mark.parametrize("text, kind, pairs, shown, curl, values", SHAPES)
def test_each_shape_reads_as_its_exact_pairs_shown_and_redacted_exactly_with_its_exact_secrets(
    text, kind, pairs, shown, curl, values
):
    assert read_pasted(text) == (kind, pairs)
    assert masked_params({"connectionString": text}) == [("connectionString", shown)]
    assert secrecy.redact_param("connectionString", text) == curl
    assert secret_values({"connectionString": text}, {"connectionString"}) == [text, *values]
    # Putting each secret back where its placeholder stands, as the string carries it, gives exactly what was sent.
    if curl != "{CONNECTION_STRING}":
        put_back = curl
        for key, _, where in read_pairs(text):
            put_back = put_back.replace(secrecy.key_placeholder(key), text[where], 1)
        assert put_back == text


@pytest.mark.parametrize("text, said", REFUSED)
def test_a_shape_that_cannot_be_read_says_why_without_a_value(text, said):
    with pytest.raises(ConnectionStringError) as refused:
        read_pasted(text)
    assert str(refused.value).startswith(said)
    assert masked_params({"connectionString": text}) == [("connectionString", MASK)]


@pytest.mark.parametrize(
    "text, values",
    [
        ("Server=h;UID=etl;Pwd=pw-9", ["pw-9"]),
        ("Server=h;UID=etl", []),
        ("host=h user=etl password='p w'", ["p w"]),
        ("postgresql://etl:p%40w@h/db", ["p@w", "p%40w"]),
        ("jdbc:postgresql://etl:p%40w@h/db", ["p@w", "p%40w"]),
        ("postgresql://etl@h/db", []),
        ("postgresql://h/db?password=p%40w", ["p@w", "p%40w"]),
        ("jdbc:oracle:thin:scott/tiger99@//h:1521/svc", ["tiger99"]),
        ("jdbc:sqlserver://h;password=p%40w", ["p%40w"]),
        ("jdbc:sqlserver://u:pw@h;x=a@b", ["pw"]),
        ("postgresql://h/db?password=a=b", ["a=b"]),
        ("postgresql://h/db?sslmode=require&password=p%40w", ["p@w", "p%40w"]),
        ("postgresql://etl:p%40w@h/db?application_name=a://b", ["p@w", "p%40w"]),
        ("//etl:pw@h", []),
        ("not a string at all", []),
    ],
)
def test_the_secret_values_of_a_connection_string_are_exactly_those_of_its_secret_keys(text, values):
    assert secret_values({"connectionString": text, "server": "h"}, {"connectionString"}) == [text, *values]


@pytest.mark.parametrize(
    "name, shown",
    [
        ("password", "{PASSWORD}"),
        ("privateKey", "{PRIVATE_KEY}"),
        ("KeyStorePassword", "{KEY_STORE_PASSWORD}"),
        ("s3SecretKey", "{S3_SECRET_KEY}"),
        ("sas-token.x", "{SAS_TOKEN_X}"),
        ("_x_", "{X}"),
    ],
)
def test_a_secrets_placeholder_is_named_after_it(name, shown):
    assert secrecy.placeholder(name) == shown


def test_a_connection_strings_secrets_are_placeholders_the_rest_exactly_as_sent():
    assert secrecy.key_placeholder("PWD") == secrecy.key_placeholder("Password") == "{PASSWORD}"
    assert secrecy.key_placeholder("KeyStorePassword") == "{KEY_STORE_PASSWORD}"
    assert secrecy.redact_param("clientSecret", "x") == "{CLIENT_SECRET}"
    assert secrecy.redact_param("connectionString", "Server={a;b};UID=etl;Pwd=pw;KeyStorePassword=k") == (
        "Server={a;b};UID=etl;Pwd={PASSWORD};KeyStorePassword={KEY_STORE_PASSWORD}"
    )
    assert secrecy.redact_param("connectionString", "postgresql://etl:pw@h/db") == "{CONNECTION_STRING}"
    assert secrecy.redact_param("connectionString", 12) == "{CONNECTION_STRING}"


def test_params_are_redacted_for_curl_each_secret_a_placeholder():
    params = {"server": "h", "password": "p", "connectionString": "Server=h;Pwd=x"}
    assert secrecy.redacted_params(params, {"password", "connectionString"}) == {
        "server": "h",
        "password": "{PASSWORD}",
        "connectionString": "Server=h;Pwd={PASSWORD}",
    }


def test_params_are_shown_in_the_sources_order_then_by_name_as_text_secrets_masked():
    params = {"b": "2", "a": "1", "port": 5432, "server": "h", "flag": True, "off": False, "stars": "***"}
    assert masked_params(params, frozenset(), order=["server", "port"]) == [
        ("server", "h"),
        ("port", "5432"),
        ("a", "1"),
        ("b", "2"),
        ("flag", "true"),
        ("off", "false"),
        ("stars", MASK),
    ]
    assert masked_params(None) == []


def test_one_rule_for_a_secret_param_on_pages_in_curl_and_in_logs():
    params = {"host": "h", "clientSecret": "s3cr3t-value", "sasUri": "https://a/?sig=zz", "authType": "basic"}
    names = {"password"}
    assert masked_params(params, names) == [
        ("authType", "basic"),
        ("clientSecret", MASK),
        ("host", "h"),
        ("sasUri", MASK),
    ]
    assert secrecy.redacted_params(params, names) == {
        "host": "h",
        "clientSecret": "{CLIENT_SECRET}",
        "sasUri": "{SAS_URI}",
        "authType": "basic",
    }
    assert secret_values(params, names) == ["s3cr3t-value", "https://a/?sig=zz"]
    assert secrecy.is_secret_param("host", {"host"}) and secrecy.is_secret_param("connectionString", set())


SECRET_NAMES = "pwd PW Password passphrase clientSecret accessToken accountKey credentials SharedAccessSignature sig"
NOT_SECRET_NAMES = (
    "Server host port UID database sslmode AuthMech authSource authType AuthenticationType Authentication"
)


@pytest.mark.parametrize(
    "name, secret",
    [
        *((name, True) for name in SECRET_NAMES.split()),
        *((name, True) for name in "sasToken jwt bearerToken cookie otpCode Auth auth_token Authorization".split()),
        *((name, False) for name in NOT_SECRET_NAMES.split()),
        ("User ID", False),
    ],
)
def test_a_name_is_secret_when_it_looks_secret_and_a_mechanism_is_not(name, secret):
    assert secrecy.is_secret_key(name) is secret


def test_a_paste_built_to_make_the_reader_backtrack_reads_at_once():
    # Before: `\s*=\s*` then `\s+` tried every split of the spaces (17 s for 64 KB; bench/secret_keeping.py).
    # White space after "=" is now taken whole, as libpq takes it: `host= port=5` is not two libpq pairs.
    assert read_pasted("host= port=5") == ("key=value;", {"host": " port=5"})
    text = "host=" + " " * 65_000 + "x"
    assert read_pasted(text) == ("key=value;", {"host": text[5:]})
    assert read_pasted("host=h " + " ".join(f"k{n}=v" for n in range(8_000)))[1]["k7999"] == "v"


def test_a_secret_param_other_than_a_connection_string_is_masked_whole_whatever_it_holds():
    shown = masked_params({"password": "Pwd=x", "privateKey": 1234, "connectionString": "Pwd=x"})
    assert shown == [("connectionString", f"Pwd={MASK}"), ("password", MASK), ("privateKey", MASK)]
