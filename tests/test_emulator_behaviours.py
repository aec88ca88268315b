"""Every row of docs/emulator.md, performed against the emulator over HTTP: the status and code it promises."""

import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from app.emulator.errors import CATALOGUE
from app.sources import SOURCES

TABLE = Path(__file__).resolve().parents[1] / "docs" / "emulator.md"
ROW = re.compile(
    r"^\| `(?P<id>[a-z0-9-]+)` \| (?P<request>.+?) \| (?P<status>\d{3}) \| (?P<code>[^|]+?) \| (?P<follows>.+) \|$"
)
FLOW = "/data/foundation/flowservice"
REDSHIFT = SOURCES["redshift"].connection_spec_id
DATA_LAKE = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP = "14518937-270c-4525-bdec-c2ba7cce3860"
PARAMS = {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "u", "password": "p"}


def rows():
    return [match.groupdict() for line in TABLE.read_text(encoding="utf-8").splitlines() if (match := ROW.match(line))]


class Api:
    """Calls to the emulator with every header right unless a test says otherwise."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.token = requests.post(
            f"{emulator.url}/ims/token/v3",
            timeout=5,
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "scope": "openid",
            },
        ).json()["access_token"]

    def headers(self, **changes):
        headers = {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": self.emulator.client_id,
            "x-gw-ims-org-id": self.emulator.org_id,
            "x-sandbox-name": "prod",
        }
        headers.update(changes)
        return {k: v for k, v in headers.items() if v is not None}

    def call(self, method, path, headers=None, **kwargs):
        return self.at(method, f"{FLOW}{path}", headers, **kwargs)

    def at(self, method, full_path, headers=None, **kwargs):
        """A call to any emulated Platform API: Catalog, the Schema Registry, Data Prep."""
        return requests.request(
            method, f"{self.emulator.url}{full_path}", timeout=5, headers=self.headers(**(headers or {})), **kwargs
        )

    def create(self, name="Row", **changes):
        body = {
            "name": name,
            "auth": {"specName": "Basic Authentication", "params": dict(PARAMS)},
            "connectionSpec": {"id": REDSHIFT, "version": "1.0"},
            **changes,
        }
        return self.call("POST", "/connections", json=body)

    def connection(self, name="Row"):
        return self.call("GET", f"/connections/{self.create(name).json()['id']}").json()["items"][0]

    def token_request(self, **changes):
        data = {
            "grant_type": "client_credentials",
            "client_id": self.emulator.client_id,
            "client_secret": self.emulator.client_secret,
            "scope": "openid",
            **changes,
        }
        return requests.post(
            f"{self.emulator.url}/ims/token/v3", timeout=5, data={k: v for k, v in data.items() if v is not None}
        )


def _patch(api, operations, **headers):
    connection = api.connection()
    body = {"json": operations} if operations is not None else {"data": b""}
    return api.call(
        "PATCH",
        f"/connections/{connection['id']}",
        headers={"If-Match": connection["etag"], "Content-Type": "application/json", **headers},
        **body,
    )


def _names(response):
    return sorted(item["name"] for item in response.json()["items"])


def _list_eq(api):
    for name in ("a", "b", "c"):
        api.create(name)
    response = api.call("GET", "/connections", params={"property": "name==a,b"})
    assert _names(response) == ["a", "b"]
    return response


def _list_and(api):
    api.create("a")
    response = api.call(
        "GET", "/connections", params=[("property", "name==a,b"), ("property", f"connectionSpec.id=={REDSHIFT}")]
    )
    assert _names(response) == ["a"]
    assert api.call("GET", "/connections", params=[("property", "name==a"), ("property", "name==b")]).json() == {
        "items": [],
        "_links": {},
    }
    return response


def _list_compare(api):
    older = api.connection("older")
    api.create("newer")
    response = api.call("GET", "/connections", params={"property": f"createdAt>{older['createdAt'] - 1}"})
    assert "older" in _names(response)
    assert api.call("GET", "/connections", params={"property": "createdAt<0"}).json() == {"items": [], "_links": {}}
    return response


def _list_count(api):
    api.create("a")
    api.create("b")
    response = api.call("GET", "/connections", params={"count": "true"})
    assert response.json() == {"count": 2}
    return response


def _list_paging(api):
    for n in range(3):
        api.create(f"page {n}")
    first = api.call("GET", "/connections", params={"property": f"connectionSpec.id=={REDSHIFT}", "limit": "2"})
    href = first.json()["_links"]["next"]["href"]
    assert "continuationToken=" in href and "connectionSpec.id" in href and len(first.json()["items"]) == 2
    token = re.search(r"continuationToken=([^&]+)", href).group(1)
    second = api.call(
        "GET",
        "/connections",
        params={
            "property": f"connectionSpec.id=={REDSHIFT}",
            "limit": "2",
            "continuationToken": requests.utils.unquote(token),
        },
    )
    assert len(second.json()["items"]) == 1 and second.json()["_links"] == {}
    return first


def _list_links(api):
    _source(api)
    response = api.call("GET", "/sourceConnections")
    assert response.json()["_links"] == {} and len(response.json()["items"]) == 1
    assert api.call("GET", "/flows").json() == {"items": [], "_links": {}}
    return response


def _count_false(api):
    for n in range(3):
        api.create(f"counted {n}")
    response = api.call("GET", "/connections", params={"count": "false", "limit": "2"})
    assert len(response.json()["items"]) == 2 and "next" in response.json()["_links"]
    return response


def _read(api):
    created = api.create()
    response = api.call("GET", f"/connections/{created.json()['id']}")
    item = response.json()["items"][0]
    assert item["createdBy"] == item["createdClient"] and item["auth"]["params"]["password"] != "p"
    return response


def _delete_in_use(api):
    source, _flow_ids = _flow(api)
    return api.call("DELETE", f"/connections/{source['baseConnectionId']}")


def _delete_unused_base(api):
    source = _source(api)
    return api.call("DELETE", f"/connections/{source['baseConnectionId']}")


def _no_sandbox(api):
    made = api.create("In prod").json()["id"]
    response = api.call("GET", "/connections", headers={"x-sandbox-name": None})
    assert [item["id"] for item in response.json()["items"]] == [made]
    return response


def _no_default_sandbox(api):
    kept = api.emulator.sandboxes
    api.emulator.sandboxes = frozenset({"dev"})
    try:
        return api.call("GET", "/connections", headers={"x-sandbox-name": None})
    finally:
        api.emulator.sandboxes = kept


def _patch_add(api):
    connection = api.connection()
    assert "description" not in connection
    response = _patch(api, [{"op": "add", "path": "/description", "value": "Added"}])
    patched = api.call("GET", f"/connections/{response.json()['id']}").json()["items"][0]
    assert patched["description"] == "Added" and patched["etag"] == response.json()["etag"]
    return response


def _too_large(api):
    return api.call(
        "POST", "/connections", data=b"{" + b" " * (1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )


def _received_bounded(api):
    response = api.call("GET", "/connections")
    for n in range(5001):
        api.emulator.receive("GET", f"/filler/{n}", "", {}, b"")
    assert api.emulator.received.maxlen == 5000 and len(api.emulator.received) == 5000
    assert api.emulator.received[-1].path == "/filler/5000" and len(api.emulator.received[4990:]) == 10
    return response


def _data_lake_spec(api):
    response = api.call("GET", f"/connectionSpecs/{DATA_LAKE}")
    spec = response.json()["items"][0]
    assert spec["name"] == "Data Lake" and spec["attributes"]["category"].lower() != "database"
    assert spec["targetSpec"]["spec"]["required"] == ["dataSetId"]
    assert DATA_LAKE in {s["id"] for s in api.call("GET", "/connectionSpecs").json()["items"]}
    return response


# The dataflow objects, as Adobe's dataflow tutorial for database sources creates them.


def _source_body(api, **changes):
    base = api.connection("Base")
    return {
        "name": "Customers",
        "baseConnectionId": base["id"],
        "data": {"format": "tabular"},
        "params": {"tableName": "public.customers", "columns": [{"name": "email", "type": "string"}]},
        "connectionSpec": {"id": REDSHIFT, "version": "1.0"},
        **changes,
    }


def _source(api):
    created = api.call("POST", "/sourceConnections", json=_source_body(api))
    assert created.status_code == 201, created.text
    return api.call("GET", f"/sourceConnections/{created.json()['id']}").json()["items"][0]


def _dataset(api):
    return next(d for d in api.emulator.datasets.values() if d["sandboxName"] == "prod")


def _target_body(api, **changes):
    dataset = _dataset(api)
    return {
        "name": "Loyalty",
        "data": {
            "schema": {"id": dataset["schemaRef"]["id"], "version": "application/vnd.adobe.xed-full+json;version=1"}
        },
        "params": {"dataSetId": dataset["id"]},
        "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
        **changes,
    }


def _mapping_set(api, *mappings, schema=None):
    """A mapping set made through Data Prep, to the loyalty schema unless told: its id."""
    body = _mapping_body(*(mappings or [("ATTRIBUTE", "email", "personalEmail.address")]))
    if schema:
        body["outputSchema"]["schemaRef"]["id"] = schema
    made = api.at("POST", f"{DATA_PREP}/mappingSets", json=body)
    assert made.status_code == 200, made.text
    return made.json()["id"]


def _flow_body(api, source=None, mapping_id=None, **changes):
    source = source or _source(api)
    target = api.call("POST", "/targetConnections", json=_target_body(api)).json()
    mapping_id = mapping_id or _mapping_set(api)
    return {
        "name": "Customers daily",
        "flowSpec": {"id": CRM_TO_AEP, "version": "1.0"},
        "sourceConnectionIds": [source["id"]],
        "targetConnectionIds": [target["id"]],
        "transformations": [
            {"name": "Copy", "params": {"deltaColumn": {"name": "created_at"}}},
            {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": "0"}},
        ],
        "scheduleParams": {"startTime": 1764000000, "frequency": "minute", "interval": "15"},
        **changes,
    }


def _flow(api, **changes):
    source = _source(api)
    created = api.call("POST", "/flows", json=_flow_body(api, source, **changes))
    assert created.status_code == 201, created.text
    return source, created.json()


def _tutorial_flow(api):
    """The dataflow tutorial's body, its types as the tutorial sends them."""
    body = _flow_body(
        api, scheduleParams={"startTime": "1612310466", "frequency": "minute", "interval": "15", "backfill": "true"}
    )
    body["transformations"][1]["params"]["mappingVersion"] = 0
    response = api.call("POST", "/flows", json=body)
    runs = api.call("GET", "/runs", params={"property": f"flowId=={response.json()['id']}"}).json()["items"]
    assert len(runs) == 1  # due at once: the start is long past, and nothing falls due before the flow existed
    return response


def _target_without_schema(api):
    response = api.call(
        "POST",
        "/targetConnections",
        json={
            "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
            "data": {"format": "parquet_xdm"},
            "params": {"dataSetId": _dataset(api)["id"]},
        },
    )
    made = api.call("GET", f"/targetConnections/{response.json()['id']}").json()["items"][0]
    assert made["data"] == {"format": "parquet_xdm"} and "description" not in made
    return response


COLUMNS = ["order.id", "first name", "a-b", "ümlaut", "size"]
DESTINATIONS = [
    "_id",
    "person.name.firstName",
    "person.name.lastName",
    "personalEmail.address",
    "_emulatortenant.loyaltyId",
]


def _flow_of_columns(api, *sources):
    source = api.call(
        "POST",
        "/sourceConnections",
        json=_source_body(
            api, params={"tableName": "public.odd", "columns": [{"name": n, "type": "string"} for n in COLUMNS]}
        ),
    ).json()
    mapping_id = _mapping_set(api, *(("ATTRIBUTE", s, d) for s, d in zip(sources, DESTINATIONS, strict=False)))
    return api.call("POST", "/flows", json=_flow_body(api, source, mapping_id))


def _flow_patched(api, operations, flow=None, **headers):
    flow = flow or _flow(api)[1]
    body = {"json": operations} if operations is not None else {"data": b""}
    return api.call(
        "PATCH",
        f"/flows/{flow['id']}",
        headers={"If-Match": flow["etag"], "Content-Type": "application/json", **headers},
        **body,
    )


def _flow_patch(api):
    _source_connection, flow = _flow(api)
    other = _mapping_set(api, ("ATTRIBUTE", "email", "personalEmail.address"), ("STATIC", "x", "_id"))
    response = _flow_patched(
        api,
        [
            {"op": "replace", "path": "/name", "value": "Customers weekly"},
            {"op": "add", "path": "/description", "value": "Patched as the tutorial does"},
            {"op": "replace", "path": "/scheduleParams/frequency", "value": "day"},
            {
                "op": "replace",
                "path": "/transformations/1",
                "value": {"name": "Mapping", "params": {"mappingId": other, "mappingVersion": 0}},
            },
        ],
        flow,
    )
    patched = api.call("GET", f"/flows/{flow['id']}").json()["items"][0]
    assert response.json() == {"id": flow["id"], "etag": patched["etag"]} and patched["etag"] != flow["etag"]
    assert (patched["name"], patched["description"], patched["scheduleParams"]["frequency"]) == (
        "Customers weekly",
        "Patched as the tutorial does",
        "day",
    )
    assert patched["transformations"][1]["params"]["mappingId"] == other
    return response


def _flow_patch_options(api):
    _source_connection, flow = _flow(api)
    response = _flow_patched(
        api,
        [
            {"op": "add", "path": "/options", "value": {"partialIngestionPercent": "10"}},
            {"op": "add", "path": "/options/errorDiagnosticsEnabled", "value": True},
        ],
        flow,
    )
    patched = api.call("GET", f"/flows/{flow['id']}").json()["items"][0]
    assert patched["options"] == {"partialIngestionPercent": 10, "errorDiagnosticsEnabled": True}
    return response


def _flow_patch_path(api):
    for refused in (
        [{"op": "replace", "path": "/description", "value": "x"}],
        [{"op": "replace", "path": "/scheduleParams/interval", "value": 5}],
    ):
        assert _flow_patched(api, refused).json()["type"].endswith("FLOW-1455-400")
    return _flow_patched(api, [{"op": "replace", "path": "/flowSpec/id", "value": "0" * 36}])


def _flow_patch_start_time(api):
    _source_connection, flow = _flow(
        api, scheduleParams={"startTime": int(time.time()) - 60, "frequency": "minute", "interval": "15"}
    )
    return _flow_patched(
        api, [{"op": "replace", "path": "/scheduleParams/startTime", "value": int(time.time()) + 3600}], flow
    )


def _sources_of_base(api):
    source = _source(api)
    response = api.call(
        "GET", "/sourceConnections", params={"property": f"baseConnectionId=={source['baseConnectionId']}"}
    )
    assert [item["id"] for item in response.json()["items"]] == [source["id"]]
    return response


def _flows_of_source(api):
    source, flow = _flow(api)
    _flow(api)  # another source's flow is not listed
    response = api.call("GET", "/flows", params={"property": f"sourceConnectionIds[]=={source['id']},{'0' * 36}"})
    assert [item["id"] for item in response.json()["items"]] == [flow["id"]]
    return response


def _flow_spec_by_name(api):
    response = api.call("GET", "/flowSpecs", params={"property": 'name=="CRMToAEP"'})
    spec = response.json()["items"][0]
    assert REDSHIFT in spec["sourceConnectionSpecIds"] and spec["targetConnectionSpecIds"] == [DATA_LAKE]
    assert SOURCES["phoenix"].connection_spec_id not in spec["sourceConnectionSpecIds"]
    assert "e9d7ec6b-0873-4e57-ad21-b3a7c65e310b" in spec["sourceConnectionSpecIds"]  # Azure Databricks
    return response


def _due_flow(api, outcomes=()):
    """A flow that fell due a moment ago, its next runs ending as `outcomes` say."""
    import time

    source = _source(api)
    flow = api.call(
        "POST",
        "/flows",
        json=_flow_body(
            api, source, scheduleParams={"startTime": int(time.time()) - 5, "frequency": "minute", "interval": "15"}
        ),
    ).json()
    if outcomes:
        queued = requests.post(
            f"{api.emulator.url}/_emulator/runs", json={"flowId": flow["id"], "outcomes": list(outcomes)}, timeout=5
        )
        assert queued.status_code == 201
    return flow


def _date_is_emulator_time(api):
    import email.utils
    import time

    assert requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 7200}, timeout=5).ok
    response = api.call("GET", "/connections")
    dated = email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()
    assert abs(dated - (time.time() + 7200)) < 5, response.headers["Date"]
    return response


def _stalled(api):
    flow = _due_flow(api)
    assert len(api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"]) == 1
    control = f"{api.emulator.url}/_emulator/runs"
    assert requests.post(control, json={"flowId": flow["id"], "stalled": True}, timeout=5).status_code == 201
    assert requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 3 * 15 * 60}, timeout=5).ok
    runs = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"]
    assert len(runs) == 1, runs  # the run made before it stalled; three due times passed with none
    assert requests.post(control, json={"flowId": flow["id"], "stalled": False}, timeout=5).status_code == 201
    assert requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5).ok
    response = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"})
    assert len(response.json()["items"]) == 2, response.text  # the next due time's run, none made up
    assert requests.post(control, json={"flowId": flow["id"]}, timeout=5).status_code == 400
    return response


def _runs_of_flow(api):
    flow = _due_flow(api, ["failed", "partial"])
    _due_flow(api)  # another flow's runs are not listed
    first = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"]
    assert [r["metrics"]["statusSummary"]["status"] for r in first] == ["failed"]
    assert requests.post(f"{api.emulator.url}/_emulator/clock", json={"advance": 15 * 60}, timeout=5).ok
    response = api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}", "orderby": "-createdAt"})
    newest = response.json()["items"][0]["metrics"]
    assert newest["statusSummary"]["status"] == "success" and newest["recordSummary"]["failedRecordCount"] > 0
    return response


def _run_of(api, outcome):
    flow = _due_flow(api, [outcome])
    return api.call("GET", "/runs", params={"property": f"flowId=={flow['id']}"}).json()["items"][0]


def _action(api, path, op, content_type=True):
    """An action as its tutorial sends it: no body; a Content-Type for a retry, none for a flow's state."""
    return api.call(
        "POST",
        f"{path}/action",
        params={"op": op},
        headers={"Content-Type": "application/json"} if content_type else None,
    )


def _flow_disabled(api):
    _source_connection, flow = _flow(api)
    response = _action(api, f"/flows/{flow['id']}", "disable", content_type=False)
    assert "Content-Type" not in api.emulator.received[-1].headers
    assert api.call("GET", f"/flows/{flow['id']}").json()["items"][0]["state"] == "disabled"
    return response


def _retried(api, content_type=True):
    run = _run_of(api, "failed")
    response = _action(api, f"/runs/{run['id']}", "re-trigger", content_type)
    assert response.json()["id"] != run["id"]
    return response


def _once_flow(api):
    source = _source(api)
    return api.call(
        "POST", "/flows", json=_flow_body(api, source, scheduleParams={"startTime": 1764000000, "frequency": "once"})
    ).json()


def _adhoc(api, flow=None, **params):
    flow = flow or _once_flow(api)
    body = {"windowStartTime": 1764000000, "windowEndTime": 1764086400, "deltaColumn": {"name": "created_at"}, **params}
    return api.call(
        "POST", "/runs", json={"flowId": flow["id"], "params": {k: v for k, v in body.items() if v is not None}}
    )


def _adhoc_made_a_run(api):
    flow = _once_flow(api)
    response = _adhoc(api, flow, windowStartTime="1764000000")
    run = api.call("GET", f"/runs/{response.json()['id']}").json()["items"][0]
    assert run["flowId"] == flow["id"]
    return response


def _source_in_use(api):
    source, _flow_ids = _flow(api)
    return api.call("DELETE", f"/sourceConnections/{source['id']}")


def _flow_deleted(api):
    source, flow = _flow(api)
    response = api.call("DELETE", f"/flows/{flow['id']}")
    assert api.call("DELETE", f"/sourceConnections/{source['id']}").status_code == 204
    return response


def _test_failed(api):
    connection = api.connection()
    api.emulator.failing_tests.add(connection["id"])
    response = api.call("GET", f"/connections/{connection['id']}/test")
    assert response.json() == {"result": False}
    return response


def _explore(api, **params):
    return api.call("GET", f"/connections/{api.connection()['id']}/explore", params=params)


def _explore_table(api):
    response = _explore(api, objectType="table", object="public.orders")
    assert {c["name"] for c in response.json()["schema"]["columns"]} >= {"order_id", "total"}
    return response


# Catalog, the Schema Registry and Data Prep.

CATALOG = "/data/foundation/catalog"
SCHEMAS = "/data/foundation/schemaregistry"
DATA_PREP = "/data/foundation/conversion"
LOYALTY = "https://ns.adobe.com/emulatortenant/schemas/loyaltymembers"


def _many_datasets(api, count=25):
    for n in range(count):
        api.emulator.datasets[f"extra{n:02d}"] = {
            **next(iter(api.emulator.datasets.values())),
            "id": f"extra{n:02d}",
            "name": f"Extra {n:02d}",
            "sandboxName": "prod",
        }


def _datasets_listed(api):
    _many_datasets(api)
    response = api.at("GET", f"{CATALOG}/dataSets")
    body = response.json()
    assert isinstance(body, dict) and len(body) == 20  # no limit: at most 20
    assert all("sandboxName" not in d and "name" in d for d in body.values())
    paged = api.at("GET", f"{CATALOG}/dataSets", params={"limit": 5, "start": 20, "orderBy": "asc:name"}).json()
    assert len(paged) == 5
    return response


def _datasets_narrowed(api):
    _many_datasets(api, 3)
    response = api.at("GET", f"{CATALOG}/dataSets", params={"property": "name~[eE]xtra 0[12]", "properties": "name"})
    assert response.json() == {"extra01": {"name": "Extra 01"}, "extra02": {"name": "Extra 02"}}, response.text
    return response


def _datasets_simply_filtered(api):
    response = api.at("GET", f"{CATALOG}/dataSets", params={"schemaRef.id": LOYALTY})
    assert [d["name"] for d in response.json().values()] == ["Loyalty members"], response.text
    others = api.at("GET", f"{CATALOG}/dataSets", params={"name": "!Loyalty members"}).json()
    assert [d["name"] for d in others.values()] == ["Web orders"]
    assert len(api.at("GET", f"{CATALOG}/dataSets", params={"classification.managedBy": "CUSTOMER,SYSTEM"}).json()) == 2
    return response


def _dataset_classified(api):
    dataset = _dataset(api)
    response = api.at("GET", f"{CATALOG}/dataSets/{dataset['id']}")
    assert response.json()[dataset["id"]]["classification"] == {"dataBehavior": "record", "managedBy": "CUSTOMER"}
    return response


def _schema_read(api):
    response = api.at(
        "GET",
        f"{SCHEMAS}/tenant/schemas/{quote(LOYALTY, safe='')}",
        {"Accept": "application/vnd.adobe.xed-full+json; version=1"},
    )
    body = response.json()
    assert body["$id"] == LOYALTY and body["properties"]["person"]["properties"]["name"]["type"] == "object"
    return response


def _descriptors(api):
    response = api.at("GET", f"{SCHEMAS}/tenant/descriptors", {"Accept": "application/vnd.adobe.xdm+json"})
    identities = response.json()["xdm:descriptorIdentity"]
    assert {(i["xdm:sourceSchema"], i["xdm:sourceProperty"], i["xdm:isPrimary"]) for i in identities} >= {
        (LOYALTY, "/_emulatortenant/loyaltyId", True)
    }
    return response


def _descriptors_v2(api):
    response = api.at("GET", f"{SCHEMAS}/tenant/descriptors", {"Accept": "application/vnd.adobe.xdm-v2+json"})
    body = response.json()
    assert body["_page"]["count"] == len(body["results"]) == 3 and body["_page"]["next"] is None
    assert {d["@type"] for d in body["results"]} == {"xdm:descriptorIdentity"}
    return response


def _field_names(api):
    fields = [
        "_id",
        "person.name.firstName",
        "person.name.lastName",
        "person.birthDate",
        "personalEmail.address",
        "_emulatortenant.loyaltyId",
        "_emulatortenant.points",
        "_emulatortenant.joinedAt",
    ]

    def verdicts(*sources):
        answer = api.at(
            "POST",
            f"{DATA_PREP}/mappingSets/validate",
            json=_mapping_body(*(("ATTRIBUTE", source, field) for source, field in zip(sources, fields, strict=False))),
        )
        return answer, [v["status"] for v in answer.json()["validationResponse"]]

    response, first = verdicts(
        "a-b", "first name", "size", "${}", "${a-b}", "${first name}", "${size}", "${order\\.id}"
    )
    assert first == ["FAILED"] * 4 + ["SUCCESS"] * 4, response.text
    assert verdicts("order.id", "ümlaut", "$price", "customer_id")[1] == ["SUCCESS"] * 4
    return response


def _mapping_body(*mappings, tutorial=False):
    if tutorial:
        return {
            "version": 0,
            "xdmSchema": LOYALTY,
            "xdmVersion": "1.0",
            "id": None,
            "mappings": [
                {"destinationXdmPath": d, "sourceAttribute": s, "identity": False, "version": 0}
                for _t, s, d in mappings
            ],
        }
    return {
        "outputSchema": {"schemaRef": {"id": LOYALTY, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceType": t, "source": s, "destination": d} for t, s, d in mappings],
    }


def _validated(api):
    response = api.at(
        "POST",
        f"{DATA_PREP}/mappingSets/validate",
        json=_mapping_body(
            ("ATTRIBUTE", "email", "personalEmail.address"),
            ("ATTRIBUTE", "x", "person.nowhere"),
            ("STATIC", "many", "_emulatortenant.points"),
            ("ATTRIBUTE", "y", "personalEmail.address"),
        ),
    )
    verdicts = [v["status"] for v in response.json()["validationResponse"]]
    assert verdicts == ["SUCCESS", "FAILED", "FAILED", "FAILED"], response.text
    return response


def _mapping_created(api):
    response = api.at(
        "POST",
        f"{DATA_PREP}/mappingSets",
        json=_mapping_body(("ATTRIBUTE", "email", "personalEmail.address"), tutorial=True),
    )
    made = response.json()
    assert set(made) == {"id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy"}
    assert api.at("GET", f"{DATA_PREP}/mappingSets/{made['id']}").json()["mappings"][0]["source"] == "email"
    return response


def _flow_with_options(api, options):
    return api.call("POST", "/flows", json=_flow_body(api, options=options))


TRIGGERS = {
    "date-header": _date_is_emulator_time,
    "runs-stalled": _stalled,
    "ims-token": lambda api: api.token_request(),
    "ims-grant": lambda api: api.token_request(grant_type="password"),
    "ims-client": lambda api: api.token_request(client_id="someone-else"),
    "ims-secret": lambda api: api.token_request(client_secret="wrong"),
    "ims-scope": lambda api: api.token_request(scope=None),
    "gw-no-token": lambda api: api.call("GET", "/connections", headers={"Authorization": None}),
    "gw-bad-token": lambda api: api.call("GET", "/connections", headers={"Authorization": "Bearer forged"}),
    "gw-no-key": lambda api: api.call("GET", "/connections", headers={"x-api-key": None}),
    "gw-bad-key": lambda api: api.call("GET", "/connections", headers={"x-api-key": "another-client"}),
    "gw-no-org": lambda api: api.call("GET", "/connections", headers={"x-gw-ims-org-id": None}),
    "gw-bad-org": lambda api: api.call("GET", "/connections", headers={"x-gw-ims-org-id": "OTHER@AdobeOrg"}),
    "content-type": lambda api: api.call("POST", "/connections", data="{}", headers={"Content-Type": "text/plain"}),
    "body-too-large": _too_large,
    "received-bounded": _received_bounded,
    "no-sandbox": _no_sandbox,
    "no-sandbox-default": _no_default_sandbox,
    "no-sandbox-catalog": lambda api: api.at("GET", f"{CATALOG}/dataSets", {"x-sandbox-name": None}),
    "unknown-sandbox": lambda api: api.call("GET", "/connections", headers={"x-sandbox-name": "someone-elses"}),
    "create": lambda api: api.create(),
    "create-empty": lambda api: api.call(
        "POST", "/connections", data=b"", headers={"Content-Type": "application/json"}
    ),
    "create-shape": lambda api: api.create(name=""),
    "create-unknown-spec": lambda api: api.create(connectionSpec={"id": "0" * 36, "version": "1.0"}),
    "create-unknown-auth": lambda api: api.create(auth={"specName": "Key Based", "params": PARAMS}),
    "create-bad-params": lambda api: api.create(
        auth={"specName": "Basic Authentication", "params": {**PARAMS, "port": 5439}}
    ),
    "read": _read,
    "read-missing": lambda api: api.call("GET", f"/connections/{'0' * 36}"),
    "list-eq": _list_eq,
    "list-and": _list_and,
    "list-compare": _list_compare,
    "list-compare-many": lambda api: api.call("GET", "/connections", params={"property": "createdAt<=1,2"}),
    "list-tilde": lambda api: api.call("GET", "/connections", params={"property": "name~text"}),
    "list-operator": lambda api: api.call("GET", "/connections", params={"property": "name!=text"}),
    "list-empty-value": lambda api: api.call("GET", "/connections", params={"property": "name=="}),
    "list-count": _list_count,
    "list-count-limit": lambda api: api.call("GET", "/connections", params={"count": "true", "limit": "5"}),
    "list-count-false": _count_false,
    "list-unknown-param": lambda api: api.call("GET", "/connections", params={"name": "x"}),
    "list-order-field": lambda api: api.call("GET", "/connections", params={"orderby": "-id"}),
    "list-order-sign": lambda api: api.call("GET", "/connections", params={"orderby": "*name"}),
    "list-paging": _list_paging,
    "list-links": _list_links,
    "list-bad-limit": lambda api: api.call("GET", "/connections", params={"limit": "abc"}),
    "list-bad-token": lambda api: api.call("GET", "/connections", params={"continuationToken": "not-ours"}),
    "patch": lambda api: _patch(api, [{"op": "replace", "path": "/name", "value": "Renamed"}]),
    "patch-add": _patch_add,
    "patch-replace-missing": lambda api: _patch(api, [{"op": "replace", "path": "/description", "value": "x"}]),
    "patch-no-if-match": lambda api: _patch(
        api, [{"op": "replace", "path": "/name", "value": "x"}], **{"If-Match": None}
    ),
    "patch-stale": lambda api: _patch(api, [{"op": "replace", "path": "/name", "value": "x"}], **{"If-Match": '"old"'}),
    "patch-empty": lambda api: _patch(api, None),
    "patch-op": lambda api: _patch(api, [{"op": "move", "from": "/name", "path": "/description"}]),
    "patch-spec": lambda api: _patch(api, [{"op": "replace", "path": "/connectionSpec/id", "value": "0" * 36}]),
    "patch-path": lambda api: _patch(api, [{"op": "replace", "path": "/state", "value": "disabled"}]),
    "delete": lambda api: api.call("DELETE", f"/connections/{api.connection()['id']}"),
    "delete-in-use": _delete_in_use,
    "delete-unused-base": _delete_unused_base,
    "test-ok": lambda api: api.call("GET", f"/connections/{api.connection()['id']}/test"),
    "test-failed": _test_failed,
    "explore-root": lambda api: _explore(api, objectType="root"),
    "explore-table": _explore_table,
    "explore-case": lambda api: _explore(api, objectType="ROOT"),
    "explore-missing-table": lambda api: _explore(api, objectType="table", object="public.nope"),
    "specs": lambda api: api.call("GET", f"/connectionSpecs/{REDSHIFT}"),
    "spec-data-lake": _data_lake_spec,
    "spec-missing": lambda api: api.call("GET", f"/connectionSpecs/{'0' * 36}"),
    "sc-create": lambda api: api.call("POST", "/sourceConnections", json=_source_body(api)),
    "sc-base": lambda api: api.call("POST", "/sourceConnections", json=_source_body(api, baseConnectionId="0" * 36)),
    "sc-spec": lambda api: api.call(
        "POST",
        "/sourceConnections",
        json=_source_body(api, connectionSpec={"id": SOURCES["postgresql"].connection_spec_id, "version": "1.0"}),
    ),
    "sc-shape": lambda api: api.call(
        "POST", "/sourceConnections", json=_source_body(api, data={"format": "delimited"}, params={})
    ),
    "sc-list-base": _sources_of_base,
    "sc-delete-in-use": _source_in_use,
    "tc-create": lambda api: api.call("POST", "/targetConnections", json=_target_body(api)),
    "tc-no-schema": _target_without_schema,
    "tc-dataset": lambda api: api.call(
        "POST", "/targetConnections", json=_target_body(api, params={"dataSetId": "0" * 24})
    ),
    "tc-spec": lambda api: api.call(
        "POST", "/targetConnections", json=_target_body(api, connectionSpec={"id": REDSHIFT, "version": "1.0"})
    ),
    "flowspec-name": _flow_spec_by_name,
    "flow-create": lambda api: api.call("POST", "/flows", json=_flow_body(api)),
    "flow-tutorial-body": _tutorial_flow,
    "flow-unknown-spec": lambda api: api.call(
        "POST", "/flows", json=_flow_body(api, flowSpec={"id": "0" * 36, "version": "1.0"})
    ),
    "flow-schedule": lambda api: api.call(
        "POST",
        "/flows",
        json=_flow_body(api, scheduleParams={"startTime": 1764000000, "frequency": "minute", "interval": 5}),
    ),
    "flow-transformation": lambda api: api.call(
        "POST",
        "/flows",
        json=_flow_body(api, transformations=[{"name": "Copy", "params": {}}, {"name": "Sort", "params": {}}]),
    ),
    "flow-mapping-missing": lambda api: api.call("POST", "/flows", json=_flow_body(api, mapping_id="nope")),
    "flow-mapping-version": lambda api: api.call(
        "POST",
        "/flows",
        json=_flow_body(
            api,
            transformations=[
                {"name": "Copy", "params": {"deltaColumn": {"name": "created_at"}}},
                {"name": "Mapping", "params": {"mappingId": _mapping_set(api), "mappingVersion": 3}},
            ],
        ),
    ),
    "flow-mapping-schema": lambda api: api.call(
        "POST",
        "/flows",
        json=_flow_body(
            api,
            mapping_id=_mapping_set(
                api,
                ("ATTRIBUTE", "email", "commerce.order.purchaseOrderNumber"),
                schema="https://ns.adobe.com/emulatortenant/schemas/weborders",
            ),
        ),
    ),
    "flow-columns": lambda api: _flow_of_columns(api, "order.id"),
    "flow-columns-wrapped": lambda api: _flow_of_columns(
        api, "${order\\.id}", "${first name}", "${a-b}", "ümlaut", "${size}"
    ),
    "flow-connections": lambda api: api.call(
        "POST", "/flows", json=_flow_body(api, targetConnectionIds=[_source(api)["id"]])
    ),
    "flows-of-source": _flows_of_source,
    "flow-delete": _flow_deleted,
    "flow-action": _flow_disabled,
    "flow-action-op": lambda api: _action(api, f"/flows/{_flow(api)[1]['id']}", "ENABLE"),
    "runs-of-flow": _runs_of_flow,
    "run-retry": _retried,
    "run-retry-no-content-type": lambda api: _retried(api, content_type=False),
    "run-adhoc": _adhoc_made_a_run,
    "run-adhoc-scheduled": lambda api: _adhoc(api, _flow(api)[1]),
    "run-adhoc-params": lambda api: _adhoc(api, deltaColumn=None, windowEndTime=1),
    "run-retry-not-failed": lambda api: _action(api, f"/runs/{_run_of(api, 'success')['id']}", "re-trigger"),
    "cat-list": _datasets_listed,
    "cat-narrow": _datasets_narrowed,
    "cat-limit": lambda api: api.at("GET", f"{CATALOG}/dataSets", params={"limit": 0}),
    "cat-limit-over": lambda api: api.at("GET", f"{CATALOG}/dataSets", params={"limit": 101}),
    "cat-simple-filter": _datasets_simply_filtered,
    "cat-unknown-param": lambda api: api.at("GET", f"{CATALOG}/dataSets", params={"offset": 3}),
    "cat-classification": _dataset_classified,
    "cat-unknown-dataset": lambda api: api.at("GET", f"{CATALOG}/dataSets/{'f' * 24}"),
    "cat-gateway": lambda api: api.at("GET", f"{CATALOG}/dataSets", {"Authorization": None}),
    "sr-schema": _schema_read,
    "sr-accept": lambda api: api.at(
        "GET", f"{SCHEMAS}/tenant/schemas/{quote(LOYALTY, safe='')}", {"Accept": "application/json"}
    ),
    "sr-unknown": lambda api: api.at(
        "GET",
        f"{SCHEMAS}/tenant/schemas/{quote(LOYALTY + 'x', safe='')}",
        {"Accept": "application/vnd.adobe.xed-full+json; version=1"},
    ),
    "sr-descriptors": _descriptors,
    "sr-descriptors-v2": _descriptors_v2,
    "dp-validate": _validated,
    "dp-field-names": _field_names,
    "dp-create": _mapping_created,
    "dp-create-invalid": lambda api: api.at(
        "POST", f"{DATA_PREP}/mappingSets", json=_mapping_body(("STATIC", "many", "_emulatortenant.points"))
    ),
    "dp-unknown-schema": lambda api: api.at(
        "POST",
        f"{DATA_PREP}/mappingSets/validate",
        json={**_mapping_body(("ATTRIBUTE", "a", "_id")), "outputSchema": {"schemaRef": {"id": LOYALTY + "x"}}},
    ),
    "dp-list-paging": lambda api: api.at("GET", f"{DATA_PREP}/mappingSets"),
    "flow-options": lambda api: _flow_with_options(
        api, {"errorDiagnosticsEnabled": True, "partialIngestionPercent": 5}
    ),
    "flow-options-refused": lambda api: _flow_with_options(api, {"partialIngestionPercent": 0}),
    "flow-patch": _flow_patch,
    "flow-patch-options": _flow_patch_options,
    "flow-patch-no-if-match": lambda api: _flow_patched(
        api, [{"op": "replace", "path": "/name", "value": "x"}], **{"If-Match": None}
    ),
    "flow-patch-stale": lambda api: _flow_patched(
        api, [{"op": "replace", "path": "/name", "value": "x"}], **{"If-Match": '"old"'}
    ),
    "flow-patch-empty": lambda api: _flow_patched(api, None),
    "flow-patch-op": lambda api: _flow_patched(api, [{"op": "copy", "from": "/name", "path": "/description"}]),
    "flow-patch-path": _flow_patch_path,
    "flow-patch-start-time": _flow_patch_start_time,
    "flow-patch-mapping": lambda api: _flow_patched(
        api, [{"op": "replace", "path": "/transformations/1/params/mappingId", "value": "nope"}]
    ),
    "unknown-path": lambda api: api.call("GET", "/sourceConnectionz"),
    "wrong-method": lambda api: api.call("PUT", "/connectionSpecs", json={}),
}


def code_of(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "—"
    if not isinstance(body, dict):
        return "—"
    if "error_code" in body:
        return body["error_code"]
    if "error" in body:
        return body["error"]
    if body.get("title") == "BadRequestError":
        assert body["status"] == 400 and body["detail"]
        return "BadRequestError"
    if body.get("title") in ("NotFoundError", "NotAcceptableError", "PayloadTooLargeError"):
        # Catalog's, the Schema Registry's and Data Prep's refusals: the status the spec documents, our body.
        assert body["status"] == response.status_code and body["detail"]
        return body["title"]
    if "type" in body and "FLOW-" in body["type"]:
        assert body["report"]["request-id"] == response.headers["x-request-id"] and body["errorMessage"]
        return body["type"].rsplit("/", 1)[1]
    return "—"


def test_every_row_has_a_test_and_every_test_a_row():
    ids = [row["id"] for row in rows()]
    assert len(ids) == len(set(ids)) and len(ids) >= 50
    assert set(ids) == set(TRIGGERS)


@pytest.mark.parametrize("row", rows(), ids=lambda row: row["id"])
def test_the_emulator_does_what_its_row_says(fresh_emulator, row):
    response = TRIGGERS[row["id"]](Api(fresh_emulator))
    assert response.status_code == int(row["status"]), response.text
    assert code_of(response) == row["code"].strip("`"), response.text
    if row["code"].startswith("`FLOW-"):
        code = row["code"].strip("`")[5:]
        # Every Flow Service code is one Adobe's catalogue lists, with the catalogue's title.
        assert code in CATALOGUE and response.json()["title"] == CATALOGUE[code]
    cites = row["follows"]
    assert "our choice" in cites or any(
        doc in cites
        for doc in (
            "catalogue",
            "filter guide",
            "troubleshooting",
            "spec",
            "tutorial",
            "RFC 6749",
            "RFC 6902",
            "DESIGN.md",
            "partial-ingestion guide",
            "sandbox note",
            "Data Prep functions guide",
            "I/O Events guide",
            "notifications guide",
        )
    ), cites


def test_the_flow_spec_is_the_one_adobes_tutorial_prints():
    import json

    from app.emulator.flow_specs import FLOW_SPECS

    answer = json.loads((TABLE.parents[1] / "tests" / "fixtures" / "adobe" / "crm-to-aep-flow-spec.json").read_text())
    [printed] = answer["items"]  # the table-source tutorial prints GET /flowSpecs's answer whole
    printed.pop("permissionsInfo")  # who may see the spec: nothing the emulator checks
    assert FLOW_SPECS[printed["id"]] == printed


# The rows of I/O Events, of lists across a sandbox, of 429 and of the update tutorial's mapping PATCH: their
# triggers are tests/test_emulator_events.py's ROW_TRIGGERS, imported when a row runs (that module imports this one).
def _row_of_events(row_id):
    def trigger(api):
        from tests.test_emulator_events import ROW_TRIGGERS

        return ROW_TRIGGERS[row_id](api)

    return trigger


TRIGGERS.update(
    {
        row_id: _row_of_events(row_id)
        for row_id in (
            "events-register",
            "events-challenge-refused",
            "events-keys",
            "events-success",
            "events-failure",
            "events-partial-threshold",
            "events-retry",
            "events-sign-wrong",
            "events-clock",
            "runs-all-flows",
            "flows-all-pages",
            "fault-429",
            "dp-update",
            "flow-patch-tutorial-mapping",
            "flow-patch-two-mappings",
        )
    }
)
