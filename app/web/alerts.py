"""The Alerts page: rules that say which dataflows' events go where, managed by editors (in their sandboxes) and admins
(everywhere); deliveries that keep failing, with their last error, to be sent again; a test sent on request.

A webhook's signing secret is shown once, on the page that answers its rule's creation (or a new secret), and never
again; a webhook's or Slack's address is never shown after it is saved (its host is).
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm

from .. import services
from ..watch import channels
from ..watch.deliverer import Deliverer
from ..watch.forms import AlertRuleForm
from ..watch.rules import KINDS
from ..watch.sealing import new_salt
from . import audit, permissions
from .dataflow_list import source_names

bp = Blueprint("alerts", __name__)
log = logging.getLogger(__name__)


class ButtonForm(FlaskForm):
    """A button: only its CSRF token is sent."""


def _everywhere() -> bool:
    """Whether the person is admin in every sandbox of the portal (and so may make rules for all of them)."""
    return all(permissions.role_in(s) == "admin" for s in services.settings().sandboxes)


def _manageable() -> list[tuple[str, str]]:
    choices = [(s, s) for s in permissions.sandboxes_for("alerts")]
    if _everywhere():
        choices.append(("*", "Every sandbox"))
    return choices


def _may_manage(rule: dict) -> bool:
    return _everywhere() if rule["sandbox"] == "*" else permissions.may("alerts", rule["sandbox"])


def _load(rule_id: str) -> dict:
    """The rule, when the person may manage it; 404 otherwise (another team's rule is not confirmed to exist)."""
    rule = services.store().alerts.rule(rule_id) if len(rule_id) == 20 and rule_id.isalnum() else None
    if rule is None or not _may_manage(rule):
        abort(404)
    return rule


def _form(rule: dict | None = None) -> AlertRuleForm:
    settings = services.settings()
    names = source_names()
    data = None
    if rule is not None:
        data = {
            "name": rule["name"],
            "sandbox": rule["sandbox"],
            "source": rule.get("source") or "",
            "flow_id": rule.get("flow_id") or "",
            "events": rule["events"],
            "channel": rule["channel"],
            "emails": rule["target"] if rule["channel"] == "email" else "",
        }
    return AlertRuleForm(
        data=data if request.method == "GET" else None,
        sandboxes=_manageable(),
        sources=sorted(names.items(), key=lambda item: item[1].lower()),
        check_url=lambda url: channels.check_destination(url, settings.alerts_to_loopback),
        mail_ready=bool(settings.smtp_url),
        keeps_url=rule is not None and rule["channel"] != "email",
    )


def _hint(channel: str, form: AlertRuleForm) -> str:
    if channel == "email":
        return form.emails.data
    host = urlsplit(form.url.data).hostname or "?"
    return f"{'Slack' if channel == 'slack' else 'webhook'} at {host}"


def _entry(action: str, rule: dict, outcome: str = "ok", detail: str | None = None) -> dict:
    return audit.entry(
        action,
        outcome,
        sandbox=rule["sandbox"],
        connection_name=rule["name"],
        connection_id=rule["id"],
        source="alert",
        detail=detail or rule["target_hint"],
    )


@bp.get("/alerts")
def index():
    """Rules the person may manage, deliveries that keep failing, and the latest events."""
    permissions.require("alerts")
    store = services.store()
    everywhere = _everywhere()
    sandboxes = list(permissions.sandboxes_for("alerts"))
    rules = [rule for rule in store.alerts.rules(None if everywhere else sandboxes) if _may_manage(rule)]
    ids = [rule["id"] for rule in rules]
    return render_template(
        "alerts.html",
        rules=rules,
        kinds=KINDS,
        names=source_names(),
        failing=store.alerts.deliveries(("failed",), ids),
        waiting=store.alerts.deliveries(("pending", "sending"), ids),
        events=store.alerts.recent_events(None if everywhere else sandboxes),
        button=ButtonForm(),
        rule_names={rule["id"]: rule["name"] for rule in rules},
    )


@bp.route("/alerts/new", methods=["GET", "POST"])
def new():
    """Add a rule; a webhook's signing secret is shown once, on the page that answers."""
    permissions.require("alerts")
    form = _form()
    if not form.validate_on_submit():
        return render_template("alert_rule.html", form=form, rule=None), 400 if request.method == "POST" else 200
    rule_id = secrets.token_hex(10)
    values = _values(form, rule_id)
    rule = {"id": rule_id, **values}
    services.store().alerts.add_rule(rule_id, g.get("user"), _entry("add-alert-rule", rule), **values)
    log.info("alert rule %s added (%s)", rule_id, form.channel.data)
    return _made(rule, "Rule added.")


def _values(form: AlertRuleForm, rule_id: str, kept: dict | None = None) -> dict:
    """The rule's columns from the form: a webhook or Slack address sealed with a new salt, or the one kept."""
    channel = form.channel.data
    if channel == "email":
        target, hint = form.emails.data, form.emails.data
    elif form.url.data:
        target = services.sealer().seal(rule_id, {"url": form.url.data, "salt": new_salt()})
        hint = _hint(channel, form)
    else:
        target, hint = kept["target"], kept["target_hint"]  # type: ignore[index]
    return {
        "name": form.name.data.strip(),
        "sandbox": form.sandbox.data,
        "source": form.source.data or None,
        "flow_id": form.flow_id.data or None,
        "events": list(form.events.data),
        "channel": channel,
        "target": target,
        "target_hint": hint[:256],
    }


def _made(rule: dict, message: str):
    """The page after a rule is saved: a webhook's signing secret shown this once."""
    secret = None
    if rule["channel"] == "webhook":
        destination = services.sealer().open(rule["id"], rule["target"])
        secret = services.sealer().signing_secret(rule["id"], destination["salt"])
    if secret is None:
        flash(message)
        return redirect(url_for("alerts.index"), code=303)
    return render_template("alert_secret.html", rule=rule, secret=secret, message=message)


@bp.route("/alerts/<rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id):
    """Change a rule; its address is kept unless a new one is typed."""
    permissions.require("alerts")
    rule = _load(rule_id)
    form = _form(rule)
    if form.channel.data != rule["channel"] and form.channel.data != "email":
        form._keeps_url = False  # a new kind of destination needs its address
    if not form.validate_on_submit():
        return render_template("alert_rule.html", form=form, rule=rule), 400 if request.method == "POST" else 200
    values = _values(form, rule_id, rule)
    new_address = form.channel.data != "email" and bool(form.url.data)
    services.store().alerts.change_rule(rule_id, _entry("change-alert-rule", {**rule, **values}), **values)
    if new_address:
        return _made({**rule, **values}, "Rule changed, with its new address.")
    flash("Rule changed.")
    return redirect(url_for("alerts.index"), code=303)


@bp.post("/alerts/<rule_id>/delete")
def delete(rule_id):
    """Remove a rule, and its deliveries not yet sent."""
    permissions.require("alerts")
    rule = _load(rule_id)
    if not ButtonForm().validate():
        abort(400)
    services.store().alerts.remove_rule(rule_id, _entry("remove-alert-rule", rule))
    flash(f"Rule removed: {rule['name']}.")
    return redirect(url_for("alerts.index"), code=303)


@bp.post("/alerts/<rule_id>/secret")
def new_secret(rule_id):
    """Make a webhook's signing secret anew (the old one stops verifying), shown once."""
    permissions.require("alerts")
    rule = _load(rule_id)
    if not ButtonForm().validate() or rule["channel"] != "webhook":
        abort(400)
    sealer = services.sealer()
    destination = sealer.open(rule_id, rule["target"])
    target = sealer.seal(rule_id, {"url": destination["url"], "salt": new_salt()})
    services.store().alerts.change_rule(
        rule_id, _entry("change-alert-rule", rule, detail="new signing secret"), target=target
    )
    return _made({**rule, "target": target}, "A new signing secret was made; the old one no longer verifies.")


@bp.post("/alerts/<rule_id>/test")
def test(rule_id):
    """Send a test alert through the rule now, and say how it went."""
    permissions.require("alerts")
    rule = _load(rule_id)
    if not ButtonForm().validate():
        abort(400)
    event = {
        "id": "test-" + secrets.token_hex(8),
        "created_at": "now",
        "body": {"kind": "test", "sandbox": rule["sandbox"], "dataflow": {}},
    }
    try:
        Deliverer(services.current()).send(rule, event)
    except channels.SendFailed as failure:
        services.store().audit.record(**_entry("test-alert-rule", rule, "failed", failure.message))
        flash(f"The test was not delivered: {failure.message}.")
    else:
        services.store().audit.record(**_entry("test-alert-rule", rule))
        flash(f"Test sent to {rule['target_hint']}.")
    return redirect(url_for("alerts.index"), code=303)


@bp.post("/alerts/deliveries/<event_id>/<rule_id>/send")
def send_again(event_id, rule_id):
    """Send a failed delivery again (from now, with a new day of tries)."""
    permissions.require("alerts")
    rule = _load(rule_id)
    if not ButtonForm().validate() or not event_id.isalnum() or len(event_id) > 64:
        abort(400)
    if services.store().alerts.send_again(event_id, rule_id, _entry("resend-alert", rule, detail=event_id[:12])):
        flash("The alert will be sent again in a moment.")
    return redirect(url_for("alerts.index"), code=303)
