"""Finding the way from the picker to a running dataflow: what the portal does beyond a connection is said at the start,
the steps span the whole journey, and an empty filtered list offers to clear its filters."""

from __future__ import annotations

import html
import re

import pytest
import requests

from app import services
from app.web.audit import ACTION_WORDS

from .helpers.dataflows import Maker, Walk, form_token
from .helpers.forms import connection_body as body


def test_the_picker_says_the_portal_goes_beyond_a_connection(client):
    lead = re.search(r'<p class="lead">(.*?)</p>', client.get("/").get_data(as_text=True), re.S).group(1)
    assert "Connect a database, then bring its tables into Experience Platform on a schedule" in lead
    assert "dataflow" in lead and "tests it" in lead


def test_the_steps_span_the_journey_from_the_connection(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Journey"))
    walk = Walk(live_server.url, created.id)
    page = walk.get("dataset").text
    steps = re.search(r'<ol class="steps">(.*?)</ol>', page, re.S).group(1)
    labels = re.findall(r">(\d\. [A-Z][a-z]+)<", steps)
    assert labels == ["1. Connection", "2. Table", "3. Dataset", "4. Mapping", "5. Schedule", "6. Review"]
    assert f'href="/connections/{created.id}?sandbox=prod">1. Connection' in steps
    assert "table=public.customers" in steps and '<span aria-current="step">3. Dataset</span>' in steps


def test_an_empty_filtered_list_offers_to_clear_its_filters(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Listed"))
    Maker(fresh_emulator).flow(created.id)
    page = requests.get(f"{live_server.url}/connections?sandbox=prod&name=nothing-like-it", timeout=10).text
    assert '<a href="/connections?sandbox=prod">Clear filters</a>' in page
    unfiltered = requests.get(f"{live_server.url}/connections?sandbox=prod", timeout=10).text
    assert "Clear filters" not in unfiltered
    flows = requests.get(f"{live_server.url}/dataflows?health=failing", timeout=10).text
    assert "No dataflow matches these filters" in flows and ">Clear filters</a>" in flows


def test_the_delete_page_raises_one_warning_even_with_a_chain(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Chained"))
    Maker(fresh_emulator).flow(created.id)
    page = requests.get(f"{live_server.url}/connections/{created.id}/delete?sandbox=prod", timeout=10).text
    assert page.count("callout--warn") == 1 and 'class="summary"' not in page
    assert "the dataflows, then their source connections, then their target connections" in page


def test_the_reviews_requests_are_folded_until_asked_for(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Folded"))
    walk = Walk(live_server.url, created.id)
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302 and walk.schedule().status_code == 302
    review = walk.get("review").text
    folded = re.search(r'<details class="requests" id="requests">\s*<summary>', review)
    assert folded and "curl" in review[folded.end() :]  # the commands are there, folded (no `open`)


def test_choices_are_worded_by_what_they_do(client):
    form = client.get("/sources/postgresql").get_data(as_text=True)
    encryption = re.search(r'<select[^>]*id="encryptionMethod".*?</select>', form, re.S).group(0)
    options = re.findall(r"<option[^>]*>([^<]+)</option>", encryption)
    # What each does first; the driver's code beside it, never as the choice's name.
    assert options[1:] == [
        "Never encrypt (EncryptionMethod=0)",
        "Always encrypt with SSL (EncryptionMethod=1)",
        "Encrypt when the server offers it (EncryptionMethod=6)",
    ]
    assert "What differs is how Flow Service receives it" in form


def test_the_audit_says_each_action_in_plain_words_beside_its_code(client, app):
    page = client.get("/audit").get_data(as_text=True)
    page = re.search(r'<select id="action".*?</select>', page, re.S).group(0)
    options = [
        (code, html.unescape(words)) for code, words in re.findall(r'<option value="([a-z-]+)">([^<]+)</option>', page)
    ]
    assert options == list(ACTION_WORDS.items()) and all(" " in words for _code, words in options)


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1440])
def test_nothing_moves_when_the_script_shows_the_copy_buttons(browser, live_server, live_app, width):
    created = services.of(live_app).connections.create_connection("prod", body("Steady"))
    url = f"{live_server.url}/connections/{created.id}?sandbox=prod"
    places = []
    for script in (False, True):
        context = browser.new_context(java_script_enabled=script, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(url)
        places.append(page.get_by_role("heading", name="What you can do").bounding_box()["y"])
        assert page.get_by_role("button", name="Copy id").is_visible() is script  # shown only where it works
        context.close()
    assert places[0] == places[1]


def test_the_mapping_is_a_table_of_columns_to_fields_with_identities_marked(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Mapped"))
    walk = Walk(live_server.url, created.id)
    walk.dataset(fresh_emulator)
    page = walk.get("mapping").text
    rows = re.findall(
        r"<tr><th scope=\"row\" data-label=\"Column\"><code>([^<]+)</code></th>\s*<td[^>]*>([^<]+)</td>", page
    )
    assert [name for name, _kind in rows] == ["customer_id", "email", "first_name", "created_at"]
    assert dict(rows)["created_at"] == "date-time"
    # The row of a column mapped to an identity field says so, beside the field's type.
    assert re.search(r"string <strong class=\"identity\">identity \w+", page)
    assert "Constant 1: field" not in page and ">Add a constant</button>" in page


def test_a_constant_is_added_with_a_button_and_nothing_typed_is_lost(live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Constants"))
    walk = Walk(live_server.url, created.id)
    walk.dataset(fresh_emulator)
    page = walk.get("mapping").text
    before = len(fresh_emulator.received)
    added = walk.session.post(
        f"{walk.url}/mapping",
        data={
            "csrf_token": form_token(page),
            "column_1": "personalEmail.address",
            "constants": "0",
            "add_constant": "1",
        },
        timeout=10,
    )
    assert added.status_code == 200 and "Constant 1: field" in added.text and "Constant 2: field" not in added.text
    assert 'value="personalEmail.address"' in added.text  # what was typed is kept
    assert not [r for r in fresh_emulator.received[before:] if "mappingSets" in r.path]  # nothing asked of Data Prep


# Every text node of a phone's card cell, and the cell's elements, start in the value column (right of the label).
TEXT_IN_VALUE_COLUMN = """() => {
  const wrong = [];
  for (const cell of document.querySelectorAll("table.list td[data-label]")) {
    // The label takes the first 5.5rem: nothing of the value may start within its first 5rem.
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    const start = cell.getBoundingClientRect().left + 5 * rem;
    for (const node of cell.childNodes) {
      if (node.nodeType === Node.TEXT_NODE && !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) {
        if (rect.width && rect.left < start) wrong.push(cell.dataset.label + ": " + node.textContent.slice(0, 40));
      }
    }
  }
  return wrong;
}"""


@pytest.mark.browser
def test_on_a_phone_long_text_stays_in_the_value_column_and_the_string_in_its_card(
    browser, live_server, live_app, fresh_emulator
):
    created = services.of(live_app).connections.create_connection("prod", body("Carded"))
    flow_id = Maker(fresh_emulator).due_flow(created.id, ["failed"], "Cards on a phone")
    fresh_emulator.clock_offset = 1200.0  # its first run falls due and fails
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    assert page.get_by_text("Failed", exact=True).count()  # a run whose error's words are long
    assert page.evaluate(TEXT_IN_VALUE_COLUMN) == []
    page.goto(f"{live_server.url}/audit")
    assert page.evaluate(TEXT_IN_VALUE_COLUMN) == []
    page.goto(f"{live_server.url}/sources/postgresql")
    page.get_by_label("Connection string, pasted").check()
    beyond = page.evaluate("""() => {
        const form = document.querySelector("form[data-source]");
        const limit = form.getBoundingClientRect().right - parseFloat(getComputedStyle(form).paddingRight) + 0.5;
        return [...form.querySelectorAll("*")]
            .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > limit)
            .map(e => e.tagName + "#" + e.id + "." + e.className);
    }""")
    assert beyond == []  # nothing of the form, the connection string's group included, leaves its card's inside
    context.close()


@pytest.mark.browser
def test_the_steps_share_one_width_and_the_dataset_list_is_as_wide_as_its_search(
    browser, live_server, live_app, fresh_emulator
):
    created = services.of(live_app).connections.create_connection("prod", body("Widths"))
    walk = Walk(live_server.url, created.id)
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302 and walk.schedule().status_code == 302
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    widths = {}
    for step in ("dataset", "mapping", "schedule", "review"):
        page.goto(f"{walk.url}/{step}")
        widths[step] = page.locator("main").bounding_box()["width"]
        if step == "dataset":
            # The list's card as wide as its search.
            search, listed = page.locator("form[role=search]"), page.locator("form", has=page.locator("table.list"))
            assert search.bounding_box()["width"] == listed.bounding_box()["width"]
    assert len(set(widths.values())) == 1, widths
    context.close()


def test_a_connections_name_comes_before_its_id_and_etag(live_server, live_app):
    created = services.of(live_app).connections.create_connection("prod", body("Named first"))
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10).text
    assert page.index("<dt>Name</dt>") < page.index("<dt>Connection id</dt>") < page.index("<dt>Etag</dt>")


@pytest.mark.browser
def test_the_servers_error_on_a_pasted_string_goes_once_the_split_succeeds(page, live_server):
    page.goto(live_server.url + "/sources/postgresql")
    page.get_by_label("Connection name").fill("Split after all")
    page.get_by_label("Connection string, pasted").check()
    page.get_by_label("Connection string", exact=True).fill("postgresql://etl:pw@pg.example.com:5433/orders")
    with page.expect_navigation():  # past the browser's checks, as without JavaScript
        page.evaluate("document.querySelector('form[data-source]').submit()")
    assert page.locator("#connectionString-error").count() and page.locator("#error-summary").count()
    page.get_by_label("Connection string", exact=True).fill("postgresql://etl:pw@pg.example.com:5433/orders")
    page.get_by_role("button", name="Split into separate fields").click()
    assert page.get_by_label("Server", exact=True).input_value() == "pg.example.com"
    assert not page.locator("#connectionString-error").count() and not page.locator("#error-summary").count()


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1440])
def test_a_copy_button_covers_none_of_its_command(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sources/postgresql")  # a new connection's page shows the request sent, to copy
    page.get_by_label("Connection name").fill("Covered")
    for label, value in (("Server", "pg.example.com"), ("Database", "orders"), ("Username", "etl")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Password", exact=True).fill("pw-1")
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    button = page.locator(".copyable .copy").first.bounding_box()
    first_line = page.locator(".copyable pre").first.evaluate(
        """pre => { const r = document.createRange(); r.setStart(pre.firstChild, 0); r.setEnd(pre.firstChild, 1);
                    return r.getBoundingClientRect().top; }"""
    )
    assert first_line >= button["y"] + button["height"]  # the text begins below the button
    context.close()


# Each code element (a table's name, an id) short enough for its line is on one line: broken only when it cannot fit.
BROKEN_CODES = """() => [...document.querySelectorAll("main code")].filter(code => {
  const box = code.parentElement.getBoundingClientRect();
  const whole = code.textContent.length * parseFloat(getComputedStyle(code).fontSize) * 0.62;
  return code.getClientRects().length > 1 && whole < box.width * 0.9;
}).map(code => code.textContent)"""


@pytest.mark.browser
def test_a_table_or_field_name_is_never_broken_inside_a_word(browser, live_server, live_app, fresh_emulator):
    created = services.of(live_app).connections.create_connection("prod", body("Unbroken names"))
    walk = Walk(live_server.url, created.id, table="sales.odd_names", token_table="public.orders")  # long names
    walk.dataset(fresh_emulator)
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.context.add_cookies(
        [{"name": k, "value": v, "url": live_server.url} for k, v in walk.session.cookies.get_dict().items()]
    )
    broken = {}
    for path in (f"{walk.url}/dataset", f"{walk.url}/mapping", f"/connections/{created.id}/explore?sandbox=prod"):
        page.goto(path if path.startswith("http") else live_server.url + path)
        broken[path] = page.evaluate(BROKEN_CODES)
    assert not any(broken.values()), broken
    context.close()
