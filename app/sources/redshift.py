"""Amazon Redshift: basic authentication; `schema` as well on Experience Platform on AWS."""

from __future__ import annotations

from .base import Auth, Source
from .fields import ConnectionForm, host_field, password_field, port_field, text_field


class RedshiftForm(ConnectionForm):
    server = host_field(
        description=(
            "Cluster endpoint without the port, e.g. examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com."
        ),
        required=True,
    )
    port = port_field(5439, required=True)
    database = text_field("Database", "Name of the Redshift database to read from.")
    username = text_field("Username", "Database user Experience Platform signs in as.")
    password = password_field(required=True)
    schema = text_field(
        "Schema",
        "Schema to read from; the user above must have access to it.",
    )

    groups = [
        ("Connection", ["name", "description", "sandbox"], None),
        ("Redshift cluster", ["server", "port", "database", "username", "password", "schema"], None),
    ]

    def __init__(self, *args, cloud="azure", **kwargs):
        super().__init__(*args, cloud=cloud, **kwargs)
        if cloud != "aws":
            del self.schema

    def auth(self) -> Auth:
        params = {
            "server": self.server.data,
            "port": str(self.port.data),
            "database": self.database.data,
            "username": self.username.data,
            "password": self.password.data,
        }
        if "schema" in self:
            params["schema"] = self.schema.data
        return Auth("Basic Authentication", params)


SOURCE = Source(
    key="redshift",
    title="Amazon Redshift",
    summary="AWS's managed columnar data warehouse, reached with server, port, database and a user.",
    connection_spec_id="3416976c-a9ca-4bba-901a-1f08f66978ff",
    form_class=RedshiftForm,
    docs_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/databases/redshift",
)
