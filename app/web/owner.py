"""The database owner's page, opened from a credential link (app/web/credential_links.py): it needs no account (or a
sign-in, with WIZARD_CREDENTIAL_LINK_SIGN_IN=1), says what the connection is for and who asked, and takes only the
fields the link asks for. Sent, it makes (or rotates) the prepared connection through the same exactly-once command as
the form, tests it, and says how that went, never echoing what was typed. A wrong, used, revoked or expired link is
the same 404 page, and every try counts in the address's throttle."""

from __future__ import annotations

import datetime
import logging
import time

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField
from wtforms.validators import Optional

from .. import services
from ..adobe import AdobeError
from ..api.access import groups_now
from ..store.health import StoreUnavailable
from ..watch.rules import Events
from ..wording import plural
from . import audit, changing, creating, errors, permissions
from .connections import tested
from .loaders import load_connection, source_of
from .throttle import FAILURE_WINDOW, FREE_FAILURES_PER_ADDRESS, MAX_WAIT

bp = Blueprint("owner", __name__)
log = logging.getLogger(__name__)

PREPARED_CHANGED = (
    "What {who} filled in no longer passes this source's checks, so nothing was sent. Ask {who} for a new link."
)


class OwnerForm(FlaskForm):
    """What the owner may add besides the credentials."""

    expires_on = DateField(
        "The credentials expire on",
        validators=[Optional()],
        description="Optional: when this password must next be changed. Whoever asked is reminded a week before.",
    )


@bp.before_request
def bare_page():
    # Someone without an account: no navigation to pages they cannot open.
    g.owner_page = True


def _live(token: str) -> dict:
    """The live link `token` opens, once the address may try again; else the 404 page every failure shares."""
    services.secrets().add_for_request(token)
    address = request.remote_addr or "unknown"
    wait = services.store().sessions.sign_in_attempt(
        {f"link:{address}": FREE_FAILURES_PER_ADDRESS}, time.time(), FAILURE_WINDOW, MAX_WAIT
    )
    if wait:
        log.warning("credential link refused: too many tries from this address")
        abort(
            make_response(
                *errors.page(
                    "Too many tries",
                    f"Too many credential links were tried from this address. Wait {plural(wait, 'second')}, then try "
                    "again.",
                    429,
                    headers={"Retry-After": str(wait)},
                )
            )
        )
    link = services.store().links.live(token)
    if link is None:
        log.warning("credential link refused: unknown, used, revoked or expired")
        abort(404)
    return link


def _source(link: dict):
    spec_id, _, auth = link["source"].partition(":")
    source = source_of(spec_id, auth or None)
    if source is None:
        abort(
            make_response(
                *errors.page(
                    "This source is not offered now",
                    f"The portal no longer offers this connection's source. Tell {link['requested_by']}; nothing was "
                    "sent.",
                    409,
                )
            )
        )
    return source


def _form(source, link: dict, typed=None):
    """The source's form as the requester prepared it, with the owner's fields as typed (empty before)."""
    data = MultiDict(link["prepared"])
    for name in link["fields"]:
        data[name] = (typed or {}).get(name, "")
    settings = services.settings()
    return source.make_form(sandboxes=(link["sandbox"],), cloud=settings.cloud, formdata=data, meta={"csrf": False})


def _page(link, source, form, owner_form, status=200, problem=None, adobe_error=None):
    return render_template(
        "owner.html",
        link=link,
        source=source,
        form=form,
        owner_form=owner_form,
        asked=[form[name] for name in link["fields"] if name in form],
        problem=problem,
        adobe_error=adobe_error,
    ), status


@bp.route("/credentials/<token>", methods=["GET", "POST"])
def enter(token):
    """Show what the link asks for; on POST make or rotate the prepared connection with what the owner typed."""
    settings = services.settings()
    if settings.credential_link_sign_in and settings.auth != "none" and not g.user:
        if request.method == "GET":
            return redirect(url_for("auth.sign_in", next=request.path))
        abort(401)
    link = _live(token)
    source = _source(link)
    if request.method == "GET":
        return _page(link, source, _form(source, link), OwnerForm())
    services.secrets().add_for_request(*source.typed_secrets(request.form))
    owner_form = OwnerForm()
    # Only the asked fields: a prepared field sent here (a tampered form) changes nothing and is refused.
    unasked = set(request.form) - set(link["fields"]) - {"csrf_token", "expires_on"}
    form = _form(source, link, request.form)
    if unasked:
        log.warning("credential link refused: fields it does not ask for were sent")
        return _page(
            link,
            source,
            form,
            owner_form,
            400,
            problem=(
                f"This page takes only the fields it shows; the rest were set by {link['requested_by']} and cannot be "
                "changed here. Nothing was sent."
            ),
        )
    valid = form.validate() & owner_form.validate()
    if not valid:
        if any(field.errors for field in form if field.name not in link["fields"]) or form.form_errors:
            return _page(link, source, form, owner_form, 409, problem=PREPARED_CHANGED.format(who=link["requested_by"]))
        return _page(link, source, form, owner_form, 400)
    # The connection is the requester's, made with their rights as they are now.
    g.user = link["requested_by"]
    groups = groups_now(settings, g.user) if settings.auth != "none" else ()
    g.groups = groups or ()
    action = "rotate" if link["kind"] == "rotate" else "create"
    if groups is None or not permissions.may(action, link["sandbox"]):
        return _page(
            link,
            source,
            form,
            owner_form,
            403,
            problem=(
                f"{link['requested_by']} may no longer do this in sandbox {link['sandbox']}, so nothing was sent. "
                "Tell them; they can ask whoever runs the portal."
            ),
        )
    if not services.store().links.use(link["id"]):
        abort(404)  # used (or revoked) by a send that came first
    try:
        done = _send(link, source, form)
    except BaseException:
        services.store().links.give_back(link["id"])
        raise
    if isinstance(done, AdobeError):
        services.store().links.give_back(link["id"])
        return _page(link, source, form, owner_form, done.status if done.status >= 400 else 502, adobe_error=done)
    return _finish(link, source, done, owner_form.expires_on.data)


def _send(link: dict, source, form) -> str | AdobeError:
    """Make or rotate the prepared connection: its id, or Adobe's refusal."""
    if link["kind"] == "create":
        outcome = creating.create(source, form, f"link-{link['id']}", check_namesakes=False)
        if outcome.error is not None or not outcome.connection_id:
            return outcome.error or AdobeError("Flow Service did not say which connection it made. Try again.")
        return outcome.connection_id
    connection, _source = load_connection(link["connection_id"], link["sandbox"])
    auth = connection.get("auth") or {}
    new_auth = form.auth()
    if new_auth.spec_name != auth.get("specName"):
        return AdobeError(
            f"The connection now uses {auth.get('specName')}, not what the link was made for. Ask "
            f"{link['requested_by']} for a new link.",
            status=409,
        )
    operations = [{"op": "replace", "path": "/auth/params", "value": new_auth.params}]
    changed = changing.update(connection, source, link["sandbox"], connection.get("etag") or "", operations)
    return changed if isinstance(changed, AdobeError) else connection["id"]


def _finish(link: dict, source, connection_id: str, expires_on: datetime.date | None):
    """Test what was made, put it on record, and tell the owner how it went."""
    sandbox = link["sandbox"]
    test = tested(sandbox, connection_id)
    outcome, message = test["outcome"], test["message"]
    expires_at = (
        datetime.datetime.combine(expires_on, datetime.time(), datetime.UTC).timestamp() if expires_on else None
    )
    made = "made" if link["kind"] == "create" else "given new credentials"
    about = {"id": connection_id, "name": link["connection_name"], "source": link["source"].partition(":")[0]}
    try:
        store = services.store()
        store.links.credentials_set(about, sandbox, link["requested_by"], by_owner=True, expires_at=expires_at)
        store.links.finish(link["id"], f"{made}; test {outcome}", connection_id)
    except StoreUnavailable:
        log.warning("could not record the owner's entry for link %s", link["id"][:8])
    try:
        Events(services.store()).tell_about_connection(
            "credentials-entered",
            (link["id"],),
            sandbox,
            about,
            requestedBy=link["requested_by"],
            test=outcome,
        )
    except StoreUnavailable:
        log.warning("could not tell the alert rules of the owner's entry for link %s", link["id"][:8])
    audit.record(
        "use-credential-link",
        "ok" if outcome == "ok" else "failed",
        sandbox=sandbox,
        connection_name=link["connection_name"],
        connection_id=connection_id,
        source=source.title,
        detail=f"link {link['id'][:8]}: typed by the database owner; test {outcome}",
    )
    log.info("credential link used: connection %s %s, test %s", connection_id, made, outcome)
    return render_template(
        "owner_done.html", link=link, source=source, made=made, outcome=outcome, message=message
    ), 201 if link["kind"] == "create" else 200
