"""The connection specs the emulator serves: source authSpec schemas written from Adobe's tutorials, and the data
lake's target spec. The flow spec is in `flow_specs.py`."""

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


# As Adobe's PostgreSQL tutorial lists them: "Disable, Allow, Prefer, Verify Ca, and Verify Full".
AZURE_SSL_MODES = ["Disable", "Allow", "Prefer", "Verify Ca", "Verify Full"]
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


MYSQL_SSL_MODES = ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]


def _connection_string(label, pattern, auth_name="Connection String Based Authentication"):
    def build(cloud):
        return [{
            "name": auth_name,
            "type": "ConnectionString",
            "spec": _object(f"Defines auth params required for connecting to {label}.",
                            {"connectionString": _string(f"Connection string: {pattern}", secret=True)},
                            ["connectionString"]),
        }]
    return build


def _basic(label, properties, required, auth_name="Basic Authentication", auth_type="BasicAuthentication"):
    return {"name": auth_name, "type": auth_type,
            "spec": _object(f"Defines auth params required for connecting to {label}.", properties, required)}


def _ssl_mode(cloud):
    if cloud == "aws":
        return {"type": "boolean", "description": "Whether the connection must use SSL."}
    return {"type": "string", "enum": MYSQL_SSL_MODES, "default": "PREFERRED",
            "description": "How data is encrypted in transit."}


def _mysql(cloud):
    return _connection_string("MySQL", "Server={SERVER};Port={PORT};Database={DATABASE};UID={USERNAME};"
                              "PWD={PASSWORD}")(cloud) + [_basic("MySQL", {
        "server": _string("The name or IP address of the MySQL server."),
        "port": PORT_STRING,
        "database": _string("The MySQL database."),
        "username": _string("The user name."),
        "password": _string("The password.", secret=True),
        "sslMode": _ssl_mode(cloud),
    }, ["server", "port", "database", "username", "password", "sslMode"])]


def _mariadb(cloud):
    return _connection_string("MariaDB", "Server={HOST};Port={PORT};Database={DATABASE};UID={USERNAME};"
                              "PWD={PASSWORD}")(cloud) + [_basic("MariaDB", {
        "server": _string("The name or IP address of the MariaDB server."),
        "database": _string("The MariaDB database."),
        "username": _string("The user name."),
        "password": _string("The password.", secret=True),
        "sslMode": _ssl_mode(cloud),
    }, ["server", "database", "username", "password", "sslMode"])]


def _snowflake(cloud):
    if cloud == "aws":
        return [_basic("Snowflake", {
            "host": _string("The host of your Snowflake account, such as acme.snowflakecomputing.com."),
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 443,
                     "description": "The port Snowflake listens on."},
            "username": _string("The user name."),
            "password": _string("The password.", secret=True),
            "database": _string("The Snowflake database."),
            "warehouse": _string("The warehouse that runs the queries."),
            "schema": _string("The schema to read from."),
        }, ["host", "port", "username", "password", "database", "warehouse", "schema"])]
    return [_basic("Snowflake", {
        "account": _string("The account identifier, such as xy12345.east-us-2.azure."),
        "username": _string("The user name."),
        "database": _string("The Snowflake database."),
        "warehouse": _string("The warehouse that runs the queries."),
        "privateKey": _string("The private key, base64-encoded.", secret=True),
        "privateKeyPassphrase": _string("The passphrase of the private key, when it is encrypted.", secret=True),
    }, ["account", "username", "database", "warehouse", "privateKey"], auth_name="KeyPair Authentication",
        auth_type="KeyPairAuthentication")]


def _db2(cloud):
    return [_basic("IBM DB2", {
        "server": _string("The DB2 server, as host or host:port."),
        "database": _string("The DB2 database."),
        "authenticationType": {"type": "string", "enum": ["Basic"], "default": "Basic",
                               "description": "How the wizard's user signs in to DB2."},
        "username": _string("The user name."),
        "password": _string("The password.", secret=True),
    }, ["server", "database", "authenticationType", "username", "password"])]


def _spark(cloud):
    return [_basic("Apache Spark on Azure HDInsights", {
        "host": _string("The HDInsights cluster's host, such as acme.azurehdinsight.net."),
        "username": _string("The user name."),
        "password": _string("The password.", secret=True),
    }, ["host", "username", "password"], auth_name="HDInsights Basic Authentication")]


def _databricks(cloud):
    return [_basic("Azure Databricks", {
        "domain": _string("The workspace URL, such as https://adb-1234567890123456.7.azuredatabricks.net.",
                          pattern="^https://"),
        "clusterId": _string("The id of the cluster that runs the queries."),
        "accessToken": _string("A personal access token for the workspace.", secret=True),
        "database": _string("The database to read from."),
        "catalog": _string("Optional: the Unity Catalog to read from."),
    }, ["domain", "clusterId", "accessToken", "database"], auth_name="Access Token Authentication",
        auth_type="AccessTokenAuthentication")]


def _s3(cloud):
    return [_basic("Amazon S3", {
        "s3AccessKey": _string("The access key id."),
        "s3SecretKey": _string("The secret access key.", secret=True),
    }, ["s3AccessKey", "s3SecretKey"], auth_name="Access Key", auth_type="AccessKey")]


# Database sources beyond the curated four, from the params Adobe's source tutorials document (docs/emulator.md).
_MORE_DATABASES = [
    ("26d738e0-8963-47ea-aadf-c60de735468a", "mysql", "MySQL", _mysql),
    ("3000eb99-cd47-43f3-827c-43caf170f015", "mariadb", "MariaDB", _mariadb),
    ("1f372ff9-38a4-4492-96f5-b9a4e4bd00ec", "sql-server", "Microsoft SQL Server",
     _connection_string("Microsoft SQL Server", "Data Source={SERVER};Initial Catalog={DATABASE};"
                        "Integrated Security=False;User ID={USER_ID};Password={PASSWORD};")),
    ("d6b52d86-f0f8-475f-89d4-ce54c8527328", "oracle", "Oracle",
     _connection_string("Oracle", "Host={HOST};Port={PORT};Sid={SID};User Id={USERNAME};"
                        "Password={PASSWORD}", auth_name="ConnectionString")),
    ("b2e08744-4f1a-40ce-af30-7abac3e23cf3", "snowflake", "Snowflake", _snowflake),
    ("2fa8af9c-2d1a-43ea-a253-f00a00c74412", "teradata", "Teradata Vantage",
     _connection_string("Teradata Vantage", "DBCName={SERVER};Uid={USERNAME};Pwd={PASSWORD}",
                        auth_name="ConnectionString")),
    ("a8b6a1a4-5735-42b4-952c-85dce0ac38b5", "vertica", "HP Vertica",
     _connection_string("HP Vertica", "Server={SERVER};Port={PORT};Database={DATABASE};UID={USERNAME};"
                        "PWD={PASSWORD}")),
    ("09182899-b429-40c9-a15a-bf3ddbc8ced7", "db2", "IBM DB2", _db2),
    ("aac9bbd4-6c01-46ce-b47e-51c6f0f6db3f", "hive", "Apache Hive on Azure HDInsights",
     _connection_string("Apache Hive on Azure HDInsights",
                        "HOST={HOST};PORT={PORT};UID={USERNAME};PWD={PASSWORD}",
                        auth_name="HDInsights Basic Authentication")),
    ("6a8d82bc-1caf-45d1-908d-cadabc9d63a6", "spark", "Apache Spark on Azure HDInsights", _spark),
    ("e9d7ec6b-0873-4e57-ad21-b3a7c65e310b", "databricks", "Azure Databricks", _databricks),
]
# One source that is not a database, so that the picker's filter has something to leave out.
_OTHER = [("ecadc60c-7455-4d87-84dc-2a0e293d997b", "amazon-s3", "Amazon S3", _s3)]

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
        for spec_id, name, label, build in _CATALOG + _MORE_DATABASES
    } | {
        spec_id: {
            "id": spec_id, "name": name, "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a", "version": "1.0",
            "authSpec": build(cloud),
            "sourceSpec": {"name": "CloudStorage", "type": "CloudStorage",
                           "attributes": {"uiAttributes": {"isSource": True, "category": "CloudStorage",
                                                           "label": label}}},
            "attributes": {"category": "CloudStorage", "connectorName": label, "isSource": True},
        }
        for spec_id, name, label, build in _OTHER
    } | {DATA_LAKE_SPEC_ID: data_lake_spec()}


# The data lake's connection spec, which every target connection of a source dataflow uses (the dataflow tutorial).
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"


def data_lake_spec() -> dict:
    """The data lake's spec as "Create an Experience Platform dataset base connection" prints it
    (sources/tutorials/api/create-dataset-base-connection): a `targetSpec` that requires `dataSetId`, the
    `Dataset` permissions. The tutorial prints `{NAME}` and `{CATEGORY}`; the name is the one every source tutorial
    gives it ("the fixed connection spec ID associated to the Data Lake"), the category ours: not `Database`, for
    it is no source, and the portal lists only sources of that category."""
    return {
        "id": DATA_LAKE_SPEC_ID, "name": "Data Lake", "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "targetSpec": {"spec": {"$schema": SCHEMA, "type": "object", "properties": {"dataSetId": {"type": "string"}},
                                "required": ["dataSetId"]}},
        "attributes": {"category": "Data Lake"},
        "permissionsInfo": {"view": [{"@type": "lowLevel", "name": "Dataset", "permissions": ["read"]}],
                            "manage": [{"@type": "lowLevel", "name": "Dataset", "permissions": ["write"]}]},
    }
