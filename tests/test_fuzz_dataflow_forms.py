"""Generated input for the mapping and schedule forms of a new dataflow: never a 500, every refusal names a field."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app, services

from .helpers.forms import connection_body as body
from .helpers.live import settings_for

EXAMPLES = 1000 if os.environ.get("CI") else 150
FIELDS = [
    "_id",
    "person.name.firstName",
    "person.name.lastName",
    "person.birthDate",
    "personalEmail.address",
    "_emulatortenant.loyaltyId",
    "_emulatortenant.points",
    "_emulatortenant.joinedAt",
]
values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "15",
            "14",
            "1e999",
            "10001",
            "2030-01-01T09:30",
            "1999-01-01T00:00",
            "2030-13-40T99:99",
            "NaN",
            "sNaN",
            "Infinity",
            "-inf",
            "UTC",
            "Europe/Paris",
            "Mars/Olympus",
            "once",
            "minute",
            "hour",
            "week",
            "created_at",
            "email",
            "y",
            "0.5",
            "100",
            "100.01",
            "\x00",
            "{SOURCE_CONNECTION_ID}",
            *FIELDS,
        ]
    ),
)


@pytest.fixture(scope="module")
def draft(emulator):
    app = create_app(settings_for(emulator))
    app.config.update(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    connection_id = services.of(app).connections.create_connection("prod", body("Fuzzed")).id
    started = client.post(
        f"/connections/{connection_id}/dataflows/new?sandbox=prod", data={"table": "public.customers"}
    )
    url = started.headers["Location"].rsplit("/", 1)[0]
    dataset_id = next(
        d["id"] for d in emulator.datasets.values() if d["sandboxName"] == "prod" and d["name"] == "Loyalty members"
    )
    assert client.post(f"{url}/dataset", data={"dataset": dataset_id}).status_code == 302
    return client, url


def _names_its_fields(page: str) -> None:
    named = re.findall(r'<li><a href="#([^"]+)">', page)
    assert named, "a refusal must list the fields to fix"
    for field_id in named:
        assert f'id="{field_id}' in page


MAPPING = [f"column_{i}" for i in range(4)] + [f"constant_{kind}_{j}" for j in range(3) for kind in ("path", "value")]
SCHEDULE = [
    "name",
    "frequency",
    "interval",
    "start",
    "timezone",
    "backfill",
    "delta_column",
    "error_diagnostics",
    "partial_percent",
]


@pytest.mark.parametrize(("step", "names"), [("mapping", MAPPING), ("schedule", SCHEDULE)])
def test_no_input_gets_a_500_and_every_refusal_names_a_field(draft, step, names):
    client, url = draft
    if step == "schedule":  # the schedule needs a mapping first
        answer = client.post(f"{url}/mapping", data={"column_0": "_id", "column_2": "person.name.firstName"})
        assert answer.status_code == 302, re.findall(
            r'(?:class="error"|id="adobe-error")[^>]*>(.*?)</(?:p|div)>', answer.get_data(as_text=True), re.S
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.fixed_dictionaries({}, optional={name: values for name in names}))
    def check(data):
        response = client.post(f"{url}/{step}", data=data)
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            _names_its_fields(response.get_data(as_text=True))

    check()
