"""What the browser tests share: axe's verdict on the page Chromium shows."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe


def assert_axe_clean(page, where: str) -> None:
    """Fail with each serious or critical axe finding on the page (rule, impact, help)."""
    bad = [(v["id"], v["impact"], v["help"]) for v in Axe().run(page).response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"axe on {where}: {bad}"
