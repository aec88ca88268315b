"""Build and parse `key=value;` connection strings as Flow Service's drivers read them.

A value that cannot stand raw (it holds `;`, `{`, `}`, `=`, or starts or ends with a
space) is wrapped in braces with every `}` doubled, the ODBC convention the
GreenPlum and PostgreSQL drivers behind Flow Service follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    result: dict[str, str] = {}
    seen: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in "; ":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        semi = text.find(";", i)
        if eq == -1 or (semi != -1 and semi < eq):
            end = n if semi == -1 else semi
            raise ConnectionStringError(
                f"“{text[i:end].strip()}” is not a key=value pair; separate pairs with “;”."
            )
        key = text[i:eq].strip()
        if not key:
            raise ConnectionStringError("A pair is missing its key before “=”.")
        i = eq + 1
        if i < n and text[i] == "{":
            value_chars = []
            i += 1
            while True:
                if i >= n:
                    raise ConnectionStringError(
                        f"The value of {key} opens “{{” but never closes it; end it with “}}”."
                    )
                if text[i] == "}":
                    if i + 1 < n and text[i + 1] == "}":
                        value_chars.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value_chars.append(text[i])
                i += 1
            value = "".join(value_chars)
            while i < n and text[i] == " ":
                i += 1
            if i < n and text[i] != ";":
                raise ConnectionStringError(f"Expected “;” after the braced value of {key}.")
        else:
            semi = text.find(";", i)
            end = n if semi == -1 else semi
            value = text[i:end]
            i = end
        if key.lower() in seen:
            raise ConnectionStringError(f"{key} is given twice; keep one.")
        seen.add(key.lower())
        result[key] = value
    return result


def lookup(pairs: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of `names` present in `pairs`, matching keys without case."""
    lowered = {key.lower(): value for key, value in pairs.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None
