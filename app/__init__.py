"""AEP Source Wizard: create Flow Service base connections from a form, without holding Adobe's keys."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs, wording
from .config import Settings


def _asset_folder(name: str) -> str:
    """templates/ and static/ sit beside app/ in the repository and inside app/ once installed."""
    installed = Path(__file__).parent / name
    return str(installed if installed.is_dir() else Path(__file__).parent.parent / name)


def create_app(settings: Settings | None = None) -> Flask:
    # Imported here, not at the top: the gunicorn master imports this package without them, so that each
    # gevent worker patches the standard library before requests and urllib3 take hold of ssl.
    from .adobe import Dataflows, FlowServiceClient, TokenProvider
    from .adobe.data_prep import DataPrep
    from .adobe.datasets import Datasets
    from .adobe.http import make_session
    from .store import Store, database_url

    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=_asset_folder("templates"), static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The token lives as long as the session: a form left open over lunch still submits.
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024,
        # The server ends a session after WIZARD_SESSION_HOURS (app.web.auth); the cookie lives a
        # little longer so that the person is told their session ended, not just sent to sign in.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours, minutes=5),
        SETTINGS=settings,
    )
    if settings.proxy_count:
        # Believe X-Forwarded-For/-Proto/-Host only from as many hops as are really there: the client
        # address (for sign-in throttling), https (for HSTS and Secure cookies) and the host. Never
        # X-Forwarded-Port or -Prefix: nothing here needs them, and a forged prefix rewrites every link.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=0, x_prefix=0)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(wording.with_article, "with_article")
    app.add_template_filter(wording.plural, "plural")
    logging.getLogger("app").setLevel(logging.INFO)
    secrets = logs.SecretRegistry()
    secrets.add_permanent(settings.client_secret, settings.secret_key, settings.oidc_client_secret)
    logs.init_app(app, secrets)

    timeout = (settings.connect_timeout, settings.read_timeout)
    tokens = TokenProvider(
        make_session(retry_methods=frozenset({"POST"}), base_url=settings.ims_url),
        settings.ims_url, settings.client_id, settings.client_secret, settings.scopes, timeout,
        on_token=secrets.add, quotes_secret=secrets.quotes_secret,
    )
    app.extensions["flow_service"] = FlowServiceClient(
        settings.platform_url, tokens, settings.client_id, settings.org_id, make_session(base_url=settings.platform_url), timeout,
        quotes_secret=secrets.quotes_secret,
    )
    app.extensions["dataflows"] = Dataflows(app.extensions["flow_service"])
    app.extensions["datasets"] = Datasets(app.extensions["flow_service"])
    app.extensions["data_prep"] = DataPrep(app.extensions["flow_service"])

    from .web.spec_catalog import SpecCatalog

    app.extensions["spec_catalog"] = SpecCatalog(app.extensions["flow_service"], settings.default_sandbox,
                                                 settings.spec_cache_seconds)

    from .web import assets, audit, auth, connections, dataflows, health, new_dataflow, permissions, security, wizard

    app.extensions["assets"] = assets.load_assets(_asset_folder("static"))
    app.register_blueprint(assets.bp)
    # One store per app: the submission keys that make creation idempotent, and the audit trail.
    app.extensions["submissions"] = app.extensions["store"] = Store(
        database_url(settings.data_dir, settings.database_url))
    security.init_app(app)
    auth.init_app(app)
    permissions.init_app(app)
    app.register_blueprint(wizard.bp)
    app.register_blueprint(connections.bp)
    app.register_blueprint(dataflows.bp)
    app.register_blueprint(new_dataflow.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(audit.bp)

    @app.context_processor
    def page_context():
        return {
            "emulator_mode": settings.emulator,
            "cloud": settings.cloud,
            "auth_mode": settings.auth,
            "asset": assets.asset_url,
        }

    return app
