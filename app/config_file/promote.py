"""The Promote page: carry connections, with their dataflows, from one sandbox to another. The person picks the two
sandboxes and the connections; the page shows the plan side by side (what will be made, changed or left, datasets
matched by name and those unmatched named as blockers); the person types each credential that must be sent, or lets
the database owner type it through a credential link, and applies. The page makes the same plan as
`aep-source-wizard plan` for the same file (the source sandbox exported) and applies it the same way."""

from __future__ import annotations

import hashlib
import logging

import yaml
from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField
from wtforms.validators import StopValidation, ValidationError

from .. import services
from ..adobe import AdobeError
from ..together import side_by_side
from ..watch.forms import MultiCheckboxField
from ..web import audit, permissions
from ..web.loaders import AdobeFailed
from . import observe
from . import plan as planning
from .apply import Applying, Busy, one_at_a_time
from .load import Refused

bp = Blueprint("promote", __name__)
log = logging.getLogger(__name__)

SHOWN = {
    "create": "Will be made",
    "update": "Will be changed",
    "replace": "Will be deleted and made again",
    "delete": "Will be deleted",
    "pending": "Waits for the database owner",
    "blocked": "Blocked",
    "none": "No change",
    "left": "Left as it is",
}


class PickForm(FlaskForm):
    """What to carry, sent by GET: reading a plan changes nothing."""

    class Meta:
        csrf = False

    source = SelectField("From sandbox", description="Where the connections and dataflows are now.")
    target = SelectField("To sandbox", description="Where to carry them: applying needs the editor role there.")
    connection = MultiCheckboxField(
        "Connections to carry",
        description="Each with the dataflows it feeds; datasets are matched by name in the target sandbox.",
    )

    def validate_target(self, field):
        if field.data == self.source.data:
            raise ValidationError("Pick another sandbox than the one they come from.")


def secrets_form(waiting: list[tuple[str, str]]) -> type[FlaskForm]:
    """The apply form: what was planned (hidden), and a password field for each secret whose value must be sent."""

    class ApplyForm(FlaskForm):
        source = HiddenField()
        target = HiddenField()
        carried = HiddenField()  # the connections' names, one a line (a name holds no control character)
        digest = HiddenField()

    for connection in dict.fromkeys(connection for connection, _field in waiting):
        setattr(
            ApplyForm,
            owner_name(connection),
            BooleanField(
                f"The database owner of {connection} types its credentials",
                description="Applying gives you a one-time link to pass on; once they typed them, apply again.",
            ),
        )
    for connection, field in waiting:
        setattr(
            ApplyForm,
            secret_name(connection, field),
            PasswordField(
                f"{connection}: {field}",
                validators=[_typed_unless_owner(connection, field)],
                description="Typed by you now: sent to Adobe once, never shown or kept (only a keyed hash of it).",
            ),
        )
    return ApplyForm


def _typed_unless_owner(connection: str, field: str):
    def check(form, typed):
        if form[owner_name(connection)].data:
            typed.errors = []
            raise StopValidation()
        if not typed.data:
            raise StopValidation(
                f"Type the {field} of {connection}, let its database owner type it, or leave that connection out."
            )

    return check


def owner_name(connection: str) -> str:
    """The box that leaves a connection's credentials to its database owner."""
    return "owner_" + hashlib.sha256(connection.encode()).hexdigest()[:16]


def asked_of(text: str, connections: set[str]) -> str:
    """The file with each secret of those connections written `ask`: their database owner types them."""
    if not connections:
        return text
    document = yaml.safe_load(text)
    for entry in document.get("connections") or []:
        if entry.get("name") in connections:
            for name, value in (entry.get("fields") or {}).items():
                if isinstance(value, dict) or (isinstance(value, str) and value.startswith("${")):
                    entry["fields"][name] = "ask"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def secret_name(connection: str, field: str) -> str:
    """A secret's field on the form, named by what it is for: a value is never given to another connection."""
    return "secret_" + hashlib.sha256(f"{connection}\n{field}".encode()).hexdigest()[:16]


def _waiting(plan: planning.Plan) -> list[tuple[str, str]]:
    return [(c.name, field) for c in plan.changes if c.kind == "connection" for field in c.waiting]


def _page(pick, plan=None, apply_form=None, results=None, status=200, said=None):
    groups: dict[str, list] = {}
    for change in plan.changes if plan else []:
        groups.setdefault(change.would or change.action, []).append(change)
    return render_template(
        "promote.html",
        pick=pick,
        plan=plan,
        groups=groups,
        shown=SHOWN,
        apply_form=apply_form,
        results=results,
        said=said,
        may_apply=bool(plan) and permissions.may("edit", plan.sandbox),
    ), status


def _picked(formdata) -> PickForm:
    pick = PickForm(formdata=formdata)
    pick.source.choices = [(s, s) for s in permissions.sandboxes_for("view")]
    pick.target.choices = [(s, s) for s in permissions.sandboxes_for("view")]
    if pick.source.data in permissions.sandboxes_for("view"):
        try:
            names = sorted({c.get("name") or c["id"] for c in observe.connections(pick.source.data)})
        except AdobeError as error:
            raise AdobeFailed("Could not list the sandbox's connections", error) from None
        pick.connection.choices = [(n, n) for n in names]
    else:
        pick.connection.choices = []
    return pick


def _planned(
    source: str, target: str, names: list[str], given: dict, seen=None, owners: set[str] | frozenset = frozenset()
) -> tuple[str, planning.Plan]:
    """The source's file for those connections (the secrets of `owners`' connections written `ask`), and its plan
    against the target: the two sandboxes read side by side when the target was not read already. AdobeFailed when
    Adobe could not say; Refused for a file that cannot be used (as the command would be refused)."""
    try:
        if seen is None:
            read = side_by_side([lambda: observe.as_file(source, set(names)), lambda: observe.read(target)])
            for outcome in read:
                if isinstance(outcome, Exception):
                    raise outcome
            (text, _c, _d), seen = read
        else:
            text = observe.as_file(source, set(names))[0]
        text = asked_of(text, set(owners))
        return text, planning.make(text, target, given, seen_list=seen)
    except AdobeError as error:
        raise AdobeFailed("Could not read the sandboxes", error) from None


def _unusable(pick, refused: Refused):
    said = "; ".join(str(p) for p in refused.problems[:5])
    return _page(pick, status=422, said=f"What you picked cannot be carried as it is: {said}.")


@bp.get("/promote")
def index():
    """Pick the sandboxes and connections; with them picked, the plan and the form that applies it."""
    permissions.require("view")
    asked = bool(request.args)
    pick = _picked(request.args if asked else None)
    if not asked or not pick.validate() or not pick.connection.data:
        if asked and not pick.connection.data and not pick.errors and pick.connection.choices:
            pick.connection.errors = ["Tick the connections to carry."]
        return _page(pick, status=200)
    try:
        _text, plan = _planned(pick.source.data, pick.target.data, pick.connection.data, {})
    except Refused as refused:
        return _unusable(pick, refused)
    audit.record("plan", "ok", sandbox=plan.sandbox, detail=f"promote from {pick.source.data}: {plan.said()}")
    form = secrets_form(_waiting(plan))(
        formdata=None,
        source=pick.source.data,
        target=pick.target.data,
        carried="\n".join(pick.connection.data),
        digest=plan.digest,
    )
    return _page(pick, plan, form)


@bp.post("/promote/apply")
def apply():
    """Apply the plan shown, with the credentials typed: refused, with the new plan shown, when it changed since."""
    typed = [v for k, v in request.form.items() if k.startswith("secret_") and v]
    services.secrets().add_for_request(*typed)
    source, target = request.form.get("source", ""), request.form.get("target", "")
    names = [n for n in request.form.get("carried", "").splitlines() if n]  # a browser sends each line as CRLF
    if source not in permissions.sandboxes_for("view") or target not in services.settings().sandboxes:
        permissions.require("view", source if source in services.settings().sandboxes else None)
        return _page(_picked(None), status=400, said="Pick the sandboxes again.")
    permissions.require("edit", target)
    pick = _picked(None)
    pick.source.data, pick.target.data, pick.connection.data = source, target, names
    try:
        with one_at_a_time(target) as renew:
            try:
                seen = observe.read(target)
            except AdobeError as error:
                raise AdobeFailed("Could not read the sandbox", error) from None
            # The plan as the page showed it (no secret given), then with the credentials typed.
            _text, bare = _planned(source, target, names, {}, seen)
            waiting = _waiting(bare)
            form = secrets_form(waiting)()
            if not form.validate():
                return _page(pick, bare, form, status=400)
            if bare.digest != form.digest.data:
                form.digest.data = bare.digest
                said = "The plan changed since you read it, so nothing was changed: read it again, then apply."
                return _page(pick, bare, form, status=409, said=said)
            owners = {connection for connection, _field in waiting if form[owner_name(connection)].data}
            given: dict[str, dict[str, str]] = {}
            for connection, field in waiting:
                if connection not in owners:
                    given.setdefault(connection, {})[field] = form[secret_name(connection, field)].data
            _text, plan = _planned(source, target, names, given, seen, owners)
            if plan.blocked:
                return _page(pick, plan, form, status=422, said="The plan has problems: nothing was changed.")
            if plan.deletes_connections:
                permissions.require("delete", target)
            results = Applying(plan, given, renew).run()
    except Busy:
        return _page(pick, status=409, said=f"Another apply to {target} is under way; try again when it ends.")
    except Refused as refused:
        return _unusable(pick, refused)
    complete = all(r.outcome in ("done", "skipped") for r in results)
    said = ", ".join(f"{r.kind} {r.name}: {r.action} {r.outcome}" for r in results if r.outcome != "skipped")
    audit.record("apply", "ok" if complete else "failed", sandbox=target, detail=f"promote from {source}: {said}"[:500])
    log.info("promoted %d connections from %s to %s", len(names), source, target)
    return _page(pick, plan, None, results, status=200)
