"""The database sources beyond the curated four that the emulator serves, from the params Adobe's source tutorials
document (docs/emulator.md), and one source that is not a database."""

from __future__ import annotations

from .spec_parts import PORT_STRING, basic_auth, string_auth, string_param

MYSQL_SSL_MODES = ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]


def _ssl_mode(cloud):
    if cloud == "aws":
        return {"type": "boolean", "description": "Whether the connection must use SSL."}
    return {
        "type": "string",
        "enum": MYSQL_SSL_MODES,
        "default": "PREFERRED",
        "description": "How data is encrypted in transit.",
    }


def _mysql(cloud):
    return string_auth("MySQL", "Server={SERVER};Port={PORT};Database={DATABASE};UID={USERNAME};PWD={PASSWORD}")(
        cloud
    ) + [
        basic_auth(
            "MySQL",
            {
                "server": string_param("The name or IP address of the MySQL server."),
                "port": PORT_STRING,
                "database": string_param("The MySQL database."),
                "username": string_param("The user name."),
                "password": string_param("The password.", secret=True),
                "sslMode": _ssl_mode(cloud),
            },
            ["server", "port", "database", "username", "password", "sslMode"],
        )
    ]


def _mariadb(cloud):
    return string_auth("MariaDB", "Server={HOST};Port={PORT};Database={DATABASE};UID={USERNAME};PWD={PASSWORD}")(
        cloud
    ) + [
        basic_auth(
            "MariaDB",
            {
                "server": string_param("The name or IP address of the MariaDB server."),
                "database": string_param("The MariaDB database."),
                "username": string_param("The user name."),
                "password": string_param("The password.", secret=True),
                "sslMode": _ssl_mode(cloud),
            },
            ["server", "database", "username", "password", "sslMode"],
        )
    ]


def _snowflake(cloud):
    if cloud == "aws":
        return [
            basic_auth(
                "Snowflake",
                {
                    "host": string_param("The host of your Snowflake account, such as acme.snowflakecomputing.com."),
                    "port": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 65535,
                        "default": 443,
                        "description": "The port Snowflake listens on.",
                    },
                    "username": string_param("The user name."),
                    "password": string_param("The password.", secret=True),
                    "database": string_param("The Snowflake database."),
                    "warehouse": string_param("The warehouse that runs the queries."),
                    "schema": string_param("The schema to read from."),
                },
                ["host", "port", "username", "password", "database", "warehouse", "schema"],
            )
        ]
    return [
        basic_auth(
            "Snowflake",
            {
                "account": string_param("The account identifier, such as xy12345.east-us-2.azure."),
                "username": string_param("The user name."),
                "database": string_param("The Snowflake database."),
                "warehouse": string_param("The warehouse that runs the queries."),
                "privateKey": string_param("The private key, base64-encoded.", secret=True),
                "privateKeyPassphrase": string_param(
                    "The passphrase of the private key, when it is encrypted.", secret=True
                ),
            },
            ["account", "username", "database", "warehouse", "privateKey"],
            auth_name="KeyPair Authentication",
            auth_type="KeyPairAuthentication",
        )
    ]


def _db2(cloud):
    return [
        basic_auth(
            "IBM DB2",
            {
                "server": string_param("The DB2 server, as host or host:port."),
                "database": string_param("The DB2 database."),
                "authenticationType": {
                    "type": "string",
                    "enum": ["Basic"],
                    "default": "Basic",
                    "description": "How the wizard's user signs in to DB2.",
                },
                "username": string_param("The user name."),
                "password": string_param("The password.", secret=True),
            },
            ["server", "database", "authenticationType", "username", "password"],
        )
    ]


def _spark(cloud):
    return [
        basic_auth(
            "Apache Spark on Azure HDInsights",
            {
                "host": string_param("The HDInsights cluster's host, such as acme.azurehdinsight.net."),
                "username": string_param("The user name."),
                "password": string_param("The password.", secret=True),
            },
            ["host", "username", "password"],
            auth_name="HDInsights Basic Authentication",
        )
    ]


def _databricks(cloud):
    return [
        basic_auth(
            "Azure Databricks",
            {
                "domain": string_param(
                    "The workspace URL, such as https://adb-1234567890123456.7.azuredatabricks.net.",
                    pattern="^https://",
                ),
                "clusterId": string_param("The id of the cluster that runs the queries."),
                "accessToken": string_param("A personal access token for the workspace.", secret=True),
                "database": string_param("The database to read from."),
                "catalog": string_param("Optional: the Unity Catalog to read from."),
            },
            ["domain", "clusterId", "accessToken", "database"],
            auth_name="Access Token Authentication",
            auth_type="AccessTokenAuthentication",
        )
    ]


def _s3(cloud):
    return [
        basic_auth(
            "Amazon S3",
            {
                "s3AccessKey": string_param("The access key id."),
                "s3SecretKey": string_param("The secret access key.", secret=True),
            },
            ["s3AccessKey", "s3SecretKey"],
            auth_name="Access Key",
            auth_type="AccessKey",
        )
    ]


# Database sources beyond the curated four, from the params Adobe's source tutorials document (docs/emulator.md).
MORE_DATABASES = [
    ("26d738e0-8963-47ea-aadf-c60de735468a", "mysql", "MySQL", _mysql),
    ("3000eb99-cd47-43f3-827c-43caf170f015", "mariadb", "MariaDB", _mariadb),
    (
        "1f372ff9-38a4-4492-96f5-b9a4e4bd00ec",
        "sql-server",
        "Microsoft SQL Server",
        string_auth(
            "Microsoft SQL Server",
            "Data Source={SERVER};Initial Catalog={DATABASE};"
            "Integrated Security=False;User ID={USER_ID};Password={PASSWORD};",
        ),
    ),
    (
        "d6b52d86-f0f8-475f-89d4-ce54c8527328",
        "oracle",
        "Oracle",
        string_auth(
            "Oracle",
            "Host={HOST};Port={PORT};Sid={SID};User Id={USERNAME};Password={PASSWORD}",
            auth_name="ConnectionString",
        ),
    ),
    ("b2e08744-4f1a-40ce-af30-7abac3e23cf3", "snowflake", "Snowflake", _snowflake),
    (
        "2fa8af9c-2d1a-43ea-a253-f00a00c74412",
        "teradata",
        "Teradata Vantage",
        string_auth("Teradata Vantage", "DBCName={SERVER};Uid={USERNAME};Pwd={PASSWORD}", auth_name="ConnectionString"),
    ),
    (
        "a8b6a1a4-5735-42b4-952c-85dce0ac38b5",
        "vertica",
        "HP Vertica",
        string_auth("HP Vertica", "Server={SERVER};Port={PORT};Database={DATABASE};UID={USERNAME};PWD={PASSWORD}"),
    ),
    ("09182899-b429-40c9-a15a-bf3ddbc8ced7", "db2", "IBM DB2", _db2),
    (
        "aac9bbd4-6c01-46ce-b47e-51c6f0f6db3f",
        "hive",
        "Apache Hive on Azure HDInsights",
        string_auth(
            "Apache Hive on Azure HDInsights",
            "HOST={HOST};PORT={PORT};UID={USERNAME};PWD={PASSWORD}",
            auth_name="HDInsights Basic Authentication",
        ),
    ),
    ("6a8d82bc-1caf-45d1-908d-cadabc9d63a6", "spark", "Apache Spark on Azure HDInsights", _spark),
    ("e9d7ec6b-0873-4e57-ad21-b3a7c65e310b", "databricks", "Azure Databricks", _databricks),
]
# One source that is not a database, so that the picker's filter has something to leave out.
OTHER = [("ecadc60c-7455-4d87-84dc-2a0e293d997b", "amazon-s3", "Amazon S3", _s3)]
