"""What the portal keeps, in SQLite or a shared PostgreSQL: one engine, and one part per concern over it.

SQLite under WIZARD_DATA_DIR needs nothing installed and serves one machine (every gunicorn worker shares the file).
Several replicas share PostgreSQL through WIZARD_DATABASE_URL. The parts: `submissions` (one connection per form),
`audit` (who did what), `sessions` (sign-in throttle and sessions), `drafts` (dataflows being made, and run retries),
`cleanups` (target connections left to delete), `leases` (work run once across processes), `watch` (the dataflows
and runs the watcher has seen), `alerts` (rules, the events they match, and deliveries), `tokens` (personal API
tokens, as hashes, and the groups each person last signed in with), `config` (what config as code last applied to each
sandbox). The tables are in `schema`.
"""

from __future__ import annotations

import os

from sqlalchemy import text

from .alerts import Alerts
from .audit import Audit, iso_utc
from .cleanups import Cleanups
from .config_state import ConfigState
from .credential_links import CredentialLinks
from .drafts import Drafts, plan_revision
from .engine import connect
from .health import StoreUnavailable, guarded
from .leases import Leases
from .migrate import upgrade
from .schema import MOST_OPEN_DRAFTS
from .sessions import Sessions
from .submissions import Submissions
from .tokens import Tokens
from .watch import Watch

__all__ = ["MOST_OPEN_DRAFTS", "Store", "StoreUnavailable", "database_url", "iso_utc", "plan_revision"]


def database_url(data_dir: str, url: str | None) -> str:
    if url:
        # postgresql:// means psycopg 3 here; SQLAlchemy's default would be psycopg2.
        return (
            "postgresql+psycopg://" + url.split("://", 1)[1]
            if url.startswith(("postgres://", "postgresql://"))
            else url
        )
    os.makedirs(data_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir), "wizard.sqlite3")


class Store:
    """The store's engine, and its parts over it."""

    def __init__(self, url: str, migrate: bool = True):
        self.engine, serial_engine, for_update = connect(url)
        if migrate:
            self.migrate()
        self.submissions = Submissions(self.engine)
        self.audit = Audit(self.engine)
        self.sessions = Sessions(self.engine, serial_engine, for_update)
        self.drafts = Drafts(self.engine)
        self.cleanups = Cleanups(self.engine, serial_engine, for_update)
        self.leases = Leases(self.engine)
        self.watch = Watch(self.engine)
        self.alerts = Alerts(self.engine)
        self.tokens = Tokens(self.engine)
        self.config = ConfigState(self.engine)
        self.links = CredentialLinks(self.engine)

    @guarded(retry=True)
    def ping(self) -> None:
        """Ask the database for nothing: StoreUnavailable when it cannot answer."""
        with self.engine.connect() as db:
            db.execute(text("SELECT 1"))

    @guarded(retry=False)
    def migrate(self) -> str:
        """Bring the schema to this release's revision (app/store/migrate.py); the revision."""
        return upgrade(self.engine)
