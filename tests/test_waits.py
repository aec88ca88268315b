"""Each page waits on Adobe no more than its data needs: the reads that depend on nothing but the URL are in flight
together, and those that depend on another come after it.

The emulator holds every Platform call for a moment (its latency) and counts how many it holds at once: calls sent side
by side overlap there, calls sent one after another never do. Speed itself is measured by bench/journey.py, which
prints the waits of each page of the journey; these tests fail when a page goes back to reading one thing after
another.
"""

from __future__ import annotations

import pytest
import requests

from app import services

from .helpers.dataflows import Maker, Walk
from .helpers.forms import connection_body as body

HELD = 0.15  # seconds each Platform call is held: long enough that calls sent together overlap on any machine


@pytest.fixture
def made(live_server, live_app, fresh_emulator):
    """(a connection with a dataflow made from it, through the portal's client)."""
    created = services.of(live_app).connections.create_connection("prod", body("Waited on"))
    Maker(fresh_emulator).flow(created.id)
    return created.id


def _held(emulator, url: str) -> tuple[int, list[str]]:
    """(the most Platform calls held at once while `url` loads, the calls), after a first load that fills caches."""
    session = requests.Session()
    assert session.get(url, timeout=30).status_code == 200
    emulator.latency = HELD
    emulator.most_in_flight = 0
    before = len(emulator.received)
    answer = session.get(url, timeout=30)
    emulator.latency = 0.0
    assert answer.status_code == 200, answer.text[:300]
    calls = [r.path.rsplit("/flowservice", 1)[-1] for r in emulator.received[before:] if "/flowservice" in r.path]
    return emulator.most_in_flight, calls


@pytest.mark.parametrize("query", ["", "&table=public.orders"], ids=["tables", "columns"])
def test_explore_reads_the_connection_and_the_database_side_by_side(live_server, fresh_emulator, made, query):
    most, calls = _held(fresh_emulator, f"{live_server.url}/connections/{made}/explore?sandbox=prod{query}")
    assert len(calls) == 2 and most == 2, calls


def test_the_list_reads_its_page_and_its_count_side_by_side(live_server, fresh_emulator, made):
    most, calls = _held(fresh_emulator, f"{live_server.url}/connections?sandbox=prod")
    assert calls == ["/connections", "/connections"] and most == 2


def test_a_connections_page_reads_it_beside_its_source_connections_then_their_dataflows(
    live_server, fresh_emulator, made
):
    most, calls = _held(fresh_emulator, f"{live_server.url}/connections/{made}?sandbox=prod")
    assert sorted(calls) == sorted([f"/connections/{made}", "/sourceConnections", "/flows"]) and most == 2
    # The dataflows are asked for after the source connections: their ids are in the filter.
    assert calls.index("/flows") > calls.index("/sourceConnections")
    page = requests.get(f"{live_server.url}/connections/{made}?sandbox=prod", timeout=10).text
    assert "Customers every 15 minutes" in page  # the dataflow read that way is shown


def test_a_connections_test_is_sent_beside_its_reads(live_server, fresh_emulator, made):
    most, calls = _held(fresh_emulator, f"{live_server.url}/connections/{made}/test?sandbox=prod")
    assert f"/connections/{made}/test" in calls and len(calls) == 4 and most == 3, calls


def test_the_dataflow_steps_after_the_first_wait_on_nothing_read_before(live_server, fresh_emulator, made):
    walk = Walk(live_server.url, made)
    walk.dataset(fresh_emulator)
    assert walk.mapping().status_code == 302 and walk.schedule().status_code == 302
    for step in ("mapping", "schedule", "review"):
        _most, calls = _held(fresh_emulator, f"{walk.url}/{step}")
        assert calls == [], (step, calls)  # the draft keeps its connection, columns and schema; the flow spec is kept


def test_a_dataflows_page_reads_what_hangs_from_the_flow_side_by_side(live_server, live_app, fresh_emulator, made):
    flow_id = Maker(fresh_emulator).flow(made, name="Read together")
    most, calls = _held(fresh_emulator, f"{live_server.url}/dataflows/{flow_id}?sandbox=prod")
    assert calls[0] == f"/flows/{flow_id}" and len(calls) == 5 and most == 4, calls
