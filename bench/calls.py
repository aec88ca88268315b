"""Count the Flow Service calls one creation waits on, in Chromium with and without JavaScript.

    .venv/bin/python bench/calls.py

With JavaScript the form looks for namesakes when the name field is left, so the submit waits only on
POST /connections and the result page's read; without it the submit looks first. Prints the calls that
reached the emulator from the click on "Create connection" to the result page, for each case.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from harness import launch_chromium, running_wizard_and_emulator

ROUNDS = 5


def creation(browser, url, emulator, javascript: bool, n: int) -> list[str]:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(url + "/sources/redshift")
    page.get_by_label("Connection name").fill(f"Counted {'with' if javascript else 'without'} JavaScript {n}")
    for label, value in (("Server", "rs.example.com"), ("Database", "dev"), ("Username", "etl"), ("Password", "pw")):
        page.get_by_label(label, exact=True).fill(value)
    page.wait_for_timeout(300)  # the look-up on leaving the name field has answered
    before = len(emulator.received)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    context.close()
    return [
        f"{r.method} {r.path.split('flowservice', 1)[-1]}"
        for r in emulator.received[before:]
        if "flowservice" in r.path and not r.path.endswith("/connectionSpecs")
    ]


def main() -> None:
    with running_wizard_and_emulator() as (url, emulator), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        print(f"{'':22}{'calls per creation':>20}  calls, in order (last round)")
        for javascript in (True, False):
            counts, calls = [], []
            for n in range(ROUNDS):
                calls = creation(browser, url, emulator, javascript, n)
                counts.append(len(calls))
            shown = ", ".join(c if "/connections/" not in c else c.rsplit("/", 1)[0] + "/{id}" for c in calls)
            print(f"{'with JavaScript' if javascript else 'without JavaScript':22}{max(counts):>20}  {shown}")
        browser.close()


if __name__ == "__main__":
    main()
