"""The alert rule form: which dataflows (a sandbox, a source, one dataflow), which events, and where to send them. Its
choices are injected (the sandboxes the person may manage, the sources offered) and so is the destination check."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..sources.fields import no_control_characters
from .rules import KINDS

OBJECT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
EMAIL = re.compile(r"^[^@\s,<>;]{1,64}@[^@\s,<>;]{1,190}$")
MOST_ADDRESSES = 10
CHANNELS = [
    ("webhook", "Webhook: a signed JSON POST to an address of yours"),
    ("slack", "Slack: an incoming webhook of a Slack channel"),
    ("email", "Email"),
]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by the `field` macro as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AlertRuleForm(FlaskForm):
    name = StringField(
        "Rule name",
        validators=[InputRequired("Give the rule a name."), Length(max=128), no_control_characters],
        description="How the rule is listed, such as “Sales dataflows to on-call”.",
    )
    sandbox = SelectField("Sandbox", description="The dataflows of this sandbox; “every sandbox” is for admins.")
    source = SelectField("Source", description="Only dataflows that read this source, or any source.")
    flow_id = StringField(
        "One dataflow (optional)",
        validators=[Length(max=64)],
        description="A dataflow's id, to watch that dataflow alone. Leave empty for all.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    events = MultiCheckboxField("Tell when", choices=list(KINDS.items()), description="One or more of these.")
    channel = RadioField(
        "Send to",
        choices=CHANNELS,
        default="webhook",
        description="Where the alert goes. Webhook and Slack addresses are kept sealed and never shown again.",
    )
    url = PasswordField(
        "Webhook or Slack address",
        validators=[Length(max=2000)],
        description="For a webhook or Slack: the https:// address to POST to. When changing a rule, "
        "leave empty to keep the address it has.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    emails = StringField(
        "Email addresses",
        validators=[Length(max=2000)],
        description=f"For email: up to {MOST_ADDRESSES} addresses, separated by commas.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def __init__(self, *args, sandboxes=(), sources=(), check_url=None, mail_ready=False, keeps_url=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox.choices = list(sandboxes)
        self.source.choices = [("", "Any source"), *sources]
        self._check_url = check_url or (lambda url: None)
        self._mail_ready = mail_ready
        self._keeps_url = keeps_url

    def validate_flow_id(self, field):
        field.data = (field.data or "").strip()
        if field.data and not OBJECT_ID.match(field.data):
            raise ValidationError("A dataflow id is letters, digits and dashes, as on the dataflow's page.")

    def validate_events(self, field):
        if not field.data:
            raise ValidationError("Choose at least one event.")

    def validate_url(self, field):
        field.data = (field.data or "").strip()
        if self.channel.data not in ("webhook", "slack"):
            return
        if not field.data:
            if self._keeps_url:
                return
            raise ValidationError("Give the address to send to.")
        problem = self._check_url(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_emails(self, field):
        if self.channel.data != "email":
            return
        addresses = [a.strip() for a in (field.data or "").split(",") if a.strip()]
        if not self._mail_ready:
            raise ValidationError("Email is not set up on this portal: ask whoever runs it to set WIZARD_SMTP_URL.")
        if not addresses:
            raise ValidationError("Give at least one email address.")
        if len(addresses) > MOST_ADDRESSES:
            raise ValidationError(f"Give at most {MOST_ADDRESSES} addresses.")
        wrong = [a for a in addresses if not EMAIL.match(a)]
        if wrong:
            raise ValidationError(f"{wrong[0]} is not an email address.")
        field.data = ", ".join(addresses)
