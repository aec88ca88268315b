"""Every page at a phone's 390 px and a wide screen's 1440 px: nothing wider than the screen, axe clean at both."""

from __future__ import annotations

import pytest

from app import create_app, services
from app.accounts import add_user
from app.emulator import Fault

from .helpers.browser import assert_axe_clean
from .helpers.dataflows import Maker
from .helpers.forms import connection_body
from .helpers.live import LiveServer, settings_for
from .helpers.pages import DataflowWalkPage

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
WIDTHS = (390, 1440)


@pytest.fixture
def portal(fresh_emulator, tmp_path):
    """The wizard with built-in accounts (so the header carries a user and a sign-out button) and some history."""
    users = tmp_path / "users"
    add_user(str(users), "ada.lovelace@example.com", PASSWORD)
    app = create_app(settings_for(fresh_emulator, auth="accounts", users_file=str(users), alerts_to_loopback=True))
    flow = services.of(app).connections
    for n in range(11):
        flow.create_connection("prod", connection_body(f"Nightly orders replica number {n} for the finance team"))
    flow.create_connection("prod", connection_body("orders_eu_west_1_replica_readonly_finance_reporting_2026"))
    server = LiveServer(app)
    yield server
    server.stop()


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def check(page, where: str) -> None:
    wide, viewport = overflow(page)
    assert wide <= viewport, f"{where} is {wide} px wide at {viewport} px: {widest(page)}"
    assert_axe_clean(page, f"{where} at {viewport} px")


def sign_in(page, url):
    page.goto(url + "/sign-in")
    page.get_by_label("User name").fill("ada.lovelace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_overflows_and_axe_is_clean(browser, portal, fresh_emulator, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    url = portal.url
    page.goto(url + "/sign-in")
    check(page, "sign-in")
    sign_in(page, url)
    # One connection made through the portal, so the audit has a row and the result page its curl.
    page.goto(url + "/sources/redshift")
    page.get_by_label("Connection name").fill("Warehouse made in the portal by the layout test")
    for label, value in (
        ("Server", "examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com"),
        ("Database", "dev"),
        ("Username", "etl"),
        ("Password", "layout-pw"),
    ):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    check(page, "result page")
    created = page.locator("#connection-id").inner_text()
    mysql = next(i for i, s in fresh_emulator.specs.items() if s["name"] == "mysql")
    pages = {
        "picker": "/",
        "picker search with no match": "/?q=nothing-like-this",
        "greenplum form": "/sources/greenplum",
        "postgresql form": "/sources/postgresql",
        "redshift form": "/sources/redshift",
        "phoenix form": "/sources/phoenix",
        "mysql choice": f"/sources/spec/{mysql}",
        "mysql form": f"/sources/spec/{mysql}?auth=Basic Authentication",
        "connections list": "/connections?sandbox=prod",
        "details": f"/connections/{created}?sandbox=prod",
        "test": f"/connections/{created}/test?sandbox=prod",
        "explore": f"/connections/{created}/explore?sandbox=prod",
        "columns": f"/connections/{created}/explore?sandbox=prod&table=public.customers",
        "rename": f"/connections/{created}/edit?sandbox=prod",
        "rotate": f"/connections/{created}/credentials?sandbox=prod",
        "delete": f"/connections/{created}/delete?sandbox=prod",
        "audit": "/audit",
        "set-up": "/setup",
        "api tokens": "/tokens",
        "api reference": "/api/docs",
        "promote": "/promote",
        "promote, its connections": "/promote?source=prod&target=dev",
        "promote, the plan": "/promote?source=prod&target=dev&connection="
        + "orders_eu_west_1_replica_readonly_finance_reporting_2026"
        + "&connection=Warehouse made in the portal by the layout test",
        "not found": "/connections/no-such-connection?sandbox=prod",
        "no such page": "/sources/nothing",
    }
    for where, path in pages.items():
        page.goto(url + path)
        check(page, where)
    # A token made: shown once, then listed by its prefix.
    page.goto(url + "/tokens")
    page.get_by_label("Name").fill("The nightly load of the finance team's warehouse into the loyalty dataset")
    page.get_by_role("button", name="Make token").click()
    page.wait_for_selector("#new-token")
    check(page, "a new api token")
    # The same connection once dataflows read from it: its page lists them, and delete names them instead.
    maker = Maker(fresh_emulator)
    flow_id = maker.due_flow(created, ["failed"], "Customers into the loyalty dataset, every 15 minutes")
    maker.source_connection(created, "sales.returns")
    for where, path in (
        ("details with dataflows", f"/connections/{created}?sandbox=prod"),
        ("delete with dataflows", f"/connections/{created}/delete?sandbox=prod"),
        ("dataflow with a failed run", f"/dataflows/{flow_id}?sandbox=prod"),
        ("every dataflow", "/dataflows"),
        ("failing dataflows", "/dataflows?health=failing&sort=failures"),
        ("no dataflow matches", "/dataflows?q=nothing-like-this"),
        ("change a dataflow", f"/dataflows/{flow_id}/edit?sandbox=prod"),
        ("alerts with no rule", "/alerts"),
        ("a new alert rule", "/alerts/new"),
    ):
        page.goto(url + path)
        check(page, where)
    # An alert rule in error, then made (its signing secret shown once), then the Alerts page listing it.
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_selector("#error-summary")
    check(page, "an alert rule with errors")
    page.get_by_label("Rule name").fill("Failures of the finance team's nightly replicas, to the on-call webhook")
    page.get_by_label("A run failed").check()
    page.get_by_label("Webhook or Slack address").fill("http://127.0.0.1:9/hooks/aep")
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_selector("text=whsec_")
    check(page, "an alert rule's signing secret")
    page.goto(url + "/alerts")
    check(page, "alerts with a rule")
    # Creating a dataflow from the table: each step, with a schema shown and with errors, then a stopped chain.
    walk = DataflowWalkPage(page, url, check=check)  # no overflow and axe clean on every page of the way
    walk.open_table(created, "public.customers")
    walk.start_dataflow()
    walk.show_fields("Loyalty members")
    walk.choose_dataset("Loyalty members")
    walk.map_constant("_emulatortenant.points", "not a number", refused=True)
    walk.map_constant("", "")
    walk.schedule(every_minutes="5", refused=True)
    walk.schedule(every_minutes="15")
    fresh_emulator.inject(
        Fault(
            "POST",
            "/flows",
            status=400,
            body={
                "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
                "title": "Invalid request",
                "status": 400,
                "report": {"detailed-message": "Refused for the layout test.", "request-id": "r"},
                "errorMessage": "No.",
            },
        )
    )
    walk.create(stopped=True)
    # The person's drafts: this stopped one, and a second still being chosen.
    walk.open_table(created, "public.orders")
    walk.start_dataflow(check=False)
    page.goto(url + "/dataflows/drafts")
    check(page, "dataflows being made")
    # A form in error (with its summary) and the header with the signed-in user are checked as well.
    page.goto(url + "/sources/phoenix")
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_selector("#error-summary")
    check(page, "phoenix form with errors")
    header = page.locator("header").bounding_box()
    assert header["width"] <= width
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()


def signed_in_list(browser, portal, width: int, height: int):
    """A new browser context of `width`, signed in, on the connections list; close the context after."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, portal.url)
    page.goto(portal.url + "/connections?sandbox=prod")
    return context, page


def test_wide_screens_give_tables_the_room(browser, portal):
    context, page = signed_in_list(browser, portal, 1440, 900)
    main = page.locator("main").bounding_box()
    assert main["width"] > 1200
    # Dates and ids stay on one line each.
    row = page.locator("table.list tbody tr").first
    for part in (row.locator("td").nth(3).locator(".nowrap"), row.locator("td").nth(4).locator("code")):
        line = part.evaluate("e => parseFloat(getComputedStyle(e.parentElement).lineHeight)")
        assert part.bounding_box()["height"] < 1.5 * line
    context.close()


def test_a_phone_shows_the_list_as_cards_of_reasonable_height(browser, portal):
    context, page = signed_in_list(browser, portal, 390, 844)
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 12
    assert rows.first.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content") == '"Name"'
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 12 * 330, f"the list of 12 is {height} px tall"
    context.close()


def widest(page) -> list:
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 12)""")
