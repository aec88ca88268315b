"""Fixtures only: the emulator as a real loopback server, the app wired to it, a live wizard, Chromium.

What tests share besides fixtures is in tests/helpers/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from app import create_app
from app.config import Settings
from app.emulator import Emulator

from .helpers import live
from .helpers.browser import CHROMIUM, CHROMIUM_ARGS
from .helpers.ci import unavailable
from .helpers.live import LiveServer, settings_for


@pytest.fixture(scope="session", autouse=True)
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where settings_for and the command's tests make their folders: under pytest's temporary folder, removed after
    a run that passed (tmp_path_retention_policy in pyproject.toml)."""
    root = tmp_path_factory.mktemp("scratch")
    live.use_scratch(root)
    return root


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def fresh_emulator(emulator: Emulator) -> Emulator:
    emulator.reset()
    emulator.token_lifetime = 86399
    return emulator


@pytest.fixture
def settings(request: pytest.FixtureRequest, fresh_emulator: Emulator) -> Settings:
    """The settings of a wizard on the emulator; `@pytest.mark.read_timeout(s)` on a test sets its read timeout."""
    marker = request.node.get_closest_marker("read_timeout")
    return settings_for(fresh_emulator, **({"read_timeout": float(marker.args[0])} if marker else {}))


@pytest.fixture
def app(settings: Settings) -> Flask:
    app = create_app(settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_app(settings: Settings) -> Flask:
    """The wizard on a real loopback port, CSRF on, as a browser meets it."""
    return create_app(settings)


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"Chromium not found at {CHROMIUM}; install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that drives Chromium (through the `browser` or `page` fixture) is marked `browser`, however it is
    written, so that `-m "not browser"` leaves out every one of them.

    Under mutation testing, the tests that reach a mutant run fastest first (as mutmut timed them), so that a mutant
    is caught by a unit test in a moment rather than after a minute of slower ones."""
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    stats = Path("mutmut-stats.json")
    if os.environ.get("MUTANT_UNDER_TEST") and stats.is_file():
        duration = json.loads(stats.read_text())["duration_by_test"]
        items.sort(key=lambda item: duration.get(item.nodeid, float("inf")))
