"""The `aep-source-wizard` command: serve the wizard with gunicorn, on the emulator when no Adobe credentials are set."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from . import create_app, logs
from .config import ConfigError, Settings
from . import accounts

log = logging.getLogger("app.cli")


def with_emulator(settings: Settings) -> tuple[Settings, object]:
    """Start the built-in emulator and point the settings at it."""
    from .emulator import Emulator

    emulator = Emulator(cloud=settings.cloud, sandboxes=settings.sandboxes).start()
    return settings.replace(
        platform_url=emulator.url,
        ims_url=emulator.url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        org_id=emulator.org_id,
    ), emulator


def gunicorn_options() -> dict:
    """The settings in app/gunicorn_conf.py, as gunicorn would read them from that file."""
    from . import gunicorn_conf

    return {name: value for name, value in vars(gunicorn_conf).items()
            if not name.startswith("_") and not callable(value) and not isinstance(value, type(os))
            and name != "Settings"}


def _server(make_app, options):
    """gunicorn serving the app that `make_app` builds in each worker, after gevent has patched it."""
    # Imported late: gunicorn reads WEB_CONCURRENCY when imported and fails without saying why.
    from gunicorn.app.base import BaseApplication

    class WizardServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                    self.cfg.set(key, value)

        def load(self):
            # Built in the worker: its locks and sockets are gevent's, so one greenlet waiting on IMS
            # never blocks the others behind a real thread lock.
            return make_app()

    return WizardServer()


def serve() -> int:
    options = gunicorn_options()  # checks WEB_CONCURRENCY first
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
    log.info("sign-in: %s", sign_in_summary(settings))
    _warn_without_roles(settings)
    log.info("serving on http://%s:%s", settings.host, settings.port)
    # The emulator's thread runs in this (the master) process; each worker builds its own app.
    _server(lambda: create_app(settings), {**options, "bind": f"{settings.host}:{settings.port}"}).run()
    return 0


def sign_in_summary(settings: Settings) -> str:
    """How people sign in, for the start-up log: every mode in config.AUTH_MODES has its line."""
    return {"none": "nobody is asked to sign in", "proxy": "trusted proxy header",
            "accounts": "built-in accounts",
            "oidc": f"single sign-on with OpenID Connect at {settings.oidc_issuer}"}[settings.auth]


def _warn_without_roles(settings: Settings) -> None:
    """Once, at start-up: in real mode without WIZARD_ROLES, everyone who signs in may do everything."""
    if settings.roles is None and not settings.emulator:
        log.warning("WIZARD_ROLES is not set: everyone who signs in is admin in every sandbox (%s)",
                    ", ".join(settings.sandboxes))


def add_user(name: str, users_file: str | None, groups: str = "") -> int:
    """Ask for a password twice and write NAME's line into the users file."""
    path = users_file or os.environ.get("WIZARD_USERS_FILE", "").strip()
    if not path:
        print("aep-source-wizard add-user: say which file: --file PATH or WIZARD_USERS_FILE", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            print("aep-source-wizard add-user: the passwords differ; nothing written", file=sys.stderr)
            return 1
    else:
        # From a pipe or a secret store: the first line is the password.
        password = sys.stdin.readline().rstrip("\n")
    try:
        replaced = accounts.add_user(path, name, password, accounts.split_groups(groups))
    except (ValueError, OSError) as error:
        print(f"aep-source-wizard add-user: {error}", file=sys.stderr)
        return 1
    print(f"{'updated' if replaced else 'added'} {name} in {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="aep-source-wizard",
                                     description="Serve the wizard (the default), or manage its accounts.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the wizard with gunicorn (what no command does)")
    adding = commands.add_parser("add-user", help="add a built-in account, or set a new password for one")
    adding.add_argument("name")
    adding.add_argument("--file", help="the users file (default: WIZARD_USERS_FILE)")
    adding.add_argument("--groups", default="", help="comma-separated groups, for WIZARD_ROLES (e.g. data-eng,platform)")
    args = parser.parse_args(argv)
    logs.configure()
    if args.command == "add-user":
        return add_user(args.name, args.file, args.groups)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
