"""Personal API tokens: a signed-in person makes one (a name, an expiry, a scope no wider than their roles), sees it
once, and revokes it; admins see and revoke everyone's. The store keeps only a hash (app/store/tokens.py)."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from .. import roles, services
from ..store.tokens import PREFIX
from ..wording import plural
from . import audit, permissions

bp = Blueprint("tokens", __name__)
log = logging.getLogger(__name__)

MOST_DAYS, DEFAULT_DAYS = 90, 30


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[InputRequired("Name the token, such as the script that will use it."), Length(max=128)],
        description="What the token is for, such as the script or pipeline that will use it.",
    )
    days = IntegerField(
        "Expires after (days)",
        default=DEFAULT_DAYS,
        validators=[
            InputRequired("Say after how many days the token expires."),
            NumberRange(1, MOST_DAYS, f"Choose 1 to {MOST_DAYS} days."),
        ],
        description=f"1 to {MOST_DAYS} days; make a new token before it ends.",
    )
    role = SelectField("Role", description="The most the token may do; never more than your own role where it acts.")
    sandboxes = StringField(
        "Sandboxes",
        default="*",
        validators=[InputRequired("Name the sandboxes, or * for all."), Length(max=512)],
        description="Sandbox names or patterns, separated by commas, such as dev-*,prod; * for every sandbox.",
    )

    def __init__(self, *args, offered_roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r, r) for r in offered_roles]

    def validate_sandboxes(self, field):
        patterns = [p.strip().lower() for p in field.data.split(",") if p.strip()]
        wrong = [p for p in patterns if not roles.PATTERN.match(p)]
        if not patterns or wrong:
            raise ValidationError("Write sandbox names or patterns such as dev-* or *, separated by commas.")
        field.data = ",".join(dict.fromkeys(patterns))
        held = [s for s in services.settings().sandboxes if roles.patterns_cover(field.data, s)]
        role = self.role.data if self.role.data in roles.ROLES else "viewer"
        if not any(_held_at_least(s, role) for s in held):
            raise ValidationError(f"You are not {role} in any sandbox these name, so the token could do nothing.")


def _held_at_least(sandbox: str, role: str) -> bool:
    mine = permissions.role_in(sandbox)
    return mine is not None and roles.ROLES.index(mine) >= roles.ROLES.index(role)


def _admin() -> bool:
    return permissions.admin_everywhere()


def _signed_in() -> str:
    if not g.get("user"):
        abort(404)
    if services.settings().auth == "oidc":
        # A session begun before tokens existed: its sign-in's groups, kept unless a later sign-in kept its own.
        services.store().tokens.remember(g.user, g.get("groups", ()), replace=False)
    return g.user


def _page(form, created=None, status=200):
    store = services.store()
    user = g.user
    admin = _admin()
    tokens = store.tokens.listed(None if admin else user)
    person = store.tokens.person(user) if services.settings().auth in ("oidc", "proxy") else None
    return render_template(
        "tokens.html",
        form=form,
        created=created,
        tokens=tokens,
        admin=admin,
        person=person,
        most_days=MOST_DAYS,
        prefix=PREFIX,
        now=time.time(),
    ), status


@bp.route("/tokens", methods=["GET", "POST"])
def index():
    """The person's tokens (everyone's, for an admin), and a form to make one."""
    if services.settings().auth == "none":
        return render_template("tokens.html", open_api=True), 200
    user = _signed_in()
    offered = [r for r in roles.ROLES if any(_held_at_least(s, r) for s in services.settings().sandboxes)]
    form = TokenForm(offered_roles=offered)
    if not offered:
        permissions.require("view")
    if request.method == "GET" or not form.validate():
        return _page(form, status=200 if request.method == "GET" else 400)
    token, row = services.store().tokens.create(
        user, form.name.data.strip(), form.role.data, form.sandboxes.data, form.days.data * 86400
    )
    services.secrets().add_for_request(token)
    audit.record(
        "create-token",
        "ok",
        sandbox=None,
        detail=f"{row['name']} ({row['prefix']}), {row['role']} in "
        f"{row['sandboxes']}, for {plural(form.days.data, 'day')}",
    )
    log.info("API token made", extra={"token": f"{row['name']} ({row['prefix']})"})
    # Shown this once, on this answer (never stored, never in a redirect): the page says to copy it now.
    return _page(TokenForm(offered_roles=offered, formdata=None), created=(token, row), status=201)


@bp.post("/tokens/<prefix>/revoke")
def revoke(prefix):
    """Revoke a token: the person's own, or anyone's for an admin."""
    if services.settings().auth == "none":
        abort(404)
    user = _signed_in()
    revoked = services.store().tokens.revoke(prefix[:16], by=user, user=None if _admin() else user)
    if revoked is None:
        abort(404)
    audit.record(
        "revoke-token", "ok", sandbox=None, detail=f"{revoked['name']} ({revoked['prefix']}) of {revoked['user']}"
    )
    flash(f"Revoked: {revoked['name']} ({revoked['prefix']}…). Calls with it are refused from now on.")
    return redirect(url_for("tokens.index"), code=303)
