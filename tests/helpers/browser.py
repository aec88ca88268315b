"""What the browser tests share: which Chromium runs them, and axe's verdict on the page it shows."""

from __future__ import annotations

import os
import shutil

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def assert_axe_clean(page: Page, where: str) -> None:
    """Fail with each serious or critical axe finding on the page (rule, impact, help)."""
    bad = [
        (v["id"], v["impact"], v["help"])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {where}: {bad}"
