"""Connections through the API: list, read, create, rename, rotate, test, explore and delete, by the same commands,
checks, roles and audit trail as the pages (app/web)."""

from __future__ import annotations

from flask import g

from .. import services
from ..adobe import AdobeError
from ..dataflows.draft import DELTA_KINDS, explored_column
from ..sources.secrecy import masked_params
from ..web import changing, creating, permissions
from ..web.connection_edit import RenameForm
from ..web.connections import STATES, listing, offered_sources, secrets_of, test_outcome, tested
from ..web.loaders import load_connection, sandbox_of, source_of, with_connection
from . import forms, once, schemas
from .problems import Problem, field_errors
from .spec import operation

TAG = "Connections"
IF_MATCH = ("If-Match", "The connection's ETag as last read: a change made meanwhile is not overwritten.", True)


def as_json(connection: dict, source, sandbox: str, creator: str | None = None) -> dict:
    """A connection as the API gives it: its params masked as its page shows them."""
    auth = connection.get("auth") or {}
    key = None
    if source is not None:
        key = source.key if source.key != "spec" else source.connection_spec_id
    return {
        "id": connection.get("id"),
        "name": connection.get("name"),
        "description": connection.get("description"),
        "sandbox": sandbox,
        "state": connection.get("state"),
        "etag": connection.get("etag"),
        "created_at": connection.get("createdAt") if isinstance(connection.get("createdAt"), int) else None,
        "source": {"key": key, "title": source.title, "connection_spec_id": source.connection_spec_id}
        if source
        else None,
        "auth_spec": auth.get("specName"),
        "params": dict(
            masked_params(auth.get("params") or {}, secrets_of(source), source.param_order() if source else ())
        ),
        "read_only": source is None,
        "created_by": creator,
    }


def _one(connection, source, sandbox, status: int = 200):
    creator = services.store().audit.creators([connection["id"]]).get(connection["id"])
    answer = schemas.Connection(**as_json(connection, source, sandbox, creator)).model_dump(mode="json")
    return answer, status, ({"ETag": connection["etag"]} if connection.get("etag") else {})


@operation(
    "GET",
    "/connections",
    summary="List connections",
    tag=TAG,
    query=schemas.ConnectionsQuery,
    answers={200: ("A page of connections, with the cursor of the next.", schemas.ConnectionPage)},
)
def list_connections(query: schemas.ConnectionsQuery):
    """The offered sources' connections in a sandbox, with the connections page's filters, a page (25) at a time."""
    sandbox = sandbox_of()
    offered = offered_sources()
    if query.source and query.source not in dict(offered):
        raise Problem(422, "Check the fields", errors=[{"field": "source", "message": "No source of that id."}])
    found = listing(
        sandbox,
        offered,
        name=(query.name or "").strip(),
        source=query.source or "",
        state=query.state if query.state in STATES else "",
        sort=query.sort,
        mine=query.mine and bool(g.get("user")),
        page=query.cursor,
    )
    creators = services.store().audit.creators(c.get("id") for c in found.items)
    items = [
        as_json(
            c,
            source_of((c.get("connectionSpec") or {}).get("id", ""), (c.get("auth") or {}).get("specName")),
            sandbox,
            creators.get(c.get("id")),
        )
        for c in found.items
    ]
    return schemas.ConnectionPage.model_validate(
        {"items": items, "next_cursor": found.next_page, "count": found.count}
    ).model_dump(mode="json")


@operation(
    "GET",
    "/connections/<connection_id>",
    summary="Read a connection",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={200: ("The connection; its ETag header is what If-Match takes.", schemas.Connection)},
)
def get_connection(connection_id: str, query: schemas.SandboxQuery):
    """One connection as Flow Service has it, its secrets masked."""
    return with_connection(_one)(connection_id)


@operation(
    "POST",
    "/connections",
    summary="Create a connection",
    tag=TAG,
    body=schemas.NewConnection,
    headers=(once.HEADER,),
    answers={
        201: ("Created (or, for a repeated Idempotency-Key, made by the first call).", schemas.Created),
        409: ("Connections of that name exist: send allow_duplicate_name to go ahead.", schemas.Namesakes),
        502: ("Adobe refused or could not answer; nothing was made.", schemas.ProblemDetails),
    },
)
def create_connection(body: schemas.NewConnection):
    """Create a base connection from the same fields as the source's form, checked the same way, exactly once per
    Idempotency-Key."""
    source = forms.find_source(body.source, body.auth)
    if body.sandbox in services.settings().sandboxes:
        permissions.require("create", body.sandbox)  # else the form says which sandboxes there are
    services.secrets().add_for_request(*source.typed_secrets(body.fields))
    form = forms.checked_form(
        source,
        body.fields,
        {"name": body.name, "description": body.description, "sandbox": body.sandbox},
        permissions.sandboxes_for("create"),
    )
    key = once.key("connection")
    fingerprint = once.fingerprint(body)
    if key is not None:
        earlier = services.store().submissions.intent(key)
        if earlier is not None and earlier.get("fingerprint") != fingerprint:
            raise once.reused()
    outcome = creating.create(
        source,
        form,
        key or creating.new_key(),
        check_namesakes=not body.allow_duplicate_name,
        fingerprint=fingerprint,
    )
    if outcome.kind == "earlier":
        earlier = services.store().submissions.intent(key) if key else None
        if earlier is not None and earlier.get("fingerprint") != fingerprint:
            raise once.reused()
    if outcome.kind == "namesakes":
        raise Problem(
            409,
            "A connection of that name exists",
            "Connections of that name exist in the sandbox. Send allow_duplicate_name: true to make another.",
            extra={
                "namesakes": [
                    {"id": c.get("id"), "name": c.get("name"), "created": c.get("createdAt")} for c in outcome.namesakes
                ]
            },
        )
    if outcome.error is not None:
        raise Problem(
            outcome.error.status,
            "Adobe did not create the connection",
            outcome.error.message,
            adobe_request_id=outcome.error.request_id,
        )
    connection_id = outcome.connection_id or ""
    made = None
    if outcome.kind != "earlier":
        # As sent, with the id and etag Adobe gave: no second wait on Adobe to read back what was just written.
        sent = {**source.request_body(form), "id": connection_id, "etag": outcome.etag}
        made = schemas.Connection(**as_json(sent, source, body.sandbox, g.get("user")))
    else:
        try:
            connection, found_source = load_connection(connection_id, body.sandbox)
            made = schemas.Connection(**as_json(connection, found_source, body.sandbox, g.get("user")))
        except Exception:  # noqa: BLE001 - made all the same: the answer names it, and a GET reads it
            made = None
    # Every creation is tested right after (a repeat of the key was tested by the call that made it).
    test = tested(body.sandbox, connection_id) if outcome.kind != "earlier" else None
    answer = schemas.Created(
        connection=made,
        id=connection_id,
        repeated=outcome.kind == "earlier",
        recorded_later=outcome.kind == "late",
        tested=None if outcome.kind == "earlier" else schemas.Tested.model_validate(test),
    )
    location = f"/api/v1/connections/{connection_id}?sandbox={body.sandbox}"
    return answer.model_dump(mode="json"), 201, {"Location": location}


def _sent(connection, source, sandbox, operations):
    outcome = changing.update(connection, source, sandbox, once.if_match("connection"), operations)
    if isinstance(outcome, AdobeError):
        if outcome.stale:
            raise Problem(
                412,
                "Changed meanwhile",
                "Someone changed this connection after you read it, so your change was not sent. Read it again, "
                "then send your change with the new ETag.",
                adobe_request_id=outcome.request_id,
            )
        raise Problem(
            outcome.status, "Adobe did not change the connection", outcome.message, adobe_request_id=outcome.request_id
        )
    connection, source = load_connection(connection["id"], sandbox)
    return _one(connection, source, sandbox)


@operation(
    "PATCH",
    "/connections/<connection_id>",
    summary="Rename a connection",
    tag=TAG,
    query=schemas.SandboxQuery,
    body=schemas.Rename,
    headers=(IF_MATCH,),
    answers={
        200: ("Renamed; the connection as it is now.", schemas.Connection),
        412: ("Changed meanwhile: nothing was sent.", schemas.ProblemDetails),
        428: ("No If-Match was sent.", schemas.ProblemDetails),
    },
)
def rename_connection(connection_id: str, query: schemas.SandboxQuery, body: schemas.Rename):
    """Change a connection's name and description (and nothing else), guarded by its ETag."""

    @with_connection(action="rename")
    def rename(connection, source, sandbox):
        form = RenameForm(formdata=forms.as_formdata(body.model_dump()), meta={"csrf": False})
        if not form.validate():
            raise Problem(422, "Check the fields", errors=field_errors({k: v for k, v in form.errors.items()}))
        operations = [
            {"op": "replace", "path": "/name", "value": form.name.data.strip()},
            {"op": "add", "path": "/description", "value": (form.description.data or "").strip()},
        ]
        return _sent(connection, source, sandbox, operations)

    return rename(connection_id)


@operation(
    "PUT",
    "/connections/<connection_id>/credentials",
    summary="Rotate a connection's credentials",
    tag=TAG,
    query=schemas.SandboxQuery,
    body=schemas.Rotate,
    headers=(IF_MATCH,),
    answers={
        200: ("New credentials sent; the connection as it is now.", schemas.Connection),
        412: ("Changed meanwhile: nothing was sent.", schemas.ProblemDetails),
        428: ("No If-Match was sent.", schemas.ProblemDetails),
    },
)
def rotate_credentials(connection_id: str, query: schemas.SandboxQuery, body: schemas.Rotate):
    """Send new credentials: the source's fields, secrets typed anew, the same kind of authentication."""

    @with_connection(action="rotate")
    def rotate(connection, source, sandbox):
        services.secrets().add_for_request(*source.typed_secrets(body.fields))
        kept = {"name": connection.get("name") or "", "description": connection.get("description") or ""}
        form = forms.checked_form(source, body.fields, {**kept, "sandbox": sandbox}, services.settings().sandboxes)
        new_auth = form.auth()
        if new_auth.spec_name != (connection.get("auth") or {}).get("specName"):
            raise Problem(
                422,
                "Check the fields",
                errors=[
                    {
                        "field": "fields.method",
                        "message": f"This connection uses {(connection.get('auth') or {}).get('specName')}; the kind "
                        "of authentication cannot change once a connection exists.",
                    }
                ],
            )
        answer, status, headers = _sent(
            connection, source, sandbox, [{"op": "replace", "path": "/auth/params", "value": new_auth.params}]
        )
        answer["tested"] = tested(sandbox, connection["id"])
        return answer, status, headers

    return rotate(connection_id)


@operation(
    "POST",
    "/connections/<connection_id>/test",
    summary="Test a connection",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={200: ("Whether Flow Service reached the database.", schemas.TestResult)},
)
def test_connection(connection_id: str, query: schemas.SandboxQuery):
    """Ask Flow Service to connect to the database with the stored credentials."""

    @with_connection(action="test", alongside=lambda cid, sandbox: services.connections().test_connection(sandbox, cid))
    def tested(connection, source, sandbox, result):
        outcome, message = test_outcome(result)
        return schemas.TestResult.model_validate(
            {"connection_id": connection["id"], "outcome": outcome, "message": message}
        ).model_dump()

    return tested(connection_id)


@operation(
    "GET",
    "/connections/<connection_id>/explore",
    summary="Explore a connection's tables, or a table's columns",
    tag=TAG,
    query=schemas.ExploreQuery,
    answers={200: ("The tables, or the columns of `table`.", schemas.Explored)},
)
def explore_connection(connection_id: str, query: schemas.ExploreQuery):
    """The database's tables as Flow Service sees them, or one table's columns with those a dataflow can read
    changes by."""

    def explored(cid, sandbox):
        return services.connections().explore(sandbox, cid, query.table or None)

    @with_connection(action="explore", alongside=explored)
    def answer(connection, source, sandbox, found):
        if isinstance(found, AdobeError):
            raise Problem(found.status, "Could not explore", found.message, adobe_request_id=found.request_id)
        if query.table:
            columns = [explored_column(c) for c in found]
            delta = [c["name"] for c in columns if c["kind"] in DELTA_KINDS]
            return schemas.Explored(
                connection_id=connection["id"], table=query.table, columns=columns, delta_columns=delta
            ).model_dump(mode="json")
        return schemas.Explored(connection_id=connection["id"], tables=found).model_dump(mode="json")

    return answer(connection_id)


@operation(
    "DELETE",
    "/connections/<connection_id>",
    summary="Delete a connection, with what is made from it",
    tag=TAG,
    query=schemas.SandboxQuery,
    answers={
        200: ("Deleted, with its dataflows and their source and target connections.", schemas.Deleted),
        502: ("Adobe refused a step: what is left stays; sending again goes on from there.", schemas.ProblemDetails),
    },
)
def delete_connection(connection_id: str, query: schemas.SandboxQuery):
    """Delete the connection's dataflows and their source and target connections, then the connection."""

    @with_connection(action="delete")
    def delete(connection, source, sandbox):
        try:
            dependents = services.dataflows().dependents(sandbox, connection["id"])
        except AdobeError as error:
            raise Problem(
                error.status, "Could not read what is made from it", error.message, adobe_request_id=error.request_id
            ) from None
        failed = changing.delete(connection, source, sandbox, dependents)
        if failed:
            raise Problem(
                failed.status, "Adobe did not delete it all", failed.message, adobe_request_id=failed.request_id
            )
        return schemas.Deleted(id=connection["id"]).model_dump()

    return delete(connection_id)
