"""In Chromium: checks before sending, one-click fixes, namesakes on leaving the name, Back, conflicts."""

from __future__ import annotations

import types

import pytest

from app import services
from app.sources.base import check_pasted_string
from app.sources.fields import host_name_error, port_error
from app.sources.greenplum import REQUIRED_KEYS

pytestmark = pytest.mark.browser

HOSTS = [
    "db.example.com",
    "db.example.com.",
    "10.0.0.5",
    "2001:db8::5",
    "[2001:db8::5]",
    "https://db.example.com",
    "https://DB.example.com:5439/dev",
    "jdbc:redshift://rs.example.com:5439/dev",
    "http://:80",
    "postgres://u@h:99999",
    "db.example.com:5439",
    "etl@db.example.com",
    "db.example.com/dev",
    "-bad-.example.com",
    "a" * 64 + ".com",
    "under_score.example.com",
    "999.1.1.1",
    "01.2.3.4",
    "x:y:z",
    "db..example.com",
    "é.example.com",
    "ex ample.com",
]
PORTS = ["5432", "1", "65535", "0", "65536", "http", "54 32", "-1", "5432.0", "", "00080", "٥٤٣٢"]
STRINGS = [
    "HOST=gp.example.com;PORT=5432;DB=d;UID=u;PWD=p",
    "Server=gp.example.com;Port=6543;Database=d;User=u;Password=p",
    "this is not a connection string",
    "HOST=h;PORT=5432",
    "HOST=https://h.example.com;PORT=1;DB=d;UID=u;PWD=p",
    "HOST=h;PORT=99999;DB=d;UID=u;PWD=p",
    "HOST=h;PWD={abc",
    "HOST=h;host=g",
    "=x",
    "HOST={h}x;PORT=1",
    "postgresql://u:p@h:5432/d",
    "host=h port=5432 dbname=d user=u password=p",
    "",
    "   ",
    "HOST=h;PORT=;DB=d;UID=u;PWD=p",
]


def server_string_error(value: str, keys, shape=None):
    field = types.SimpleNamespace(data=value, errors=[])
    check_pasted_string(field, keys, shape)
    return field.errors[0] if field.errors else None


def test_the_browser_and_the_server_agree_on_every_value(page, live_server):
    page.goto(live_server.url + "/sources/greenplum")
    for host in HOSTS:
        assert page.evaluate("v => window.wizardChecks.hostNameError(v)", host) == host_name_error(host), host
    for port in PORTS:
        assert page.evaluate("v => window.wizardChecks.portError(v)", port) == port_error(port), port
    keys = [[name, list(accepted)] for name, accepted in REQUIRED_KEYS]
    for text in STRINGS:
        for shape in (None, "Server=…;Port=…"):
            assert page.evaluate(
                "([v, k, s]) => window.wizardChecks.connectionStringError(v, k, s)", [text, keys, shape]
            ) == server_string_error(text, REQUIRED_KEYS, shape), text


def posts(emulator) -> int:
    return len(emulator.creations())


def test_mistakes_are_caught_in_the_browser_and_the_password_stays(page, live_server, fresh_emulator):
    requests_seen = []
    page.on("request", lambda r: requests_seen.append(r.method))
    page.goto(live_server.url + "/sources/redshift")
    page.get_by_label("Password", exact=True).fill("kept-in-the-page")
    page.get_by_label("Port", exact=True).fill("99999")
    page.get_by_role("button", name="Create connection").click()
    summary = page.locator("#error-summary")
    assert "things need fixing" in summary.inner_text()
    links = summary.locator("a").all_inner_texts()
    assert "Connection name: This field is required." in links
    assert "Port: Enter the port as a whole number from 1 to 65535." in links
    assert "Server: This field is required." in links
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.id") == "name"
    assert page.locator("#port").get_attribute("aria-invalid") == "true"
    assert "port-error" in page.locator("#port").get_attribute("aria-describedby")
    assert "POST" not in requests_seen and posts(fresh_emulator) == 0
    assert page.get_by_label("Password", exact=True).input_value() == "kept-in-the-page"
    # Fixing a field clears its message as soon as the value changes.
    page.get_by_label("Port", exact=True).fill("5439")
    page.get_by_label("Port", exact=True).blur()
    assert page.locator("#port-error").count() == 0 and "Port:" not in summary.inner_text()


@pytest.mark.parametrize(
    "typed, host, port, button",
    [
        ("db.example.com:5440", "db.example.com", "5440", "Use db.example.com and port 5440"),
        ("https://rs.example.com:5441/dev", "rs.example.com", "5441", "Use rs.example.com and port 5441"),
        ("https://rs.example.com", "rs.example.com", "5439", "Use rs.example.com"),
    ],
)
def test_a_host_with_a_scheme_or_port_is_fixed_in_one_click(
    page, live_server, fresh_emulator, typed, host, port, button
):
    page.goto(live_server.url + "/sources/redshift")
    page.get_by_label("Connection name").fill("Fixed in one click")
    page.get_by_label("Database", exact=True).fill("dev")
    page.get_by_label("Username", exact=True).fill("etl")
    page.get_by_label("Password", exact=True).fill("one-click-pw")
    page.get_by_label("Server", exact=True).fill(typed)
    page.get_by_label("Server", exact=True).blur()
    assert page.locator("#server-error").is_visible()
    page.get_by_role("button", name=button, exact=True).click()
    assert page.get_by_label("Server", exact=True).input_value() == host
    assert page.get_by_label("Port", exact=True).input_value() == port
    assert page.locator("#server-error").count() == 0
    assert page.get_by_label("Password", exact=True).input_value() == "one-click-pw"
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    params = fresh_emulator.creations()[0]["auth"]["params"]
    assert (params["server"], params["port"]) == (host, port)


def test_a_generic_connection_string_is_checked_in_the_browser(page, live_server, fresh_emulator):
    mysql = next(i for i, s in fresh_emulator.specs.items() if s["name"] == "mysql")
    page.goto(f"{live_server.url}/sources/spec/{mysql}?auth=Connection String Based Authentication")
    page.get_by_label("Connection name").fill("Not a string")
    page.get_by_label("Connection string", exact=True).fill("this is not a connection string")
    page.get_by_role("button", name="Create connection").click()
    assert "Part 1 is not a key=value pair" in page.locator("#connectionString-error").inner_text()
    page.get_by_label("Connection string", exact=True).fill("Server=db.example.com;UID=etl;PWD=pw")
    page.get_by_role("button", name="Create connection").click()
    assert "no value for Port, Database" in page.locator("#connectionString-error").inner_text()
    assert posts(fresh_emulator) == 0
    page.get_by_label("Connection string", exact=True).fill(
        "Server=db.example.com;Port=3306;Database=shop;UID=etl;PWD=pw"
    )
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    assert posts(fresh_emulator) == 1


def test_without_javascript_the_server_still_says_everything_at_once(browser, live_server, fresh_emulator):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/sources/redshift")
    page.get_by_label("Server", exact=True).fill("db.example.com:5440")
    page.get_by_label("Port", exact=True).fill("99999")
    page.get_by_role("button", name="Create connection").click()
    text = page.locator("#error-summary").inner_text()
    assert "Enter the host without the port: type db.example.com here and 5440 as the port." in text
    assert "Port: Enter the port as a whole number" in text and "Connection name: This field is required." in text
    context.close()


def adobe_calls(emulator, since: int) -> list[str]:
    """The Flow Service calls since the `since`-th, as "GET /connections/<id>" (connection specs left out)."""
    return [
        f"{r.method} {r.path.split('flowservice', 1)[-1]}"
        for r in emulator.received[since:]
        if "/connections" in r.path and not r.path.endswith("/connectionSpecs")
    ]


def test_the_namesake_check_happens_when_the_name_is_left_and_the_submit_makes_two_calls(
    page, live_server, fresh_emulator
):
    flow = services.of(live_server.app).connections
    earlier = flow.create_connection(
        "prod",
        {
            "name": "Orders",
            "auth": {
                "specName": "Basic Authentication",
                "params": {
                    "server": "rs.example.com",
                    "port": "5439",
                    "database": "dev",
                    "username": "u",
                    "password": "p",
                },
            },
            "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff", "version": "1.0"},
        },
    ).id
    page.goto(live_server.url + "/sources/redshift")
    page.get_by_label("Connection name").fill("Orders")
    page.get_by_label("Description").focus()
    note = page.locator("#name-namesakes")
    note.wait_for()
    assert "A connection in prod already has this name" in note.inner_text()
    assert note.get_by_role("link").get_attribute("href") == f"/connections/{earlier}?sandbox=prod"
    assert "name-namesakes" in page.get_by_label("Connection name").get_attribute("aria-describedby")
    for label, value in (("Server", "rs.example.com"), ("Database", "dev"), ("Username", "etl"), ("Password", "pw")):
        page.get_by_label(label, exact=True).fill(value)
    before = len(fresh_emulator.received)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    made = list(fresh_emulator.connections)[-1]
    # The create, then the result page's read of the connection beside its test (side by side: one wait).
    calls = adobe_calls(fresh_emulator, before)
    assert calls[0] == "POST /connections" and sorted(calls[1:]) == [
        f"GET /connections/{made}",
        f"GET /connections/{made}/test",
    ], calls
    assert len(fresh_emulator.creations()) == 2  # the person saw the warning and went ahead


def test_without_javascript_the_namesake_check_stays_at_submit(browser, live_server, fresh_emulator):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/sources/redshift")
    page.get_by_label("Connection name").fill("Fresh name")
    for label, value in (("Server", "rs.example.com"), ("Database", "dev"), ("Username", "etl"), ("Password", "pw")):
        page.get_by_label(label, exact=True).fill(value)
    before = len(fresh_emulator.received)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    made = list(fresh_emulator.connections)[-1]
    calls = adobe_calls(fresh_emulator, before)
    assert calls[:2] == ["GET /connections", "POST /connections"], calls
    assert sorted(calls[2:]) == [f"GET /connections/{made}", f"GET /connections/{made}/test"], calls
    context.close()


def test_the_namesakes_endpoint_answers_only_for_sandboxes_the_person_may_create_in(client, fresh_emulator):
    answer = client.get("/namesakes?sandbox=prod&name=Nobody")
    assert answer.status_code == 200 and answer.json == {"sandbox": "prod", "name": "Nobody", "namesakes": []}
    assert "private" in answer.headers["Cache-Control"] and "max-age=30" in answer.headers["Cache-Control"]
    assert client.get("/namesakes?sandbox=elsewhere&name=x").status_code == 404
    assert client.get("/namesakes?sandbox=prod&name=" + "x" * 300).status_code == 404
    assert client.get("/namesakes?sandbox=prod").status_code == 404


def test_back_after_creating_leads_to_the_connection_that_was_created(page, live_server, fresh_emulator):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Amazon Redshift").click()
    page.get_by_label("Connection name").fill("Back and forth")
    for label, value in (("Server", "rs.example.com"), ("Database", "dev"), ("Username", "etl"), ("Password", "pw")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url("**/connections/*")
    created = page.locator("#connection-id").inner_text()
    page.go_back()
    page.wait_for_url(f"**/connections/{created}?*")
    assert page.locator("#connection-id").inner_text() == created
    assert len(fresh_emulator.creations()) == 1
    page.go_back()
    page.wait_for_url(live_server.url + "/")
    # Choosing the form again on purpose gives a fresh form, not the old connection.
    page.get_by_role("link", name="Amazon Redshift").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/sources/redshift") and page.get_by_label("Connection name").input_value() == ""


def test_a_submission_key_tells_only_where_it_led(client):
    assert client.get("/submissions/not-a-key").status_code == 404
    assert client.get("/submissions/" + "a" * 22).json == {"result": None}


def test_a_colleagues_change_is_shown_beside_yours_and_overwriting_it_is_a_choice(page, live_server, fresh_emulator):
    flow = services.of(live_server.app).connections
    created = flow.create_connection(
        "prod",
        {
            "name": "Shared",
            "auth": {
                "specName": "Basic Authentication",
                "params": {
                    "server": "rs.example.com",
                    "port": "5439",
                    "database": "dev",
                    "username": "u",
                    "password": "p",
                },
            },
            "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff", "version": "1.0"},
        },
    )
    page.goto(f"{live_server.url}/connections/{created.id}/edit?sandbox=prod")
    page.get_by_label("Connection name").fill("Mine")
    flow.update_connection("prod", created.id, created.etag, [{"op": "replace", "path": "/name", "value": "Theirs"}])
    page.get_by_role("button", name="Save").click()
    compare = page.locator("#compare")
    assert "Theirs" in compare.inner_text() and "Mine" in compare.inner_text() and "(differs)" in compare.inner_text()
    assert page.get_by_label("Connection name").input_value() == "Mine"
    assert fresh_emulator.connections[created.id]["name"] == "Theirs"
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    page.get_by_role("button", name="Save mine over theirs").click()
    page.wait_for_url(f"**/connections/{created.id}?sandbox=prod")
    assert fresh_emulator.connections[created.id]["name"] == "Mine"


def test_the_picker_filters_as_you_type_and_says_when_nothing_matches(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_label("Find a source").fill("sql")
    assert (
        page.get_by_role("link", name="MySQL").is_visible() and page.get_by_role("link", name="PostgreSQL").is_visible()
    )
    assert not page.get_by_role("link", name="Snowflake").is_visible()
    assert "sources match “sql”" in page.locator("#q-status").inner_text()
    page.get_by_label("Find a source").fill("no such database")
    assert page.locator("#no-match").inner_text().startswith("No source matches “no such database”.")
    assert not page.get_by_role("heading", name="More database sources").is_visible()
    page.get_by_label("Find a source").fill("")
    assert page.get_by_role("link", name="Snowflake").is_visible() and not page.locator("#no-match").is_visible()
    # Without JavaScript the Search button does the same on the server, and Show all sits beside it.
    page.goto(live_server.url + "/?q=no+such+database")
    assert "No source matches “no such database”." in page.locator("#no-match").inner_text()
    search, show_all = (
        page.get_by_role("button", name="Search").bounding_box(),
        page.get_by_role("link", name="Show all", exact=True).bounding_box(),
    )
    assert abs((search["y"] + search["height"]) - (show_all["y"] + show_all["height"])) < 2


def test_rotate_offers_only_what_rotation_accepts_in_the_browser(page, live_server, fresh_emulator):
    flow = services.of(live_server.app).connections
    basic = flow.create_connection(
        "prod",
        {
            "name": "Basic PG",
            "auth": {
                "specName": "Basic Authentication",
                "params": {
                    "server": "pg.example.com",
                    "port": "5432",
                    "database": "d",
                    "username": "u",
                    "password": "p",
                    "sslMode": "Verify Full",
                },
            },
            "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
        },
    )
    page.goto(f"{live_server.url}/connections/{basic.id}/credentials?sandbox=prod")
    assert page.locator("input[name=method]").count() == 1
    assert page.get_by_label("Basic authentication (server, port, database, user, password, SSL mode)").is_checked()
    assert page.get_by_label("Connection string", exact=True).count() == 0
    page.get_by_label("Password", exact=True).fill("rotated-in-browser")
    page.get_by_role("button", name="Send new credentials").click()
    page.wait_for_url(f"**/connections/{basic.id}/test?sandbox=prod")
    assert fresh_emulator.secrets[basic.id]["password"] == "rotated-in-browser"
