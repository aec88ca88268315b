"""What the API describes rather than changes: the sources and their fields (as JSON Schema, from the same forms the
pages show), and the audit trail."""

from __future__ import annotations

from .. import services
from ..store import iso_utc
from ..web import permissions
from ..web.audit import ACTIONS, visible
from . import forms, schemas
from .spec import operation

AUDIT_PAGE = 100


@operation(
    "GET",
    "/sources",
    summary="List the sources",
    tag="Sources",
    answers={
        200: ("The curated sources, then every other database source Flow Service publishes.", schemas.SourceList)
    },
)
def list_sources():
    """Every source a connection can be created of."""
    return schemas.SourceList.model_validate({"items": forms.offered()}).model_dump(mode="json")


@operation(
    "GET",
    "/sources/<key>",
    summary="A source's fields",
    tag="Sources",
    query=schemas.SourceQuery,
    answers={200: ("The source, with the JSON Schema of a new connection's `fields`.", schemas.SourceFields)},
)
def get_source(key: str, query: schemas.SourceQuery):
    """A source and its fields as JSON Schema: what POST /api/v1/connections takes in `fields` for it (with `auth`,
    for the kind of authentication `auth` names)."""
    source = forms.find_source(key, query.auth)
    summary = next((s for s in forms.offered() if s["key"] == key), None) or {
        "key": key,
        "title": source.title,
        "connection_spec_id": source.connection_spec_id,
    }
    return schemas.SourceFields(**summary, fields=forms.fields_schema(source)).model_dump(mode="json")


@operation(
    "GET",
    "/audit",
    summary="Read the audit trail",
    tag="Audit",
    query=schemas.AuditQuery,
    answers={200: ("The latest actions, newest first, 100 a page.", schemas.AuditPage)},
)
def audit_trail(query: schemas.AuditQuery):
    """Who did what, newest first, a page at a time, in the sandboxes the token may read the trail of."""
    permissions.require("audit")
    filters = query.model_dump(exclude={"cursor"})
    if filters["action"] not in ACTIONS:
        filters["action"] = None
    before = int(query.cursor) if query.cursor else None
    entries = services.store().audit.audit_entries(**filters, **visible(), limit=AUDIT_PAGE, before_id=before)
    items = [{**{k: e.get(k) for k in schemas.AuditEntry.model_fields}, "at": iso_utc(e.get("at"))} for e in entries]
    following = str(entries[-1]["id"]) if len(entries) == AUDIT_PAGE else None
    return schemas.AuditPage.model_validate({"items": items, "next_cursor": following}).model_dump(mode="json")
