"""In headless Debian Chromium: pick PostgreSQL, fill its form by the labels, submit, read the id."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_pick_postgresql_fill_by_labels_and_read_the_id(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="PostgreSQL").click()
    expect(page).to_have_title("PostgreSQL connection · AEP Source Wizard")  # waits for the page the click opens
    page.get_by_label("Connection name").fill("Orders in Postgres")
    page.get_by_label("Description").fill("Filled by a browser")
    page.get_by_label("Sandbox").select_option("dev")
    page.get_by_label("Basic authentication").check()
    page.get_by_label("Server", exact=True).fill("pg.example.com")
    page.get_by_label("Port", exact=True).fill("5433")
    page.get_by_label("Database", exact=True).fill("orders")
    page.get_by_label("Username", exact=True).fill("etl")
    page.get_by_label("Password", exact=True).fill("p;a}ss{=")
    page.get_by_label("Verify Full — as Verify Ca").check()
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    shown = page.locator("#connection-id").inner_text()
    assert list(fresh_emulator.connections) == [shown]
    params = fresh_emulator.creations()[0]["auth"]["params"]
    assert params == {
        "server": "pg.example.com",
        "port": "5433",
        "database": "orders",
        "username": "etl",
        "password": "p;a}ss{=",
        "sslMode": "Verify Full",
    }
    assert page.get_by_text("dev", exact=True).is_visible()
