"""Asking a connection's database owner for its credentials: on a new connection's form or a connection's "Rotate
credentials" page, the person fills everything but the secrets and gets a one-time link to pass on (the owner's page
is app/web/owner.py). Their links, live and spent, are listed at /credential-links, where a live one is revoked."""

from __future__ import annotations

import logging
import re
import time
import urllib.parse

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField

from .. import services
from ..sources.secrecy import is_secret_key
from ..store.credential_links import PREFIX
from . import audit, permissions

bp = Blueprint("credential_links", __name__)
log = logging.getLogger(__name__)

# A field the owner may be asked for besides the secrets: the database user's name, whatever the source calls it.
USER_NAME = re.compile(r"^(user(name)?|uid|login)$", re.IGNORECASE)
# Who asks, on a portal without sign-in.
NOBODY = "someone (this portal has no sign-in)"


class WhoTypes(FlaskForm):
    """Who types a connection's secrets: the person now, or the database owner through a link. Part of the source's
    form (its CSRF token is that form's)."""

    class Meta:
        csrf = False

    typed_by = RadioField(
        "Who types the credentials",
        choices=[
            ("me", "I type them now"),
            ("owner", "The database owner types them, through a one-time link I pass on"),
        ],
        default="me",
        description="With a link, you never see the password: leave the secrets empty and fill in the rest.",
    )
    owner_types_user = BooleanField(
        "The owner types the user name too", description="Leave the user name empty as well; the link asks for it."
    )


@bp.app_template_global("who_types")
def who_types() -> WhoTypes:
    """The choice as sent (a form shown again keeps it), or the default."""
    return WhoTypes()


def by_owner() -> bool:
    """Whether this request asks for a link rather than sending the secrets."""
    return request.method == "POST" and request.form.get("typed_by") == "owner"


def asked_fields(form) -> list[str]:
    """The fields the owner types: every secret field of the chosen kind of authentication (a password field, or one
    whose name looks secret: over-asking is the safe mistake), and the user name when the person said so."""
    chosen = form.chosen_method()
    with_user = request.form.get("owner_types_user") in ("y", "on", "1", "true")
    asked = []
    for _legend, fields, methods in form.visible_groups():
        if methods and chosen not in methods:
            continue
        asked += [f.name for f in fields if _secret(f) or (with_user and USER_NAME.match(f.name))]
    return asked


def _secret(field) -> bool:
    return isinstance(field, PasswordField) or is_secret_key(field.name)


def valid_without(form, asked: list[str]) -> bool:
    """Whether the form passes, leaving aside what the owner will type (their fields' errors are dropped)."""
    form.validate()
    for name in asked:
        form[name].errors = []
    return not any(field.errors for field in form) and not form.form_errors


def prepared_of(form, asked: list[str]) -> dict[str, str]:
    """What the person filled in, as sent, without the asked fields or any secret: what the link keeps."""
    skip = {"csrf_token", *asked}
    return {
        field.name: request.form.get(field.name, "")
        for field in form
        if field.name not in skip and not _secret(field) and field.name in request.form
    }


def source_ref(source) -> str:
    """How a link names its source: the connection spec's id and the authSpec's name (the form it is typed in)."""
    return f"{source.connection_spec_id}:{getattr(source, 'auth_name', None) or ''}"


def requester() -> str:
    return g.get("user") or NOBODY


def link_url(token: str) -> str:
    """The link as the owner opens it: at WIZARD_PUBLIC_URL when set, else at the address this page came from."""
    path = url_for("owner.enter", token=token)
    public = services.settings().public_url
    if public:
        return public + path.removeprefix(request.script_root)
    return urllib.parse.urljoin(request.host_url, path.lstrip("/"))


def make_link(
    source,
    prepared: dict[str, str],
    asked: list[str],
    *,
    sandbox: str,
    name: str,
    connection: dict | None = None,
    key: str | None = None,
) -> tuple[str, dict] | None:
    """A link for a prepared connection (or a rotation of `connection`), put on record: (its URL, shown once; its
    row), or None when `key` already made one."""
    made = services.store().links.create(
        kind="rotate" if connection else "create",
        sandbox=sandbox,
        source=source_ref(source),
        connection_id=connection["id"] if connection else None,
        connection_name=name,
        prepared=prepared,
        fields=asked,
        requested_by=requester(),
        lifetime=services.settings().credential_link_hours * 3600,
        key=key,
    )
    if made is None:
        return None
    token, link = made
    services.secrets().add_for_request(token)
    audit.record(
        "request-credentials",
        "ok",
        sandbox=sandbox,
        connection_name=name,
        connection_id=connection["id"] if connection else None,
        source=source.title,
        detail=f"link {link['id'][:8]} asks for {', '.join(asked)}",
    )
    log.info("credential link made", extra={"link": link["id"][:8]})
    return link_url(token), link


def offer(source, form, asked: list[str], *, sandbox: str, connection: dict | None = None, key: str | None = None):
    """Make the link for the prepared form and show it this once. A form sent twice (`key`, its submission id) makes
    one link: the second send is told so."""
    name = connection.get("name") if connection else form.name.data.strip()
    made = make_link(
        source, prepared_of(form, asked), asked, sandbox=sandbox, name=name or "", connection=connection, key=key
    )
    if made is None:
        flash(
            "This form already made a link, shown once when it was made; it is listed below. Revoke it and make "
            "another if it was lost."
        )
        return redirect(url_for("credential_links.index"), code=303)
    return _page(created=made, status=201)


def _page(created=None, status=200):
    links = services.store().links.listed(None if _sees_all() else requester())
    return render_template(
        "credential_links.html", links=links, created=created, now=time.time(), prefix=PREFIX
    ), status


def _sees_all() -> bool:
    return services.settings().auth == "none" or permissions.admin_everywhere()


@bp.get("/credential-links")
def index():
    """The person's credential links (everyone's, for an admin everywhere), newest first."""
    permissions.require("view")
    return _page()


@bp.post("/credential-links/<link_id>/revoke")
def revoke(link_id):
    """Revoke a link not used yet: the person's own, or anyone's for an admin everywhere."""
    permissions.require("view")
    link = services.store().links.one(link_id[:32])
    if link is None or not (_sees_all() or link["requested_by"] == requester()):
        abort(404)
    if not services.store().links.revoke(link["id"], by=requester(), requested_by=None if _sees_all() else requester()):
        flash("That link was already used, revoked or expired: nothing to revoke.")
        return redirect(url_for("credential_links.index"), code=303)
    audit.record(
        "revoke-credential-link",
        "ok",
        sandbox=link["sandbox"],
        connection_name=link["connection_name"],
        connection_id=link["connection_id"],
        detail=f"link {link['id'][:8]} of {link['requested_by']}",
    )
    flash(f"Revoked the link for {link['connection_name']}: it opens nothing from now on.")
    return redirect(url_for("credential_links.index"), code=303)
