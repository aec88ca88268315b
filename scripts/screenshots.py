"""Take the README's screenshots from the running app: picker, a form with errors, a result.

    .venv/bin/python scripts/screenshots.py [output folder]

Runs the wizard on its built-in emulator and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from app.cli import with_emulator  # noqa: E402
from app.config import Settings  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    settings, emulator = with_emulator(Settings.from_env({"AEP_SANDBOXES": "prod,dev"}))
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
        page.wait_for_selector("#error-summary")
        page.screenshot(path=out / "form-errors.png", full_page=True)
        page.get_by_label("Server", exact=True).fill("pg.example.com")
        page.get_by_label("Port", exact=True).fill("5432")
        page.get_by_label("Password", exact=True).fill("secret")
        page.get_by_role("button", name="Create connection").click()
        page.wait_for_url("**/connections/*")
        page.screenshot(path=out / "result.png", full_page=True)
        browser.close()
    server.shutdown()
    emulator.stop()
    print(f"wrote picker.png, form-errors.png and result.png to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "screenshots")
