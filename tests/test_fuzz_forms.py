"""Generated input across every form: never a 500, and every refusal names a field (CI: 10,000 inputs)."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app

from .helpers.forms import VARIANTS
from .helpers.live import settings_for

MYSQL = "/sources/spec/26d738e0-8963-47ea-aadf-c60de735468a?auth=Basic+Authentication"
FORMS = {
    "/sources/greenplum": ["method", "server", "port", "database", "username", "password", "connectionString"],
    "/sources/postgresql": [
        "method",
        "server",
        "port",
        "database",
        "username",
        "password",
        "connectionString",
        "encryptionMethod",
        "validateServerCertificate",
        "sslMode",
    ],
    "/sources/redshift": ["server", "port", "database", "username", "password"],
    "/sources/phoenix": ["host", "port", "httpPath", "enableSsl", "username", "password"],
    MYSQL: ["server", "port", "database", "username", "password", "sslMode"],
}
# 5 forms x 2,000 = 10,000 inputs in CI; a quicker run on a laptop.
EXAMPLES = 2000 if os.environ.get("CI") else 200
VALID = {name: value for _key, data in VARIANTS.values() for name, value in data.items()}

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "65536",
            "-1",
            "5432",
            "db.example.com",
            "https://x",
            "a;b=c}",
            "\x00",
            "\t",
            "fields",
            "connectionString",
            "basic",
            "Verify Full",
            "y",
            "1",
            "=cmd",
            "{",
            "}}",
        ]
    ),
    st.sampled_from(sorted(set(VALID.values()))),
)


@pytest.fixture(scope="module")
def fuzz_client(emulator):
    app = create_app(settings_for(emulator))
    app.config.update(WTF_CSRF_ENABLED=False)
    return app.test_client()


@pytest.mark.parametrize("path", list(FORMS))
def test_no_input_gets_a_500_and_every_refusal_names_a_field(fuzz_client, path):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        st.fixed_dictionaries({}, optional={name: values for name in ["name", "description", "sandbox", *FORMS[path]]})
    )
    def check(data):
        response = fuzz_client.post(path, data={**data, "duplicate_ok": "1"})
        assert response.status_code != 500
        assert response.status_code in (303, 400, 409, 413), response.status_code
        if response.status_code == 400:
            page = response.get_data(as_text=True)
            named = re.findall(r'<li><a href="#([^"]+)">', page)
            assert named, "a refusal must list the fields to fix"
            for field_id in named:
                assert f'id="{field_id}' in page

    check()
