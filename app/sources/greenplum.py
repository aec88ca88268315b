"""GreenPlum: one `connectionString` param, HOST=..;PORT=..;DB=..;UID=..;PWD=.."""

from __future__ import annotations

from .base import Auth, PastedStringForm, Source, method_field
from .connection_string import build_connection_string
from .fields import host_field, password_field, port_field, text_field

# (what it is, the keys accepted for it: GreenPlum's own first, then the ODBC style).
REQUIRED_KEYS = [
    ("server", ("HOST", "Server")),
    ("port", ("PORT", "Port")),
    ("database", ("DB", "Database", "dbname")),
    ("username", ("UID", "User")),
    ("password", ("PWD", "Password")),
]


class GreenplumForm(PastedStringForm):
    string_keys = REQUIRED_KEYS
    method = method_field(
        [("fields", "Fill in the fields"), ("connectionString", "Paste a connection string")],
        default="fields",
    )
    server = host_field()
    port = port_field(5432)
    database = text_field("Database", "Name of the database to read from.", required=False)
    username = text_field("Username", "Database user Experience Platform signs in as.", required=False)
    password = password_field()
    connectionString = password_field(
        "Connection string",
        "HOST=…;PORT=…;DB=…;UID=…;PWD=… (Server/Port/Database/UID/PWD also works). "
        "Contains the password, so it is never shown again.",
    )

    groups = [
        ("Connection", ["name", "description", "sandbox", "method"], None),
        ("GreenPlum server", ["server", "port", "database", "username", "password"], ("fields",)),
        ("Connection string", ["connectionString"], ("connectionString",)),
    ]

    def auth(self) -> Auth:
        if self.method.data == "connectionString":
            value = self.connectionString.data.strip()
        else:
            value = build_connection_string(
                [
                    ("HOST", self.server.data),
                    ("PORT", self.port.data),
                    ("DB", self.database.data),
                    ("UID", self.username.data),
                    ("PWD", self.password.data),
                ]
            )
        return Auth("Basic Authentication", {"connectionString": value})


SOURCE = Source(
    key="greenplum",
    title="GreenPlum",
    summary="Massively parallel PostgreSQL-based data warehouse, reached with a connection string.",
    connection_spec_id="37b6bf40-d318-4655-90be-5cd6f65d334b",
    form_class=GreenplumForm,
    docs_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/databases/greenplum",
)
