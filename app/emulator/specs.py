"""The connection specs the emulator serves: source authSpec schemas written from Adobe's tutorials, and the data
lake's target spec. The flow spec is in `flow_specs.py`."""

from __future__ import annotations

from .more_specs import MORE_DATABASES, OTHER
from .spec_parts import PORT_STRING, SCHEMA, auth_object, string_param

# As Adobe's PostgreSQL tutorial lists them: "Disable, Allow, Prefer, Verify Ca, and Verify Full".
AZURE_SSL_MODES = ["Disable", "Allow", "Prefer", "Verify Ca", "Verify Full"]


def _greenplum(cloud):
    return [
        {
            "name": "Basic Authentication",
            "type": "ConnectionString",
            "spec": auth_object(
                "Defines auth params required for connecting to GreenPlum.",
                {
                    "connectionString": string_param(
                        "Connection string: HOST={SERVER};PORT={PORT};DB={DATABASE};UID={USERNAME};PWD={PASSWORD}",
                        secret=True,
                    )
                },
                ["connectionString"],
            ),
        }
    ]


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
            "spec": auth_object(
                "Defines auth params required for connecting to PostgreSQL with a connection string.",
                {
                    "connectionString": string_param(
                        "Server={SERVER};Database={DATABASE};Port={PORT};UID={USERNAME};Password={PASSWORD}",
                        secret=True,
                    )
                },
                ["connectionString"],
            ),
        },
        {
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": auth_object(
                "Defines auth params required for connecting to PostgreSQL with basic authentication.",
                {
                    "server": string_param("The name or IP address of the PostgreSQL database."),
                    "port": PORT_STRING,
                    "database": string_param("The name of the PostgreSQL database."),
                    "username": string_param("The user name."),
                    "password": string_param("The password.", secret=True),
                    "sslMode": ssl_mode,
                },
                ["server", "port", "database", "username", "password", "sslMode"],
            ),
        },
    ]


def _redshift(cloud):
    properties = {
        "server": string_param("The server of the Amazon Redshift instance."),
        "port": PORT_STRING,
        "database": string_param("The Amazon Redshift database."),
        "username": string_param("The user name."),
        "password": string_param("The password.", secret=True),
    }
    required = ["server", "port", "database", "username", "password"]
    if cloud == "aws":
        properties["schema"] = string_param("The schema the user reads from.")
        required.append("schema")
    return [
        {
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": auth_object(
                "Defines auth params required for connecting to Amazon Redshift.", properties, required
            ),
        }
    ]


def _phoenix(cloud):
    return [
        {
            "name": "Basic Authentication",
            "type": "BasicAuthentication",
            "spec": auth_object(
                "Defines auth params required for connecting to Apache Phoenix.",
                {
                    "host": string_param("The IP address or host name of the Phoenix server."),
                    "port": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 65535,
                        "description": "The TCP port the Phoenix server listens on.",
                    },
                    "httpPath": string_param("The partial URL of the Phoenix server.", pattern="^/"),
                    "enableSsl": {"type": "boolean", "description": "Whether connections are encrypted with SSL."},
                    "username": string_param("The user name."),
                    "password": string_param("The password.", secret=True),
                },
                ["host", "port", "httpPath", "enableSsl", "username", "password"],
            ),
        }
    ]


_CATALOG = [
    ("37b6bf40-d318-4655-90be-5cd6f65d334b", "greenplum", "GreenPlum", _greenplum),
    ("74a1c565-4e59-48d7-9d67-7c03b8a13137", "postgresql", "PostgreSQL", _postgresql),
    ("3416976c-a9ca-4bba-901a-1f08f66978ff", "amazon-redshift", "Amazon Redshift", _redshift),
    ("102706fb-a5cd-42ee-afe0-bc42f017ff43", "phoenix", "Apache Phoenix", _phoenix),
]


def connection_specs(cloud: str) -> dict[str, dict]:
    """{id: connection spec} in Flow Service's shape, for Experience Platform on `cloud`."""
    return (
        {
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
            for spec_id, name, label, build in _CATALOG + MORE_DATABASES
        }
        | {
            spec_id: {
                "id": spec_id,
                "name": name,
                "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
                "version": "1.0",
                "authSpec": build(cloud),
                "sourceSpec": {
                    "name": "CloudStorage",
                    "type": "CloudStorage",
                    "attributes": {"uiAttributes": {"isSource": True, "category": "CloudStorage", "label": label}},
                },
                "attributes": {"category": "CloudStorage", "connectorName": label, "isSource": True},
            }
            for spec_id, name, label, build in OTHER
        }
        | {DATA_LAKE_SPEC_ID: data_lake_spec()}
    )


# The data lake's connection spec, which every target connection of a source dataflow uses (the dataflow tutorial).
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"


def data_lake_spec() -> dict:
    """The data lake's spec as "Create an Experience Platform dataset base connection" prints it
    (sources/tutorials/api/create-dataset-base-connection): a `targetSpec` that requires `dataSetId`, the
    `Dataset` permissions. The tutorial prints `{NAME}` and `{CATEGORY}`; the name is the one every source tutorial
    gives it ("the fixed connection spec ID associated to the Data Lake"), the category ours: not `Database`, for
    it is no source, and the portal lists only sources of that category."""
    return {
        "id": DATA_LAKE_SPEC_ID,
        "name": "Data Lake",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "targetSpec": {
            "spec": {
                "$schema": SCHEMA,
                "type": "object",
                "properties": {"dataSetId": {"type": "string"}},
                "required": ["dataSetId"],
            }
        },
        "attributes": {"category": "Data Lake"},
        "permissionsInfo": {
            "view": [{"@type": "lowLevel", "name": "Dataset", "permissions": ["read"]}],
            "manage": [{"@type": "lowLevel", "name": "Dataset", "permissions": ["write"]}],
        },
    }
