"""Config as code, export: a sandbox's connections and dataflows through the API and `aep-source-wizard export`, as a
file that reads back, with every secret a reference and nothing the portal does not write."""

from __future__ import annotations

import os

import requests

from app import services
from app.cli import main
from app.config_file.load import load

from . import test_api
from .helpers.api import Api, make_token, signed_in
from .helpers.forms import connection_body
from .helpers.live import LiveServer
from .test_api import FIELDS, S3, new_connection, new_dataflow

# The portal with built-in accounts and roles, and its users file, as the API's tests take them.
users, portal = test_api.users, test_api.portal

BASIC = {
    "method": "basic",
    "server": "db.example.com",
    "port": 5432,
    "database": "orders",
    "username": "etl",
    "password": "basic-Secret-9",
    "sslMode": "Verify Full",
}


def made(api, emulator) -> tuple[str, str]:
    strung = api.post("/api/v1/connections", json=new_connection(name="Orders database"))
    basic = api.post("/api/v1/connections", json=new_connection(name="Basic one", fields=BASIC))
    mapped = {"columns": {"customer_id": "_emulatortenant.loyaltyId", "email": "personalEmail.address"}}
    flow = api.post("/api/v1/dataflows", json=new_dataflow(emulator, basic.get_json()["id"], mapping=mapped))
    assert strung.status_code == basic.status_code == flow.status_code == 201, flow.get_json()
    return strung.get_json()["id"], basic.get_json()["id"]


def test_a_sandbox_exports_as_a_file_that_reads_back_with_every_secret_a_reference(portal, fresh_emulator):
    api = Api(portal, make_token(signed_in(portal, "creator")))
    made(api, fresh_emulator)
    services.of(portal).connections.create_connection(
        "prod",
        {
            "name": "Bucket",
            "auth": {"specName": "Access Key", "params": {"s3AccessKey": "AKIA", "s3SecretKey": "sk-secret"}},
            "connectionSpec": {"id": S3, "version": "1.0"},
        },
    )
    viewer = Api(portal, make_token(signed_in(portal, "viewer")))
    answer = viewer.get("/api/v1/config?sandbox=prod")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == "application/yaml"
    for secret in (FIELDS["password"], BASIC["password"], "sk-secret", "****"):
        assert secret not in text
    config = load(text)
    by_name = {c.name: c for c in config.connections}
    assert set(by_name) == {"Orders database", "Basic one"}, "the S3 connection is not the portal's to write"
    assert by_name["Basic one"].fields == {**BASIC, "port": "5432", "password": "${BASIC_ONE_PASSWORD}"}
    assert by_name["Orders database"].fields == {
        "method": "connectionString",
        "connectionString": "${ORDERS_DATABASE_CONNECTION_STRING}",
    }
    (flow,) = config.dataflows
    assert (flow.name, flow.connection, flow.table, flow.dataset) == (
        "Customers hourly",
        "Basic one",
        "public.customers",
        "Loyalty members",
    )
    assert flow.mapping and flow.mapping.columns == {
        "customer_id": "_emulatortenant.loyaltyId",
        "email": "personalEmail.address",
    }
    assert flow.schedule.frequency == "hour" and flow.schedule.timezone == "UTC"
    assert flow.schedule.delta_column == "created_at" and flow.state == "enabled"
    entry = services.of(portal).store.audit.audit_entries(action="export")[0]
    assert entry["user"] == "viewer" and entry["detail"] == "2 connections, 1 dataflows"


def test_an_export_of_named_connections_says_which_names_it_did_not_find(portal, fresh_emulator):
    api = Api(portal, make_token(signed_in(portal, "creator")))
    made(api, fresh_emulator)
    text = api.get("/api/v1/config?sandbox=prod&connection=Basic one&connection=Nowhere").get_data(as_text=True)
    config = load(text)
    assert [c.name for c in config.connections] == ["Basic one"] and len(config.dataflows) == 1
    assert "# Left out: connection Nowhere: none of that name in prod" in text


def test_an_export_needs_a_role_in_the_sandbox(portal):
    devonly = Api(portal, make_token(signed_in(portal, "devonly")))
    assert devonly.get("/api/v1/config?sandbox=prod").status_code == 403
    assert devonly.get("/api/v1/config?sandbox=dev").status_code == 200


def test_the_export_command_writes_the_file_with_a_token_and_says_a_refusal(portal, fresh_emulator, tmp_path, capsys):
    api = Api(portal, make_token(signed_in(portal, "creator")))
    made(api, fresh_emulator)
    token = make_token(signed_in(portal, "viewer"))
    server = LiveServer(portal)
    out = tmp_path / "prod.yaml"
    try:
        os.environ["WIZARD_TOKEN"] = token
        assert main(["export", "--url", server.url, "--sandbox", "prod", "-o", str(out)]) == 0
        assert len(load(out.read_text()).connections) == 2
        assert main(["check", "-f", str(out)]) == 0
        os.environ["WIZARD_TOKEN"] = token[:-1] + "x"
        assert main(["export", "--url", server.url, "--sandbox", "prod"]) == 1
        assert "Not signed in" in capsys.readouterr().err
        assert requests.get(server.url + "/api/config-schema.json", timeout=10).status_code == 200
    finally:
        os.environ.pop("WIZARD_TOKEN", None)
        server.stop()


def test_nothing_asked_for_or_named_by_adobe_can_break_out_of_the_files_comments(portal, fresh_emulator):
    api = Api(portal, make_token(signed_in(portal, "viewer")))
    assert api.get("/api/v1/config?sandbox=prod&connection=a%0Aapi: x").status_code == 422
    services.of(portal).connections.create_connection("prod", connection_body("Has\u2028a break"))
    asked = "connection=Has\u2028a break&connection=Gone\u2028apiVersion: x"
    text = api.get(f"/api/v1/config?sandbox=prod&{asked}").get_data(as_text=True)
    comments = [line for line in text.split("\n") if line.startswith("#")]
    assert comments[1:] == ["# Left out: connection Gone?apiVersion: x: none of that name in prod"]
    assert [c.name for c in load(text).connections] == ["Has\u2028a break"]
