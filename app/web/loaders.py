"""What views load from their URL, shared by every blueprint: the sandbox (once the person may act there), a
connection with its source, a dataflow, a dataflow draft. A loader that cannot give what was asked raises: `abort(404)`
for what does not exist (or is another person's), `AdobeFailed` when Adobe could not answer, `ReadOnlyHere` for what
the portal does not act on; app/web/errors.py turns each into its page."""

from __future__ import annotations

import functools
import logging
import re

from flask import abort, g, request

from .. import services
from ..adobe import AdobeError
from ..dataflows.draft import DRAFT_KEY, Draft
from ..sources import source_for_spec
from ..sources.generic import source_for
from ..together import side_by_side
from . import permissions

log = logging.getLogger(__name__)

# What an id of Flow Service looks like in a URL.
OBJECT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
CONNECTION_READ_ONLY = (
    "This portal changes only connections of the sources it offers. This one belongs to another "
    "source, so it can be looked at here but not renamed, re-keyed, deleted or made into a "
    "dataflow; use Experience Platform for that."
)


class AdobeFailed(Exception):
    """Adobe could not give what the page is about: the page says what was being read, and Adobe's words."""

    def __init__(self, title: str, error: AdobeError):
        super().__init__(title)
        self.title, self.error = title, error


class ReadOnlyHere(Exception):
    """The portal shows this but does not act on it (another kind of source, a destination's dataflow)."""

    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title, self.message = title, message


def sandbox_of(action: str = "view") -> str:
    """The sandbox the URL names (or the first the person may view), once the person may do `action` there."""
    settings = services.settings()
    viewable = permissions.sandboxes_for("view")
    sandbox = (request.args.get("sandbox") or (viewable[0] if viewable else settings.default_sandbox)).lower()
    if sandbox not in settings.sandboxes:
        abort(404)
    permissions.require(action, sandbox)
    return sandbox


def source_of(spec_id: str, spec_name: str | None):
    """The curated source of a connection spec, or the one built from the spec Flow Service publishes; None for a
    source the portal does not offer."""
    return source_for_spec(spec_id) or source_for(services.spec_catalog().spec(spec_id), spec_name or "")


def load_connection(connection_id: str, sandbox: str):
    """The connection and its source (None when the portal does not offer it)."""
    if not OBJECT_ID.match(connection_id):
        abort(404)
    try:
        connection = services.connections().get_connection(sandbox, connection_id)
    except AdobeError as error:
        raise AdobeFailed("Could not read the connection", error) from None
    spec_id = (connection.get("connectionSpec") or {}).get("id", "")
    return connection, source_of(spec_id, (connection.get("auth") or {}).get("specName"))


def with_connection(view=None, *, action="view", alongside=None):
    """Give a view the connection its URL names, read from Flow Service, with its source and sandbox.

    The person must hold the role `action` needs in that sandbox. An action that changes the connection or makes
    something from it (rename, rotate, delete, a dataflow) gets that far only for a connection of a source this
    portal offers (the curated four and the database specs). Others, such as an Amazon S3 connection made elsewhere
    with the same technical account, are read-only here, and nothing is ever sent for them.

    `alongside(connection_id, sandbox)`, for a page that reads more than the connection: reads that need only the id,
    sent side by side with the connection's (one wait on Adobe rather than two); the view gets its result, or the
    AdobeError it raised, as a fourth argument. Only for reading: it is sent before the connection's source is known.
    """
    if view is None:
        return functools.partial(with_connection, action=action, alongside=alongside)
    changes = action in ("rename", "rotate", "delete", "dataflow")
    assert not (changes and alongside), "alongside reads only: a change waits for the connection's source"

    @functools.wraps(view)
    def wrapper(connection_id):
        sandbox = sandbox_of(action)
        if alongside is None:
            connection, source = load_connection(connection_id, sandbox)
            read: tuple = ()
        else:
            if not OBJECT_ID.match(connection_id):
                abort(404)
            loaded, beside = side_by_side(
                [lambda: load_connection(connection_id, sandbox), lambda: alongside(connection_id, sandbox)]
            )
            for outcome in (loaded, beside):
                if isinstance(outcome, Exception) and (outcome is loaded or not isinstance(outcome, AdobeError)):
                    raise outcome
            (connection, source), read = loaded, (beside,)
        if changes and source is None:
            log.warning("refused to change connection %s of a source the portal does not offer", connection_id)
            raise ReadOnlyHere("This connection is read-only here", CONNECTION_READ_ONLY)
        return view(connection, source, sandbox, *read)

    return wrapper


def load_flow(flow_id: str, sandbox: str) -> dict:
    """The dataflow (GET /flows/{id}); 404 when Flow Service has none of that id in the sandbox."""
    if not OBJECT_ID.match(flow_id):
        abort(404)
    try:
        return services.dataflows().flow(sandbox, flow_id)
    except AdobeError as error:
        if error.not_found:
            abort(404)
        raise AdobeFailed("Could not read the dataflow", error) from None


def load_draft(key: str) -> Draft:
    """The person's own draft, or 404: another person's draft does not exist for them."""
    permissions.require("dataflow")  # in some sandbox: a viewer learns nothing of which drafts exist
    if not DRAFT_KEY.match(key):
        abort(404)
    draft = Draft.of(services.store().drafts.draft(key))
    if draft is None or draft.owner != g.get("user"):
        abort(404)
    permissions.require("dataflow", draft.sandbox)
    return draft
