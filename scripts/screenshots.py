"""Take the README's screenshots from the running app: picker, a form with errors, a result, and a phone's view.

    .venv/bin/python scripts/screenshots.py [output folder]

Runs the wizard on its built-in emulator and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import launch_chromium, running_wizard
from playwright.sync_api import sync_playwright


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with running_wizard({"AEP_SANDBOXES": "prod,dev"}) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(url + "/")
        page.screenshot(path=out / "picker.png", full_page=True)
        page.goto(url + "/sources/postgresql")
        page.get_by_label("Connection name").fill("Orders in Postgres")
        page.get_by_label("Basic authentication").check()
        page.get_by_label("Server", exact=True).fill("https://pg.example.com:5432")
        page.get_by_label("Port", exact=True).fill("99999")
        page.get_by_label("Database", exact=True).fill("orders")
        page.get_by_label("Username", exact=True).fill("etl")
        page.get_by_label("Password", exact=True).fill("secret")
        page.get_by_role("button", name="Create connection").click()
        page.wait_for_selector("#error-summary")  # found in the browser, with the one-click fix for the host
        page.screenshot(path=out / "form-errors.png", full_page=True)
        page.get_by_label("Server", exact=True).fill("pg.example.com")
        page.get_by_label("Port", exact=True).fill("5432")
        page.get_by_label("Password", exact=True).fill("secret")
        page.get_by_role("button", name="Create connection").click()
        page.wait_for_url("**/connections/*")
        page.screenshot(path=out / "result.png", full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(url + "/connections?sandbox=prod")
        phone.screenshot(path=out / "phone-connections.png", full_page=True)
        browser.close()
    print(f"wrote picker.png, form-errors.png, result.png and phone-connections.png to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "screenshots")
