"""What a source is: its catalog entry, its form, and how the form becomes a request body."""

from __future__ import annotations

import dataclasses
import json

from wtforms import RadioField

from ..wording import with_article
from . import secrecy
from .connection_string import ConnectionStringError, lookup, read_pasted
from .fields import ConnectionForm, add_error, choices, host_name_error, port_error

CONNECTION_SPEC_VERSION = "1.0"


@dataclasses.dataclass(frozen=True)
class Auth:
    spec_name: str
    params: dict


@dataclasses.dataclass(frozen=True)
class Source:
    key: str
    title: str
    summary: str
    connection_spec_id: str
    form_class: type[ConnectionForm]
    docs_url: str
    # Adobe's deprecation notice, quoted, and where Adobe points instead.
    deprecated: str | None = None
    deprecation_url: str | None = None
    # Params never shown, logged or echoed back: what the authSpec marks "format": "password".
    secret_params: frozenset = secrecy.SECRET_PARAMS

    def make_form(self, *, sandboxes, cloud, **kwargs) -> ConnectionForm:
        return self.form_class(sandboxes=sandboxes, cloud=cloud, **kwargs)

    def param_order(self) -> list[str]:
        """The auth params in the order the source's form (and Adobe's tutorial or the spec) lists them."""
        return [name for _legend, names, _methods in self.form_class.groups for name in names]

    def redacted_body(self, body: dict) -> dict:
        """`body` with every secret replaced by its placeholder, fit to show (see secrecy.redact_param)."""
        params = secrecy.redacted_params(body["auth"]["params"], self.secret_params)
        return {**body, "auth": {**body["auth"], "params": params}}

    def typed_secrets(self, form_data) -> list[str]:
        """The secrets in a posted form, before any validation: what the log must never show."""
        return secrecy.secret_values({name: form_data.get(name, "") for name in self.secret_params}, self.secret_params)

    def request_body(self, form: ConnectionForm) -> dict:
        """The POST /connections body for a validated form."""
        auth = form.auth()
        return {
            "name": form.name.data.strip(),
            "description": (form.description.data or "").strip(),
            "auth": {"specName": auth.spec_name, "params": auth.params},
            "connectionSpec": {"id": self.connection_spec_id, "version": CONNECTION_SPEC_VERSION},
        }


def method_field(options, default, description: str = "Pick one; only the fields for that choice are used."):
    return RadioField(
        "How do you want to enter the connection?",
        choices=choices(options),
        default=default,
        description=description,
    )


def check_pasted_string(field, required_keys, shape: str | None = None) -> dict[str, str] | None:
    """Parse a pasted connection string, adding a field error for anything it lacks.

    `required_keys` is [(field name, (accepted key names...))]; a field name of server, host or port has its
    value checked as one. `shape` is the string's documented form, for a form without "Split into separate
    fields". Returns the parsed pairs or None when the string is unusable.
    """
    text = (field.data or "").strip()
    if not text:
        add_error(field, "Paste the connection string.")
        return None
    try:
        kind, pairs = read_pasted(text)
        if kind != "key=value;":
            advice = (
                f"Write it as {shape}." if shape else "Use “Split into separate fields” to fill the fields from it."
            )
            add_error(
                field,
                f"This is {with_article(kind)} connection string; Flow Service reads only key=value; strings. {advice}",
            )
            return None
    except ConnectionStringError as exc:
        add_error(field, str(exc))
        return None
    missing = [names[0] for _label, names in required_keys if not lookup(pairs, *names)]
    if missing:
        add_error(
            field,
            "The connection string has no value for "
            + ", ".join(missing)
            + "; add "
            + "; ".join(f"{key}=…" for key in missing)
            + ".",
        )
        return None
    for field_name, names in required_keys:
        value = lookup(pairs, *names) or ""  # every required key has a value: checked above
        problem = (
            host_name_error(value)
            if field_name in ("server", "host")
            else port_error(value)
            if field_name == "port"
            else None
        )
        if problem:
            add_error(field, f"{names[0]}: {problem}")
            return None
    return pairs


def string_checks(required_keys, shape: str | None = None) -> dict[str, str]:
    """The data-* attributes with which wizard.js checks a pasted key=value; string as check_pasted_string does."""
    checks = {
        "data-check": "connection-string",
        "data-keys": json.dumps([[name, list(keys)] for name, keys in required_keys]),
    }
    if shape:
        checks["data-shape"] = shape
    return checks


class PastedStringForm(ConnectionForm):
    """A form whose connection can also be pasted as one connection string.

    Subclasses set `string_keys`: [(field name, accepted keys)] for the keys that
    must be present, and `optional_string_keys` for those that may be.
    """

    string_keys: list[tuple[str, tuple[str, ...]]] = []
    optional_string_keys: list[tuple[str, tuple[str, ...]]] = []
    # [(field name, accepted keys, {a key's value (lower case): the field's value})]: a pasted key whose meaning a
    # field of another vocabulary holds, such as libpq's sslmode for the driver's encryption choice. A value the map
    # does not know is left out and said so, never dropped silently.
    translated_string_keys: list[tuple[str, tuple[str, ...], dict[str, str]]] = []

    def required_when_shown(self) -> set[str]:
        return {name for name, _keys in self.string_keys} | {"connectionString"}

    def browser_checks(self, field) -> dict[str, str]:
        checks = super().browser_checks(field)
        if field.name == "connectionString":
            checks.update(string_checks(self.string_keys), **{"data-required": "Paste the connection string."})
        return checks

    def validate_together(self):
        if self.method.data == "connectionString":
            check_pasted_string(self.connectionString, self.string_keys)
        else:
            self.require(*(name for name, _keys in self.string_keys))

    def split_keys(self) -> list[tuple]:
        """[(field name, accepted keys)] in form order, then [(field name, keys, their values' map)], for the
        browser's copy of the splitting."""
        plain: list[tuple] = [(name, list(keys)) for name, keys in self.string_keys + self.optional_string_keys]
        return plain + [(name, list(keys), values) for name, keys, values in self.translated_string_keys]

    def split_connection_string(self) -> list[str] | None:
        """Fill the separate fields from the pasted string, except the password (a secret).

        Returns the keys that have no field of their own, or None when the string
        cannot be read (the reason is on the connectionString field).
        """
        try:
            # key=value; as Flow Service reads it, or libpq's key=value pairs, or a URI.
            _kind, pairs = read_pasted(self.connectionString.data or "")
        except ConnectionStringError as exc:
            add_error(self.connectionString, str(exc))
            return None
        used: set[str] = set()
        for name, keys in self.string_keys + self.optional_string_keys:
            value = lookup(pairs, *keys)
            used.update(k.lower() for k in keys)
            if value is None or name == "password":
                continue
            if name == "port":
                self.port.raw_data = [value]
                try:
                    self.port.process_formdata([value])
                except ValueError as exc:
                    add_error(self.port, str(exc))
            else:
                self[name].data = value
        for name, keys, values in self.translated_string_keys:
            value = lookup(pairs, *keys)
            if value is not None and value.strip().lower() in values:
                self[name].data = values[value.strip().lower()]
                used.update(k.lower() for k in keys)
        self.method.data = "fields"
        return [key for key in pairs if key.lower() not in used]
