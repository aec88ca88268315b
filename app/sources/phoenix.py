"""Apache Phoenix: host, port (a JSON number), httpPath and enableSsl (a JSON boolean)."""

from __future__ import annotations

from wtforms import BooleanField

from .base import Auth, Source
from .fields import ConnectionForm, host_field, http_path, password_field, port_field, text_field


class PhoenixForm(ConnectionForm):
    host = host_field(
        "Host",
        "Host name or IP address of the Phoenix Query Server, without https:// or a port.",
        required=True,
    )
    port = port_field(
        8765,
        "TCP port of the Phoenix Query Server (8765 by default; 443 on Azure HDInsight).",
        required=True,
    )
    httpPath = text_field(
        "HTTP path",
        "Partial URL of the Phoenix server, starting with “/”: /hbasephoenix0 on Azure HDInsight, usually / elsewhere.",
        validators=[http_path],
        default="/",
    )
    enableSsl = BooleanField(
        "Encrypt the connection with SSL",
        description="Tick when the server accepts SSL (always on Azure HDInsight).",
    )
    username = text_field("Username", "User name Experience Platform signs in as.")
    password = password_field(required=True)

    groups = [
        ("Connection", ["name", "description", "sandbox"], None),
        ("Phoenix server", ["host", "port", "httpPath", "enableSsl", "username", "password"], None),
    ]

    def auth(self) -> Auth:
        return Auth(
            "Basic Authentication",
            {
                "host": self.host.data,
                "username": self.username.data,
                "password": self.password.data,
                "port": self.port.data,
                "httpPath": self.httpPath.data,
                "enableSsl": bool(self.enableSsl.data),
            },
        )


SOURCE = Source(
    key="phoenix",
    title="Apache Phoenix",
    summary="SQL layer over Apache HBase, reached through the Phoenix Query Server.",
    connection_spec_id="102706fb-a5cd-42ee-afe0-bc42f017ff43",
    form_class=PhoenixForm,
    docs_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/databases/phoenix",
    # Quoted from Adobe's Phoenix tutorial, linked as docs_url.
    deprecated=(
        "Adobe's tutorial for this source says: “The Phoenix source will be deprecated at the end of May 2025. "
        "You can use the Data Landing Zone in place of the Phoenix source.” Create Phoenix connections only to "
        "keep existing dataflows running; for new work, export the tables to Adobe's Data Landing Zone."
    ),
    deprecation_url="https://experienceleague.adobe.com/en/docs/experience-platform/sources/connectors/"
    "cloud-storage/data-landing-zone",
)
