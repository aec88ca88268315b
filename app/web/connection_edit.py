"""Changing a connection: its name and description, or its credentials, each guarded by the etag the person saw; a
colleague's change made meanwhile is shown beside theirs, and saving over it takes an explicit choice."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from .. import services
from ..adobe import AdobeError
from ..sources.fields import no_control_characters
from ..sources.secrecy import masked_params
from . import changing, credential_links
from .changing import STALE_MESSAGE
from .connections import secrets_of, shown_params
from .loaders import load_connection, with_connection

bp = Blueprint("connection_edit", __name__)
log = logging.getLogger(__name__)


class RenameForm(FlaskForm):
    name = StringField(
        "Connection name",
        validators=[InputRequired(), Length(max=256), no_control_characters],
        description="How this base connection is listed in Experience Platform.",
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=1024), no_control_characters],
        description="Optional: what the connection is for.",
    )
    etag = HiddenField()


@bp.route("/connections/<connection_id>/edit", methods=["GET", "POST"])
@with_connection(action="rename")
def rename(connection, source, sandbox):
    """Change a connection's name and description (and nothing else), guarded by its etag."""
    form = RenameForm()
    if request.method == "GET":
        form.name.data, form.description.data = connection.get("name"), connection.get("description")
        form.etag.data = connection.get("etag")
    if request.method == "GET" or not form.validate():
        return render_template(
            "rename.html", form=form, connection=connection, sandbox=sandbox, source=source
        ), 200 if request.method == "GET" else 400
    # As Adobe's "Update a connection" tutorial sends them: `replace` the name, which every connection has, and `add`
    # the description, which one made elsewhere may lack (JSON Patch refuses `replace` of a missing member).
    operations = [
        {"op": "replace", "path": "/name", "value": form.name.data.strip()},
        {"op": "add", "path": "/description", "value": (form.description.data or "").strip()},
    ]
    yours = [("Name", form.name.data.strip()), ("Description", (form.description.data or "").strip())]
    return _update(connection, source, sandbox, form, _etag_to_send(), operations, "rename.html", "Renamed", yours)


def _etag_to_send() -> str:
    """The etag the person's change answers to: the one their form was opened with, or, when after a
    conflict they chose "Save mine over theirs", the one of the colleague's change they were then shown."""
    if request.form.get("overwrite") == "1":
        return request.form.get("seen_etag") or ""
    return request.form.get("etag") or ""


def _theirs(connection, source, action: str) -> list[tuple[str, str]]:
    """What a connection holds now, in the rows a conflict page compares with the person's own."""
    if action == "rename":
        return [("Name", connection.get("name") or ""), ("Description", connection.get("description") or "")]
    return shown_params(connection, source)


def _update(connection, source, sandbox, form, etag, operations, template, done, yours=()):
    """PATCH with the etag the person saw. When it is stale, nothing is sent: the page shows the connection as
    it is now next to what the person typed (`yours`), and saving over it again takes an explicit choice."""
    action = "rotate" if operations[0]["path"] == "/auth/params" else "rename"
    outcome = changing.update(connection, source, sandbox, etag, operations)
    if isinstance(outcome, AdobeError):
        error = outcome
        page = dict(form=form, sandbox=sandbox, source=source)
        if error.stale:
            fresh, _source = load_connection(connection["id"], sandbox)
            log.info("update of %s refused: stale etag", connection["id"])
            # The form keeps the etag it was opened with; the colleague's etag travels apart, used only by the
            # "Save mine over theirs" button.
            return render_template(
                template,
                connection=fresh,
                etag=request.form.get("etag") or "",
                stale=STALE_MESSAGE,
                seen_etag=fresh.get("etag"),
                theirs=_theirs(fresh, source, action),
                yours=list(yours),
                params=shown_params(fresh, source),
                **page,
            ), 409
        return render_template(
            template,
            connection=connection,
            etag=etag,
            adobe_error=error,
            params=shown_params(connection, source),
            **page,
        ), error.status
    flash(f"{done}: {connection.get('name')}.")
    # New credentials are tested at once: the connection's test page says how it went.
    after = "connections.test" if action == "rotate" else "connections.show"
    return redirect(url_for(after, connection_id=connection["id"], sandbox=sandbox), code=303)


@bp.route("/connections/<connection_id>/credentials", methods=["GET", "POST"])
@with_connection(action="rotate")
def rotate(connection, source, sandbox):
    """Send new credentials: the source's own form, non-secrets prefilled, secrets typed anew."""
    auth = connection.get("auth") or {}
    settings = services.settings()
    # Only the credentials change here: name, description and sandbox stay as Flow Service has them.
    kept = {
        "name": connection.get("name") or "",
        "description": connection.get("description") or "",
        "sandbox": sandbox,
    }
    if request.method == "POST":
        services.secrets().add_for_request(*source.typed_secrets(request.form))
        formdata = request.form.copy()
        for name, value in kept.items():
            formdata[name] = value
        form = source.make_form(sandboxes=settings.sandboxes, cloud=settings.cloud, formdata=formdata)
    else:
        prefill = {k: v for k, v in (auth.get("params") or {}).items() if k not in source.secret_params}
        method = source.form_class.method_for_spec.get(auth.get("specName"))
        form = source.make_form(
            sandboxes=settings.sandboxes,
            cloud=settings.cloud,
            data={**prefill, **kept, **({"method": method} if method else {})},
        )
    form.keep_methods_for(auth.get("specName"))
    # The etag the person saw, so that a change made meanwhile is not overwritten unseen.
    etag = _etag_to_send() if request.method == "POST" else connection.get("etag")
    page = dict(
        form=form,
        connection=connection,
        sandbox=sandbox,
        source=source,
        etag=etag,
        params=shown_params(connection, source),
    )
    kind_kept = (
        f"This connection uses {auth.get('specName')}; pick the option that sends it "
        "(the kind of authentication cannot change once a connection exists)."
    )
    if credential_links.by_owner():
        asked = credential_links.asked_fields(form)
        sends = form.spec_of_method.get(form.chosen_method() or "", auth.get("specName"))
        if credential_links.valid_without(form, asked) and sends == auth.get("specName"):
            return credential_links.offer(source, form, asked, sandbox=sandbox, connection=connection)
        if sends != auth.get("specName"):
            form.method.errors = [kind_kept]
        return render_template("rotate.html", **page), 400
    if request.method == "GET" or not form.validate():
        if "method" in form and form.method.errors and form.method.data not in [c.value for c in form.method.choices]:
            form.method.errors = [kind_kept]
        return render_template("rotate.html", **page), 200 if request.method == "GET" else 400
    new_auth = form.auth()
    if new_auth.spec_name != auth.get("specName"):
        form.method.errors = [kind_kept]
        return render_template("rotate.html", **page), 400
    operations = [{"op": "replace", "path": "/auth/params", "value": new_auth.params}]
    yours = masked_params(new_auth.params, secrets_of(source), source.param_order())
    return _update(connection, source, sandbox, form, etag, operations, "rotate.html", "New credentials sent", yours)
