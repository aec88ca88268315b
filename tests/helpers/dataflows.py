"""Dataflows made in the emulator over HTTP, as Adobe's dataflow tutorial for database sources makes them."""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterable
from typing import Any

import requests

from app.emulator import Emulator

FLOW = "/data/foundation/flowservice"
# The first run the walks ask for: a month from now at 09:30 (the form refuses a first run more than a year away).
FIRST_DAY = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
FIRST_RUN = f"{FIRST_DAY}T09:30"
CRM_TO_AEP = "14518937-270c-4525-bdec-c2ba7cce3860"
DATA_LAKE = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"


class Maker:
    """Creates source connections, target connections and flows in one sandbox of the emulator."""

    def __init__(self, emulator: Emulator, sandbox: str = "prod") -> None:
        self.emulator = emulator
        token = requests.post(
            f"{emulator.url}/ims/token/v3",
            timeout=5,
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "scope": "openid",
            },
        ).json()["access_token"]
        self.headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": emulator.client_id,
            "x-gw-ims-org-id": emulator.org_id,
            "x-sandbox-name": sandbox,
        }
        self.sandbox = sandbox

    def _post(self, path: str, body: dict[str, Any]) -> str:
        answer = requests.post(f"{self.emulator.url}{FLOW}{path}", json=body, headers=self.headers, timeout=5)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def source_connection(self, base_connection_id: str, table: str = "public.customers") -> str:
        spec = self.emulator.connections[base_connection_id]["connectionSpec"]
        return self._post(
            "/sourceConnections",
            {
                "name": f"{table} source",
                "baseConnectionId": base_connection_id,
                "data": {"format": "tabular"},
                "params": {"tableName": table},
                "connectionSpec": spec,
            },
        )

    def flow(
        self,
        base_connection_id: str,
        name: str = "Customers every 15 minutes",
        table: str = "public.customers",
        schedule: dict[str, Any] | None = None,
    ) -> str:
        source_id = self.source_connection(base_connection_id, table)
        dataset = next(d for d in self.emulator.datasets.values() if d["sandboxName"] == self.sandbox)
        target_id = self._post(
            "/targetConnections",
            {
                "name": f"{name} target",
                "data": {
                    "schema": {
                        "id": dataset["schemaRef"]["id"],
                        "version": "application/vnd.adobe.xed-full+json;version=1",
                    }
                },
                "params": {"dataSetId": dataset["id"]},
                "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
            },
        )
        self.emulator.mapping_sets.setdefault("mapping-1", {"id": "mapping-1"})
        return self._post(
            "/flows",
            {
                "name": name,
                "flowSpec": {"id": CRM_TO_AEP, "version": "1.0"},
                "sourceConnectionIds": [source_id],
                "targetConnectionIds": [target_id],
                "transformations": [
                    {"name": "Copy", "params": {"deltaColumn": {"name": "created_at"}}},
                    {"name": "Mapping", "params": {"mappingId": "mapping-1", "mappingVersion": "0"}},
                ],
                "scheduleParams": schedule or {"startTime": 1764000000, "frequency": "minute", "interval": "15"},
            },
        )

    def due_flow(
        self, base_connection_id: str, outcomes: Iterable[str] = (), name: str = "Customers every 15 minutes"
    ) -> str:
        """A flow that fell due a moment ago; its first runs end as `outcomes` say (success otherwise)."""
        flow_id = self.flow(
            base_connection_id,
            name,
            schedule={"startTime": int(time.time()) - 5, "frequency": "minute", "interval": "15"},
        )
        if outcomes:
            queued = requests.post(
                f"{self.emulator.url}/_emulator/runs", timeout=5, json={"flowId": flow_id, "outcomes": list(outcomes)}
            )
            assert queued.status_code == 201, queued.text
        return flow_id


def form_token(html: str) -> str:
    """The CSRF token of a page's form (with or without `type="hidden"` before its value)."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def suggested(page: str) -> dict[str, str]:
    """The fields of a mapping page (`column_0`…, `constant_path_0`…) with the values the page fills in."""
    found: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r' name="((?:column|constant_path)_\d+)"', tag)
        if name:
            value = re.search(r' value="([^"]*)"', tag)
            found[name.group(1)] = value.group(1) if value else ""
    return found


class Walk:
    """One person's way through creating a dataflow over HTTP: start from a table, then each step's form."""

    def __init__(
        self,
        base_url: str,
        connection_id: str,
        table: str = "public.customers",
        session: requests.Session | None = None,
        token_table: str | None = None,
    ) -> None:
        """`token_table`: the table whose page gives the form's token, for a table whose page offers no dataflow."""
        self.base_url, self.session = base_url, session or requests.Session()
        explore = self.session.get(
            f"{base_url}/connections/{connection_id}/explore",
            params={"sandbox": "prod", "table": token_table or table},
            timeout=10,
        )
        assert explore.status_code == 200, explore.text
        started = self.session.post(
            f"{base_url}/connections/{connection_id}/dataflows/new?sandbox=prod",
            data={"table": table, "csrf_token": form_token(explore.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert started.status_code == 302, started.text
        self.url = started.headers["Location"].rsplit("/", 1)[0]
        if self.url.startswith("/"):
            self.url = base_url + self.url
        self.key = self.url.rsplit("/", 1)[1]

    def get(self, step: str, **params: str) -> requests.Response:
        return self.session.get(f"{self.url}/{step}", params=params, timeout=10)

    def send(self, step: str, data: dict[str, str], **params: str) -> requests.Response:
        page = self.get(step if step not in ("create", "remove", "discard") else "review", **params)
        revision = re.search(r'name="revision" type="hidden" value="([^"]*)"', page.text)
        sent = {"csrf_token": form_token(page.text), **({"revision": revision.group(1)} if revision else {}), **data}
        return self.session.post(f"{self.url}/{step}", data=sent, allow_redirects=False, timeout=30)

    def dataset(self, emulator: Emulator, name: str = "Loyalty members") -> str:
        dataset_id = next(
            d["id"] for d in emulator.datasets.values() if d["sandboxName"] == "prod" and d["name"] == name
        )
        answer = self.send("dataset", {"dataset": dataset_id})
        assert answer.status_code == 302, answer.text
        return dataset_id

    def mapping(self, data: dict[str, str] | None = None) -> requests.Response:
        """Send the mapping as suggested (`data` overrides some fields)."""
        return self.send("mapping", {**suggested(self.get("mapping").text), **(data or {})})

    def schedule(self, **changes: str | None) -> requests.Response:
        data = {
            "name": "Customers hourly",
            "frequency": "hour",
            "interval": "1",
            "start": FIRST_RUN,
            "timezone": "Europe/Paris",
            "backfill": "y",
            "delta_column": "created_at",
            **changes,
        }
        return self.send("schedule", {k: v for k, v in data.items() if v is not None})
