"""The four connection specs the emulator serves, authSpec schemas written from Adobe's tutorials."""

from __future__ import annotations

SCHEMA = "http://json-schema.org/draft-07/schema#"


def _string(description, secret=False, **extra):
    prop = {"type": "string", "description": description, "minLength": 1, **extra}
    if secret:
        prop["format"] = "password"
    return prop


def _object(description, properties, required):
    return {
        "$schema": SCHEMA,
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


AZURE_SSL_MODES = ["Disable", "Allow", "Prefer", "Require", "Verify Ca", "Verify Full"]
PORT_STRING = {"type": "string", "pattern": "^[0-9]{1,5}$", "description": "The port of the database server."}


def _greenplum(cloud):
    return [{
        "name": "Basic Authentication",
        "type": "ConnectionString",
        "spec": _object(
            "Defines auth params required for connecting to GreenPlum.",
            {"connectionString": _string(
                "Connection string: HOST={SERVER};PORT={PORT};DB={DATABASE};UID={USERNAME};PWD={PASSWORD}",
                secret=True)},
            ["connectionString"],
        ),
    }]


def _postgresql(cloud):
    ssl_mode = (
        {"type": "string", "enum": ["true", "false"], "description": "Whether SSL is enforced."}
        if cloud == "aws"
        else {"type": "string", "enum": AZURE_SSL_MODES, "description": "How data is encrypted in transit."}
    )
    return [
        {
            "name": "Connection String Based Authentication",
            "type": "ConnectionString",
            "spec": _object(
                "Defines auth params required for connecting to PostgreSQL with a connection string.",
                {"connectionString": _string(
                    "Server={SERVER};Database={DATABASE};Port={PORT};UID={USERNAME};Password={PASSWORD}",
                    secret=True)},
                ["connectionString"],
            ),
        },
        {
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": _object(
                "Defines auth params required for connecting to PostgreSQL with basic authentication.",
                {
                    "server": _string("The name or IP address of the PostgreSQL database."),
                    "port": PORT_STRING,
                    "database": _string("The name of the PostgreSQL database."),
                    "username": _string("The user name."),
                    "password": _string("The password.", secret=True),
                    "sslMode": ssl_mode,
                },
                ["server", "port", "database", "username", "password", "sslMode"],
            ),
        },
    ]


def _redshift(cloud):
    properties = {
        "server": _string("The server of the Amazon Redshift instance."),
        "port": PORT_STRING,
        "database": _string("The Amazon Redshift database."),
        "username": _string("The user name."),
        "password": _string("The password.", secret=True),
    }
    required = ["server", "port", "database", "username", "password"]
    if cloud == "aws":
        properties["schema"] = _string("The schema the user reads from.")
        required.append("schema")
    return [{
        "name": "Basic Authentication",
        "type": "BasicAuthentication",
        "spec": _object("Defines auth params required for connecting to Amazon Redshift.", properties, required),
    }]


def _phoenix(cloud):
    return [{
        "name": "Basic Authentication",
        "type": "BasicAuthentication",
        "spec": _object(
            "Defines auth params required for connecting to Apache Phoenix.",
            {
                "host": _string("The IP address or host name of the Phoenix server."),
                "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                         "description": "The TCP port the Phoenix server listens on."},
                "httpPath": _string("The partial URL of the Phoenix server.", pattern="^/"),
                "enableSsl": {"type": "boolean", "description": "Whether connections are encrypted with SSL."},
                "username": _string("The user name."),
                "password": _string("The password.", secret=True),
            },
            ["host", "port", "httpPath", "enableSsl", "username", "password"],
        ),
    }]


_CATALOG = [
    ("37b6bf40-d318-4655-90be-5cd6f65d334b", "greenplum", "GreenPlum", _greenplum),
    ("74a1c565-4e59-48d7-9d67-7c03b8a13137", "postgresql", "PostgreSQL", _postgresql),
    ("3416976c-a9ca-4bba-901a-1f08f66978ff", "amazon-redshift", "Amazon Redshift", _redshift),
    ("102706fb-a5cd-42ee-afe0-bc42f017ff43", "phoenix", "Apache Phoenix", _phoenix),
]


def connection_specs(cloud: str) -> dict[str, dict]:
    """{id: connection spec} in Flow Service's shape, for Experience Platform on `cloud`."""
    return {
        spec_id: {
            "id": spec_id,
            "name": name,
            "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
            "version": "1.0",
            "authSpec": build(cloud),
            "sourceSpec": {
                "name": "Database",
                "type": "Database",
                "attributes": {"uiAttributes": {"isSource": True, "category": "database", "label": label}},
            },
            "exploreSpec": {"name": "Database", "type": "Database"},
            "attributes": {"category": "Database", "connectorName": label, "isSource": True},
        }
        for spec_id, name, label, build in _CATALOG
    }
