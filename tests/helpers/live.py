"""The wizard as the tests start it: on the emulator, with short timeouts and no retry waits, its store in a scratch
folder that pytest removes after the run; and on a real loopback port (`LiveServer`) when a browser or a second client
must reach it over HTTP."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from app.config import Settings
from app.emulator import Emulator

# Every call to the emulator answers in milliseconds on loopback; a read timeout of half a second still leaves room
# for a loaded machine, and a "slow" answer (SLOW) is held past it, so a timeout costs half a second, not thirty.
READ_TIMEOUT = 0.5
# A fault's delay meant to outlast the read timeout: the client gives up first, whatever the machine's load.
SLOW = READ_TIMEOUT + 0.3
# The read timeout of a test whose emulator answers slowly on purpose but in time (a delay that widens a race's
# window): `@pytest.mark.read_timeout(IN_TIME)` on the test, or `read_timeout=IN_TIME` to settings_for.
IN_TIME = 10.0
# The retry backoff factor of the tests' wizards: retries are still made (and counted by the tests), without waiting
# seconds between them.
RETRY_BACKOFF = 0.001

_scratch: Path | None = None


def use_scratch(root: Path) -> None:
    """Make every scratch folder (a store's data dir, a command's) under `root`: a pytest temporary folder, which
    pytest removes after a run that passed (tmp_path_retention_policy)."""
    global _scratch
    _scratch = root


def scratch_dir(prefix: str) -> str:
    """A new empty folder under the scratch root (the system's temporary folder if none was set)."""
    return tempfile.mkdtemp(prefix=prefix, dir=_scratch)


def settings_for(emulator: Emulator, **changes: Any) -> Settings:
    """Settings for a wizard on `emulator` (sandboxes prod and dev), each change applied over them."""
    return Settings.from_env({"AEP_SANDBOXES": "prod,dev"}).replace(
        **{
            "platform_url": emulator.url,
            "ims_url": emulator.url,
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "org_id": emulator.org_id,
            "emulator": True,
            "read_timeout": READ_TIMEOUT,
            "retry_backoff": RETRY_BACKOFF,
            "data_dir": scratch_dir("wizard-test-"),
            **changes,
        }
    )


class LiveServer:
    """`app` served on a free loopback port in a thread; `url` is where, `stop()` ends it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
