"""Any Flow Service source: a form built from an authSpec's JSON Schema, checked against that schema.

The curated modules (greenplum, postgresql, ...) know their sources better; this
covers every other source a connection spec describes, the day Adobe adds it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from decimal import Decimal, InvalidOperation

import jsonschema
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import NumberInput

from .base import Auth, Source, check_pasted_string, string_checks
from .fields import ConnectionForm, add_error, choices, host_name_error, no_control_characters, port_error

HOST_NAMES = {"host", "server"}


class _Numeric(IntegerField):
    """A number param whose wrong value says what to type (not WTForms' "Not a valid integer value").

    The text must have the plain shape `shape` before any arithmetic: no exponent, at most 15 digits
    each side of the point (what a JSON number carries exactly), so that `1e1000000` costs nothing.
    """

    message = "Enter a number of at most 15 digits, such as 1.5."
    shape = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$")

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            if len(text) > 40 or not self.shape.match(text):
                raise ValueError(self.message)
            try:
                self.data = self.parse(text)
            except (ValueError, InvalidOperation):
                raise ValueError(self.message) from None

    def pre_validate(self, form):
        # A value that is no number at all gets that one message, not a range complaint besides.
        if self.process_errors:
            raise StopValidation()


class WholeNumberField(_Numeric):
    widget = NumberInput(step="1")
    message = "Enter a whole number of at most 15 digits, such as 42."
    shape = re.compile(r"^-?[0-9]{1,15}$")

    @staticmethod
    def parse(text):
        return int(text, 10)


class NumberField(_Numeric):
    """Kept as int when whole, so that JSON carries 5, not 5.0."""

    widget = NumberInput(step="any")

    @staticmethod
    def parse(text):
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
        return int(value) if value == value.to_integral_value() else float(value)


# Words a label keeps in capitals: "SSL mode", not "Ssl mode".
ACRONYMS = {
    "ssl",
    "tls",
    "sid",
    "id",
    "url",
    "uri",
    "http",
    "https",
    "dns",
    "ip",
    "jdbc",
    "odbc",
    "db",
    "sql",
    "aws",
    "iam",
    "arn",
    "oauth",
    "api",
    "dbc",
    "ca",
}


def param_label(name: str) -> str:
    """camelCase or snake_case param name → "Words like these", acronyms in capitals ("SSL mode")."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    if not words:
        return name
    shown = [w.upper() if w.lower() in ACRONYMS else w.lower() for w in words]
    shown[0] = shown[0][:1].upper() + shown[0][1:]
    return " ".join(shown)


def _field(name: str, schema: dict, required: bool):
    """One WTForms field for one property of an authSpec schema."""
    label = schema.get("title") or param_label(name)
    description = schema.get("description") or ""
    kind = schema.get("type")
    if not required and kind != "boolean" and not description.lower().startswith("optional"):
        description = "Optional: " + (
            description[:1].lower() + description[1:] if description else "leave empty if unused."
        )
    needed = [InputRequired(f"Enter the {label.lower()}.")] if required else [Optional()]
    default = schema.get("default")
    if "enum" in schema:
        values = [str(v) for v in schema["enum"]]
        options = ([] if required else [("", "(not set)")]) + [(v, v) for v in values]
        return SelectField(
            label,
            choices=choices(options),
            default=None if default is None else str(default),
            description=description,
            validate_choice=False,
            validators=[InputRequired(f"Choose the {label.lower()}.")] if required else [],
        )
    if kind == "boolean":
        return BooleanField(label, default=bool(default), description=description)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        attrs = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        bounds = [NumberRange(min=low, max=high, message=_range_message(low, high))] if attrs else []
        cls = WholeNumberField if kind == "integer" else NumberField
        return cls(label, default=default, description=description, validators=needed + bounds, render_kw=attrs)
    lengths = (
        [Length(min=schema.get("minLength", -1), max=schema.get("maxLength", -1))]
        if "maxLength" in schema or schema.get("minLength", 0) > 1
        else []
    )
    if schema.get("format") == "password":
        return PasswordField(
            label,
            description=description or "Sent to Adobe once and never shown again.",
            validators=needed + lengths + [no_control_characters],
            render_kw={"autocomplete": "new-password"},
        )
    return StringField(
        label,
        default=default,
        description=description,
        validators=needed + lengths + [no_control_characters],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"},
    )


def _range_message(low, high) -> str:
    if low is not None and high is not None:
        return f"Enter a number from {low} to {high}."
    return f"Enter a number of at least {low}." if low is not None else f"Enter a number of at most {high}."


def secret_names(schema: dict) -> frozenset[str]:
    return frozenset(n for n, p in (schema.get("properties") or {}).items() if p.get("format") == "password")


class SchemaForm(ConnectionForm):
    """A connection form whose auth fields come from an authSpec's JSON Schema (set by form_class_for)."""

    auth_spec: dict = {}
    param_names: list[str] = []

    def params(self) -> dict:
        """The auth params as the schema types them: booleans always, optional values only when given."""
        properties = self.auth_spec["spec"].get("properties") or {}
        params: dict[str, object] = {}
        for name in self.param_names:
            value = self[name].data
            if properties[name].get("type") == "boolean":
                params[name] = bool(value)
            elif isinstance(value, str):
                value = value if properties[name].get("format") == "password" else value.strip()
                if value:
                    params[name] = value
            elif value is not None:
                params[name] = value
        return params

    def validate_together(self) -> None:
        """Every check in one round: each field's shape, a connection string's keys, then the schema."""
        for name in self.param_names:
            value = self[name].data
            if self[name].errors or not isinstance(value, str) or not value.strip():
                continue
            if name == "port":
                problem = port_error(value)
            elif name in HOST_NAMES:
                # host:port is fine where a source allows it (IBM DB2); a URL is not, and says so.
                text = value.strip()
                host, _, port = text.rpartition(":") if text.count(":") == 1 and "/" not in text else (text, "", "")
                problem = host_name_error(host) or (port_error(port) if port else None)
            elif name == "connectionString":
                check_pasted_string(self[name], *string_keys_of(self.auth_spec["spec"]["properties"][name]))
                problem = None
            else:
                problem = None
            if problem:
                add_error(self[name], problem)
        # The schema has the last word: whatever the fields let through, Flow Service will check the same.
        # A field that already says what is wrong is not told twice.
        validator = jsonschema.Draft7Validator(self.auth_spec["spec"])
        for error in validator.iter_errors(self.params()):
            name = _field_of(error)
            target = self[name] if name in self.param_names else self.name
            if not target.errors:
                add_error(target, _schema_message(error, target.label.text))

    def browser_checks(self, field) -> dict[str, str]:
        checks = super().browser_checks(field)
        if field.name == "port" and field.name in self.param_names and field.type == "StringField":
            checks["data-check"] = "port"
        elif field.name in HOST_NAMES and field.name in self.param_names:
            checks["data-check"] = "host-port"
        elif field.name == "connectionString" and field.name in self.param_names:
            checks.update(string_checks(*string_keys_of(self.auth_spec["spec"]["properties"][field.name])))
        return checks

    def auth(self) -> Auth:
        return Auth(self.auth_spec["name"], self.params())


# Key={PLACEHOLDER} in a connection string's documented shape, as the spec or Adobe's tutorial writes it.
_SHAPE_PAIR = re.compile(r"([A-Za-z][A-Za-z ]*?)=\{([A-Z_]+)\}")
_PLACEHOLDER_CHECKS = {"SERVER": "server", "HOST": "server", "PORT": "port"}


def string_keys_of(schema: dict) -> tuple[list[tuple[str, tuple[str, ...]]], str | None]:
    """([(what it is, (key,))], the shape) of the keys a connection string param's description names, such as
    Server={SERVER};Port={PORT};…; none when it names none (the string must still read as key=value;)."""
    text = str(schema.get("description") or "")
    pairs = _SHAPE_PAIR.findall(text)
    if not pairs:
        return [], None
    shape = ";".join(f"{key.strip()}=…" for key, _placeholder in pairs)
    checks: list[tuple[str, tuple[str, ...]]] = [
        (_PLACEHOLDER_CHECKS.get(placeholder, key.strip().lower()), (key.strip(),)) for key, placeholder in pairs
    ]
    return checks, shape


def _field_of(error) -> str:
    if error.validator == "required":
        match = re.match(r"'([^']+)' is a required property", error.message)
        return match.group(1) if match else ""
    return str(error.path[0]) if error.path else ""


def _schema_message(error, label: str) -> str:
    kind = error.validator
    if kind == "required":
        return "This field is required."
    if kind == "pattern":
        return f"This does not have the form the {label.lower()} needs; see the hint above."
    if kind == "enum":
        return "Choose one of the listed values."
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"This number is out of range: {error.message}."
    if kind in ("minLength", "maxLength"):
        return f"This is too {'short' if kind == 'minLength' else 'long'}."
    return f"Flow Service would refuse this: {error.message}."


def form_class_for(auth_spec: dict) -> type[SchemaForm]:
    """A SchemaForm subclass with one field per property of `auth_spec`'s schema, in the schema's order."""
    schema = auth_spec["spec"]
    required = set(schema.get("required") or [])
    properties = schema.get("properties") or {}
    # The form's own fields (name, description, sandbox) cannot be shadowed by a param of the same name.
    names = [n for n in properties if n not in ConnectionForm.__dict__ and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n)]
    attrs = {name: _field(name, properties[name], name in required) for name in names}
    attrs.update(
        auth_spec=auth_spec,
        param_names=names,
        groups=[("Connection", ["name", "description", "sandbox"], None), (auth_spec["name"], names, None)],
    )
    return type("SchemaForm_" + re.sub(r"\W", "_", auth_spec["name"]), (SchemaForm,), attrs)


@dataclasses.dataclass(frozen=True)
class SpecSource(Source):
    """A source known only from its connection spec; `auth_name` picks one of its authSpecs."""

    auth_name: str = ""


def source_from_spec(spec: dict, auth_spec: dict) -> SpecSource:
    label = (
        (spec.get("attributes") or {}).get("connectorName")
        or ((spec.get("sourceSpec") or {}).get("attributes") or {}).get("uiAttributes", {}).get("label")
        or spec.get("name")
        or spec["id"]
    )
    return SpecSource(
        key="spec",
        title=label,
        summary=f"{auth_spec['name']}, from the connection spec Flow Service publishes.",
        connection_spec_id=spec["id"],
        form_class=form_class_for(auth_spec),
        docs_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/home",
        secret_params=secret_names(auth_spec["spec"]),
        auth_name=auth_spec["name"],
    )


def validate_spec_schema(auth_spec: dict) -> None:
    """Raise ValidationError when an authSpec carries no usable object schema."""
    schema = auth_spec.get("spec") if isinstance(auth_spec, dict) else None
    if not isinstance(schema, dict) or schema.get("type", "object") != "object" or not schema.get("properties"):
        raise ValidationError("This authSpec has no object schema of params.")
    jsonschema.Draft7Validator.check_schema(schema)


def usable(auth_spec: dict) -> bool:
    """Whether the wizard can make a form of this authSpec (one odd authSpec must not hide a spec's others)."""
    try:
        validate_spec_schema(auth_spec)
    except Exception:  # noqa: BLE001 - any schema the wizard cannot read is one it offers no form for
        logging.getLogger(__name__).warning("authSpec %r has no usable schema", auth_spec.get("name"))
        return False
    return True


def source_for(spec: dict | None, auth_name: str | None) -> SpecSource | None:
    """The form source of a published spec's authSpec (the only one, when the spec has one and none is named), or
    None when one must be chosen or the name is not the spec's."""
    if spec is None:
        return None
    auth_specs = spec["authSpec"]
    if auth_name is None and len(auth_specs) == 1:
        auth_name = auth_specs[0]["name"]
    chosen = next((a for a in auth_specs if a["name"] == auth_name), None)
    return source_from_spec(spec, chosen) if chosen else None
