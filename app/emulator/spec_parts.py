"""What the emulator's connection specs are written with: a JSON Schema string param, an auth object, an auth spec of
basic params or of one connection string (specs.py and more_specs.py)."""

from __future__ import annotations

SCHEMA = "http://json-schema.org/draft-07/schema#"
PORT_STRING = {"type": "string", "pattern": "^[0-9]{1,5}$", "description": "The port of the database server."}


def string_param(description, secret=False, **extra):
    prop = {"type": "string", "description": description, "minLength": 1, **extra}
    if secret:
        prop["format"] = "password"
    return prop


def auth_object(description, properties, required):
    return {
        "$schema": SCHEMA,
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def string_auth(label, pattern, auth_name="Connection String Based Authentication"):
    def build(cloud):
        return [
            {
                "name": auth_name,
                "type": "ConnectionString",
                "spec": auth_object(
                    f"Defines auth params required for connecting to {label}.",
                    {"connectionString": string_param(f"Connection string: {pattern}", secret=True)},
                    ["connectionString"],
                ),
            }
        ]

    return build


def basic_auth(label, properties, required, auth_name="Basic Authentication", auth_type="BasicAuthentication"):
    return {
        "name": auth_name,
        "type": auth_type,
        "spec": auth_object(f"Defines auth params required for connecting to {label}.", properties, required),
    }
