"""Creating a dataflow from a connection's table, page by page: choose a dataset, map the columns, set the schedule;
the person's drafts, to go on with or discard. The review and the chain that creates are in dataflow_review.py.

What the person chose is kept in the store under the draft's key, never in a worker, so any worker or replica shows
the next step; only the person who started a draft can see it. The forms, the mapping rules and the chain made exactly
once under that key are in app/dataflows/; these are the views.
"""

from __future__ import annotations

import functools
import logging
import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .. import services
from ..adobe import AdobeError
from ..adobe.catalog import PAGE, name_pattern
from ..dataflows import mapping as rules
from ..dataflows.chain import Stopped
from ..dataflows.draft import Draft
from ..dataflows.forms import (
    ChainForm,
    DatasetForm,
    ScheduleForm,
    StartForm,
    mapping_form_class,
    schedule_defaults,
    timezones,
)
from ..sources.fields import add_error, choices
from ..store import MOST_OPEN_DRAFTS
from . import audit, permissions
from . import dataflow_making as making
from .dataflow_review import reread, review_page, step_page
from .loaders import AdobeFailed, load_draft, with_connection

bp = Blueprint("new_dataflow", __name__)
log = logging.getLogger(__name__)

NOT_SAVED = (
    "This draft's dataflow began to be made (in another tab or window?), so your change was not saved: what "
    "is being made can no longer change. See how it went below."
)
SCHEMA_GUIDE = "https://experienceleague.adobe.com/en/docs/experience-platform/xdm/tutorials/create-schema-ui"
DATASET_GUIDE = "https://experienceleague.adobe.com/en/docs/experience-platform/catalog/datasets/user-guide"


# Starting a draft, from a table of the connection.


@bp.post("/connections/<connection_id>/dataflows/new")
@with_connection(action="dataflow")
def start(connection, source, sandbox):
    """Read the table's columns and open a draft; the first step is choosing the dataset."""
    form = StartForm()
    if not form.validate():
        return render_template(
            "error.html", title="The form expired", message="Open the table again and press the button once more."
        ), 400
    table = form.table.data
    try:
        kept = making.table_columns(sandbox, connection["id"], table)
    except AdobeError as error:
        raise AdobeFailed("Could not read the table's columns", error) from None
    except making.Unfit as unfit:
        return render_template("error.html", title="The table has no columns", message=str(unfit)), 409
    key = secrets.token_urlsafe(24)
    store = services.store()
    if not store.drafts.new_draft(
        key, g.get("user"), sandbox, connection["id"], making.first_plan(connection, table, kept)
    ):
        log.warning("dataflow draft refused: %d open drafts already", MOST_OPEN_DRAFTS)
        return _drafts_page(409, full=True)
    audit.record(
        "start-dataflow",
        "ok",
        sandbox=sandbox,
        connection_name=connection.get("name"),
        connection_id=connection["id"],
        source="dataflow draft",
        detail=f"draft {key[:8]} of table {table}",
    )
    log.info("dataflow draft started for %s of connection %s", table, connection["id"])
    return redirect(url_for(".dataset", key=key))


@bp.get("/dataflows/drafts")
def drafts():
    """The person's dataflows being made: drafts to go on with or discard, and chains stopped halfway."""
    permissions.require("dataflow")
    return _drafts_page()


def _drafts_page(status: int = 200, full: bool = False):
    return render_template(
        "dataflow_drafts.html",
        drafts=services.store().drafts.open_drafts(g.get("user")),
        form=ChainForm(),
        most=MOST_OPEN_DRAFTS,
        full=full,
    ), status


@bp.post("/dataflows/new/<key>/discard")
def discard(key):
    """Forget a draft nothing was made from yet (one whose chain began is finished or removed on its review page)."""
    draft = load_draft(key)
    if not ChainForm().validate():
        abort(400)
    if not services.store().drafts.discard_draft(key, draft.owner):
        return review_page(
            draft,
            409,
            stop=Stopped(
                "This draft can no longer be discarded: its dataflow is being "
                "made, or was. Finish it, or remove what was made, here."
            ),
        )
    audit.record(
        "discard-dataflow",
        "ok",
        sandbox=draft.sandbox,
        connection_id=draft.connection_id,
        connection_name=draft.plan.get("connection_name"),
        source="dataflow draft",
        detail=f"draft {key[:8]} of table {draft.plan.get('table')}",
    )
    flash("Draft discarded.")
    return redirect(url_for(".drafts"), code=303)


def editable_step(step: str):
    """Give a step's view the person's draft while it can change; once its chain was begun, send them to the
    review (or to the dataflow made), and to the step before when that one is not done yet."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(key):
            draft = load_draft(key)
            if not draft.open and request.method == "POST":
                return review_page(draft, 409, stop=Stopped(NOT_SAVED))
            if draft.created:
                return redirect(url_for("dataflows.show", flow_id=draft.flow_id, sandbox=draft.sandbox))
            if not draft.open:
                return redirect(url_for("dataflow_review.review", key=key))
            if not draft.reached(step):
                return redirect(url_for(f".{draft.missing}", key=key))
            return view(draft)

        return wrapper

    return decorate


def _saved(draft: Draft, plan: dict):
    """Save a step's choice: None when saved, else the review page saying why not (409): its dataflow began to be
    made meanwhile (in another tab, say), and what is being made can no longer change."""
    if services.store().drafts.save_plan(draft.key, plan):
        return None
    return review_page(reread(draft.key), 409, stop=Stopped(NOT_SAVED))


# Step 1: the dataset.


@bp.route("/dataflows/new/<key>/dataset", methods=["GET", "POST"])
@editable_step("dataset")
def dataset(draft):
    """The sandbox's datasets, a page at a time, with a search; the one chosen is read with its schema.

    Its floor is one wait on Adobe: a page of Catalog's datasets (the draft keeps its connection and columns)."""
    key = draft.key
    form = DatasetForm(
        data={"dataset": (draft.plan.get("dataset") or {}).get("id")} if request.method == "GET" else None
    )
    search = (request.args.get("q") or "").strip()[:64]
    try:
        start = max(0, min(int(request.args.get("start", "0")), 100000))
    except ValueError:
        start = 0
    adobe_error = None
    if request.method == "POST" and form.validate():
        try:
            plan = making.with_dataset(draft.plan, draft.sandbox, form.dataset.data)
        except making.Unfit as unfit:
            add_error(form.dataset, str(unfit))
        except AdobeError as error:
            adobe_error = error
        else:
            return _saved(draft, plan) or redirect(url_for(".mapping", key=key))
    page, problem = None, None
    if search and name_pattern(search) is None:
        problem = "Search with letters, digits, spaces, _ and - only."
    else:
        try:
            page = services.catalog().page(draft.sandbox, search, start)
        except AdobeError as error:
            problem = error.message
    preview = None
    shown = request.args.get("schema")
    if page and shown:
        picked = next((d for d in page.items if d["id"] == shown), None)
        if picked:
            try:
                preview = (
                    picked["id"],
                    services.schema_registry().schema(draft.sandbox, (picked.get("schemaRef") or {}).get("id", "")),
                )
            except AdobeError as error:
                problem = error.message
    status = 400 if form.errors else (adobe_error.status if adobe_error else 200)
    return step_page(
        "dataflow_dataset.html",
        draft,
        "dataset",
        status,
        form=form,
        page=page,
        search=search,
        problem=problem,
        preview=preview,
        adobe_error=adobe_error,
        schema_guide=SCHEMA_GUIDE,
        dataset_guide=DATASET_GUIDE,
        page_size=PAGE,
    )


# Step 2: the mapping.


@bp.route("/dataflows/new/<key>/mapping", methods=["GET", "POST"])
@editable_step("mapping")
def mapping(draft):
    """Each column to an XDM field (suggested by name and type) or skipped, constants, then Data Prep's verdict.

    Its floor is no wait on Adobe to show it: the draft keeps the columns and the chosen dataset's schema, read once
    for it. Sending it waits once, on Data Prep's verdict."""
    key = draft.key
    plan = draft.plan
    # What the page shows first; a sent form is read as sent (a field left out is empty, never a default).
    form = mapping_form_class(draft)(data=rules.defaults(draft) if request.method == "GET" else None)
    adobe_error: AdobeError | None = None
    verdicts: dict = {}
    # Constant rows as many as hold something, or as the page showed; "Add a constant" shows one more and checks
    # nothing yet.
    filled = [
        j + 1 for j in range(rules.CONSTANTS) if form[f"constant_path_{j}"].data or form[f"constant_value_{j}"].data
    ]
    asked = (request.form.get("constants") or "")[:2]
    shown = max([*filled, min(int(asked) if asked.isdigit() else 0, rules.CONSTANTS)])
    adding = request.method == "POST" and request.form.get("add_constant") == "1"
    if adding:
        shown = min(shown + 1, rules.CONSTANTS)
    elif request.method == "POST" and form.validate():
        chosen, verdicts, adobe_error = making.checked_mapping(form, draft)
        if chosen is not None:
            return _saved(draft, {**plan, "mapping": chosen}) or redirect(url_for(".schedule", key=key))
    status = 400 if form.errors or any(f.errors for f in form) else (adobe_error.status if adobe_error else 200)
    schema = draft.schema
    return step_page(
        "dataflow_mapping.html",
        draft,
        "mapping",
        status,
        form=form,
        schema=schema,
        verdicts=verdicts,
        adobe_error=adobe_error,
        constants=rules.CONSTANTS,
        shown_constants=shown,
        by_path={f.path: f for f in schema.fields},
        primary=next((f for f in schema.fields if f.primary), None),
    )


# Step 3: the schedule.


@bp.route("/dataflows/new/<key>/schedule", methods=["GET", "POST"])
@editable_step("schedule")
def schedule(draft):
    """How often, from when (in the person's zone, sent in UTC), the delta column and the flow spec's options.

    Its floor is no wait on Adobe: the columns are the draft's, the flow spec's options are kept for an hour."""
    key = draft.key
    plan = draft.plan
    timestamps = draft.timestamps
    saved = plan.get("schedule") or {}
    form = ScheduleForm(data=schedule_defaults(draft) if request.method == "GET" else None)
    form.timezone.choices = timezones()
    form.delta_column.choices = choices((name, name) for name in timestamps)
    if not saved and request.method == "GET":
        form.timezone.render_kw = {"data-guess-zone": ""}  # wizard.js picks the browser's zone; UTC without it
    if timestamps and request.method == "POST" and form.validate():
        saved_plan = {**plan, "schedule": making.schedule_of(form)}
        return _saved(draft, saved_plan) or redirect(url_for("dataflow_review.review", key=key))
    return step_page(
        "dataflow_schedule.html", draft, "schedule", 400 if form.errors else 200, form=form, timestamps=timestamps
    )
