"""AEP Source Wizard: create Flow Service base connections from a form, without holding Adobe's keys."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs
from .config import Settings


def _asset_folder(name: str) -> str:
    """templates/ and static/ sit beside app/ in the repository and inside app/ once installed."""
    installed = Path(__file__).parent / name
    return str(installed if installed.is_dir() else Path(__file__).parent.parent / name)


def create_app(settings: Settings | None = None) -> Flask:
    """The portal: its settings checked, its services built once, then each part set up in turn."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=_asset_folder("templates"), static_folder=None)
    configure(app, settings)
    # Imported here, not at the top: the gunicorn master imports this package without them, so that each gevent
    # worker patches the standard library before urllib3 takes hold of ssl.
    from . import api, services
    from .config_file import promote
    from .web import (
        adobe_events,
        alerts,
        assets,
        audit,
        auth,
        connection_edit,
        connections,
        credential_links,
        dataflow_edit,
        dataflow_list,
        dataflow_review,
        dataflows,
        errors,
        filters,
        health,
        new_dataflow,
        owner,
        security,
        setup,
        tokens,
        wizard,
    )

    built = services.build(settings, _asset_folder("static"))
    services.init_app(app, built)
    logs.init_app(app, built.secrets)
    filters.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    for blueprint in (
        assets.bp,
        wizard.bp,
        connections.bp,
        connection_edit.bp,
        dataflow_list.bp,
        dataflows.bp,
        dataflow_edit.bp,
        new_dataflow.bp,
        dataflow_review.bp,
        health.bp,
        audit.bp,
        alerts.bp,
        adobe_events.bp,
        setup.bp,
        tokens.bp,
        promote.bp,
        credential_links.bp,
        owner.bp,
    ):
        app.register_blueprint(blueprint)
    api.init_app(app)
    return app


def configure(app: Flask, settings: Settings) -> None:
    """Flask's own configuration, from the settings."""
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
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=0, x_prefix=0)  # type: ignore[method-assign]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    logging.getLogger("app").setLevel(logging.INFO)
