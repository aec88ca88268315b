"""Changing a made dataflow's mapping, as Adobe's "Update dataflows" tutorial does: the mapping set's next version
(Data Prep's `PUT /mappingSets/{id}`), then the flow's `PATCH` naming it, each shown as curl first; nothing sent when
nothing changed or the etag is stale; a refused row beside its field; a version made by a send whose PATCH failed
reused by the next send; dataflows the portal does not write left alone."""

from __future__ import annotations

import json
import time

import pytest
import requests

from app import services
from app.adobe.bodies import (
    flow_body,
    source_connection_body,
    target_connection_body,
)
from app.adobe.data_prep import mapping_set
from app.emulator import Fault
from app.emulator.data_prep import DATA_PREP
from tests import test_dataflow_board
from tests.helpers.dataflows import CRM_TO_AEP, FLOW, Maker, suggested
from tests.test_watch import base_connection

board_app = test_dataflow_board.board_app  # the wizard on the emulator, CSRF off, as the dataflow board's tests take it

ROWS = [("ATTRIBUTE", "customer_id", "_emulatortenant.loyaltyId"), ("ATTRIBUTE", "email", "personalEmail.address")]


def mapped_flow(maker: Maker, listed: bool = True) -> tuple[str, str]:
    """A dataflow as the portal makes one (its Copy first, then its Mapping at version "0" of a real mapping set), and
    its mapping set's id; `listed`: its source connection lists the table's columns, as the portal's does."""
    emulator, headers = maker.emulator, maker.headers
    base = base_connection(maker)
    dataset = next(
        d for d in emulator.datasets.values() if d["sandboxName"] == maker.sandbox and d["name"] == "Loyalty members"
    )
    schema_id = dataset["schemaRef"]["id"]
    made = requests.post(
        f"{emulator.url}{DATA_PREP}/mappingSets",
        headers=headers,
        timeout=5,
        json=mapping_set("wizard-test-mapping", schema_id, ROWS),
    )
    assert made.status_code == 200, made.text
    set_id = made.json()["id"]
    columns = requests.get(
        f"{emulator.url}{FLOW}/connections/{base}/explore",
        headers=headers,
        timeout=5,
        params={"objectType": "table", "object": "public.customers"},
    ).json()["schema"]["columns"]
    source = source_connection_body(
        "customers source",
        "made by a test",
        base,
        emulator.connections[base]["connectionSpec"]["id"],
        "public.customers",
        columns if listed else [],
    )
    if not listed:
        del source["params"]["columns"]
    source_id = maker._post("/sourceConnections", source)
    target_id = maker._post(
        "/targetConnections", target_connection_body("customers target", "made by a test", schema_id, dataset["id"])
    )
    flow_id = maker._post(
        "/flows",
        flow_body(
            "Customers hourly",
            "made by a test",
            {"id": CRM_TO_AEP, "version": "1.0"},
            source_id,
            target_id,
            set_id,
            start=int(time.time()) + 3600,
            frequency="hour",
            interval=1,
            backfill=True,
            delta_column="created_at",
            delta_kind="date-time",
        ),
    )
    return flow_id, set_id


def edit_url(flow_id: str) -> str:
    return f"/dataflows/{flow_id}/edit?sandbox=prod"


def form_of(client, flow_id: str, **changes: str) -> dict[str, str]:
    """The change form as its page fills it (name, schedule, etag, each column's field, the constants), changed."""
    page = client.get(edit_url(flow_id))
    assert page.status_code == 200, page.text
    assert 'name="mapping_shown" value="1"' in page.text
    return {
        "name": "Customers hourly",
        "description": "made by a test",
        "frequency": "hour",
        "interval": "1",
        "mapping_shown": "1",
        **suggested(page.text),
        **changes,
    }


def calls(emulator, method: str, path_part: str, since: int = 0) -> list:
    return [r for r in emulator.received[since:] if r.method == method and path_part in r.path]


def mapping_of_flow(maker: Maker, flow_id: str) -> dict:
    """The flow's Mapping transformation's params, read back over HTTP."""
    flow = requests.get(f"{maker.emulator.url}{FLOW}/flows/{flow_id}", headers=maker.headers, timeout=5).json()
    return next(t["params"] for t in flow["items"][0]["transformations"] if t["name"] == "Mapping")


def mapping_set_of(maker: Maker, set_id: str, version: int | None = None) -> dict:
    answer = requests.get(
        f"{maker.emulator.url}{DATA_PREP}/mappingSets/{set_id}",
        headers=maker.headers,
        timeout=5,
        params={"version": version} if version is not None else {},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def with_etag(emulator, flow_id: str, data: dict) -> dict:
    return {**data, "etag": emulator.flows[flow_id]["etag"]}


def test_the_review_shows_the_mapping_sets_put_and_the_flows_patch_and_sends_nothing(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    page = client.get(edit_url(flow_id)).text
    assert 'id="mapping"' in page and f"Mapping set <code>{set_id}</code>, version 0" in page
    assert suggested(page)["column_1"] == "personalEmail.address" and suggested(page)["column_2"] == ""
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, column_2="person.name.firstName"))
    since = len(fresh_emulator.received)
    review = client.post(edit_url(flow_id), data=data)
    assert review.status_code == 200, review.text
    text = review.text.replace("&#34;", '"').replace("&#39;", "'")
    put = text.split('id="curl-mapping"', 1)[1].split("</pre>", 1)[0]
    patch = text.split('id="curl"', 1)[1].split("</pre>", 1)[0]
    assert text.index('id="curl-mapping"') < text.index('id="curl"'), "the PUT comes first"
    assert f"curl -X PUT {fresh_emulator.url}{DATA_PREP}/mappingSets/{set_id} " in put
    assert '"destination": "person.name.firstName"' in put and '"source": "first_name"' in put
    assert f"curl -X PATCH {fresh_emulator.url}{FLOW}/flows/{flow_id} " in patch
    assert f"If-Match: {data['etag']}" in patch
    assert '"path": "/transformations/1"' in patch and '"mappingVersion": "{NEW_MAPPING_VERSION}"' in patch
    # Data Prep was asked for its verdict, and nothing was sent.
    assert calls(fresh_emulator, "POST", "/mappingSets/validate", since)
    assert not calls(fresh_emulator, "PUT", "/mappingSets", since) and not calls(fresh_emulator, "PATCH", "/flows")
    assert mapping_set_of(maker, set_id)["version"] == 0


def test_each_send_makes_the_sets_next_version_and_points_the_dataflow_at_it(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    for version, changes in (
        (1, {"column_2": "person.name.firstName"}),
        (
            2,
            {
                "column_2": "",
                "constant_path_0": "_emulatortenant.points",
                "constant_value_0": "10",
                "name": "Customers, points",
            },
        ),
    ):
        data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, **changes))
        sent = client.post(edit_url(flow_id), data={**data, "send": "1"})
        assert sent.status_code == 303, sent.text
        assert mapping_of_flow(maker, flow_id) == {"mappingId": set_id, "mappingVersion": version}
    # Version 2 holds the second change; version 1, kept, the first; the flow's other changes went in the same PATCH.
    newest = mapping_set_of(maker, set_id)
    assert newest["version"] == 2
    assert {(m["sourceType"], m["source"], m["destination"]) for m in newest["mappings"]} == {
        *ROWS,
        ("STATIC", "10", "_emulatortenant.points"),
    }
    first = mapping_set_of(maker, set_id, 1)
    assert ("ATTRIBUTE", "first_name", "person.name.firstName") in {
        (m["sourceType"], m["source"], m["destination"]) for m in first["mappings"]
    }
    assert fresh_emulator.flows[flow_id]["name"] == "Customers, points"
    assert [t["name"] for t in fresh_emulator.flows[flow_id]["transformations"]] == ["Copy", "Mapping"]
    puts, patches = calls(fresh_emulator, "PUT", "/mappingSets"), calls(fresh_emulator, "PATCH", "/flows")
    assert len(puts) == 2 and len(patches) == 2
    last = json.loads(patches[-1].body)
    assert {
        "op": "replace",
        "path": "/transformations/1",
        "value": {"name": "Mapping", "params": {"mappingId": set_id, "mappingVersion": 2}},
    } in last and {"op": "replace", "path": "/name", "value": "Customers, points"} in last
    entries = services.of(board_app).store.audit.audit_entries(action="change-dataflow")
    assert [e["outcome"] for e in entries] == ["ok", "ok"]
    assert f"mapping set {set_id} version 1 to 2" in entries[0]["detail"]
    # The dataflow's page, once redirected, says it.
    assert "version 2 of its mapping set" in client.get(sent.headers["Location"]).text


def test_an_unchanged_mapping_sends_neither_request(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    # A source connection without its columns (a dataflow made elsewhere): the table is explored for them.
    flow_id, set_id = mapped_flow(maker, listed=False)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id))
    assert data["column_0"] == "_emulatortenant.loyaltyId"
    since = len(fresh_emulator.received)
    nothing = client.post(edit_url(flow_id), data={**data, "send": "1"})
    assert nothing.status_code == 303
    assert "Nothing changed" in client.get(nothing.headers["Location"]).text
    renamed = client.post(edit_url(flow_id), data={**data, "name": "Renamed", "send": "1"})
    assert renamed.status_code == 303
    assert not calls(fresh_emulator, "PUT", "/mappingSets", since)
    [patch] = calls(fresh_emulator, "PATCH", "/flows", since)
    assert json.loads(patch.body) == [{"op": "replace", "path": "/name", "value": "Renamed"}]
    assert mapping_of_flow(maker, flow_id)["mappingVersion"] == "0" and mapping_set_of(maker, set_id)["version"] == 0


def test_a_stale_etag_shows_theirs_beside_mine_and_sends_no_version_and_no_patch(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, column_2="person.name.firstName"))
    # A colleague renames the dataflow after the page was read.
    colleague = requests.patch(
        f"{fresh_emulator.url}{FLOW}/flows/{flow_id}",
        timeout=5,
        json=[{"op": "replace", "path": "/name", "value": "Theirs"}],
        headers={**maker.headers, "If-Match": data["etag"]},
    )
    assert colleague.status_code == 200, colleague.text
    since = len(fresh_emulator.received)
    stale = client.post(edit_url(flow_id), data={**data, "send": "1"})
    assert stale.status_code == 409
    assert 'id="compare"' in stale.text and "Theirs" in stale.text
    mapping_row = stale.text.split('<th scope="row">Mapping</th>', 1)[1].split("</tr>", 1)[0]
    assert "first_name → person.name.firstName" in mapping_row and "(differs)" in mapping_row
    assert 'value="person.name.firstName"' in stale.text, "what was typed is kept"
    assert not calls(fresh_emulator, "PUT", "/mappingSets", since)
    assert not calls(fresh_emulator, "PATCH", "/flows", since)
    assert mapping_set_of(maker, set_id)["version"] == 0
    # Saving over theirs is a choice of its own: reviewed, then sent, with their etag.
    over = {**data, "seen_etag": fresh_emulator.flows[flow_id]["etag"], "overwrite": "1"}
    assert client.post(edit_url(flow_id), data=over).status_code == 200
    assert client.post(edit_url(flow_id), data={**over, "send": "1"}).status_code == 303
    assert mapping_of_flow(maker, flow_id)["mappingVersion"] == 1


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"column_1": "_emulatortenant.points"}, "column_1", "A string column cannot fill _emulatortenant.points"),
        ({"column_1": "no.such.field"}, "column_1", "Choose a field of the schema"),
        (
            {"constant_path_0": "_emulatortenant.points", "constant_value_0": "many"},
            "constant_path_0",
            "Data Prep refused this",
        ),
    ],
)
def test_a_bad_mapping_row_is_refused_beside_its_field_keeping_what_was_typed(
    board_app, fresh_emulator, changes, field, said
):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, **changes))
    since = len(fresh_emulator.received)
    for send in ({}, {"send": "1"}):
        refused = client.post(edit_url(flow_id), data={**data, **send})
        if said.startswith("Data Prep") and send:
            # Sent without a review, Data Prep's own refusal of the PUT is shown, and nothing else is sent.
            assert refused.status_code == 400 and "did not make the mapping" in refused.text
            continue
        assert refused.status_code == 400, refused.text
        error = refused.text.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
        assert said in error
        assert f'value="{changes[field]}"' in refused.text
    assert not calls(fresh_emulator, "PATCH", "/flows", since)
    assert mapping_set_of(maker, set_id)["version"] == 0


def test_a_patch_failing_after_the_put_says_so_and_the_next_send_makes_no_other_version(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, column_2="person.name.firstName"))
    fresh_emulator.inject(Fault("PATCH", f"/flows/{flow_id}", status=503, body={"error": "down"}))
    failed = client.post(edit_url(flow_id), data={**data, "send": "1"})
    assert failed.status_code == 502
    note = failed.text.split('id="mapping-note"', 1)[1].split("</p>", 1)[0]
    assert f"version 1 of mapping set {set_id}" in note and "still uses version 0" in note
    assert mapping_set_of(maker, set_id)["version"] == 1 and mapping_of_flow(maker, flow_id)["mappingVersion"] == "0"
    # Reviewed again, then sent again: the version made is reused, never a second one.
    review = client.post(edit_url(flow_id), data=data)
    assert review.status_code == 200 and 'id="mapping-reused"' in review.text and 'id="curl-mapping"' not in review.text
    assert client.post(edit_url(flow_id), data={**data, "send": "1"}).status_code == 303
    assert len(calls(fresh_emulator, "PUT", "/mappingSets")) == 1
    assert mapping_set_of(maker, set_id)["version"] == 1
    assert mapping_of_flow(maker, flow_id) == {"mappingId": set_id, "mappingVersion": 1}
    entries = services.of(board_app).store.audit.audit_entries(action="change-dataflow")
    assert [e["outcome"] for e in entries] == ["ok", "failed"]
    assert "made by an earlier send" in entries[0]["detail"] and "stays unused" in entries[1]["detail"]


def test_the_mapping_of_a_dataflow_the_portal_does_not_write_cannot_be_changed(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, column_2="person.name.firstName"))
    fresh_emulator.flows[flow_id]["inheritedAttributes"]["targetConnections"][0]["connectionSpec"]["id"] = "other"
    since = len(fresh_emulator.received)
    assert client.get(edit_url(flow_id)).status_code == 403
    for send in ({}, {"send": "1"}):
        assert client.post(edit_url(flow_id), data={**data, **send}).status_code == 403
    assert not calls(fresh_emulator, "PUT", "/mappingSets", since) and not calls(fresh_emulator, "PATCH", "/flows")
    assert not calls(fresh_emulator, "POST", "/mappingSets/validate", since)
    assert mapping_set_of(maker, set_id)["version"] == 0


def test_a_dataflow_whose_mapping_cannot_be_read_keeps_the_rest_of_its_change(board_app, fresh_emulator):
    maker = Maker(fresh_emulator)
    flow_id, set_id = mapped_flow(maker)
    client = board_app.test_client()
    data = with_etag(fresh_emulator, flow_id, form_of(client, flow_id, column_2="person.name.firstName"))
    fresh_emulator.inject(Fault("GET", f"/mappingSets/{set_id}", status=503, body={"error": "down"}, times=10))
    # The mapping typed cannot be compared now: nothing at all is sent, and the page says why (never a 500).
    lost = client.post(edit_url(flow_id), data={**data, "send": "1"})
    assert lost.status_code == 502 and 'id="mapping-lost"' in lost.text
    assert not calls(fresh_emulator, "PATCH", "/flows") and not calls(fresh_emulator, "PUT", "/mappingSets")
    # The page without the mapping still changes the rest.
    page = client.get(edit_url(flow_id))
    assert page.status_code == 200 and 'id="mapping-problem"' in page.text and "mapping_shown" not in page.text
