"""Flow Service's lists: `GET /connections`, `/sourceConnections`, `/flows`, `/runs`… filtered, ordered, paged with
opaque continuation tokens or counted, as the sort-and-filter guide describes, with the catalogue's refusals."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Response, request

from .errors import flow_error, json_response

# The query parameters the spec documents for GET /connections.
LIST_PARAMETERS = {"property", "limit", "orderby", "continuationToken", "count"}
# Fields a list may be ordered by (our choice: the ones the portal and Adobe's examples use).
SORTABLE = {"name", "createdAt", "updatedAt"}
# The most items one page holds (our choice: Adobe documents no maximum).
MAX_LIMIT = 100
DEFAULT_LIMIT = 100
CLAUSE = re.compile(r"^(?P<path>[A-Za-z_][A-Za-z0-9_.\[\]]*)(?P<op>[=!<>~]+)(?P<value>.*)$", re.S)
ORDER = re.compile(r"^(?P<sign>[+-]?)(?P<field>.*)$", re.S)
COMPARISONS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def listing(items: list[dict], path: str, unquote: bool = False) -> Response:
    """A GET list's answer for `items` under this request's query: filtered (`==`, comparisons), ordered, paged
    with opaque continuation tokens, or counted, as the sort-and-filter guide describes, with the catalogue's
    refusals. With `unquote`, a filter value in double quotes is read without them (the dataflow tutorial's
    `property=name=="CRMToAEP"`)."""
    query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    unknown = sorted({key for key, _ in query} - LIST_PARAMETERS)
    if unknown:
        return flow_error("1451-400", f"Invalid params {','.join(unknown)} provided in query params.")
    args = dict(query)
    # The spec: "By default the count is not returned (`count=false`)"; only a count asked for clashes with a limit.
    if args.get("count", "").lower() == "true" and "limit" in args:
        return flow_error(
            "1401-400",
            "The limit and count parameters cannot be given together in the same "
            "request. Please provide either only the limit or the count parameter "
            "and try again.",
        )
    for key, clause in query:
        if key == "property":
            kept = _filter(items, clause, unquote)
            if isinstance(kept, Response):
                return kept
            items = kept
    refusal = _sort(items, args.get("orderby", "createdAt"))
    if refusal is not None:
        return refusal
    if args.get("count", "").lower() == "true":
        return json_response({"count": len(items)})
    return _page(items, query, path)


def _sort(items: list[dict], order: str) -> Response | None:
    """Sort `items` in place by `orderby` (`+name`, `-createdAt`…), or answer why the order cannot be read."""
    ordering = ORDER.match(order)
    if ordering is None or ordering["field"] not in SORTABLE:
        if ordering is None:  # the pattern matches any text; a None would be a bug in it, answered as a bad sign
            return flow_error(
                "1432-400",
                "Sort order specified is not correct, prepend + for ascending order "
                "and - for descending order in the fieldName.",
            )
        if ordering["field"][:1] in "*!<>=~ ":
            return flow_error(
                "1432-400",
                "Sort order specified is not correct, prepend + for ascending order "
                "and - for descending order in the fieldName.",
            )
        return flow_error(
            "1433-400", f"Incorrect field= {ordering['field']} passed in orderBy, example are +name, -name, name."
        )
    field = ordering["field"]
    items.sort(
        key=lambda c: str(dig(c, field) or "").lower() if field == "name" else (dig(c, field) or 0),
        reverse=ordering["sign"] == "-",
    )
    return None


def _page(items: list[dict], query: list[tuple[str, str]], path: str) -> Response:
    """The page `limit` and `continuationToken` ask for, with a `next` link when more follow."""
    args = dict(query)
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        if limit < 1:
            raise ValueError
    except ValueError:
        return flow_error("1100-400", "The request could not be processed: limit must be a positive integer.")
    limit = min(limit, MAX_LIMIT)
    start = _offset(args.get("continuationToken"))
    if start is None:
        return flow_error(
            "1100-400", "The request could not be processed: the continuationToken is not one this service issued."
        )
    # `_links` as the spec's list responses carry it (PageLinksResponse), `{}` on the last page as the monitoring
    # tutorial's GET /runs answer shows it.
    body: dict[str, Any] = {"items": items[start : start + limit], "_links": {}}
    if start + limit < len(items):
        rest = [(k, v) for k, v in query if k not in ("continuationToken", "limit")]
        rest += [("limit", str(limit)), ("continuationToken", _token(start + limit))]
        body["_links"] = {"next": {"href": f"{path}?{urlencode(rest)}"}}
    return json_response(body)


def _filter(items: list[dict], clause: str, unquote: bool = False):
    """The items one `property` clause keeps, or the error Flow Service answers for the clause."""
    match = CLAUSE.match(clause)
    if not match or not match["value"]:
        return flow_error("1453-400", f"Invalid query value {clause} provided in query param.")
    path, op, wanted = match.groups()
    if op == "~":
        return flow_error("1440-400", "Operator '~' not implemented.")
    values = wanted.split(",")
    if unquote:
        values = [v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v for v in values]
    if op == "==":
        # A comma means "any of" (sort-and-filter guide); values compare as text. A path through an array
        # (`sourceConnectionIds[]`, `transformations[].params.…`) matches when any of its items does.
        return [c for c in items if any(_text(found) in values for found in _dig_all(c, path))]
    if op in COMPARISONS:
        if len(values) > 1:
            return flow_error("1443-400", f"Operator '{op}' is not allowed for multiple values.")
        try:
            bound = float(wanted)
        except ValueError:
            return flow_error("1453-400", f"Invalid query value {clause} provided in query param.")
        return [c for c in items if isinstance(dig(c, path), (int, float)) and COMPARISONS[op](dig(c, path), bound)]
    return flow_error("1450-400", f"Invalid operator {op} in filter params.")


def _text(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def dig(item: Any, dotted: str) -> Any:
    """The value at a dotted path of an object, or None where it stops."""
    for part in dotted.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def _dig_all(item, path: str) -> list:
    """Every value at `path`, where `name[]` steps into each item of an array (the filter guide's arrays)."""
    found = [item]
    for part in path.split("."):
        array = part.endswith("[]")
        name = part[:-2] if array else part
        step = []
        for value in found:
            value = value.get(name) if isinstance(value, dict) else None
            if array:
                step += value if isinstance(value, list) else []
            elif value is not None:
                step.append(value)
        found = step
    return found


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None
