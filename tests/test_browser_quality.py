"""Every flow tried in headless Chromium: labels, errors, keyboard, no JavaScript, axe, paste-to-fill."""

import pytest

from app.emulator import Fault
from app.sources.connection_string import (
    ConnectionStringError,
    build_connection_string,
    parse_connection_string,
    read_pasted,
)

from .helpers.browser import assert_axe_clean
from .helpers.forms import VARIANTS, form_data
from .helpers.live import IN_TIME
from .helpers.pasted import AWKWARD, PASTED

pytestmark = pytest.mark.browser

LABELS = {
    "name": "Connection name",
    "description": "Description",
    "sandbox": "Sandbox",
    "server": "Server",
    "host": "Host",
    "port": "Port",
    "database": "Database",
    "username": "Username",
    "password": "Password",
    "connectionString": "Connection string",
    "httpPath": "HTTP path",
    "encryptionMethod": "Encryption",
    "validateServerCertificate": "Check the server's certificate",
    "schema": "Schema",
}
METHOD_LABELS = {
    ("greenplum", "fields"): "Fill in the fields",
    ("greenplum", "connectionString"): "Paste a connection string",
    ("postgresql", "fields"): "Connection string, from the fields below",
    ("postgresql", "connectionString"): "Connection string, pasted",
    ("postgresql", "basic"): "Basic authentication (server, port, database, user, password, SSL mode)",
}


def fill(page, key, data):
    """Fill a form the way a person does: find each control by its visible label."""
    if "method" in data:
        page.get_by_label(METHOD_LABELS[(key, data["method"])], exact=True).check()
    for name, value in data.items():
        if name in ("method", "submission_id", "duplicate_ok"):
            continue
        if name == "enableSsl":
            page.get_by_label("Encrypt the connection with SSL").check()
        elif name == "sslMode":
            page.get_by_label(value + " —").check()
        elif name in ("sandbox", "encryptionMethod", "validateServerCertificate"):
            page.get_by_label(LABELS[name], exact=True).select_option(value)
        else:
            page.get_by_label(LABELS[name], exact=True).fill(value)


def submit(page):
    page.get_by_role("button", name="Create connection").click()


def audit(page, where):
    assert_axe_clean(page, where)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_happy_path_by_labels(page, live_server, fresh_emulator, variant):
    key, data = form_data(variant)
    page.goto(f"{live_server.url}/sources/{key}")
    fill(page, key, data)
    submit(page)
    page.wait_for_url("**/connections/*")
    assert page.locator("#connection-id").inner_text() == list(fresh_emulator.connections)[0]
    assert page.title() == "Connection created · AEP Source Wizard"
    curl = page.locator("#curl").inner_text()
    assert "{ACCESS_TOKEN}" in curl and "s3cret" not in curl
    assert page.get_by_role("link", name="Create another").is_visible()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_bad_port_then_fixed_without_retyping(page, live_server, fresh_emulator, variant):
    key, data = form_data(variant)
    pasted = data.get("method") == "connectionString"
    bad = {"connectionString": data["connectionString"].replace("5432", "99999")} if pasted else {"port": "99999"}
    page.goto(f"{live_server.url}/sources/{key}")
    fill(page, key, {**data, **bad})
    submit(page)
    page.wait_for_selector("#error-summary")
    page.wait_for_load_state("load")  # the deferred script moves the focus
    assert page.title().startswith("Error: ")
    field = "connectionString" if pasted else "port"
    assert page.evaluate("document.activeElement.id") == field
    assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    assert field + "-error" in page.locator(f"#{field}").get_attribute("aria-describedby")
    assert page.get_by_role("alert").locator("a").first.inner_text().startswith(LABELS[field])
    assert page.get_by_label("Connection name").input_value() == data["name"]
    assert not fresh_emulator.creations()
    # Only the field in error and the secrets are typed again.
    if pasted:
        page.get_by_label("Connection string", exact=True).fill(data["connectionString"])
    else:
        page.get_by_label("Port", exact=True).fill(data["port"])
        page.get_by_label("Password", exact=True).fill(data["password"])
    submit(page)
    page.wait_for_url("**/connections/*")
    body = fresh_emulator.creations()[0]
    assert body["name"] == data["name"] and body["description"] == data["description"]


def test_axe_finds_nothing_serious_on_any_page(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/")
    audit(page, "picker")
    for key in ("greenplum", "postgresql", "redshift", "phoenix"):
        page.goto(f"{live_server.url}/sources/{key}")
        audit(page, f"{key} form")
    page.get_by_label("Port", exact=True).fill("http://x")
    submit(page)
    page.wait_for_selector("#error-summary")
    audit(page, "phoenix form with errors")
    key, data = form_data("postgresql-basic")
    page.goto(f"{live_server.url}/sources/{key}")
    fill(page, key, data)
    submit(page)
    page.wait_for_url("**/connections/*")
    audit(page, "result page")


def test_keyboard_only_flow_in_a_sensible_order(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/")
    for _ in range(16):  # the skip link, the header's links, then the picker's sources
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Amazon Redshift":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/sources/redshift")
    order = []
    typed = {
        "name": "Keyboard warehouse",
        "server": "rs.example.com",
        "database": "dev",
        "username": "etl",
        "password": "kb-secret",
    }
    for _ in range(27):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        order.append(focused)
        if focused in typed:
            page.keyboard.type(typed[focused])
        if focused == "Create connection":
            break
    # The page chrome comes first: the skip link, the product name, the navigation (an admin's, with Set-up), the way
    # back to all sources.
    assert order[:11] == [
        "Skip to content",
        "AEP Source Wizard",
        "New connection",
        "Connections",
        "Dataflows",
        "Alerts",
        "Promote",
        "Audit",
        "API",
        "Set-up",
        "All sources",
    ]
    assert order[11:] == [
        "name",
        "description",
        "sandbox",
        "server",
        "port",
        "database",
        "username",
        "password",
        "Show",
        "typed_by-0",
        "owner_types_user",
        "Create connection",
    ]
    page.keyboard.press("Enter")
    page.wait_for_url("**/connections/*")
    assert fresh_emulator.creations()[0]["auth"]["params"]["password"] == "kb-secret"
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
        if reached[-1] == "Copy id":
            break
    # The next step (the tested connection's tables) comes before the id's copy button.
    assert reached[-1] == "Copy id" and "Explore its tables" in reached, reached


def test_without_javascript_split_and_create_work(browser, live_server, fresh_emulator):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="GreenPlum").click()
    page.get_by_label("Connection name").fill("No JS")
    page.get_by_label("Paste a connection string").check()
    page.get_by_label("Connection string", exact=True).fill(
        "HOST=gp.example.com;PORT=6543;DB=sales;UID=etl;PWD=nojs;SSL=1"
    )
    page.get_by_role("button", name="Split into separate fields").click()
    assert "left out: SSL" in page.locator("#split-notice").inner_text()
    assert page.get_by_label("Server", exact=True).input_value() == "gp.example.com"
    assert page.get_by_label("Port", exact=True).input_value() == "6543"
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert page.get_by_label("Fill in the fields").is_checked()
    page.get_by_label("Password", exact=True).fill("nojs")
    submit(page)
    page.wait_for_url("**/connections/*")
    assert page.locator("#connection-id").inner_text() == list(fresh_emulator.connections)[0]
    assert (
        fresh_emulator.creations()[0]["auth"]["params"]["connectionString"]
        == "HOST=gp.example.com;PORT=6543;DB=sales;UID=etl;PWD=nojs"
    )
    context.close()


@pytest.mark.parametrize(("sslmode", "encryption", "checked"), [("verify-full", "1", "1"), ("require", "1", "0")])
def test_a_pasted_uri_keeps_its_encryption_when_split_in_the_browser(page, live_server, sslmode, encryption, checked):
    page.goto(live_server.url + "/sources/postgresql")
    page.get_by_label("Connection string, pasted").check()
    page.get_by_label("Connection string", exact=True).fill(
        f"postgresql://etl:pw@pg.example.com:5433/orders?sslmode={sslmode}"
    )
    page.get_by_role("button", name="Split into separate fields").click()
    assert page.get_by_label("Encryption", exact=True).input_value() == encryption
    assert page.get_by_label("Check the server's certificate").input_value() == checked
    assert "sslmode" not in page.get_by_role("status").inner_text()  # kept, so not among what was left out


def test_pasting_offers_to_split_and_keeps_the_password_in_the_browser(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/sources/postgresql")
    page.get_by_label("Connection name").fill("Pasted")
    page.get_by_label("Connection string, pasted").check()
    split = page.get_by_role("button", name="Split into separate fields")
    assert not split.is_visible()
    page.get_by_label("Connection string", exact=True).fill(
        "Server=pg.example.com;Database=orders;Port=5433;UID=etl;Password={p;a}}ss{=};EncryptionMethod=1"
    )
    assert split.is_visible()
    split.click()
    assert page.get_by_label("Connection string, from the fields below").is_checked()
    assert page.evaluate("document.activeElement.id") == "server"
    assert page.get_by_label("Password", exact=True).input_value() == "p;a}ss{="
    assert page.get_by_label("Encryption", exact=True).input_value() == "1"
    assert "Filled Server, Port, Database, Username, Password" in page.get_by_role("status").inner_text()
    submit(page)
    page.wait_for_url("**/connections/*")
    sent = parse_connection_string(fresh_emulator.creations()[0]["auth"]["params"]["connectionString"])
    assert sent == {
        "Server": "pg.example.com",
        "Database": "orders",
        "Port": "5433",
        "UID": "etl",
        "Password": "p;a}ss{=",
        "EncryptionMethod": "1",
    }


def test_the_browser_reads_connection_strings_as_the_server_does(page, live_server):
    page.goto(live_server.url + "/sources/greenplum")
    for value in AWKWARD:
        text = build_connection_string([("HOST", "h"), ("PWD", value)])
        assert page.evaluate("t => window.parseConnectionString(t)", text) == parse_connection_string(text)
    for broken in ("HOST=h;PWD={abc", "HOST=a;host=b", "justtext"):
        assert (
            page.evaluate(
                "t => { try { window.parseConnectionString(t); return 'ok'; } catch (e) { return 'error'; } }", broken
            )
            == "error"
        )
    read = "t => { try { return window.readPasted(t); } catch (e) { return 'error'; } }"
    for text in PASTED:
        try:
            expected = read_pasted(text)[1]
        except ConnectionStringError:
            expected = "error"
        assert page.evaluate(read, text) == expected, text


def test_a_pasted_libpq_string_fills_the_fields_in_the_browser(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/sources/postgresql")
    page.get_by_label("Connection string, pasted").check()
    page.get_by_label("Connection string", exact=True).fill(
        "host=pg.example.com port=5433 dbname=orders user=etl password='p w;x'"
    )
    page.get_by_role("button", name="Split into separate fields").click()
    assert page.get_by_label("Server", exact=True).input_value() == "pg.example.com"
    assert page.get_by_label("Database", exact=True).input_value() == "orders"
    assert page.get_by_label("Password", exact=True).input_value() == "p w;x"


def test_the_password_toggle_shows_and_hides(page, live_server):
    page.goto(live_server.url + "/sources/redshift")
    password = page.get_by_label("Password", exact=True)
    password.fill("peek")
    page.get_by_role("button", name="Show Password").click()
    assert password.get_attribute("type") == "text"
    page.get_by_role("button", name="Show Password").click()
    assert password.get_attribute("type") == "password"


@pytest.mark.read_timeout(IN_TIME)  # Flow Service slow, in time: the page is looked at while it waits
def test_submit_is_disabled_while_creating_and_a_second_submit_does_nothing(page, live_server, fresh_emulator):
    fresh_emulator.inject(Fault("POST", "/connections", delay=1.0, after_handling=True))
    key, data = form_data("redshift")
    page.goto(f"{live_server.url}/sources/{key}")
    fill(page, key, data)
    # Click from inside the page so the test can look at it while the request runs.
    state = page.evaluate("""() => {
        const button = document.querySelector('button.primary');
        button.click();
        document.querySelector('form.wizard-form').requestSubmit();
        return [button.disabled, button.textContent, button.getAttribute('aria-busy')];
    }""")
    assert state == [True, "Creating connection…", "true"]
    page.wait_for_url("**/connections/*")
    assert len(fresh_emulator.creations()) == 1


def test_phoenix_says_plainly_it_is_deprecated(page, live_server):
    page.goto(live_server.url + "/")
    assert page.get_by_text("deprecated by Adobe").is_visible()
    page.goto(live_server.url + "/sources/phoenix")
    text = page.locator(".callout--warn").inner_text()
    assert "Deprecated by Adobe" in text and "end of May 2025" in text and "Data Landing Zone" in text
