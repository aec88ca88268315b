"""The app's services, built once from the settings in the factory and reached through one typed accessor each.

`build(settings)` makes every long-lived object the views use (the clients of Adobe's services, the store, the
secret registry, the readiness check, the static files, sign-in's users file or identity provider); `init_app` puts
the one `Services` object on the app. Views call the accessors below (`services.store()`); code holding an app but
no request (the command, the tests) calls `of(app)`. Nothing else looks services up by a string key.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from .accounts import UsersFile
    from .adobe.catalog import Catalog
    from .adobe.connections import Connections
    from .adobe.data_prep import DataPrep
    from .adobe.dataflows import Dataflows
    from .adobe.gateway import Gateway
    from .adobe.ims import TokenProvider
    from .adobe.schema_registry import SchemaRegistry
    from .adobe.spec_catalog import SpecCatalog
    from .config import Settings
    from .late_records import LateRecords
    from .logs import SecretRegistry
    from .readiness import Readiness
    from .static_files import Asset
    from .store import Store
    from .watch.adobe_events import Keys
    from .watch.sealing import Sealer

# The one key under app.extensions, written here and read here only.
_KEY = "aep_source_wizard"


@dataclasses.dataclass
class Services:
    """Everything a view may need, built once per app (in each gunicorn worker)."""

    settings: Settings
    secrets: SecretRegistry
    tokens: TokenProvider
    gateway: Gateway
    connections: Connections
    dataflows: Dataflows
    catalog: Catalog
    schema_registry: SchemaRegistry
    data_prep: DataPrep
    spec_catalog: SpecCatalog
    store: Store
    readiness: Readiness
    # Creations Adobe made while the store could not record them, recorded once it answers (app/late_records.py).
    late: LateRecords
    assets: dict[str, Asset]
    # Alerts: destinations sealed and signing secrets derived under the secret key; I/O Events' public keys.
    sealer: Sealer
    io_event_keys: Keys
    # Sign-in: the users file (built-in accounts) or Authlib's client of the identity provider (single sign-on).
    users: UsersFile | None = None
    oidc: Any = None
    # With single sign-on: the origins the sign-out form may lead to (the provider's), for the page's CSP.
    form_action_origins: Callable[[], tuple[str, ...]] | None = None
    # Pages and URLs rendered once per app (app.web.wizard): the same bytes on every worker, never a person's data.
    rendered: dict = dataclasses.field(default_factory=dict)


def build(settings: Settings, static_folder: str) -> Services:
    """Every service, from the settings, in the order each needs the others."""
    # Imported here: the gunicorn master imports this package without them, so that each gevent worker patches the
    # standard library before urllib3 takes hold of ssl.
    from . import logs
    from .accounts import UsersFile
    from .adobe.catalog import Catalog
    from .adobe.connections import Connections
    from .adobe.data_prep import DataPrep
    from .adobe.dataflows import Dataflows
    from .adobe.gateway import Gateway
    from .adobe.http import make_session
    from .adobe.ims import TokenProvider
    from .adobe.schema_registry import SchemaRegistry
    from .adobe.spec_catalog import SpecCatalog
    from .late_records import LateRecords
    from .readiness import Readiness
    from .sources import SOURCES
    from .sources.generic import usable
    from .static_files import load_assets
    from .store import database_url
    from .watch.adobe_events import Keys
    from .watch.channels import smtp_password
    from .watch.sealing import Sealer

    secrets = logs.SecretRegistry()
    secrets.add_permanent(
        settings.client_secret,
        settings.secret_key,
        settings.oidc_client_secret,
        settings.smtp_url,
        smtp_password(settings.smtp_url),
    )
    timeout = (settings.connect_timeout, settings.read_timeout)
    tokens = TokenProvider(
        make_session(retry_methods=frozenset({"POST"}), base_url=settings.ims_url, backoff=settings.retry_backoff),
        settings.ims_url,
        settings.client_id,
        settings.client_secret,
        settings.scopes,
        timeout,
        on_token=secrets.add,
        quotes_secret=secrets.quotes_secret,
    )
    gateway = Gateway(
        settings.platform_url,
        tokens,
        settings.client_id,
        settings.org_id,
        make_session(base_url=settings.platform_url, backoff=settings.retry_backoff),
        timeout,
        quotes_secret=secrets.quotes_secret,
    )
    connections = Connections(gateway)
    store = _store(database_url(settings.data_dir, settings.database_url))
    return Services(
        settings=settings,
        secrets=secrets,
        tokens=tokens,
        gateway=gateway,
        connections=connections,
        dataflows=Dataflows(gateway),
        catalog=Catalog(gateway),
        schema_registry=SchemaRegistry(gateway),
        data_prep=DataPrep(gateway),
        spec_catalog=SpecCatalog(
            connections,
            settings.default_sandbox,
            settings.spec_cache_seconds,
            skip={source.connection_spec_id for source in SOURCES.values()},
            usable=usable,
        ),
        store=store,
        readiness=Readiness(connections, settings.default_sandbox, store),
        late=LateRecords(store),
        assets=load_assets(static_folder),
        sealer=Sealer(settings.secret_key),
        io_event_keys=Keys(settings.io_events_keys),
        users=UsersFile(settings.users_file) if settings.auth == "accounts" else None,
    )


def _store(url: str) -> Store:
    """The store, its schema brought up to date; when its database cannot be reached, the store all the same (its pages
    answer 503 until the database is back, and the schema is brought up to date by the next start)."""
    from .store import Store, StoreUnavailable

    try:
        return Store(url)
    except StoreUnavailable:
        return Store(url, migrate=False)


def init_app(app: Flask, services: Services) -> None:
    app.extensions[_KEY] = services


def of(app: Flask) -> Services:
    """The services of an app, outside a request (the command, the tests)."""
    return app.extensions[_KEY]


def current() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions[_KEY]


def settings() -> Settings:
    return current().settings


def secrets() -> SecretRegistry:
    return current().secrets


def gateway() -> Gateway:
    return current().gateway


def connections() -> Connections:
    return current().connections


def dataflows() -> Dataflows:
    return current().dataflows


def catalog() -> Catalog:
    return current().catalog


def schema_registry() -> SchemaRegistry:
    return current().schema_registry


def data_prep() -> DataPrep:
    return current().data_prep


def spec_catalog() -> SpecCatalog:
    return current().spec_catalog


def store() -> Store:
    return current().store


def late() -> LateRecords:
    return current().late


def readiness() -> Readiness:
    return current().readiness


def assets() -> dict[str, Asset]:
    return current().assets


def users() -> UsersFile | None:
    return current().users


def oidc() -> Any:
    return current().oidc


def sealer() -> Sealer:
    return current().sealer


def io_event_keys() -> Keys:
    return current().io_event_keys
