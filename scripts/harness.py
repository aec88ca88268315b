"""What the scripts share: the wizard on its emulator on a loopback port, and Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from app.cli import with_emulator  # noqa: E402
from app.config import Settings  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextlib.contextmanager
def running_wizard(env=None):
    """Yield the base URL of the wizard serving on its built-in emulator."""
    with running_wizard_and_emulator(env) as (url, _emulator):
        yield url


@contextlib.contextmanager
def running_wizard_and_emulator(env=None):
    """Yield (the wizard's base URL, its emulator), to read what reached the emulator."""
    settings, emulator = with_emulator(Settings.from_env(env or {}))
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", emulator
    finally:
        server.shutdown()
        emulator.stop()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
