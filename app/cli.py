"""The `aep-source-wizard` command: serve the wizard with gunicorn, on the emulator when no Adobe credentials are set."""

from __future__ import annotations

import logging
import sys

from gunicorn.app.base import BaseApplication

from . import create_app
from .config import ConfigError, Settings

log = logging.getLogger("app.cli")


class WizardServer(BaseApplication):
    """gunicorn serving an already-built app object."""

    def __init__(self, app, options):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self):
        return self.application


def with_emulator(settings: Settings) -> tuple[Settings, object]:
    """Start the built-in emulator and point the settings at it."""
    from .emulator import Emulator

    emulator = Emulator(cloud=settings.cloud).start()
    return settings.replace(
        platform_url=emulator.url,
        ims_url=emulator.url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        org_id=emulator.org_id,
    ), emulator


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"aep-source-wizard: {error}", file=sys.stderr)
        return 2
    if settings.emulator:
        settings, emulator = with_emulator(settings)
        log.info("no Adobe credentials set: using the built-in emulator at %s (nothing is sent to Adobe)",
                 emulator.url)
    else:
        log.info("talking to Flow Service at %s and IMS at %s", settings.platform_url, settings.ims_url)
    app = create_app(settings)
    log.info("serving on http://%s:%s", settings.host, settings.port)
    # One worker process: the token cache and the duplicate-submit ledger live in it,
    # and threads give the concurrency an admin portal needs.
    WizardServer(app, {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 120,
        "accesslog": "-",
        # The default format logs the Referer, which can hold a query; keep to method, path, status.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "errorlog": "-",
        # No one steers a running wizard through gunicorn's control socket, and the
        # container user has no home directory to put it in.
        "control_socket_disable": True,
    }).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
