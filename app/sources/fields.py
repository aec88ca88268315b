"""Fields and validators shared by every source form."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError
from wtforms.widgets import TextInput

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a select or radio field."""
    return [SelectChoice(value, label) for value, label in pairs]


def add_error(field, message: str) -> None:
    """Attach an error found after WTForms' own validation to a field."""
    field.errors = [*field.errors, message]


def no_control_characters(form, field):
    """Refuse tabs, newlines and other control characters: a driver would read them raw."""
    value = field.data if isinstance(field.data, str) else None
    if value and any(unicodedata.category(ch) == "Cc" for ch in value):
        raise StopValidation("Remove the tab, line break or other control character from this value.")


def looks_like_a_connection_string(value: str) -> bool:
    """A whole pasted connection (key=value pairs, or a URI with a user), which may hold a password."""
    return "=" in value or ("://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0])


def host_name(form, field):
    """Accept a DNS name, an IPv4 or an IPv6 address; explain what to type instead of a URL."""
    value = (field.data or "").strip()
    if not value:
        return
    if looks_like_a_connection_string(value):
        # Never sent back to the page: the string may hold a password, and this is a plain text box.
        field.data, field.raw_data = "", [""]
        raise ValidationError(
            "This looks like a whole connection string, which may hold a password, so it was "
            "not kept. Type only the host name here; paste a connection string into "
            "“Connection string”, where the form has one, and use “Split into separate fields”."
        )
    field.data = value
    problem = host_name_error(value)
    if problem:
        raise ValidationError(problem)


def port_error(value: str) -> str | None:
    """Why `value` is not a TCP port, or None."""
    text = value.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 65535:
        return None
    return PortField.message


def host_name_error(value: str) -> str | None:
    """Why `value` is not a host name or IP address, or None."""
    if "://" in value:
        # urlsplit reads jdbc:redshift://h:1/db with an empty host, so take the authority by hand.
        authority = value.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        parts = urlsplit("//" + authority)
        host = parts.hostname or "the host name"
        try:
            given = parts.port
        except ValueError:
            given = None
        hint = f" and {given} as the port" if given else ""
        return f"Enter only the host name, not a URL: type {host} here{hint}."
    if value.startswith("[") and value.endswith("]"):
        return f"Enter the IPv6 address without brackets: {value[1:-1]}."
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if "@" in value:
        return "Enter only the host name; the user name goes in its own field."
    if value.count(":") == 1:
        host, port = value.split(":")
        return f"Enter the host without the port: type {host} here and {port} as the port."
    if "/" in value:
        return f"Enter only the host name, without a path: {value.split('/')[0]}."
    name = value[:-1] if value.endswith(".") else value
    if len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        return (
            "Enter a host name such as db.example.com, an IPv4 address such as 10.0.0.5, "
            "or an IPv6 address such as 2001:db8::5."
        )
    return None


def http_path(form, field):
    if field.data and not field.data.startswith("/"):
        raise ValidationError(f"Start the path with “/”, for example /{field.data}.")


class PortField(IntegerField):
    """A TCP port: a whole number from 1 to 65535, with a message that says so."""

    message = "Enter the port as a whole number from 1 to 65535."
    # A text box with a numeric keyboard: type=number would let the browser rewrite "5432.0" silently.
    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            if len(text) > 5 or not (text.isascii() and text.isdigit()):
                raise ValueError
            self.data = int(text, 10)
        except ValueError:
            self.data = None
            raise ValueError(self.message) from None

    def pre_validate(self, form):
        if self.data is not None and not 1 <= self.data <= 65535:
            raise StopValidation(self.message)


def text_field(label, description, required=True, **kwargs):
    """A single-line text field with our standard checks."""
    validators = [InputRequired()] if required else []
    validators.append(no_control_characters)
    validators.extend(kwargs.pop("validators", []))
    return StringField(label, validators=validators, description=description, **kwargs)


def _required(required, message=None):
    return [InputRequired(message=message) if message else InputRequired()] if required else []


def host_field(
    label="Server",
    description="Host name or IP address of the database server, without https:// or a port.",
    required=False,
):
    return StringField(
        label,
        validators=_required(required) + [no_control_characters, host_name],
        description=description,
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"},
    )


def port_field(default, description=None, required=False):
    return PortField(
        "Port",
        default=default,
        validators=_required(required, PortField.message),
        description=description or f"TCP port the database listens on (usually {default}).",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def password_field(
    label="Password",
    description="Password of that user. It is sent to Adobe once and never shown again.",
    required=False,
):
    return PasswordField(
        label,
        validators=_required(required) + [no_control_characters],
        description=description,
        render_kw={"autocomplete": "new-password"},
    )


class ConnectionForm(FlaskForm):
    """What every source asks: the connection's name, description and sandbox."""

    name = text_field(
        "Connection name",
        "How this base connection is listed in Experience Platform.",
        validators=[Length(max=256)],
    )
    description = text_field(
        "Description",
        "Optional: what the connection is for, for whoever finds it later.",
        required=False,
        validators=[Length(max=1024)],
    )
    sandbox = SelectField(
        "Sandbox",
        description="The Experience Platform sandbox the connection is created in.",
        validators=[InputRequired()],
        # validate_sandbox below says which ones may be used, in words a person can act on.
        validate_choice=False,
    )

    # For sources with several kinds of authentication: which `method` choice sends each auth.specName,
    # and which auth.specName each choice sends (none: every choice sends the same).
    method_for_spec: dict[str, str] = {}
    spec_of_method: dict[str, str] = {}

    def keep_methods_for(self, spec_name: str) -> None:
        """Offer only the choices that send `spec_name`: what a rotation may send (the kind cannot change)."""
        method = getattr(self, "method", None)
        if method is None or not self.spec_of_method:
            return
        method.choices = [c for c in method.choices if self.spec_of_method.get(c.value) == spec_name]

    # Set by each source: its fields grouped for display, as
    # (legend, [field names], methods the group belongs to or None for all).
    groups: list[tuple[str, list[str], tuple[str, ...] | None]] = []

    def __init__(self, *args, sandboxes=("prod",), cloud="azure", **kwargs):
        super().__init__(*args, **kwargs)
        self.cloud = cloud
        self.sandbox.choices = choices((s, s) for s in sandboxes)
        self.sandboxes = tuple(sandboxes)
        if not self.is_submitted():
            self.sandbox.data = sandboxes[0]
        for field in self:
            checks = self.browser_checks(field)
            if checks:
                field.render_kw = {**(field.render_kw or {}), **checks}

    def browser_checks(self, field) -> dict[str, str]:
        """The data-* attributes with which wizard.js checks `field` as the server will, before sending.

        data-required: the message when it is empty while shown; data-check: host, port, path or
        connection-string (with data-keys). The server checks everything again.
        """
        checks = {}
        required = next((v for v in field.validators if isinstance(v, InputRequired)), None)
        if required is not None or field.name in self.required_when_shown():
            checks["data-required"] = (
                required.message if required is not None and required.message else "This field is required."
            )
        if isinstance(field, PortField):
            checks["data-check"] = "port"
        elif host_name in field.validators:
            checks["data-check"] = "host"
        elif http_path in field.validators:
            checks["data-check"] = "path"
        return checks

    def required_when_shown(self) -> set[str]:
        """Fields required whenever the chosen method shows them, beyond those marked InputRequired."""
        return set()

    def validate_sandbox(self, field):
        # Only AEP_SANDBOXES: a value forged into the POST must not reach another sandbox.
        if field.data not in self.sandboxes:
            raise ValidationError(f"Choose one of the sandboxes this portal may use: {', '.join(self.sandboxes)}.")

    def validate(self, extra_validators=None) -> bool:
        """WTForms' checks on the fields in use, then the source's own checks across fields."""
        super().validate(extra_validators)
        in_use = self.fields_in_use()
        for name, field in self._fields.items():
            if name not in in_use:
                field.errors = []
        self.validate_together()
        return not any(field.errors for field in self)

    def validate_together(self) -> None:
        """Checks that involve several fields or the chosen method; sources override this."""

    def fields_in_use(self) -> set[str]:
        """Names of the fields that the chosen method uses (all of them for single-method sources)."""
        chosen = self.chosen_method()
        names = {"csrf_token"}
        for _legend, group, methods in self.groups:
            if methods is None or chosen in methods:
                names.update(group)
        return names

    def require(self, *names: str) -> None:
        """Add 'required' errors to the named fields left empty."""
        for name in names:
            field = self[name]
            if field.data in (None, "") and not field.errors:
                add_error(field, "This field is required.")

    def visible_groups(self):
        """The groups to render as (legend, [bound fields], methods), skipping removed fields."""
        return [
            (legend, [self[name] for name in names if name in self._fields], methods)
            for legend, names, methods in self.groups
        ]

    def chosen_method(self) -> str | None:
        method = getattr(self, "method", None)
        return method.data if method is not None else None
