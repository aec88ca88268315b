"""Load picker → form → result in headless Chromium and print what it cost.

    .venv/bin/python bench/page_weight.py

Prints bytes transferred (what Chromium's network stack received for each
response, headers and body: DevTools' encodedDataLength; cache hits cost 0),
the request count per page and in all, and every request that left 127.0.0.1.
Budget: 30 KB for the three pages together, 0 third-party requests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from harness import launch_chromium, running_wizard  # noqa: E402

BUDGET = 30 * 1024


def main() -> int:
    rows, outside = [], []
    with running_wizard() as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls, received, cached = {}, {}, set()

        def sent(e):
            if "redirectResponse" in e:  # a redirect reuses the id: book the 303 under its own key
                key = e["requestId"] + ":redirect"
                received[key] = e["redirectResponse"]["encodedDataLength"]
                urls[key] = urls.get(e["requestId"], "")
            urls[e["requestId"]] = e["request"]["url"]

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
        cdp.on(
            "Network.loadingFinished",
            lambda e: received.__setitem__(e["requestId"], 0 if e["requestId"] in cached else e["encodedDataLength"]),
        )
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if urlsplit(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:")
                else None
            ),
        )

        def step(name, action):
            urls.clear(), received.clear(), cached.clear()
            action()
            page.wait_for_load_state("load")
            page.wait_for_timeout(200)  # let the last loadingFinished events arrive
            fetched = [rid for rid in received if received[rid] > 0]
            rows.append(
                (
                    name,
                    len(fetched),
                    sum(received.values()),
                    [urlsplit(urls[rid]).path for rid in fetched if rid in urls],
                )
            )

        step("picker", lambda: page.goto(base + "/"))
        step("form (PostgreSQL)", lambda: page.get_by_role("link", name="PostgreSQL").click())

        def create():
            page.get_by_label("Connection name").fill("Bench")
            page.get_by_label("Server", exact=True).fill("pg.example.com")
            page.get_by_label("Database", exact=True).fill("orders")
            page.get_by_label("Username", exact=True).fill("etl")
            page.get_by_label("Password", exact=True).fill("secret")
            page.get_by_role("button", name="Create connection").click()
            page.wait_for_url("**/connections/*")

        step("submit + result", create)
        browser.close()

    print(f"{'page':<20}{'requests':>9}{'bytes':>9}  paths")
    for name, count, total, paths in rows:
        print(f"{name:<20}{count:>9}{total:>9}  {' '.join(paths)}")
    grand = sum(r[2] for r in rows)
    print(f"{'total':<20}{sum(r[1] for r in rows):>9}{grand:>9}  (budget {BUDGET} bytes)")
    print(f"requests leaving 127.0.0.1: {len(outside)}")
    for url in outside:
        print("  " + url)
    return 0 if grand <= BUDGET and not outside else 1


if __name__ == "__main__":
    sys.exit(main())
