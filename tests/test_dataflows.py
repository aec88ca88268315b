"""A connection's dataflows: listed on its page, and named when they keep it from being deleted."""

from __future__ import annotations

import re

import pytest
import requests

from app.emulator import Fault

from .dataflows import Maker
from .forms import connection_body as body


@pytest.fixture
def flow(live_app):
    return live_app.extensions["flow_service"]


def _reads(emulator, path: str) -> int:
    return sum(1 for r in emulator.received if r.method == "GET" and r.path.endswith(path))


def test_a_connections_page_lists_its_dataflows(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Warehouse"))
    maker = Maker(fresh_emulator)
    flow_id = maker.flow(created.id, "Customers every 15 minutes", "public.customers")
    maker.flow(created.id, "Orders daily", "public.orders",
               {"startTime": 1764028800, "frequency": "day", "interval": "1"})
    leftover = maker.source_connection(created.id, "sales.returns")
    other = flow.create_connection("prod", body("Another"))
    maker.flow(other.id, "Not this connection's")
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert page.status_code == 200
    table = page.text.split('id="dataflows"', 1)[1].split("</table>", 1)[0]
    assert "Customers every 15 minutes" in table and "Orders daily" in table and "Not this" not in table
    assert f"<code>{flow_id}</code>" in table and "<code>public.customers</code>" in table
    assert "every 15 minutes from 2025-11-24 16:00 UTC" in table and "every day from 2025-11-25 00:00 UTC" in table
    assert re.search(r"1 source connection of this connection no dataflow uses: <code>" + leftover, page.text)


def test_a_connection_without_dataflows_says_so_and_the_creation_page_does_not_look(live_server, fresh_emulator,
                                                                                    flow):
    created = flow.create_connection("prod", body("Fresh"))
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert "No dataflow reads from this connection." in page.text
    assert _reads(fresh_emulator, "/sourceConnections") == 1 and _reads(fresh_emulator, "/flows") == 0


def test_when_dataflows_cannot_be_read_the_page_still_shows_the_connection(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Shown anyway"))
    fresh_emulator.inject(Fault("GET", "/sourceConnections", status=500, times=4))
    page = requests.get(f"{live_server.url}/connections/{created.id}?sandbox=prod", timeout=10)
    assert page.status_code == 200 and "Shown anyway" in page.text
    assert "Its dataflows could not be read" in page.text


def test_deleting_a_connection_that_dataflows_use_names_them_and_sends_nothing(live_server, fresh_emulator, flow):
    created = flow.create_connection("prod", body("Busy"))
    flow_id = Maker(fresh_emulator).flow(created.id, "Keeps it busy")
    session = requests.Session()
    url = f"{live_server.url}/connections/{created.id}/delete?sandbox=prod"
    page = session.get(url, timeout=10)
    assert page.status_code == 200 and "Dataflows use this connection" in page.text
    assert f"<code>{flow_id}</code>" in page.text and 'name="confirm_name"' not in page.text
    # A forged POST (with a real token from another form of the session) is refused the same way.
    rename = session.get(f"{live_server.url}/connections/{created.id}/edit?sandbox=prod", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', rename).group(1)
    sent = session.post(url, data={"confirm_name": "Busy", "csrf_token": token}, allow_redirects=False, timeout=10)
    assert sent.status_code == 409 and "Dataflows use this connection" in sent.text
    assert not [r for r in fresh_emulator.received if r.method == "DELETE"]
    assert created.id in fresh_emulator.connections
