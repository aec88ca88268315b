"""The picker and one form per source; a valid form creates a base connection."""

from __future__ import annotations

import json
import logging
import re
import secrets

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup, escape

from .. import services
from ..adobe import AdobeError
from ..sources import SOURCES
from ..sources.described import label_of
from ..sources.generic import source_for
from . import creating, credential_links, errors, permissions

bp = Blueprint("wizard", __name__)
log = logging.getLogger(__name__)

SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@bp.get("/")
def picker():
    """List the curated sources, then every other database source Flow Service publishes, with a search."""
    query = (request.args.get("q") or "").strip()[:100]
    specs, problem = services.spec_catalog().database_specs()
    words = query.lower().split()
    more = [
        (spec, label_of(spec))
        for spec in specs
        if all(word in (label_of(spec) + " " + spec.get("name", "")).lower() for word in words)
    ]
    curated = [s for s in SOURCES.values() if all(word in (s.title + " " + s.summary).lower() for word in words)]
    return render_template(
        "picker.html", sources=curated, more=more, problem=problem, query=query, more_count=len(specs)
    )


@bp.get("/sources/spec/<spec_id>")
@bp.post("/sources/spec/<spec_id>")
def spec_form(spec_id):
    """A form built from a connection spec's authSpec; the curated sources keep their own forms."""
    curated = next((s for s in SOURCES.values() if s.connection_spec_id == spec_id), None)
    if curated:
        return redirect(url_for("wizard.source_form", key=curated.key))
    catalog = services.spec_catalog()
    spec = catalog.spec(spec_id)
    source = source_for(spec, request.args.get("auth"))
    if spec is None:
        _specs, problem = catalog.database_specs()
        if problem:
            return render_template(
                "error.html",
                title="Sources could not be listed",
                message=f"The wizard could not read this source from Flow Service: {problem}",
            ), 502
        abort(404)
    if source is None:
        return render_template(
            "auth_choice.html", spec=spec, label=label_of(spec), unknown=request.args.get("auth")
        ), 200 if request.args.get("auth") is None else 404
    return _handle(source)


def _form_for(source):
    """The source's form, offering only the sandboxes where the person may create."""
    permissions.require("create")
    settings = services.settings()
    return source.make_form(sandboxes=permissions.sandboxes_for("create"), cloud=settings.cloud)


@bp.app_template_global("source_url")
def _action(source) -> str:
    """Where a source's form lives: /sources/<key>, or /sources/spec/<id>?auth=<authSpec> for the others.

    Built once per app and mount point: the picker asks for every source's, each form page for its own."""
    key: tuple[str | None, ...]
    if source.key == "spec":
        key = (source.connection_spec_id, source.auth_name, request.script_root)
    else:
        key = (source.key, request.script_root)
    urls = services.current().rendered.setdefault("source_urls", {})
    url = urls.get(key)
    if url is None:
        url = (
            url_for("wizard.spec_form", spec_id=source.connection_spec_id, auth=source.auth_name)
            if source.key == "spec"
            else url_for("wizard.source_form", key=source.key)
        )
        if len(urls) < 10000:  # a bound, whatever the catalog holds
            urls[key] = url
    return url


def _render(
    source, form, submission_id, status=200, adobe_error=None, split_notice=None, namesakes=None, store_down=False
):
    page = dict(
        source=source,
        form=form,
        submission_id=submission_id,
        action=_action(source),
        adobe_error=adobe_error,
        split_notice=split_notice,
        namesakes=namesakes,
        store_down=store_down,
        duplicate_ok=request.form.get("duplicate_ok") == "1" or bool(namesakes),
    )
    return render_template("source_form.html", **page), status


# Pristine forms and pages, rendered once per app in each process with stand-ins for the per-request tokens
# (the services' `rendered`): the same bytes for everyone with the same (form, cloud, sandboxes offered,
# authSpec, person), so no worker holds anything another lacks.
_CSRF, _KEY = "\x00csrf\x00", "\x00key\x00"
# What a form page that nothing has happened to shows: no notice, no warning, no error.
PRISTINE_PAGE = dict(pristine=True, split_notice=None, namesakes=None, adobe_error=None)


def _pristine_page(source):
    """A source's untouched form: the form itself from the cache (no WTForms form is built once it is there),
    with this request's CSRF token and a new submission key put in."""
    sandboxes, cloud = permissions.sandboxes_for("create"), services.settings().cloud
    if not sandboxes:
        permissions.require("create")  # refuses, saying which role would do
    token = generate_csrf() if current_app.config.get("WTF_CSRF_ENABLED", True) else None
    # A spec-built form is keyed by its authSpec too: a catalog refresh that changes the schema changes the form.
    spec = getattr(source.form_class, "auth_spec", None)
    key = (_action(source), cloud, sandboxes, token is None, json.dumps(spec, sort_keys=True) if spec else None)
    submission_id = secrets.token_urlsafe(16)
    kept = services.current().rendered.setdefault("pristine_forms", {})
    cached = kept.get(key)
    if cached is None:
        html = render_template(
            "_wizard_form.html",
            source=source,
            form=_form_for(source),
            submission_id=submission_id,
            action=_action(source),
            duplicate_ok=False,
        )
        cached = _tokens_out(html, submission_id, token)
        _keep(kept, key, cached)
    if session.get("_flashes"):
        # A message waits to be shown once: this page is not the same for everyone, so only the form is reused.
        form_html = Markup(_tokens_in(cached, submission_id, token))  # noqa: S704 - our own template, rendered above
        return render_template("source_form.html", source=source, form_html=form_html, **PRISTINE_PAGE)
    # The whole page: the same for everyone signed in as the same person (the header names them).
    page_key = (*key, "page", g.get("user"))
    page = kept.get(page_key)
    if page is None:
        page = _tokens_out(
            render_template(
                "source_form.html",
                source=source,
                **PRISTINE_PAGE,
                form_html=Markup(_tokens_in(cached, submission_id, token)),  # noqa: S704
            ),
            submission_id,
            token,
        )
        _keep(kept, page_key, page)
    return _tokens_in(page, submission_id, token)


def _tokens_out(html: str, submission_id: str, token: str | None) -> str:
    html = html.replace(submission_id, _KEY)
    return html.replace(str(escape(token)), _CSRF) if token else html


def _tokens_in(html: str, submission_id: str, token: str | None) -> str:
    return html.replace(_KEY, submission_id).replace(_CSRF, str(escape(token)) if token else "")


def _keep(kept: dict, key: tuple, html: str) -> None:
    if len(kept) < 1000:  # a bound, whatever the catalog and the number of people
        kept[key] = html


# How long a browser may reuse an answer of /namesakes: a name typed again, or Back and forth, asks no one.
NAMESAKES_MAX_AGE = 30


@bp.get("/namesakes")
def namesakes():
    """The connections already called `name` in `sandbox`, as JSON, for the form to warn beside the name field.

    The browser asks when the name field loses focus, so that the submit need not ask again; the answer
    is cached by that browser only, briefly. Nothing here is kept in the worker.
    """
    sandbox = request.args.get("sandbox", "")
    name = (request.args.get("name") or "").strip()
    if sandbox not in services.settings().sandboxes or not name or len(name) > 256:
        abort(404)
    permissions.require("create", sandbox)
    try:
        found = services.connections().find_connections(sandbox, name)
    except AdobeError as error:
        response = jsonify(sandbox=sandbox, name=name, problem=error.message)
        response.status_code = 502
        return response
    response = jsonify(
        sandbox=sandbox,
        name=name,
        namesakes=[
            {
                "id": c.get("id"),
                "name": c.get("name"),
                "created": c.get("createdAt"),
                "url": url_for("connections.show", connection_id=c.get("id"), sandbox=sandbox),
            }
            for c in found
        ],
    )
    response.cache_control.private = True
    response.cache_control.max_age = NAMESAKES_MAX_AGE
    return response


@bp.get("/submissions/<key>")
def submission(key):
    """Where a sent form led: {"result": the created connection's page} once it was created, else null.

    The form page asks when the browser's Back button brings it back, and goes on to the connection
    instead of offering to create it again.
    """
    permissions.require("create")
    if not SUBMISSION_ID.match(key):
        abort(404)
    finished = services.store().submissions.finished(key)
    return jsonify(result=finished["result_url"] if finished else None)


def _checked_in_browser(form) -> bool:
    """Whether the browser already looked for namesakes of exactly this name and sandbox and showed the answer."""
    # The sandbox first: its name has no ":", so "sandbox:name" reads one way only.
    return request.form.get("namesakes_checked") == f"{form.sandbox.data}:{form.name.data.strip()}"


@bp.errorhandler(CSRFError)
def token_expired(error):
    """A form whose CSRF token failed: nothing is sent, and when it came from our own page what was typed stays."""
    source = SOURCES.get((request.view_args or {}).get("key", ""))
    # Browsers set Sec-Fetch-Site themselves; a page elsewhere cannot claim to be us and prefill the form.
    if source is None or request.headers.get("Sec-Fetch-Site") != "same-origin":
        return errors.csrf_failed(error)
    log.warning("form with an expired token re-shown: %s", error.description)
    form = _form_for(source)
    form.csrf_token.errors = ["the form expired; submit it again"]
    submission_id = request.form.get("submission_id", "")
    return _render(
        source, form, submission_id if SUBMISSION_ID.match(submission_id) else secrets.token_urlsafe(16), 400
    )


@bp.route("/sources/<key>", methods=["GET", "POST"])
def source_form(key):
    """Show a source's form; on POST validate it and create the base connection."""
    source = SOURCES.get(key)
    if source is None:
        abort(404)
    return _handle(source)


def _ask_owner(source, form, submission_id):
    """Everything but the secrets checked as usual, then a one-time link for the database owner to type them."""
    asked = credential_links.asked_fields(form)
    if not credential_links.valid_without(form, asked):
        return _render(source, form, submission_id, 400)
    if not (request.form.get("duplicate_ok") == "1" or _checked_in_browser(form)):
        namesakes = creating.namesakes_of(form.sandbox.data, form.name.data.strip())
        if namesakes:
            return _render(source, form, submission_id, 409, namesakes=namesakes)
    return credential_links.offer(source, form, asked, sandbox=form.sandbox.data, key=submission_id)


def _handle(source):
    if request.method == "GET":
        if services.readiness().store_problem():
            # Said before anyone types: a submission needs the store, before and after Adobe is asked.
            return _render(source, _form_for(source), secrets.token_urlsafe(16), store_down=True)
        return _pristine_page(source)
    form = _form_for(source)
    if request.method == "POST":
        # Whatever happens below, no log line or traceback can carry what was typed as a secret.
        services.secrets().add_for_request(*source.typed_secrets(request.form))
    submission_id = request.form.get("submission_id", "")
    if not SUBMISSION_ID.match(submission_id):
        submission_id = secrets.token_urlsafe(16)
    if request.method == "POST" and request.form.get("action") == "split" and hasattr(form, "split_connection_string"):
        # Paste-to-fill without JavaScript: the server splits the string into the fields.
        leftover = form.split_connection_string()
        if leftover is None:
            return _render(source, form, submission_id, 400)
        return _render(source, form, submission_id, split_notice=leftover)
    if credential_links.by_owner():
        return _ask_owner(source, form, submission_id)
    if request.method == "GET" or not form.validate():
        return _render(source, form, submission_id, 400 if request.method == "POST" else 200)

    skip = request.form.get("duplicate_ok") == "1" or _checked_in_browser(form)
    outcome = creating.create(source, form, submission_id, check_namesakes=not skip)
    if outcome.kind == "earlier":
        return redirect(outcome.result_url or "/", code=303)
    if outcome.kind == "namesakes":
        # The person may still go ahead: the form comes back saying so, with a link to each namesake.
        return _render(source, form, submission_id, 409, namesakes=outcome.namesakes)
    if outcome.error is not None:
        return _render(source, form, submission_id, outcome.error.status, adobe_error=outcome.error)
    if outcome.kind == "late":
        # Adobe made it; the person sees what was made, and is told not to send again.
        page = render_template(
            "recorded_late.html",
            name=form.name.data.strip(),
            connection_id=outcome.connection_id,
            sandbox=form.sandbox.data,
            result=outcome.result_url,
        )
        return page, 202
    return redirect(outcome.result_url or "/", code=303)
