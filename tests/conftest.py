"""Fixtures: the emulator as a real loopback server, the app wired to it, a live wizard, Chromium."""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from app.emulator import Emulator

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def emulator():
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def fresh_emulator(emulator):
    emulator.reset()
    emulator.token_lifetime = 86399
    return emulator


def settings_for(emulator, **changes) -> Settings:
    return Settings.from_env({"AEP_SANDBOXES": "prod,dev"}).replace(**{
        "platform_url": emulator.url, "ims_url": emulator.url, "client_id": emulator.client_id,
        "client_secret": emulator.client_secret, "org_id": emulator.org_id, "emulator": True,
        "read_timeout": 1.5, "data_dir": tempfile.mkdtemp(prefix="wizard-test-"), **changes,
    })


@pytest.fixture
def settings(fresh_emulator):
    return settings_for(fresh_emulator)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def live_app(settings):
    """The wizard on a real loopback port, CSRF on, as a browser meets it."""
    return create_app(settings)


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}; install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def submission_id(html: str) -> str:
    return re.search(r'name="submission_id" value="([^"]+)"', html).group(1)


def field_error(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    assert match, f"no error shown for {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
