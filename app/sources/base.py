"""What a source is: its catalog entry, its form, and how the form becomes a request body."""

from __future__ import annotations

import dataclasses

from wtforms import RadioField

from .connection_string import ConnectionStringError, lookup, parse_connection_string
from .fields import ConnectionForm, add_error, choices, host_name_error, port_error

CONNECTION_SPEC_VERSION = "1.0"
# Params Flow Service marks "format": "password": never shown, logged or echoed back.
SECRET_PARAMS = frozenset({"password", "connectionString"})


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
    deprecated: str | None = None

    def make_form(self, *, sandboxes, cloud, **kwargs) -> ConnectionForm:
        form = self.form_class(sandboxes=sandboxes, cloud=cloud, **kwargs)
        form.source = self
        return form

    def request_body(self, form: ConnectionForm) -> dict:
        """The POST /connections body for a validated form."""
        auth = form.auth()
        return {
            "name": form.name.data.strip(),
            "description": (form.description.data or "").strip(),
            "auth": {"specName": auth.spec_name, "params": auth.params},
            "connectionSpec": {"id": self.connection_spec_id, "version": CONNECTION_SPEC_VERSION},
        }


def method_field(options, default):
    return RadioField(
        "How do you want to enter the connection?",
        choices=choices(options),
        default=default,
        description="Pick one; only the fields for that choice are used.",
    )


def check_pasted_string(field, required_keys) -> dict[str, str] | None:
    """Parse a pasted connection string, adding a field error for anything it lacks.

    `required_keys` is [(label, (accepted key names...))]. Returns the parsed pairs
    or None when the string is unusable.
    """
    text = (field.data or "").strip()
    if not text:
        add_error(field, "Paste the connection string.")
        return None
    try:
        pairs = parse_connection_string(text)
    except ConnectionStringError as exc:
        add_error(field, str(exc))
        return None
    missing = [names[0] for _label, names in required_keys if not lookup(pairs, *names)]
    if missing:
        add_error(
            field,
            "The connection string has no value for " + ", ".join(missing) + "; add "
            + "; ".join(f"{key}=…" for key in missing) + ".",
        )
        return None
    for label, names in required_keys:
        value = lookup(pairs, *names)
        problem = host_name_error(value) if label == "host" else port_error(value) if label == "port" else None
        if problem:
            add_error(field, f"{names[0]}: {problem}")
            return None
    return pairs
