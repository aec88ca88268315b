"""The `aep-source-wizard` command: serve the wizard with gunicorn, on the emulator when no Adobe credentials are
set."""

from __future__ import annotations

import argparse
import errno
import getpass
import logging
import os
import socket
import sys
from typing import TYPE_CHECKING

from . import accounts, create_app, logs
from .config import ConfigError, Settings

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger("app.cli")


def with_emulator(settings: Settings) -> tuple[Settings, Emulator]:
    """Start the built-in emulator and point the settings at it."""
    from .emulator import Emulator

    emulator = Emulator(cloud=settings.cloud, sandboxes=settings.sandboxes).start()
    return settings.replace(
        platform_url=emulator.url,
        ims_url=emulator.url,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        org_id=emulator.org_id,
        io_events_keys=emulator.url,
    ), emulator


def gunicorn_options() -> dict:
    """The settings in app/gunicorn_conf.py, as gunicorn would read them from that file."""
    from . import gunicorn_conf

    return {
        name: value
        for name, value in vars(gunicorn_conf).items()
        if not name.startswith("_") and not callable(value) and not isinstance(value, type(os)) and name != "Settings"
    }


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
    busy = _port_in_use(settings.host, settings.port)
    if busy:
        print(f"aep-source-wizard: {busy}", file=sys.stderr)
        return 2
    if settings.emulator:
        settings, emulator = with_emulator(settings)
        log.info("no Adobe credentials set: using the built-in emulator at %s (nothing is sent to Adobe)", emulator.url)
    else:
        log.info("talking to Flow Service at %s and IMS at %s", settings.platform_url, settings.ims_url)
    log.info("sign-in: %s", sign_in_summary(settings))
    _warn_without_roles(settings)
    # Migrated here, once, before any worker starts: the workers then find the schema up to date.
    from .store.health import StoreUnavailable  # here, not above: gevent patches each worker before SQLAlchemy loads
    from .store.migrate import SchemaAhead

    try:
        revision = migrate_store(settings)
    except SchemaAhead as error:
        print(f"aep-source-wizard: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(
            f"aep-source-wizard: the portal's database cannot be reached ({error.reason}); check "
            "WIZARD_DATABASE_URL and that the database is up, then start again.",
            file=sys.stderr,
        )
        return 2
    log.info("the store is at schema revision %s", revision)
    log.info("serving on http://%s:%s", settings.host, settings.port)
    # The emulator's thread runs in this (the master) process; each worker builds its own app.
    _server(lambda: worker_app(settings), {**options, "bind": f"{settings.host}:{settings.port}"}).run()
    return 0


def worker_app(settings: Settings):
    """The app one gunicorn worker serves, with the reconciler and the dataflow watcher running beside it (each once
    across every worker and replica: it takes a lease in the store), and alerts sent from every worker."""
    from . import reconciler, services
    from .watch import deliverer, watcher

    app = create_app(settings)
    built = services.of(app)
    reconciler.start(built)
    if settings.watch_seconds:
        watcher.start(built, settings.watch_seconds)
    deliverer.start(built, min(deliverer.EVERY_SECONDS, settings.watch_seconds or deliverer.EVERY_SECONDS))
    return app


def migrate_store(settings: Settings) -> str:
    """Bring the store's schema up to date (once, under a lock); its revision (SchemaAhead for a database a newer
    release migrated)."""
    from .store import database_url
    from .store.engine import connect
    from .store.health import guarded
    from .store.migrate import upgrade

    engine, _serial, _locks = connect(database_url(settings.data_dir, settings.database_url))
    try:
        return guarded(retry=False)(upgrade)(engine)
    finally:
        engine.dispose()  # no pooled connection crosses into the forked workers


def migrate() -> int:
    """`aep-source-wizard migrate`: the store's schema brought up to date, for a deployment step; then exit."""
    from .store.health import StoreUnavailable
    from .store.migrate import SchemaAhead

    try:
        settings = Settings.from_env()
        revision = migrate_store(settings)
    except (ConfigError, SchemaAhead) as error:
        print(f"aep-source-wizard migrate: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"aep-source-wizard migrate: the portal's database cannot be reached ({error.reason}).", file=sys.stderr)
        return 2
    print(f"the store is at schema revision {revision}")
    return 0


def _port_in_use(host: str, port: int) -> str | None:
    """Why the server could not listen there (the port taken), before gunicorn says it less plainly; else None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use by another program: stop it, or set WIZARD_PORT to a "
                    "free port (for example WIZARD_PORT=8001)."
                )
            return f"cannot listen on {host}:{port} ({error.strerror}): check WIZARD_HOST and WIZARD_PORT."
    return None


def sign_in_summary(settings: Settings) -> str:
    """How people sign in, for the start-up log: every mode in config.AUTH_MODES has its line."""
    return {
        "none": "nobody is asked to sign in",
        "proxy": "trusted proxy header",
        "accounts": "built-in accounts",
        "oidc": f"single sign-on with OpenID Connect at {settings.oidc_issuer}",
    }[settings.auth]


def _warn_without_roles(settings: Settings) -> None:
    """Once, at start-up: in real mode without WIZARD_ROLES, everyone who signs in may do everything."""
    if settings.roles is None and not settings.emulator:
        log.warning(
            "WIZARD_ROLES is not set: everyone who signs in is admin in every sandbox (%s)",
            ", ".join(settings.sandboxes),
        )


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


MARKS = {True: "ok  ", False: "FAIL", None: "skip"}


def doctor() -> int:
    """`aep-source-wizard doctor`: the set-up checked, read-only, one check at a time (app/doctor.py), each failure
    with its fix; 0 when every check passes, 1 otherwise."""
    from . import doctor as checks
    from . import services

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"FAIL  Settings: {error}\n      Fix: set the variables named above (docs/configuration.md).")
        return 1
    logging.disable(logging.INFO)  # the checks' own lines, not every call's and migration's
    emulator = None
    if settings.emulator:
        settings, emulator = with_emulator(settings)
    failed = False
    try:
        for check in checks.run(services.of(create_app(settings))):
            failed = failed or check.ok is False
            print(f"{MARKS[check.ok]}  {check.title}: {check.detail}", flush=True)
            if check.fix:
                print(f"      Fix: {check.fix}", flush=True)
    finally:
        if emulator:
            emulator.stop()
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="aep-source-wizard", description="Serve the wizard (the default), or manage its accounts."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the wizard with gunicorn (what no command does)")
    commands.add_parser("migrate", help="bring the store's schema up to date, then exit (a deployment step)")
    commands.add_parser("doctor", help="check the set-up, read-only: settings, store, IMS, each sandbox, sign-in")
    checking = commands.add_parser("check", help="check a configuration file (config as code), offline")
    checking.add_argument("-f", "--file", required=True, help="the YAML file, or - for standard input")
    exporting = commands.add_parser(
        "export", help="write a sandbox's connections and dataflows as a configuration file (token in WIZARD_TOKEN)"
    )
    exporting.add_argument("--url", default=os.environ.get("WIZARD_URL", ""), help="the portal (default: WIZARD_URL)")
    exporting.add_argument("--sandbox", required=True)
    exporting.add_argument("--connection", action="append", default=[], help="only this connection (repeatable)")
    exporting.add_argument("-o", "--out", default="-", help="the file to write (default: standard output)")
    planning = commands.add_parser(
        "plan", help="show what applying a configuration file to a sandbox would do (exit 2 when it changes anything)"
    )
    applying = commands.add_parser("apply", help="apply a configuration file to a sandbox, each object once")
    for command in (planning, applying):
        command.add_argument("-f", "--file", required=True, help="the YAML file")
        command.add_argument("--url", default=os.environ.get("WIZARD_URL", ""), help="the portal (default: WIZARD_URL)")
        command.add_argument("--sandbox", required=True)
        command.add_argument("--prune", action="store_true", help="delete what the file does not name (admins)")
    planning.add_argument("--out", help="save the plan (JSON, no secret in it) for apply --plan")
    applying.add_argument("--plan", help="a plan saved by plan --out: refused when the plan made now is another")
    adding = commands.add_parser("add-user", help="add a built-in account, or set a new password for one")
    adding.add_argument("name")
    adding.add_argument("--file", help="the users file (default: WIZARD_USERS_FILE)")
    adding.add_argument(
        "--groups", default="", help="comma-separated groups, for WIZARD_ROLES (e.g. data-eng,platform)"
    )
    args = parser.parse_args(argv)
    logs.configure()
    if args.command == "add-user":
        return add_user(args.name, args.file, args.groups)
    if args.command == "migrate":
        return migrate()
    if args.command == "doctor":
        return doctor()
    if args.command in ("check", "export", "plan", "apply"):
        from .config_file import commands as file_commands

        return file_commands.run(args)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
