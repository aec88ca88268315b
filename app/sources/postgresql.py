"""PostgreSQL: a connection string (typed as fields or pasted), or basic authentication."""

from __future__ import annotations

from wtforms import RadioField, SelectField

from .base import Auth, PastedStringForm, Source, method_field
from .connection_string import build_connection_string
from .fields import choices, host_field, password_field, port_field, text_field

REQUIRED_KEYS = [
    ("server", ("Server", "Host")),
    ("port", ("Port",)),
    ("database", ("Database", "DB", "dbname")),
    ("username", ("UID", "User")),
    ("password", ("Password", "PWD")),
]

# Experience Platform on Azure: the sslMode values Adobe's tutorial documents ("The available values include:
# Disable, Allow, Prefer, Verify Ca, and Verify Full"), each explained. Require is not among them.
AZURE_SSL_MODES = [
    ("Disable", "Disable — never use SSL"),
    ("Allow", "Allow — plain first, SSL only if the server insists"),
    ("Prefer", "Prefer — SSL if the server offers it, plain otherwise"),
    ("Verify Ca", "Verify Ca — SSL, and the certificate must come from a trusted CA"),
    ("Verify Full", "Verify Full — as Verify Ca, and the certificate must name this server"),
]
# Experience Platform on AWS: sslMode is a boolean, sent as the string the tutorial shows.
AWS_SSL_MODES = [
    ("false", "false — SSL is not enforced (Adobe's default)"),
    ("true", "true — SSL is enforced; the server must support it"),
]

BASIC = "Basic Authentication"
CONNECTION_STRING = "Connection String Based Authentication"


class PostgresqlForm(PastedStringForm):
    string_keys = REQUIRED_KEYS
    optional_string_keys = [
        ("encryptionMethod", ("EncryptionMethod",)),
        ("validateServerCertificate", ("ValidateServerCertificate",)),
    ]
    # A pasted libpq string or URI's sslmode (PostgreSQL's "SSL Support": disable, allow, prefer, require, verify-ca,
    # verify-full) kept as the driver's nearest choice: prefer and allow encrypt when the server offers it (allow
    # tries plain first; the driver has no such mode: our choice, the nearest that still encrypts when it can),
    # require and the verify modes always encrypt, and the verify modes check the certificate.
    translated_string_keys = [
        (
            "encryptionMethod",
            ("sslmode",),
            {"disable": "0", "allow": "6", "prefer": "6", "require": "1", "verify-ca": "1", "verify-full": "1"},
        ),
        ("validateServerCertificate", ("sslmode",), {"require": "0", "verify-ca": "1", "verify-full": "1"}),
    ]
    method = method_field(
        [
            ("fields", "Connection string, from the fields below"),
            ("connectionString", "Connection string, pasted"),
            ("basic", "Basic authentication (server, port, database, user, password, SSL mode)"),
        ],
        default="fields",
        description=(
            "What differs is how Flow Service receives it: as one connection string (typed field by field, or pasted), "
            "which can carry the driver's encryption settings; or as basic authentication, each value apart, with an "
            "SSL mode. Both reach the same database; only the fields for your choice are used."
        ),
    )
    server = host_field()
    port = port_field(5432)
    database = text_field("Database", "Name of the database to read from.", required=False)
    username = text_field("Username", "Database user Experience Platform signs in as.", required=False)
    password = password_field()
    # Offered by what each does; the driver's code (the EncryptionMethod and ValidateServerCertificate keys of the
    # DataDirect PostgreSQL driver that Flow Service's connection string carries) is shown beside, not as the choice.
    encryptionMethod = SelectField(
        "Encryption",
        choices=choices(
            [
                ("", "The driver's default (nothing added)"),
                ("0", "Never encrypt (EncryptionMethod=0)"),
                ("1", "Always encrypt with SSL (EncryptionMethod=1)"),
                ("6", "Encrypt when the server offers it (EncryptionMethod=6)"),
            ]
        ),
        default="",
        description="Whether the connection to the database is encrypted.",
    )
    validateServerCertificate = SelectField(
        "Check the server's certificate",
        choices=choices(
            [
                ("", "The driver's default (nothing added)"),
                ("0", "Accept any certificate (ValidateServerCertificate=0)"),
                ("1", "Check it against trusted authorities (ValidateServerCertificate=1)"),
            ]
        ),
        default="",
        description="Takes effect when the connection is encrypted.",
    )
    sslMode = RadioField("SSL mode", description="How the connection to the server is encrypted.")
    connectionString = password_field(
        "Connection string",
        "Server=…;Database=…;Port=…;UID=…;Password=… (EncryptionMethod and "
        "ValidateServerCertificate may follow). Contains the password, so it is never shown again.",
    )

    groups = [
        ("Connection", ["name", "description", "sandbox", "method"], None),
        ("PostgreSQL server", ["server", "port", "database", "username", "password"], ("fields", "basic")),
        ("Encryption", ["encryptionMethod", "validateServerCertificate"], ("fields",)),
        ("SSL", ["sslMode"], ("basic",)),
        ("Connection string", ["connectionString"], ("connectionString",)),
    ]

    method_for_spec = {BASIC: "basic", CONNECTION_STRING: "fields"}
    spec_of_method = {"fields": CONNECTION_STRING, "connectionString": CONNECTION_STRING, "basic": BASIC}

    def __init__(self, *args, cloud="azure", **kwargs):
        super().__init__(*args, cloud=cloud, **kwargs)
        modes = AWS_SSL_MODES if cloud == "aws" else AZURE_SSL_MODES
        self.sslMode.choices = choices(modes)
        if self.sslMode.data is None:
            self.sslMode.data = "false" if cloud == "aws" else "Prefer"

    def auth(self) -> Auth:
        if self.method.data == "connectionString":
            return Auth(CONNECTION_STRING, {"connectionString": self.connectionString.data.strip()})
        if self.method.data == "basic":
            return Auth(
                BASIC,
                {
                    "server": self.server.data,
                    "port": str(self.port.data),
                    "database": self.database.data,
                    "username": self.username.data,
                    "password": self.password.data,
                    "sslMode": self.sslMode.data,
                },
            )
        pairs = [
            ("Server", self.server.data),
            ("Database", self.database.data),
            ("Port", self.port.data),
            ("UID", self.username.data),
            ("Password", self.password.data),
        ]
        if self.encryptionMethod.data:
            pairs.append(("EncryptionMethod", self.encryptionMethod.data))
        if self.validateServerCertificate.data:
            pairs.append(("ValidateServerCertificate", self.validateServerCertificate.data))
        return Auth(CONNECTION_STRING, {"connectionString": build_connection_string(pairs)})


SOURCE = Source(
    key="postgresql",
    title="PostgreSQL",
    summary="Open-source relational database; connect with a connection string or basic authentication.",
    connection_spec_id="74a1c565-4e59-48d7-9d67-7c03b8a13137",
    form_class=PostgresqlForm,
    docs_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/databases/postgres",
)
