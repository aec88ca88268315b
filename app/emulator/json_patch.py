"""JSON Patch (RFC 6902) as Flow Service takes it on a connection or a flow: `If-Match` with the etag, a non-empty
array of `add`, `replace` and `remove` on the paths the object allows, and the catalogue's refusals."""

from __future__ import annotations

import copy
import re

from flask import Response, request

from .errors import flow_error


def patch_operations():
    """(the JSON Patch operations, None) of this PATCH, or (None, the refusal): If-Match, a body, an array."""
    if not request.headers.get("If-Match"):
        return None, flow_error(
            "1403-400", "The header 'If-Match' is missing in the request. Please provide the header and try again."
        )
    if not request.get_data():
        return None, flow_error(
            "1405-400", "The request body cannot be null or empty. Please provide a request body and try again."
        )
    operations = request.get_json(silent=True)
    if not isinstance(operations, list) or not operations:
        return None, patch_refused("the body must be a non-empty JSON Patch array")
    return operations, None


def stale(item: dict) -> Response | None:
    """1404-412 when this request's If-Match is not the item's etag."""
    if_match = request.headers.get("If-Match")
    if if_match == item["etag"]:
        return None
    return flow_error(
        "1404-412",
        f"The supplied version '{if_match}' does not match the current version on entity "
        f"'{item['etag']}'. Please ensure that the supplied version matches the current "
        "version on entity and try again.",
    )


def patch_refused(problem: str) -> Response:
    return flow_error("1455-400", f"An error has occurred while validating patch instructions: {problem}.")


def apply_patch(
    document: dict, operations: list, patchable: re.Pattern, allowed: str, fixed: tuple[str, str, str] | None = None
) -> Response | None:
    """Apply JSON Patch operations to `document` in place, in order, on the paths `patchable` matches; the refusal,
    or None. As RFC 6902 says, `replace` and `remove` need the member to exist and `add` needs its parent; `fixed` is
    (a path prefix, its code, its message) for a path Flow Service names a code of its own for."""
    for operation in operations:
        if not isinstance(operation, dict):
            return patch_refused("each operation must be an object")
        if operation.get("op") not in ("add", "replace", "remove"):
            return flow_error(
                "1434-400",
                f"Unsupported operation '{operation.get('op')}' received. Please use one "
                "of the supported operation types and try again.",
            )
        path = operation.get("path")
        if fixed and isinstance(path, str) and path.startswith(fixed[0]):
            return flow_error(fixed[1], fixed[2])
        if not isinstance(path, str) or not patchable.match(path):
            return patch_refused(f"path {path!r} cannot be changed; use {allowed}")
        if operation["op"] != "remove" and "value" not in operation:
            return patch_refused(f'Missing field "value" for {path}')
        problem = _pointer_apply(document, operation["op"], path, operation.get("value"))
        if problem:
            return patch_refused(problem)
    return None


_ABSENT = object()


def _pointer_apply(document: dict, op: str, path: str, value) -> str | None:
    """One operation at a JSON Pointer (RFC 6901), or why it cannot be applied."""
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]
    parent = document
    for token in tokens[:-1]:
        parent = _child(parent, token)
        if parent is _ABSENT:
            return f'Missing field "{token}"'
    last = tokens[-1]
    if isinstance(parent, dict):
        if op != "add" and last not in parent:
            return f'Missing field "{last}"'
        if op == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(value)
        return None
    if isinstance(parent, list):
        if op == "add" and last == "-":
            parent.append(copy.deepcopy(value))
            return None
        index = int(last) if re.fullmatch(r"0|[1-9][0-9]*", last) else None
        if index is None or index > len(parent) or (op != "add" and index == len(parent)):
            return f'Missing field "{last}"'
        if op == "add":
            parent.insert(index, copy.deepcopy(value))
        elif op == "replace":
            parent[index] = copy.deepcopy(value)
        else:
            del parent[index]
        return None
    return f'Missing field "{last}"'


def _child(node, token: str):
    if isinstance(node, dict):
        return node.get(token, _ABSENT)
    if isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < len(node):
        return node[int(token)]
    return _ABSENT


def named_problem(item: dict) -> str | None:
    """Why a patched item's name or description cannot stand, or None."""
    if not isinstance(item.get("name"), str) or not item["name"].strip():
        return "name must be a non-empty string"
    if "description" in item and not isinstance(item["description"], str):
        return "description must be a string"
    return None
