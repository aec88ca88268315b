"""Build and parse `key=value;` connection strings as Flow Service's drivers read them, and read pasted ones.

A value that cannot stand raw (it holds `;`, `{`, `}`, `=`, or starts or ends with a
space) is wrapped in braces with every `}` doubled, the ODBC convention the
GreenPlum and PostgreSQL drivers behind Flow Service follow.

People also paste what their own tools use: libpq's `host=… port=… password=…`
and URIs such as `postgresql://user:pw@host:5432/db`. `read_pasted` reads all
three into pairs, libpq's and a URI's under libpq's key names. No message here
ever quotes a value: a value may be, or hold part of, a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

_SPECIAL = set(";{}=")


class ConnectionStringError(ValueError):
    """A connection string that cannot be read, with a message a person can act on."""


def quote_value(value: str) -> str:
    if value and (value[0] == " " or value[-1] == " " or _SPECIAL & set(value)):
        return "{" + value.replace("}", "}}") + "}"
    return value


def build_connection_string(pairs: Iterable[tuple[str, str]]) -> str:
    """Join (key, value) pairs in order, quoting values that need it."""
    return ";".join(f"{key}={quote_value(str(value))}" for key, value in pairs)


def parse_connection_string(text: str) -> dict[str, str]:
    """Read a connection string into {key: value}, keys as written.

    Raises ConnectionStringError for an unterminated brace, a pair without `=`,
    an empty key or a key given twice.
    """
    return {key: value for key, value, _ in read_pairs(text)}


def read_pairs(text: str) -> list[tuple[str, str, slice]]:
    """Read a connection string into (key, value, where) in order: `text[where]` is the value as the string carries
    it (braces and doubled `}` included), so that it can be replaced in place. Raises as parse_connection_string."""
    result: list[tuple[str, str, slice]] = []
    seen: set[str] = set()
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in "; ":
            i += 1
        if i >= n:
            break
        semi = text.find(";", i)
        eq = text.find("=", i, n if semi == -1 else semi)  # in this part: before the next “;”
        if eq == -1:
            after = f" (after {result[-1][0]})" if result else ""
            raise ConnectionStringError(
                f"Part {len(result) + 1}{after} is not a key=value pair. Separate pairs with “;”, and wrap a "
                "value that holds “;” in braces: PWD={…}."
            )
        key = text[i:eq].strip()
        if not key:
            raise ConnectionStringError("A pair is missing its key before “=”.")
        i = start = eq + 1
        if i < n and text[i] == "{":
            value_chars = []
            i += 1
            while True:
                if i >= n:
                    raise ConnectionStringError(f"The value of {key} opens “{{” but never closes it; end it with “}}”.")
                if text[i] == "}":
                    if i + 1 < n and text[i + 1] == "}":
                        value_chars.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value_chars.append(text[i])
                i += 1
            value, where = "".join(value_chars), slice(start, i)
            while i < n and text[i] == " ":
                i += 1
            if i < n and text[i] != ";":
                raise ConnectionStringError(f"Expected “;” after the braced value of {key}.")
        else:  # up to the part's “;”, found above
            end = n if semi == -1 else semi
            value, where = text[i:end], slice(i, end)
            i = end
        if key.lower() in seen:
            raise ConnectionStringError(f"{key} is given twice; keep one.")
        seen.add(key.lower())
        result.append((key, value, where))
    return result


def lookup(pairs: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of `names` present in `pairs`, matching keys without case."""
    lowered = {key.lower(): value for key, value in pairs.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


# libpq's keywords (PostgreSQL's "Parameter Key Words"): a pasted string starting with one, with no “;”,
# is read as libpq's `key=value key=value`.
LIBPQ_KEYWORDS = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslpassword",
        "target_session_attrs",
        "service",
        "gssencmode",
        "require_auth",
        "channel_binding",
    }
)
URI = re.compile(r"^(jdbc:)?[A-Za-z][A-Za-z0-9+.-]*://")
# White space after “=” is taken whole (possessive `*+`), as libpq reads it (in its form, `host= port=5` is host
# “port=5”), and a long run of spaces costs no backtracking.
_LIBPQ_PAIR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*+")
# libpq's form: a keyword, its value (bare without “;”, or quoted), white space, and another key=.
LIBPQ_START = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*+('(?:[^'\\]|\\.)*'|[^\s;']*)"
    r"\s+[A-Za-z_][A-Za-z0-9_]*\s*="
)


def read_pasted(text: str) -> tuple[str, dict[str, str]]:
    """Read a pasted connection: ("key=value;", pairs) as Flow Service reads it, ("libpq", pairs) or ("URI", pairs)."""
    text = text.strip()
    if URI.match(text):
        return "URI", _read_uri(text)
    start = LIBPQ_START.match(text)
    if start and start.group(1).lower() in LIBPQ_KEYWORDS:
        return "libpq", _read_libpq(text)
    return "key=value;", parse_connection_string(text)


def split_uri(text: str) -> tuple[SplitResult, str]:
    """A URI's parts as written (still percent-encoded), and what follows a `;` after them (JDBC's SQL Server form
    puts `;key=value` pairs there). The scheme (and a `jdbc:` before it) names no part."""
    address, _, params = text.partition("://")[2].partition(";")
    return urlsplit("//" + address), params


def _read_uri(text: str) -> dict[str, str]:
    """A URI's parts under libpq's names, then its query's pairs and any `;key=value` after the host."""
    parts, params = split_uri(text)
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("["):
        host, _, port = host[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = host.partition(":")
    if "," in host or "," in port:
        raise ConnectionStringError("The URI names several hosts; paste one host, or fill the fields.")
    if not port.isdigit() and port:
        raise ConnectionStringError("The URI's port is not a number; write it as scheme://user@host:port/database.")
    pairs = {}
    for key, value in (
        ("host", unquote(host)),
        ("port", port),
        ("dbname", unquote(parts.path.removeprefix("/"))),
        ("user", unquote(parts.username or "")),
        ("password", unquote(parts.password or "")),
    ):
        if value:
            pairs[key] = value
    seen = {key.lower() for key in pairs}
    for key, value in [*parse_qsl(parts.query, keep_blank_values=True), *parse_connection_string(params).items()]:
        if key.lower() in seen:
            raise ConnectionStringError(f"{key} is given twice in the URI; keep one.")
        seen.add(key.lower())
        pairs[key] = value
    if "host" not in pairs:
        raise ConnectionStringError("The URI names no host; write it as scheme://user@host:port/database.")
    return pairs


def _read_libpq(text: str) -> dict[str, str]:
    """libpq's keyword/value form: values bare, or in single quotes with \\' and \\\\ escaped."""
    pairs: dict[str, str] = {}
    seen: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        match = _LIBPQ_PAIR.match(text, i)
        if not match:  # never the first part: read_pasted reads a string as libpq's only when it starts with a pair
            raise ConnectionStringError(
                f"Part {len(pairs) + 1} (after {list(pairs)[-1]}) is not a key=value pair. Separate "
                "pairs with spaces, and quote a value that holds spaces: password='…'."
            )
        key, i = match.group(1), match.end()
        chars = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ConnectionStringError(f"The value of {key} opens a quote but never closes it.")
                if text[i] == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if text[i] == "'":
                    i += 1
                    break
                chars.append(text[i])
                i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
        if key.lower() in seen:
            raise ConnectionStringError(f"{key} is given twice; keep one.")
        seen.add(key.lower())
        pairs[key] = "".join(chars)
    return pairs
