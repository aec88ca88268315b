"""Connections after the first day: list, inspect, test, explore, delete. Renaming and rotating credentials are in
connection_edit.py."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from .. import services
from ..adobe import AdobeError
from ..dataflows.draft import DELTA_KINDS, explored_column
from ..sources import SOURCES
from ..sources.described import label_of
from ..sources.secrecy import SECRET_PARAMS, masked_params
from ..together import side_by_side
from ..watch import health
from . import changing, permissions
from .loaders import sandbox_of, source_of, with_connection

bp = Blueprint("connections", __name__)
log = logging.getLogger(__name__)

SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PAGE_SIZE = 25


class DeleteForm(FlaskForm):
    confirm_name = StringField(
        "Type the connection's name to confirm",
        validators=[InputRequired("Type the connection's name to confirm.")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def __init__(self, *args, expected_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_name = expected_name
        self.confirm_name.description = f"To delete it, type {expected_name} exactly."

    def validate_confirm_name(self, field):
        if field.data != self.expected_name:
            raise ValidationError("That is not the connection's name; type it exactly, or go back.")


def _client():
    return services.connections()


def _dependents(connection_id: str, sandbox: str):
    """(the connection's source connections and dataflows, or None; the AdobeError when they could not be read)."""
    try:
        return services.dataflows().dependents(sandbox, connection_id), None
    except AdobeError as error:
        log.warning("reading the dataflows of %s failed: %s", connection_id, error.code or error.message[:120])
        return None, error


def secrets_of(source):
    return source.secret_params if source else SECRET_PARAMS


def shown_params(connection, source) -> list[tuple[str, str]]:
    """The connection's auth params fit to show, in its source's order."""
    return masked_params(
        (connection.get("auth") or {}).get("params") or {}, secrets_of(source), source.param_order() if source else ()
    )


SORTS = {
    "newest": ("-createdAt", "Newest first"),
    "oldest": ("+createdAt", "Oldest first"),
    "name": ("+name", "Name, A to Z"),
    "name-desc": ("-name", "Name, Z to A"),
}
STATES = ("enabled", "disabled")  # a base connection's states, as Flow Service's spec gives them
TOKEN = re.compile(r"^[A-Za-z0-9._~=+/-]{1,512}$")
MAX_BACK = 20  # pages of "previous" remembered in the URL


@bp.get("/connections")
def index():
    """List the supported sources' connections in a sandbox, filtered and sorted, a page at a time.

    Its floor is one wait on Adobe: a page of the listing and its count side by side (a name search, or "created by
    me", is one read); the database specs that name the sources are kept (app/adobe/spec_catalog.py)."""
    sandbox = sandbox_of()
    args = request.args
    name = (args.get("name") or "").strip()[:256]
    page = args.get("page") or None
    # The tokens of the pages before this one, oldest first: "Previous" goes back without asking Flow Service.
    back = [t for t in (args.get("back") or "").split(",") if t][-MAX_BACK:]
    if any(not TOKEN.match(t) for t in [*back, *([page] if page else [])]) or (back and not page):
        abort(404)
    sort = args.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    state = args.get("state") if args.get("state") in STATES else ""
    offered = offered_sources()
    source = args.get("source") if args.get("source") in dict(offered) else ""
    mine = args.get("mine") == "1" and bool(g.get("user"))
    store = services.store()
    try:
        found = listing(
            sandbox, offered, name=name, source=source or "", state=state or "", sort=sort, mine=mine, page=page
        )
    except AdobeError as error:
        return render_template(
            "error.html", title="Could not list connections", message=error.message, adobe_request_id=error.request_id
        ), error.status
    items, next_page, count, search = found.items, found.next_page, found.count, found.search
    rows = [
        (item, source_of((item.get("connectionSpec") or {}).get("id", ""), (item.get("auth") or {}).get("specName")))
        for item in items
    ]
    kept: dict[str, Any] = {
        "sandbox": sandbox,
        "name": name or None,
        "source": source or None,
        "state": state or None,
        "sort": sort if sort != "newest" else None,
        "mine": 1 if mine else None,
    }
    pages = {
        "first": url_for("connections.index", **kept) if back else None,
        "previous": (
            url_for("connections.index", **kept, page=back[-1], back=",".join(back[:-1]) or None)
            if back
            else (url_for("connections.index", **kept) if page else None)
        ),
        "next": url_for(
            "connections.index", **kept, page=next_page, back=",".join([*back, page][-MAX_BACK:]) if page else None
        )
        if next_page
        else None,
    }
    return render_template(
        "connections.html",
        rows=rows,
        sandbox=sandbox,
        name=name,
        page=page,
        mine=mine,
        creators=store.audit.creators(item.get("id") for item in items),
        pages=pages,
        count=count,
        first_row=(len(back) + (1 if page else 0)) * PAGE_SIZE + 1 if not name else None,
        search=search,
        sandboxes=permissions.sandboxes_for("view"),
        offered=offered,
        source=source,
        state=state,
        states=STATES,
        sort=sort,
        sorts=SORTS,
    )


def offered_sources() -> list[tuple[str, str]]:
    """(connection spec id, title) of every source the portal offers: the curated four, then every other database
    source the wizard can make forms for."""
    specs, _problem = services.spec_catalog().database_specs()
    return [(s.connection_spec_id, s.title) for s in SOURCES.values()] + [
        (spec["id"], label_of(spec)) for spec in specs
    ]


@dataclasses.dataclass
class Found:
    items: list[dict]
    next_page: str | None
    count: int | None
    search: Any = None


def listing(sandbox: str, offered, *, name: str, source: str, state: str, sort: str, mine: bool, page: str | None):
    """A page of the offered sources' connections in a sandbox, filtered and sorted (raises AdobeError): what this
    person created (by id, a documented filter), a name search (Flow Service counts none), or a page of the listing
    and its count, asked side by side (one wait on Adobe)."""
    spec_ids = [source] if source else [spec_id for spec_id, _title in offered]
    orderby = SORTS[sort][0]
    if mine:
        items = _client().connections_by_id(sandbox, services.store().audit.created_by(g.user))
        items = [
            c
            for c in items
            if name.casefold() in str(c.get("name") or "").casefold()
            and (not source or (c.get("connectionSpec") or {}).get("id") == source)
            and (not state or c.get("state") == state)
        ]
        return Found(_sorted(items, sort), None, len(items))
    if name:
        search = _client().search_connections(
            sandbox, spec_ids, name, want=PAGE_SIZE, continuation=page, state=state or None, orderby=orderby
        )
        return Found(search.items, search.next_token, None, search)
    listed, counted = side_by_side(
        [
            lambda: _client().list_connections(
                sandbox, spec_ids, limit=PAGE_SIZE, continuation=page, state=state or None, orderby=orderby
            ),
            lambda: _client().count_connections(sandbox, spec_ids, state=state or None),
        ]
    )
    for outcome in (listed, counted):
        if isinstance(outcome, Exception):
            raise outcome
    return Found(listed[0], listed[1], counted)


def _sorted(items: list[dict], sort: str) -> list[dict]:
    """`items` in the order a sort names, as Flow Service would give it (names without regard to case)."""
    if sort.startswith("name"):
        return sorted(items, key=lambda c: str(c.get("name") or "").casefold(), reverse=sort == "name-desc")
    created = [c for c in items if isinstance(c.get("createdAt"), (int, float))]
    undated = [c for c in items if c not in created]
    return sorted(created, key=lambda c: c["createdAt"], reverse=sort == "newest") + undated


def _created_here(connection_id: str) -> str | None:
    """The curl of the creation this page follows (?created=<submission key>), from the store; else None."""
    key = request.args.get("created") or ""
    if not SUBMISSION_KEY.match(key):
        return None
    finished = services.store().submissions.finished(key)
    if not finished or f"/connections/{connection_id}?" not in (finished["result_url"] or ""):
        return None
    return finished["curl"] or ""


def _reads(connection_id: str, sandbox: str, test: bool = False) -> dict:
    """What a connection's page reads beside the connection, side by side: what is made from it, and its test (asked
    for, or on the page that follows creating it, which has nothing made from it yet). Each a result, or the
    AdobeError that stopped it."""
    created = _created_here(connection_id) is not None
    calls = {}
    if test or created:
        calls["test"] = lambda: _client().test_connection(sandbox, connection_id)
    if not created:
        calls["dependents"] = lambda: services.dataflows().dependents(sandbox, connection_id)
    found = dict(zip(calls, side_by_side(calls.values()), strict=True))
    for outcome in found.values():
        if isinstance(outcome, Exception) and not isinstance(outcome, AdobeError):
            raise outcome
    return found


@bp.get("/connections/<connection_id>")
@with_connection(alongside=_reads)
def show(connection, source, sandbox, reads):
    """Show a connection as Flow Service has it: details, masked auth params, what is made from it, and what can be
    done with it. Right after it was made, its test: whether Flow Service reaches the database.

    Its floor is two waits on Adobe: the connection and its source connections side by side, then the dataflows that
    read those (a filter on their ids). The page that follows creating waits once: the connection and its test."""
    return _detail(connection, source, sandbox, reads)


def test_outcome(tested) -> tuple[str, str]:
    """(ok | failed | error, what it means, in one message) for a test's answer, or the AdobeError it raised."""
    if isinstance(tested, AdobeError):
        return "error", f"The test could not be run just now: {tested.message}"
    if tested:
        return "ok", "Flow Service reached the database with these details."
    return "failed", (
        "Flow Service could not reach the database with these details. Check the server's address and port, that "
        "the database lets Experience Platform in (its firewall or allow-list), and the user name and password."
    )


def tested(sandbox: str, connection_id: str) -> dict[str, str]:
    """Test a connection whose credentials were just sent: {outcome, message}, as test_outcome says them."""
    try:
        result: bool | AdobeError = _client().test_connection(sandbox, connection_id)
    except AdobeError as error:
        result = error
    outcome, message = test_outcome(result)
    log.info("tested connection %s after its credentials were sent: %s", connection_id, outcome)
    return {"outcome": outcome, "message": message}


def _detail(connection, source, sandbox, reads, status=200):
    """The connection's page, from what was read beside it (`_reads`)."""
    spec_id = (connection.get("connectionSpec") or {}).get("id", "")
    # The redirect that follows creating names its submission: every worker finds its curl in the store.
    curl = _created_here(connection["id"]) if "dependents" not in reads else None
    dependents = reads.get("dependents")
    dependents_error = dependents if isinstance(dependents, AdobeError) else None
    if dependents_error:
        log.warning(
            "reading the dataflows of %s failed: %s",
            connection["id"],
            dependents_error.code or dependents_error.message[:120],
        )
        dependents = None
    outcome = test_outcome(reads["test"]) if "test" in reads else None
    if outcome:
        log.info("tested connection %s: %s", connection["id"], outcome[0])
    return render_template(
        "connection.html",
        connection=connection,
        sandbox=sandbox,
        source=source,
        spec_id=spec_id,
        params=shown_params(connection, source),
        dependents=dependents,
        dependents_error=dependents_error,
        curl=curl,
        just_created=curl is not None,
        test_outcome=outcome,
        creator=services.store().audit.creators([connection["id"]]).get(connection["id"]),
        credentials=services.store().links.credentials_of([connection["id"]]).get(connection["id"]),
        # From the runs the watcher kept, never from Adobe.
        suspect_flows=health.suspect_flows(dependents.flows if dependents else [], services.store().watch.runs_of),
    ), status


@bp.get("/connections/<connection_id>/test")
@with_connection(alongside=functools.partial(_reads, test=True))
def test(connection, source, sandbox, reads):
    """Ask Flow Service to connect to the database with the stored credentials, and say how it went.

    Its floor is two waits on Adobe, as the connection's page: the test beside the connection and its source
    connections, then their dataflows."""
    return _detail(connection, source, sandbox, reads)


def _explored(connection_id: str, sandbox: str):
    """The tables, or the columns of the table the URL names."""
    return _client().explore(sandbox, connection_id, request.args.get("table") or None)


@bp.get("/connections/<connection_id>/explore")
@with_connection(alongside=_explored)
def explore(connection, source, sandbox, explored):
    """The database's tables as Flow Service sees them, or one table's columns.

    Its floor is one wait on Adobe: the connection and what is explored, side by side."""
    table = request.args.get("table") or None
    tables, columns = (None, explored) if table else (explored, None)
    if isinstance(explored, AdobeError):
        error = explored
        return render_template(
            "explore.html", connection=connection, sandbox=sandbox, source=source, table=table, error=error
        ), error.status
    return render_template(
        "explore.html",
        connection=connection,
        sandbox=sandbox,
        source=source,
        table=table,
        tables=tables,
        columns=columns,
        # A dataflow reads new and changed rows by a timestamp or date column (its delta column): a table without
        # one cannot feed a dataflow, and the page says so before any step rather than at the schedule.
        delta_columns=[c["name"] for c in map(explored_column, columns or []) if c["kind"] in DELTA_KINDS],
    )


@bp.route("/connections/<connection_id>/delete", methods=["GET", "POST"])
@with_connection(action="delete")
def delete(connection, source, sandbox):
    """Delete a connection once the person has typed its name; with its dataflows first, when it has any."""
    form = DeleteForm(expected_name=connection.get("name", ""))
    store = services.store()
    dependents, dependents_error = _dependents(connection["id"], sandbox)
    page = dict(
        form=form,
        connection=connection,
        sandbox=sandbox,
        source=source,
        dependents=dependents,
        dependents_error=dependents_error,
        leftover=store.cleanups.remembered_targets(connection["id"], sandbox),
    )
    if request.method == "GET" or not form.validate():
        return render_template("delete.html", **page), 200 if request.method == "GET" else 400
    failed = changing.delete(connection, source, sandbox, dependents)
    if failed:
        # Stopped midway: what is left is read again, and sending the form again goes on from there.
        page["dependents"], page["dependents_error"] = _dependents(connection["id"], sandbox)
        page["leftover"] = store.cleanups.remembered_targets(connection["id"], sandbox)
        return render_template("delete.html", **page, adobe_error=failed), failed.status
    flash(f"Deleted: {connection.get('name')}.")
    return redirect(url_for("connections.index", sandbox=sandbox), code=303)
