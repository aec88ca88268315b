"""Managing connections over real HTTP against the emulator: list, detail, test, explore, rename, rotate, delete."""

from __future__ import annotations

import re

import pytest
import requests

from app import services
from app.emulator import Fault
from app.sources import SOURCES
from app.sources.secrecy import MASK
from app.web.connections import PAGE_SIZE

from .helpers.browser import assert_axe_clean
from .helpers.forms import connection_body as body
from .helpers.forms import form_data
from .helpers.markup import csrf_token, submission_id

NEW_PASSWORD = "rotated-Pw;7{c}"


@pytest.fixture
def flow(live_app):
    return services.of(live_app).connections


@pytest.fixture
def session():
    return requests.Session()


def post_form(session, url, data):
    """Open the form at `url` as a browser would, then send it with its CSRF token and etag."""
    page = session.get(url, timeout=10).text
    fields = {"csrf_token": csrf_token(page)}
    etag = re.search(r'name="etag"(?: type="hidden")? value="([^"]*)"', page)
    if etag:
        fields["etag"] = etag.group(1).replace("&#34;", '"').replace("&quot;", '"')
    return session.post(url, data={**fields, **data}, allow_redirects=False, timeout=10)


def test_the_list_filters_by_source_and_state_sorts_by_name_and_goes_back(live_server, fresh_emulator, flow, session):
    greenplum = SOURCES["greenplum"].connection_spec_id
    for n in range(PAGE_SIZE + 3):
        flow.create_connection("prod", body(f"Warehouse {n:02d}"))
    plum = flow.create_connection("prod", body("Plum", "greenplum")).id
    off = flow.create_connection("prod", body("Asleep", "greenplum")).id
    fresh_emulator.connections[off]["state"] = "disabled"
    url = f"{live_server.url}/connections?sandbox=prod"
    only_plum = session.get(f"{url}&source={greenplum}&state=enabled", timeout=10).text
    assert f"<code>{plum}</code>" in only_plum and "Asleep" not in only_plum and "Warehouse" not in only_plum
    assert "1–1 of 1 connection<" in only_plum
    asleep = session.get(f"{url}&state=disabled", timeout=10).text
    assert "Asleep</a>" in asleep and "Plum</a>" not in asleep
    by_name = session.get(f"{url}&sort=name", timeout=10).text
    names = re.findall(r'">((?:Warehouse \d\d)|Plum|Asleep)</a>', by_name)
    assert names[:3] == ["Asleep", "Plum", "Warehouse 00"] and len(names) == PAGE_SIZE
    following = re.search(r'href="([^"]+)" rel="next"', by_name).group(1).replace("&amp;", "&")
    second = session.get(live_server.url + following, timeout=10).text
    assert re.findall(r'">(Warehouse \d\d)</a>', second) == [f"Warehouse {n}" for n in range(23, 28)]
    back = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert session.get(live_server.url + back, timeout=10).text.count("</a></td>") == PAGE_SIZE
    orders = [r.query for r in fresh_emulator.received if r.path.endswith("/connections") and "orderby" in r.query]
    assert any("orderby=%2Bname" in q for q in orders) and any("state%3D%3Ddisabled" in q for q in orders)


def test_the_list_pages_through_continuation_tokens(live_server, fresh_emulator, flow, session):
    created = {flow.create_connection("prod", body(f"Warehouse {n:02d}")).id for n in range(PAGE_SIZE + 5)}
    flow.create_connection("dev", body("Elsewhere"))
    first = session.get(f"{live_server.url}/connections?sandbox=prod", timeout=10)
    assert first.status_code == 200
    first_ids = set(re.findall(r"<code>([0-9a-f-]{36})</code>", first.text))
    assert len(first_ids) == PAGE_SIZE and "Elsewhere" not in first.text
    assert first.text.index("Warehouse 29") < first.text.index("Warehouse 05")  # newest first
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
    second = session.get(live_server.url + next_link, timeout=10)
    second_ids = set(re.findall(r"<code>([0-9a-f-]{36})</code>", second.text))
    assert len(second_ids) == 5 and not first_ids & second_ids and first_ids | second_ids == created
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
    lists = [r for r in fresh_emulator.received if r.method == "GET" and r.path.endswith("/connections")]
    counts = [r for r in lists if "count=true" in r.query]
    lists = [r for r in lists if r not in counts]
    assert len(counts) == 2 and f"{PAGE_SIZE + 5} connections" in first.text and "26–30 of 30" in second.text
    assert all(f"limit={PAGE_SIZE}" in r.query for r in lists)
    assert "continuationToken=" in lists[-1].query
    spec_ids = ",".join(s.connection_spec_id for s in SOURCES.values())
    assert all(f"property=connectionSpec.id%3D%3D{spec_ids.replace(',', '%2C')}" in r.query for r in lists)


def test_the_name_filter_finds_parts_of_names_in_any_case(live_server, flow, session):
    for name in ("Orders EU", "orders US", "Returns"):
        flow.create_connection("prod", body(name))
    page = session.get(f"{live_server.url}/connections", params={"name": "ORDERS"}, timeout=10).text
    assert "Orders EU" in page and "orders US" in page and "Returns" not in page
    assert (
        "has a name containing"
        in session.get(f"{live_server.url}/connections", params={"name": "zzz"}, timeout=10).text
    )


def test_a_sandbox_outside_the_list_is_not_found(live_server, session):
    assert session.get(f"{live_server.url}/connections?sandbox=finance", timeout=10).status_code == 404


@pytest.mark.parametrize("spec", ["postgresql", "greenplum"])
def test_details_mask_every_secret_without_telling_its_length(live_server, fresh_emulator, flow, session, spec):
    created = flow.create_connection("prod", body("Masked", spec, password="short"))
    # Were Flow Service ever to return a secret as it is, the page would still not show it.
    leaked = flow.create_connection("prod", body("Leaky", spec, password="a-much-longer-password-value"))
    stored = fresh_emulator.connections[leaked.id]["auth"]["params"]
    key = "password" if spec == "postgresql" else "connectionString"
    stored[key] = body("x", spec, password="a-much-longer-password-value")["auth"]["params"][key]
    pages = [session.get(f"{live_server.url}/connections/{c.id}", timeout=10).text for c in (created, leaked)]
    for page in pages:
        assert MASK in page and "****" not in page
        assert "a-much-longer-password-value" not in page and "short<" not in page
    assert pages[0].count(MASK) == pages[1].count(MASK)
    if spec == "greenplum":
        assert "HOST=gp.example.com;PORT=5432" in pages[1]  # a connection string keeps all but its password
    else:
        assert "pg.example.com" in pages[0] and "Verify Full" in pages[0]


def test_test_says_whether_the_connection_works(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Tested"))
    page = session.get(f"{live_server.url}/connections/{created.id}/test", timeout=10).text
    assert "Connection works." in page
    fresh_emulator.failing_tests.add(created.id)
    page = session.get(f"{live_server.url}/connections/{created.id}/test", timeout=10).text
    # Flow Service answers 200 {"result": false} (the spec's TestConnectionResponse), not an error.
    assert "Flow Service could not reach the database." in page and "firewall or allow-list" in page


def _created_through_the_form(live_server, session) -> str:
    form = session.get(f"{live_server.url}/sources/redshift", timeout=10).text
    key, data = form_data("redshift")
    sent = {**data, "csrf_token": csrf_token(form), "submission_id": submission_id(form)}
    created = session.post(f"{live_server.url}/sources/{key}", data=sent, timeout=10)
    assert created.status_code == 200 and "connection created" in created.text, created.text[:300]
    return created.text


def test_a_new_connection_is_tested_at_once_and_the_next_step_offered_first(live_server, fresh_emulator, session):
    page = _created_through_the_form(live_server, session)
    assert "Connection works." in page and "Flow Service reached the database" in page
    assert [r.path for r in fresh_emulator.received if r.path.endswith("/test")]
    # The next step is the primary action: explore the tables, then a dataflow; creating another is a plain link.
    primary = re.findall(r'<a class="button primary" href="([^"]+)"', page)
    assert len(primary) == 1 and "/explore" in primary[0]


def test_a_new_connection_that_cannot_reach_its_database_says_so_once_with_what_to_do(
    live_server, fresh_emulator, session
):
    # Flow Service answers a test that cannot connect 200 {"result": false} (the spec's TestConnectionResponse).
    fresh_emulator.faults.append(Fault("GET", "/test", 200, {"result": False}))
    page = _created_through_the_form(live_server, session)
    outcome = re.search(r'<div class="callout[^"]*" role="status" id="test-outcome">(.*?)</div>', page, re.S).group(1)
    assert "Flow Service could not reach the database." in outcome and "failed" not in outcome.lower()
    for link in ("/credentials?", "/test?", "/delete?"):
        assert link in outcome  # correct the details, test again, or delete what was made
    assert '<a class="button primary"' not in page  # no "next step" while it cannot reach its database


def test_explore_lists_tables_and_a_tables_columns(live_server, flow, session):
    created = flow.create_connection("prod", body("Explored"))
    tables = session.get(f"{live_server.url}/connections/{created.id}/explore", timeout=10).text
    assert "public.orders" in tables and "sales.returns" in tables
    link = re.search(r'href="([^"]+table=public.orders[^"]*)"', tables).group(1).replace("&amp;", "&")
    columns = session.get(live_server.url + link, timeout=10).text
    assert "Columns of public.orders" in columns and "placed_at" in columns and "number" in columns
    missing = session.get(f"{live_server.url}/connections/{created.id}/explore?table=nope", timeout=10)
    assert missing.status_code == 404 and "not found" in missing.text


def test_rename_changes_name_and_description_only(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Old name"))
    secrets_before = dict(fresh_emulator.secrets[created.id])
    response = post_form(
        session,
        f"{live_server.url}/connections/{created.id}/edit",
        {"name": "New name", "description": "Moved to the EU cluster"},
    )
    assert response.status_code == 303
    stored = fresh_emulator.connections[created.id]
    assert stored["name"] == "New name" and stored["description"] == "Moved to the EU cluster"
    assert stored["etag"] != created.etag and fresh_emulator.secrets[created.id] == secrets_before
    patch = [r for r in fresh_emulator.received if r.method == "PATCH"][0]
    assert patch.headers["If-Match"] == created.etag
    shown = session.get(live_server.url + response.headers["Location"], timeout=10).text
    assert "Renamed: Old name." in shown and "<h1>New name</h1>" in shown
    empty = post_form(session, f"{live_server.url}/connections/{created.id}/edit", {"name": ""})
    assert empty.status_code == 400 and "This field is required" in empty.text


def test_rotate_sends_new_credentials_and_never_shows_them(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Rotated"))
    url = f"{live_server.url}/connections/{created.id}/credentials"
    form = session.get(url, timeout=10).text
    assert 'value="pg.example.com"' in form and 'value="orders"' in form and 'value="etl"' in form
    assert "first-pw-1" not in form
    bad = post_form(
        session,
        url,
        {
            "method": "basic",
            "server": "pg.example.com",
            "port": "99999",
            "database": "orders",
            "username": "etl",
            "password": NEW_PASSWORD,
            "sslMode": "Verify Full",
        },
    )
    assert bad.status_code == 400 and NEW_PASSWORD not in bad.text and 'value="pg.example.com"' in bad.text
    assert not [r for r in fresh_emulator.received if r.method == "PATCH"]
    good = post_form(
        session,
        url,
        {
            "method": "basic",
            "server": "pg2.example.com",
            "port": "5433",
            "database": "orders",
            "username": "etl_v2",
            "password": NEW_PASSWORD,
            "sslMode": "Verify Full",
        },
    )
    assert good.status_code == 303
    assert fresh_emulator.secrets[created.id]["password"] == NEW_PASSWORD
    params = fresh_emulator.connections[created.id]["auth"]["params"]
    assert params["server"] == "pg2.example.com" and params["username"] == "etl_v2"
    assert fresh_emulator.connections[created.id]["name"] == "Rotated"
    assert f"/connections/{created.id}/test?" in good.headers["Location"], "new credentials are tested at once"
    page = session.get(live_server.url + good.headers["Location"], timeout=10).text
    assert "New credentials sent" in page and NEW_PASSWORD not in page and 'id="test-outcome"' in page


def test_rotate_keeps_the_kind_of_authentication(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Basic only"))
    offered = session.get(f"{live_server.url}/connections/{created.id}/credentials", timeout=10).text
    assert re.findall(r'name="method" type="radio" value="([^"]+)"', offered) == ["basic"]
    assert 'id="connectionString"' not in offered  # only what rotation accepts is offered
    pasted = flow.create_connection(
        "prod",
        {
            **body("Pasted"),
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=a.example.com;Database=d;Port=1;UID=u;Password=p"},
            },
        },
    )
    offered = session.get(f"{live_server.url}/connections/{pasted.id}/credentials", timeout=10).text
    assert re.findall(r'name="method" type="radio" value="([^"]+)"', offered) == ["fields", "connectionString"]
    response = post_form(
        session,
        f"{live_server.url}/connections/{created.id}/credentials",
        {"method": "connectionString", "connectionString": "Server=a.example.com;Database=d;Port=1;UID=u;Password=p"},
    )
    assert response.status_code == 400 and "cannot change once a connection exists" in response.text
    assert not [r for r in fresh_emulator.received if r.method == "PATCH"]


def test_a_stale_etag_shows_the_new_state_and_the_resubmit_goes_through(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Contended"))
    url = f"{live_server.url}/connections/{created.id}/credentials"
    page = session.get(url, timeout=10).text
    seen_etag = re.search(r'name="etag" value="([^"]*)"', page).group(1).replace("&#34;", '"')
    new_etag = flow.update_connection(
        "prod", created.id, created.etag, [{"op": "replace", "path": "/name", "value": "Contended (renamed)"}]
    ).etag
    data = {
        "csrf_token": csrf_token(page),
        "etag": seen_etag,
        "method": "basic",
        "server": "pg.example.com",
        "port": "5432",
        "database": "orders",
        "username": "etl",
        "password": NEW_PASSWORD,
        "sslMode": "Verify Full",
    }
    stale = session.post(url, data=data, timeout=10)
    assert stale.status_code == 409
    assert "changed this connection after you opened this page" in stale.text
    assert "Contended (renamed)" in stale.text and NEW_PASSWORD not in stale.text
    assert re.search(r'name="etag" value="([^"]*)"', stale.text).group(1).replace("&#34;", '"') == seen_etag
    fresh_etag = re.search(r'name="seen_etag" value="([^"]*)"', stale.text).group(1).replace("&#34;", '"')
    assert fresh_etag == new_etag and 'name="overwrite" value="1"' in stale.text
    # Sending the same form again, without choosing to overwrite, is refused again: nothing is lost unseen.
    again = session.post(url, data={**data, "seen_etag": fresh_etag}, timeout=10)
    assert again.status_code == 409 and fresh_emulator.secrets[created.id]["password"] != NEW_PASSWORD
    chosen = {**data, "seen_etag": fresh_etag, "overwrite": "1"}
    assert session.post(url, data=chosen, allow_redirects=False, timeout=10).status_code == 303
    assert fresh_emulator.secrets[created.id]["password"] == NEW_PASSWORD
    patches = [r for r in fresh_emulator.received if r.method == "PATCH"]
    assert all(r.headers.get("If-Match") for r in patches)  # 1403-400 never happens


def test_delete_asks_for_the_name_then_deletes(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("Doomed"))
    url = f"{live_server.url}/connections/{created.id}/delete"
    wrong = post_form(session, url, {"confirm_name": "doomed"})
    assert wrong.status_code == 400 and "not the connection&#39;s name" in wrong.text
    assert created.id in fresh_emulator.connections
    done = post_form(session, url, {"confirm_name": "Doomed"})
    assert done.status_code == 303 and created.id not in fresh_emulator.connections
    listing = session.get(live_server.url + done.headers["Location"], timeout=10).text
    assert "Deleted: Doomed." in listing
    assert session.get(f"{live_server.url}/connections/{created.id}", timeout=10).status_code == 404


def test_a_connection_used_by_a_dataflow_is_kept_and_the_page_says_why(live_server, fresh_emulator, flow, session):
    created = flow.create_connection("prod", body("In use"))
    fresh_emulator.used_by_dataflows.add(created.id)
    response = post_form(session, f"{live_server.url}/connections/{created.id}/delete", {"confirm_name": "In use"})
    assert response.status_code == 400
    assert "Delete the connection&#39;s dataflows and their source connections first" in response.text
    assert created.id in fresh_emulator.connections


def test_creating_a_namesake_warns_with_a_link_and_may_go_ahead(live_server, fresh_emulator, flow, session):
    existing = flow.create_connection("prod", body("Orders warehouse"))
    key, data = form_data("redshift")
    del data["duplicate_ok"]
    page = session.get(f"{live_server.url}/sources/{key}", timeout=10).text
    form = {**data, "csrf_token": csrf_token(page), "submission_id": submission_id(page)}
    warned = session.post(f"{live_server.url}/sources/{key}", data=form, allow_redirects=False, timeout=10)
    assert warned.status_code == 409
    assert "already has this name" in warned.text and f"/connections/{existing.id}" in warned.text
    assert len(fresh_emulator.creations()) == 1
    assert 'name="duplicate_ok" value="1"' in warned.text and 'value="rs.example.com"' in warned.text
    again = {**form, "csrf_token": csrf_token(warned.text), "duplicate_ok": "1"}
    created = session.post(f"{live_server.url}/sources/{key}", data=again, allow_redirects=False, timeout=10)
    assert created.status_code == 303 and len(fresh_emulator.creations()) == 2


@pytest.mark.parametrize("variant", list(__import__("tests.helpers.forms", fromlist=["VARIANTS"]).VARIANTS))
def test_every_variant_can_rotate_what_it_created(live_server, fresh_emulator, session, variant):
    key, data = form_data(variant)
    page = session.get(f"{live_server.url}/sources/{key}", timeout=10).text
    created = session.post(
        f"{live_server.url}/sources/{key}",
        allow_redirects=False,
        timeout=10,
        data={**data, "csrf_token": csrf_token(page), "submission_id": submission_id(page)},
    )
    connection_id = created.headers["Location"].split("/connections/")[1].split("?")[0]
    url = f"{live_server.url}/connections/{connection_id}/credentials"
    form = session.get(url, timeout=10)
    assert form.status_code == 200
    params = fresh_emulator.connections[connection_id]["auth"]["params"]
    if "connectionString" in params:
        # Flow Service keeps the whole string secret, so nothing of it can be filled in.
        assert "keeps the whole connection string secret" in form.text
    for name in ("server", "host", "username", "httpPath"):
        if name in params:
            assert f'value="{data[name]}"' in form.text, name  # what Flow Service holds is filled in
    rotated = {k: v for k, v in data.items() if k not in ("name", "description", "sandbox", "duplicate_ok")}
    if "password" in rotated:
        rotated["password"] = NEW_PASSWORD
    else:
        rotated["connectionString"] = rotated["connectionString"].replace("s3cret", "{rotated;pw}")
    response = post_form(session, url, rotated)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>(.*?)</p>', response.text)
    stored = fresh_emulator.secrets[connection_id]
    assert (
        NEW_PASSWORD in stored.get("password", "")
        or "{rotated;pw}" in stored.get("connectionString", "")
        or NEW_PASSWORD in stored.get("connectionString", "").replace("}}", "}")
    )


@pytest.mark.browser
def test_find_rotate_and_delete_in_the_browser(page, live_server, fresh_emulator, flow):

    def audit(where):
        assert_axe_clean(page, where)

    for name in ("Nightly orders DB", "Returns DB", "Marketing DB"):
        flow.create_connection("prod", body(name))
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Connections", exact=True).click()
    page.get_by_label("Name contains").fill("nightly")
    page.get_by_role("button", name="Show").click()
    assert page.locator("table.list tbody tr").count() == 1
    audit("the list")
    page.get_by_role("link", name="Nightly orders DB").click()
    assert MASK in page.locator("table.params").inner_text()
    page.get_by_role("link", name="Test connection").click()
    assert "Connection works." in page.locator("#test-outcome").inner_text()
    audit("the connection")
    page.get_by_role("link", name="Rotate credentials").click()
    assert page.get_by_label("Server", exact=True).input_value() == "pg.example.com"
    audit("the rotate form")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Send new credentials").click()
    assert "New credentials sent: Nightly orders DB." in page.locator("main").inner_text()
    connection_id = page.locator("#connection-id").inner_text()
    assert fresh_emulator.secrets[connection_id]["password"] == NEW_PASSWORD
    assert NEW_PASSWORD not in page.content()
    page.get_by_role("link", name="Delete").click()
    audit("the delete form")
    page.get_by_label("Type the connection's name to confirm").fill("Nightly orders DB")
    page.get_by_role("button", name="Delete connection").click()
    assert "Deleted: Nightly orders DB." in page.locator("main").inner_text()
    assert connection_id not in fresh_emulator.connections
    assert page.locator("table.list tbody tr").count() == 2


@pytest.mark.parametrize("etag", ["", "\u202e", "x" * 300])
def test_a_missing_or_forged_etag_is_treated_as_stale(live_server, fresh_emulator, flow, session, etag):
    created = flow.create_connection("prod", body("Guarded"))
    url = f"{live_server.url}/connections/{created.id}/edit"
    page = session.get(url, timeout=10).text
    response = session.post(url, data={"csrf_token": csrf_token(page), "etag": etag, "name": "Changed"}, timeout=10)
    assert response.status_code == 409 and "changed this connection after you opened this page" in response.text
    assert fresh_emulator.connections[created.id]["name"] == "Guarded"
    assert not [r for r in fresh_emulator.received if r.method == "PATCH"]


def test_details_list_params_in_the_sources_order_and_explore_shows_useful_columns(
    live_server, fresh_emulator, flow, session
):
    created = flow.create_connection("prod", body("Ordered"))
    page = session.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10).text
    params = re.findall(r'<th scope="row"><code>([A-Za-z]+)</code></th>', page)
    assert params == ["server", "port", "database", "username", "password", "sslMode"]
    assert "3416976c" not in page and SOURCES["postgresql"].connection_spec_id in page  # the spec id is here
    tables = session.get(f"{live_server.url}/connections/{created.id}/explore?sandbox=prod", timeout=10).text
    assert re.findall(r'<th scope="col">([^<]+)</th>', tables) == ["Table", "Database schema", "Flow Service can"]
    assert ">customers</a>" in tables and '<td data-label="Database schema">public</td>' in tables
    columns = session.get(
        f"{live_server.url}/connections/{created.id}/explore?sandbox=prod&table=public.customers", timeout=10
    ).text
    assert re.findall(r'<th scope="col">([^<]+)</th>', columns) == ["Column", "Type"]
    assert "in XDM" not in columns  # the same type twice is said once
    # A timestamp, as "Explore data tables" prints one (a string with meta:xdmType date-time), reads as one.
    assert '<td data-label="Type">date-time <span class="meta">(a string holding a date-time)</span>' in columns


def test_each_way_to_authenticate_is_described_in_its_own_words(live_server, fresh_emulator):
    mysql = next(i for i, s in fresh_emulator.specs.items() if s["name"] == "mysql")
    page = requests.get(f"{live_server.url}/sources/spec/{mysql}", timeout=10).text
    assert "Paste one connection string, shaped like Server={SERVER};Port={PORT}" in page
    assert "Fill in the server, port, database, username, password and SSL mode one by one." in page
    assert "Defines auth params required" not in page
