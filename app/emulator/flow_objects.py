"""What every object Flow Service keeps shares: it is seen only in its own sandbox and organisation, made with the
same audit fields and etag, and listed, read and deleted alike.

Base connections (`connections.py`), source and target connections (`source_target.py`), flows (`flows.py`) and
runs (`runs.py`) are kept in the emulator's state by id. An object another uses cannot be deleted.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, g

from .errors import flow_error, json_response
from .gateway import new_etag, not_found
from .listing import listing
from .state import FLOW


def visible(state, item: dict) -> bool:
    return item["sandboxName"] == g.sandbox and item["imsOrgId"] == state.org_id


def stored(state, kept: dict, item_id: str):
    """The object `item_id` of `kept`, or None when there is none this request's sandbox can see."""
    with state._lock:
        item = kept.get(item_id)
    return item if item is not None and visible(state, item) else None


def created(state, kept: dict, path: str, item: dict) -> Response:
    """Keep a new dataflow object with its id, audit fields and etag; 201 {id, etag} as the spec answers."""
    now = int(state.now() * 1000)
    etag = new_etag()
    item = {
        "id": str(uuid.uuid4()),
        "createdAt": now,
        "updatedAt": now,
        # The spec: "In the case of service tokens, the value for createdBy is the same as createdClient."
        "createdBy": state.client_id,
        "updatedBy": state.client_id,
        "createdClient": state.client_id,
        "updatedClient": state.client_id,
        "sandboxId": str(uuid.uuid5(uuid.NAMESPACE_DNS, g.sandbox)),
        "sandboxName": g.sandbox,
        "imsOrgId": state.org_id,
        **item,
        "etag": etag,
        "version": etag,
    }
    with state._lock:
        kept[item["id"]] = item
    return json_response({"id": item["id"], "etag": etag}, 201, headers={"Location": f"{FLOW}{path}/{item['id']}"})


def add_readable(bp: Blueprint, state, path: str, kept: dict, used_as: str | None) -> None:
    """GET the list, GET one and DELETE one of the objects kept in `kept`, at `path`."""
    kind = path.strip("/")

    def list_all():
        with state._lock:
            items = [item for item in kept.values() if visible(state, item)]
        return listing(items, path)

    def get_one(item_id):
        item = stored(state, kept, item_id)
        return json_response({"items": [item]}) if item else not_found()

    def delete_one(item_id):
        return _delete(state, kept, stored(state, kept, item_id), used_as)

    bp.add_url_rule(path, f"list_{kind}", list_all, methods=["GET"])
    bp.add_url_rule(f"{path}/<item_id>", f"get_{kind}", get_one, methods=["GET"])
    bp.add_url_rule(f"{path}/<item_id>", f"delete_{kind}", delete_one, methods=["DELETE"])


def _delete(state, kept: dict, item, used_as: str | None) -> Response:
    """Delete an object; a source or target connection (`used_as` names the flows' field) only when no flow uses
    it: 1447-400, "Found active flows containing id …" (catalogue). Our choice: a disabled flow counts too."""
    if item is None:
        return not_found()
    with state._lock:
        if any(used_as and item["id"] in flow.get(used_as, []) for flow in state.flows.values()):
            return flow_error("1447-400", f"Found active flows containing id {item['id']}.")
        kept.pop(item["id"], None)
    return Response(status=204)


def named(body: dict, name_required: bool = True) -> list[str]:
    """What is wrong with a new object's name and description."""
    problems = []
    if (name_required or "name" in body) and (not isinstance(body.get("name"), str) or not body["name"].strip()):
        problems.append("name is required" if name_required else "name must be a non-empty string")
    if "description" in body and not isinstance(body["description"], str):
        problems.append("description must be a string")
    return problems


def described(body: dict) -> dict:
    """The description to keep: none when none was sent, as a GET of such an object shows none."""
    return {"description": body["description"]} if "description" in body else {}
