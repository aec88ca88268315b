"""The sources' own forms, fed from JSON: a call to the API is checked by the same WTForms form as the page, with
the same messages per field, and each form's fields are described as JSON Schema from that form."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, SelectField
from wtforms.validators import InputRequired, Length

from .. import services
from ..sources import SOURCES
from ..sources.described import label_of
from ..sources.generic import NumberField, source_for
from .problems import Problem, field_errors

# The fields every form has, which the API takes at the top of the body rather than among `fields`.
COMMON = ("name", "description", "sandbox", "csrf_token")


def find_source(key: str, auth: str | None = None):
    """A curated source by key, or another database source by its connection spec id (and authSpec name); 404."""
    if key in SOURCES:
        return SOURCES[key]
    spec = services.spec_catalog().spec(key) if len(key) <= 64 else None
    source = source_for(spec, auth)
    if source is None:
        raise Problem(
            404,
            "No such source",
            "There is no source of that key, or it has several kinds of authentication and `auth` names none of them."
            if spec
            else "There is no source of that key: GET /api/v1/sources lists them.",
        )
    return source


def as_formdata(values: dict) -> MultiDict:
    """JSON values as a form would send them: true as "y" (a ticked box), false left out, numbers as text."""
    data: MultiDict = MultiDict()
    for name, value in values.items():
        if value is False or value is None:
            continue
        data[name] = "y" if value is True else str(value)
    return data


def checked_form(source, fields: dict, common: dict, sandboxes):
    """The source's form filled with its `fields` and the `common` ones (name, description, sandbox) and validated; a
    422 problem naming each field at fault otherwise, a field the form does not have among them (never ignored)."""
    form = source.make_form(
        sandboxes=sandboxes or ("",),
        cloud=services.settings().cloud,
        formdata=as_formdata({**fields, **common}),
        meta={"csrf": False},
    )
    known = {field.name for field in form} - set(COMMON)
    unknown = [
        {"field": f"fields.{name}", "message": f"{source.title} has no field of that name."}
        for name in fields
        if name not in known
    ]
    if unknown or not form.validate():
        errors = unknown + [
            {**e, "field": e["field"] if e["field"] in COMMON else f"fields.{e['field']}"}
            for e in field_errors(form.errors)
        ]
        raise Problem(422, "Check the fields", "Some fields need changing; nothing was sent to Adobe.", errors=errors)
    return form


def fields_schema(source) -> dict:
    """The JSON Schema of a source's `fields`, from its form: each field's type, choices, label and description;
    secrets marked writeOnly, as the API never gives them back."""
    settings = services.settings()
    form = source.make_form(sandboxes=settings.sandboxes, cloud=settings.cloud, meta={"csrf": False})
    properties, required = {}, []
    for field in form:
        if field.name in COMMON:
            continue
        prop: dict = {"title": str(field.label.text), "description": str(field.description or "")}
        if isinstance(field, BooleanField):
            prop["type"] = "boolean"
        elif isinstance(field, NumberField):
            prop["type"] = "number"
        elif isinstance(field, IntegerField):
            prop["type"] = "integer"
        else:
            prop["type"] = "string"
        if isinstance(field, (SelectField, RadioField)) and field.choices:
            prop["enum"] = [c[0] if isinstance(c, tuple) else getattr(c, "value", c) for c in field.choices]
        if isinstance(field, PasswordField) or field.name in source.secret_params:
            prop.update(writeOnly=True, format="password")
        for validator in field.validators:
            if isinstance(validator, Length) and validator.max and validator.max > 0:
                prop["maxLength"] = validator.max
            if isinstance(validator, InputRequired):
                required.append(field.name)
        if field.default not in (None, "") and not callable(field.default):
            prop["default"] = field.default
        properties[field.name] = prop
    groups = getattr(form, "groups", [])
    return {
        "type": "object",
        "title": f"{source.title} fields",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **({"x-groups": [{"legend": g[0], "fields": g[1], "methods": g[2]} for g in groups]} if groups else {}),
    }


def offered() -> list[dict[str, Any]]:
    """Every source the API can create connections of: the curated four, then every other database spec."""
    items: list[dict[str, Any]] = [
        dict(
            key=s.key,
            title=s.title,
            summary=s.summary,
            connection_spec_id=s.connection_spec_id,
            deprecated=s.deprecated,
        )
        for s in SOURCES.values()
    ]
    specs, _problem = services.spec_catalog().database_specs()
    items += [
        dict(
            key=spec["id"],
            title=label_of(spec),
            connection_spec_id=spec["id"],
            auth_specs=[a["name"] for a in spec.get("authSpec") or [] if isinstance(a, dict) and a.get("name")],
        )
        for spec in specs
    ]
    return items


def mapping_refused(form, columns: list[str], title: str, detail: str) -> Problem:
    """A mapping form's refusals as a 422 problem: each column's field named by the column (mapping.columns.email),
    each constant by its place (mapping.constants.0.path); errors the rules put beside a field after validation too."""
    named = {f"column_{i}": f"mapping.columns.{name}" for i, name in enumerate(columns)}
    named |= {f"constant_{p}_{j}": f"mapping.constants.{j}.{p}" for j in range(3) for p in ("path", "value")}
    errors = [{**e, "field": named.get(e["field"], e["field"])} for e in field_errors(form.errors)]
    errors += [
        {"field": named.get(f.name, f.name), "message": str(m)}
        for f in form
        if f.name not in form.errors
        for m in f.errors
    ]
    return Problem(422, title, detail, errors=errors)
