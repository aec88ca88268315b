"""Odd values in every route's query and form parameters: an answer for each, never a 500."""

import pytest

from app import create_app, services

from .helpers.dataflows import Maker
from .helpers.forms import connection_body as body
from .helpers.live import settings_for

ODD = ["", "%00", "'\"<>", "a" * 5000, "%ff%fe", "../../etc", "{", "\u202e", "1e999", "-1", "\u00e9\u4e2d"]


@pytest.fixture
def setup(fresh_emulator):
    app = create_app(settings_for(fresh_emulator))
    app.config.update(WTF_CSRF_ENABLED=False)
    connection_id = services.of(app).connections.create_connection("prod", body("Odd")).id
    flow_id = Maker(fresh_emulator).due_flow(connection_id, ["failed"])
    return app.test_client(), connection_id, flow_id


def test_no_query_value_makes_a_500(setup):
    client, cid, fid = setup
    paths = [
        f"/dataflows/{fid}?sandbox={{}}",
        "/dataflows/{}?sandbox=prod",
        "/?q={}",
        "/connections?name={}",
        "/connections?page={}",
        "/connections?sandbox={}",
        f"/connections/{cid}?sandbox={{}}",
        f"/connections/{cid}/explore?table={{}}",
        f"/connections/{cid}/test?sandbox={{}}",
        "/audit?user={}&action={}&text={}",
        "/audit.csv?outcome={}",
        "/sources/spec/{}",
        "/sources/spec/26d738e0-8963-47ea-aadf-c60de735468a?auth={}",
        "/connections/{}",
        "/sign-in?next={}",
        "/sources/{}",
    ]
    failures = [
        (p, v[:12], status) for p in paths for v in ODD if (status := client.get(p.replace("{}", v)).status_code) >= 500
    ]
    assert failures == []


def test_no_form_value_makes_a_500(setup):
    client, cid, fid = setup
    paths = [
        f"/connections/{cid}/edit",
        f"/connections/{cid}/credentials",
        f"/connections/{cid}/delete",
        "/sign-in",
        "/sign-out",
        f"/dataflows/{fid}/state?sandbox=prod",
        f"/dataflows/{fid}/run?sandbox=prod",
        f"/dataflows/{fid}/runs/{{}}/retry?sandbox=prod",
        "/dataflows/{}/state?sandbox=prod",
    ]
    fields = [
        "name",
        "description",
        "etag",
        "confirm_name",
        "password",
        "server",
        "port",
        "method",
        "username",
        "next",
        "sslMode",
        "enabled",
    ]
    failures = [
        (p, v[:12], status)
        for p in paths
        for v in ODD
        if (status := client.post(p.replace("{}", v), data={f: v for f in fields}).status_code) >= 500
    ]
    assert failures == []
