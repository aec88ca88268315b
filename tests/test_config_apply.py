"""Config as code, plan and apply: a sandbox exported, planned against another and applied there, once; drift and a
secret's new value shown once; a saved plan that no longer holds refused; faults midway resumed with nothing made
twice; two applies at once making each object once; roles."""

from __future__ import annotations

import datetime
import os
import threading
import time

import pytest
import yaml

from app import services
from app.cli import main
from app.config_file.commands import secrets_for
from app.emulator import Fault

from . import test_api
from .helpers.api import Api, make_token, signed_in
from .helpers.live import LiveServer
from .test_config_export import BASIC, made

users, portal = test_api.users, test_api.portal
STRING = "Server=pg.example.com;Port=5432;Database=orders;Uid=etl;Pwd=api-s3cret-Pw"


def _secrets() -> dict:
    return {"Orders database": {"connectionString": STRING}, "Basic one": {"password": BASIC["password"]}}


def exported(api: Api, sandbox: str = "prod") -> str:
    answer = api.get(f"/api/v1/config?sandbox={sandbox}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def plan(api: Api, text: str, sandbox: str = "dev", secrets: dict | None = None, **more) -> dict:
    answer = api.post(
        "/api/v1/config/plan", json={"sandbox": sandbox, "file": text, "secrets": secrets or _secrets(), **more}
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def apply(api: Api, text: str, sandbox: str = "dev", secrets: dict | None = None, **more):
    return api.post(
        "/api/v1/config/apply", json={"sandbox": sandbox, "file": text, "secrets": secrets or _secrets(), **more}
    )


def actions(found: dict) -> dict:
    return {(c["kind"], c["name"]): c["action"] for c in found["changes"] if c["action"] != "left"}


def test_a_sandbox_carried_to_another_then_nothing_to_do(portal, fresh_emulator):
    creator = Api(portal, make_token(signed_in(portal, "creator")))
    made(creator, fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    first = plan(editor, text)
    assert actions(first) == {
        ("connection", "Orders database"): "create",
        ("connection", "Basic one"): "create",
        ("dataflow", "Customers hourly"): "create",
    }
    done = apply(editor, text, plan_digest=first["digest"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["complete"], done.get_json()
    second = plan(editor, text)
    assert set(actions(second).values()) == {"none"}, str([c for c in second["changes"] if c["action"] != "none"])


def changing_calls(emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emulator.received if r.method in ("POST", "PATCH", "PUT", "DELETE")]


def in_sandbox(emulator, kind: str, sandbox: str = "dev") -> list[dict]:
    objects = getattr(emulator, kind)
    return [o for o in objects.values() if o.get("sandboxName", sandbox) == sandbox]


def carried(portal, emulator) -> tuple[Api, str]:
    """prod's two connections and dataflow, exported and applied to dev by an editor."""
    made(Api(portal, make_token(signed_in(portal, "creator"))), emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    answer = apply(editor, text)
    assert answer.status_code == 200 and answer.get_json()["complete"], answer.get_json()
    return editor, text


def test_applying_twice_sends_nothing_that_changes_anything_the_second_time(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    before = len(changing_calls(fresh_emulator))
    again = apply(editor, text)
    assert again.status_code == 200 and again.get_json()["complete"]
    assert {r["outcome"] for r in again.get_json()["results"]} == {"skipped"}
    assert changing_calls(fresh_emulator)[before:] == []
    assert len(in_sandbox(fresh_emulator, "connections")) == 2 and len(in_sandbox(fresh_emulator, "flows")) == 1
    kinds = [e["action"] for e in services.of(portal).store.audit.audit_entries(sandbox="dev")]
    assert kinds.count("apply") == 2 and kinds.count("create") == 2


def test_a_rename_elsewhere_shows_as_drift_and_the_file_names_it_back(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    connection = next(c for c in in_sandbox(fresh_emulator, "connections") if c["name"] == "Basic one")
    read = editor.get(f"/api/v1/connections/{connection['id']}?sandbox=dev")
    renamed = editor(
        "PATCH",
        f"/api/v1/connections/{connection['id']}?sandbox=dev",
        json={"name": "Renamed in the UI"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert renamed.status_code == 200
    found = {c["name"]: c for c in plan(editor, text)["changes"]}
    basic = found["Basic one"]
    assert basic["action"] == "update" and basic["id"] == connection["id"]
    assert "renamed outside the file to Renamed in the UI" in basic["drift"]
    assert {"field": "name", "from": "Renamed in the UI", "to": "Basic one"} in basic["fields"]
    assert "Renamed in the UI" not in found, "the renamed connection is the file's, not one left over"
    assert found["Customers hourly"]["action"] == "none", "its dataflow reads the same connection, by id"
    flow = in_sandbox(fresh_emulator, "flows")[0]["id"]
    assert apply(editor, text).get_json()["complete"]
    assert fresh_emulator.connections[connection["id"]]["name"] == "Basic one"
    assert [f["id"] for f in in_sandbox(fresh_emulator, "flows")] == [flow], "never made again for a rename"
    assert set(actions(plan(editor, text)).values()) == {"none"}


def test_a_secrets_new_value_shows_once_then_not_and_is_never_shown(portal, fresh_emulator, capfd):
    editor, text = carried(portal, fresh_emulator)
    rotated = {**_secrets(), "Basic one": {"password": "a-New-pass-7"}}
    found = {c["name"]: c for c in plan(editor, text, secrets=rotated)["changes"]}
    assert found["Basic one"]["action"] == "update"
    assert found["Basic one"]["fields"] == [
        {"field": "password", "from": "(secret)", "to": "(secret) ${BASIC_ONE_PASSWORD}: a new value"}
    ]
    done = apply(editor, text, secrets=rotated)
    assert done.get_json()["complete"]
    assert set(actions(plan(editor, text, secrets=rotated)).values()) == {"none"}
    assert actions(plan(editor, text))[("connection", "Basic one")] == "update", "the old value is a change again"
    out, err = capfd.readouterr()
    trail = services.of(portal).store.audit.audit_entries(sandbox="dev")
    for secret in ("a-New-pass-7", BASIC["password"], "api-s3cret-Pw"):
        assert secret not in out + err + str(trail) + done.get_data(as_text=True)


def test_a_saved_plan_that_no_longer_holds_is_refused(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    saved = plan(editor, text)
    fresh_emulator.connections.clear()  # what the plan was made against is gone
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    apply(Api(portal, make_token(signed_in(portal, "editor"))), text, sandbox="dev")  # dev now holds them
    refused = apply(editor, text, plan_digest=saved["digest"])
    assert refused.status_code == 409 and refused.get_json()["title"] == "The plan no longer holds"


def test_a_dataset_missing_from_the_target_blocks_the_apply_on_its_line(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor).replace("dataset: Loyalty members", "dataset: Not in dev")
    line = text.split("\n").index("  dataset: Not in dev") + 1
    found = {c["name"]: c for c in plan(editor, text)["changes"]}
    assert found["Customers hourly"]["action"] == "blocked"
    assert found["Customers hourly"]["problems"] == [
        {"line": line, "where": "dataflows[0].dataset", "message": "no dataset named Not in dev in this sandbox"}
    ]
    before = len(changing_calls(fresh_emulator))
    refused = apply(editor, text)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["line"] == line
    assert changing_calls(fresh_emulator)[before:] == [], "nothing is made when any object is blocked"


def test_a_file_with_an_unknown_key_or_a_clear_secret_is_refused_line_by_line(portal):
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = (
        "apiVersion: aep-source-wizard/v1\n"
        "connections:\n"
        "  - name: A\n"
        "    source: postgresql\n"
        "    colour: blue\n"
        "    fields: {method: basic, password: hunter2-clear}\n"
    )
    refused = editor.post("/api/v1/config/plan", json={"sandbox": "dev", "file": text})
    assert refused.status_code == 422
    assert [(e["line"], e["field"]) for e in refused.get_json()["errors"]] == [
        (5, "connections[0].colour"),
        (6, "connections[0].fields.password"),
    ]
    assert "hunter2" not in refused.get_data(as_text=True)


def test_a_dataflow_stopped_midway_is_finished_by_applying_again_with_nothing_made_twice(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    fresh_emulator.inject(Fault("POST", "/flows", status=503, body={"message": "try later"}))
    first = apply(editor, text).get_json()
    assert not first["complete"]
    assert {(r["kind"], r["outcome"]) for r in first["results"]} == {("connection", "done"), ("dataflow", "failed")}
    assert "Apply the file again" in next(r["message"] for r in first["results"] if r["kind"] == "dataflow")
    second = apply(editor, text).get_json()
    assert second["complete"], second
    assert len(in_sandbox(fresh_emulator, "flows")) == 1
    assert len(in_sandbox(fresh_emulator, "source_connections")) == 1
    assert len(in_sandbox(fresh_emulator, "target_connections")) == 1
    assert len(in_sandbox(fresh_emulator, "connections")) == 2
    assert set(actions(plan(editor, text)).values()) == {"none"}


def test_a_lost_answer_or_a_refusal_while_making_a_connection_makes_it_once(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    fresh_emulator.inject(Fault("POST", "/connections", drop=True, after_handling=True))
    fresh_emulator.inject(Fault("POST", "/connections", status=500, body={"message": "down"}))
    first = apply(editor, text).get_json()
    assert [r["outcome"] for r in first["results"] if r["kind"] == "connection"] == ["done", "failed"]
    assert apply(editor, text).get_json()["complete"]
    assert sorted(c["name"] for c in in_sandbox(fresh_emulator, "connections")) == ["Basic one", "Orders database"]


def test_two_applies_at_once_make_each_object_once(portal, fresh_emulator):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    fresh_emulator.inject(Fault("POST", "/connections", delay=1.0))
    answers: list = [None, None]

    def one(i: int) -> None:
        answers[i] = apply(Api(portal, make_token(signed_in(portal, "editor"))), text)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.get_json() for a in answers]
    busy = next(a for a in answers if a.status_code == 409)
    assert busy.headers["Retry-After"] == "5" and busy.get_json()["title"] == "An apply is under way"
    assert apply(editor, text).get_json()["complete"]
    assert len(in_sandbox(fresh_emulator, "connections")) == 2 and len(in_sandbox(fresh_emulator, "flows")) == 1


def test_a_changed_table_replaces_the_dataflow_and_says_why(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    old = in_sandbox(fresh_emulator, "flows")[0]["id"]
    refused = text.replace("table: public.customers", "table: public.orders")  # its mapping names other columns
    failed = apply(editor, refused).get_json()
    assert failed["results"][-1]["message"].startswith("Nothing was made. mapping.columns.email")
    assert [f["id"] for f in in_sandbox(fresh_emulator, "flows")] == [old], "the old one stays when the new is unfit"
    config = yaml.safe_load(refused)
    del config["dataflows"][0]["mapping"]  # the mapping and delta column the portal suggests for the new table
    del config["dataflows"][0]["schedule"]["delta_column"]
    changed = yaml.safe_dump(config, sort_keys=False)
    found = {c["name"]: c for c in plan(editor, changed)["changes"]}
    assert found["Customers hourly"]["action"] == "replace"
    assert "cannot change a dataflow's table in place" in found["Customers hourly"]["notes"][0]
    result = apply(editor, changed).get_json()
    assert result["complete"], result
    flows = in_sandbox(fresh_emulator, "flows")
    assert len(flows) == 1 and flows[0]["id"] != old


def test_pruning_deletes_what_the_file_leaves_out_and_needs_an_admin(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    config = yaml.safe_load(text)
    config["connections"] = [c for c in config["connections"] if c["name"] == "Basic one"]
    smaller = yaml.safe_dump(config, sort_keys=False)
    found = plan(editor, smaller)
    assert ("connection", "Orders database") not in actions(found)
    assert [c["action"] for c in found["changes"] if c["name"] == "Orders database"] == ["left"]
    assert apply(editor, smaller, prune=True).status_code == 403
    admin = Api(portal, make_token(signed_in(portal, "admin")))
    assert actions(plan(admin, smaller, prune=True))[("connection", "Orders database")] == "delete"
    assert apply(admin, smaller, prune=True).get_json()["complete"]
    assert [c["name"] for c in in_sandbox(fresh_emulator, "connections")] == ["Basic one"]
    assert len(in_sandbox(fresh_emulator, "flows")) == 1


def test_a_secret_to_ask_leaves_its_connection_pending(portal, fresh_emulator):
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = (
        "apiVersion: aep-source-wizard/v1\n"
        "connections:\n"
        "  - name: Asked\n"
        "    source: postgresql\n"
        "    fields: {method: basic, server: db.example.com, port: 5432, database: d, username: u, password: ask}\n"
    )
    found = plan(editor, text, secrets={})
    assert actions(found) == {("connection", "Asked"): "pending"}
    result = apply(editor, text, secrets={}).get_json()
    assert [r["outcome"] for r in result["results"]] == ["pending"] and not result["complete"]
    assert not in_sandbox(fresh_emulator, "connections")


def test_two_commands_carry_a_sandbox_and_a_third_says_nothing_is_left(portal, fresh_emulator, tmp_path, capsys):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    server = LiveServer(portal)
    config, saved = tmp_path / "prod.yaml", tmp_path / "plan.json"
    secrets = {"BASIC_ONE_PASSWORD": BASIC["password"], "ORDERS_DATABASE_CONNECTION_STRING": STRING}
    url = ["--url", server.url]
    try:
        os.environ["WIZARD_TOKEN"] = make_token(signed_in(portal, "editor"))
        assert main(["export", *url, "--sandbox", "prod", "-o", str(config)]) == 0
        assert main(["plan", "-f", str(config), *url, "--sandbox", "dev"]) == 1, "its secrets are not set"
        said = capsys.readouterr()
        assert "Basic one.password: ${BASIC_ONE_PASSWORD} is not set" in said.err
        assert "].fields.password: the value of ${BASIC_ONE_PASSWORD} was not given, so nothing is sent" in said.out
        os.environ.update(secrets)
        assert main(["plan", "-f", str(config), *url, "--sandbox", "dev", "--out", str(saved)]) == 2
        said = capsys.readouterr()
        assert "  + connection Basic one: create" in said.out and "  + dataflow Customers hourly: create" in said.out
        assert "Summary: 3 create" in said.out
        assert main(["apply", "-f", str(config), *url, "--sandbox", "prod", "--plan", str(saved)]) == 1
        assert "a plan for sandbox dev, not prod" in capsys.readouterr().err
        assert main(["apply", "-f", str(config), *url, "--sandbox", "dev", "--plan", str(saved)]) == 0
        assert main(["plan", "-f", str(config), *url, "--sandbox", "dev"]) == 0
        said = capsys.readouterr()
        assert "Summary: no change" in said.out
        for secret in (BASIC["password"], "api-s3cret-Pw", os.environ["WIZARD_TOKEN"][13:]):
            assert secret not in said.out + said.err + saved.read_text()
    finally:
        for name in ("WIZARD_TOKEN", *secrets):
            os.environ.pop(name, None)
        server.stop()
    assert len(in_sandbox(fresh_emulator, "connections")) == 2 and len(in_sandbox(fresh_emulator, "flows")) == 1


def test_a_secret_in_a_file_is_read_beside_the_configuration_file(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw").write_text("from-a-file\n")
    text = (
        "apiVersion: aep-source-wizard/v1\n"
        "connections:\n"
        "  - name: A\n"
        "    source: postgresql\n"
        "    fields: {method: basic, password: {file: secrets/pw}, key: {file: nowhere}, token: ask}\n"
    )
    given, unread = secrets_for(str(tmp_path / "sandbox.yaml"), text)
    assert given == {"A": {"password": "from-a-file"}}
    assert unread == ["A.key: {file: nowhere} cannot be read (No such file or directory)"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("POST", "/sourceConnections", drop=True, after_handling=True),
        Fault("POST", "/targetConnections", status=502, body={"message": "bad gateway"}),
        Fault("POST", "/mappingSets", status=500, body={"message": "down"}),
        Fault("POST", "/flows", drop=True, after_handling=True),
        Fault("POST", "/flows", status=400, body={"title": "Bad Request", "status": 400, "detail": "refused"}),
    ],
    ids=["lost-source", "target-502", "mapping-500", "lost-flow", "flow-refused"],
)
def test_a_fault_at_any_step_of_a_dataflow_is_resumed_with_nothing_made_twice(portal, fresh_emulator, fault):
    made(Api(portal, make_token(signed_in(portal, "creator"))), fresh_emulator)
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    text = exported(editor)
    fresh_emulator.inject(fault)
    apply(editor, text)
    for _ in range(2):  # a refusal that stops the chain is sent again; a lost answer is found on the first go
        if apply(editor, text).get_json()["complete"]:
            break
    for kind in ("connections", "source_connections", "target_connections", "flows"):
        assert len(in_sandbox(fresh_emulator, kind)) == (2 if kind == "connections" else 1), kind
    assert set(actions(plan(editor, text)).values()) == {"none"}


def test_a_schedule_changed_elsewhere_shows_as_drift_and_is_put_back(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    flow = in_sandbox(fresh_emulator, "flows")[0]
    read = editor.get(f"/api/v1/dataflows/{flow['id']}?sandbox=dev")
    changed = editor(
        "PATCH",
        f"/api/v1/dataflows/{flow['id']}?sandbox=dev",
        json={"interval": 3},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    found = {c["name"]: c for c in plan(editor, text)["changes"]}["Customers hourly"]
    assert found["action"] == "update"
    assert found["drift"] == ["schedule.interval changed outside the file since the last apply"]
    assert found["fields"] == [{"field": "schedule.interval", "from": 3, "to": 1}]
    assert apply(editor, text).get_json()["complete"]
    assert set(actions(plan(editor, text)).values()) == {"none"}


FIELDS_FILE = """apiVersion: aep-source-wizard/v1
connections:
  - name: By fields
    source: postgresql
    fields:
      method: fields
      server: pg.example.com
      port: {port}
      database: orders
      username: etl
      password: ${{BY_FIELDS_PASSWORD}}
      encryptionMethod: "1"
      validateServerCertificate: "1"
"""


def test_a_connection_built_from_fields_shows_a_changed_field_and_a_new_password_once(portal, fresh_emulator):
    editor = Api(portal, make_token(signed_in(portal, "editor")))
    given = {"By fields": {"password": "fields-Pw-1"}}
    first = FIELDS_FILE.format(port=5432)
    assert apply(editor, first, secrets=given).get_json()["complete"]
    assert set(actions(plan(editor, first, secrets=given)).values()) == {"none"}
    moved = FIELDS_FILE.format(port=6432)
    change = plan(editor, moved, secrets=given)["changes"][0]
    assert change["action"] == "update"
    assert [f["field"] for f in change["fields"]] == ["params.connectionString (secrets hidden)"]
    assert "Port=6432" in change["fields"][0]["to"] and "fields-Pw-1" not in str(change)
    assert apply(editor, moved, secrets=given).get_json()["complete"]
    assert set(actions(plan(editor, moved, secrets=given)).values()) == {"none"}
    rotated = {"By fields": {"password": "fields-Pw-2"}}
    change = plan(editor, moved, secrets=rotated)["changes"][0]
    assert change["fields"] == [
        {"field": "password", "from": "(secret)", "to": "(secret) ${BY_FIELDS_PASSWORD}: a new value"}
    ]
    assert apply(editor, moved, secrets=rotated).get_json()["complete"]
    assert set(actions(plan(editor, moved, secrets=rotated)).values()) == {"none"}
    (made_one,) = in_sandbox(fresh_emulator, "connections")
    assert "Port=6432" in fresh_emulator.secrets[made_one["id"]]["connectionString"]


def test_a_viewer_plans_without_secrets_values(portal, fresh_emulator):
    viewer = Api(portal, make_token(signed_in(portal, "viewer")))
    text = FIELDS_FILE.format(port=5432)
    refused = viewer.post(
        "/api/v1/config/plan", json={"sandbox": "dev", "file": text, "secrets": {"By fields": {"password": "guess"}}}
    )
    assert refused.status_code == 403 and refused.get_json()["title"] == "Secrets' values are for editors"
    assert viewer.post("/api/v1/config/plan", json={"sandbox": "dev", "file": text}).status_code == 200


def test_a_connection_made_again_needs_an_admin_and_every_dataflow_reading_it_in_the_file(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    config = yaml.safe_load(text)
    basic = next(c for c in config["connections"] if c["name"] == "Basic one")
    basic["source"] = "greenplum"  # another source: Flow Service cannot change it in place
    basic["fields"] = {
        "method": "fields",
        "server": "gp.example.com",
        "port": 5432,
        "database": "orders",
        "username": "etl",
        "password": "${BASIC_ONE_PASSWORD}",
    }
    moved = yaml.safe_dump(config, sort_keys=False)
    found = {c["name"]: c for c in plan(editor, moved)["changes"]}
    assert found["Basic one"]["action"] == "replace", str(found["Basic one"])
    assert found["Customers hourly"]["action"] == "replace"
    assert apply(editor, moved).status_code == 403, "deleting a connection is an admin's"
    config["dataflows"] = []
    orphaning = yaml.safe_dump(config, sort_keys=False)
    admin = Api(portal, make_token(signed_in(portal, "admin")))
    found = {c["name"]: c for c in plan(admin, orphaning)["changes"]}
    assert found["Basic one"]["action"] == "blocked"
    assert (
        "dataflow Customers hourly reads from it and is not in the file" in found["Basic one"]["problems"][0]["message"]
    )
    before = len(changing_calls(fresh_emulator))
    assert apply(admin, orphaning).status_code == 422
    assert changing_calls(fresh_emulator)[before:] == []
    assert apply(admin, moved).get_json()["complete"]
    assert [c["name"] for c in in_sandbox(fresh_emulator, "connections") if c["name"] == "Basic one"] == ["Basic one"]
    assert len(in_sandbox(fresh_emulator, "flows")) == 1


def test_a_dataflow_whose_connections_listing_fails_is_not_made_again(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    fresh_emulator.inject(Fault("GET", "/flows", status=500, body={"message": "down"}, times=20))
    found = {c["name"]: c for c in plan(editor, text)["changes"]}
    fresh_emulator.faults.clear()
    assert found["Customers hourly"]["action"] == "blocked"
    assert "plan again in a minute" in found["Customers hourly"]["problems"][0]["message"]


def test_what_a_prune_deleted_is_made_anew_when_the_file_names_it_again(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    old = next(c["id"] for c in in_sandbox(fresh_emulator, "connections") if c["name"] == "Orders database")
    config = yaml.safe_load(text)
    config["connections"] = [c for c in config["connections"] if c["name"] != "Orders database"]
    admin = Api(portal, make_token(signed_in(portal, "admin")))
    assert apply(admin, yaml.safe_dump(config, sort_keys=False), prune=True).get_json()["complete"]
    assert apply(editor, text).get_json()["complete"]
    again = [c["id"] for c in in_sandbox(fresh_emulator, "connections") if c["name"] == "Orders database"]
    assert len(again) == 1 and again[0] != old


def test_a_first_run_that_is_no_date_is_said_on_its_line(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    config = yaml.safe_load(text)
    config["dataflows"][0]["schedule"]["start"] = "2027-02-30T10:00"
    bad = yaml.safe_dump(config, sort_keys=False)
    line = next(i for i, text in enumerate(bad.split("\n"), 1) if "2027-02-30" in text)
    (problem,) = {c["name"]: c for c in plan(editor, bad)["changes"]}["Customers hourly"]["problems"]
    assert problem == {
        "line": line,
        "where": "dataflows[0].schedule.start",
        "message": "not a date and time: YYYY-MM-DDTHH:MM",
    }


def test_a_connection_string_not_given_changes_nothing_once_applied(portal, fresh_emulator):
    editor, text = carried(portal, fresh_emulator)
    without = {"Basic one": {"password": BASIC["password"]}}  # the connection string, not set this time
    found = {c["name"]: c for c in plan(editor, text, secrets=without)["changes"]}
    assert found["Orders database"]["action"] == "none" and found["Orders database"]["fields"] == []
    config = yaml.safe_load(text)
    orders = next(c for c in config["connections"] if c["name"] == "Orders database")
    orders["description"] = "Described now"
    described = yaml.safe_dump(config, sort_keys=False)
    change = {c["name"]: c for c in plan(editor, described, secrets=without)["changes"]}["Orders database"]
    assert change["action"] == "update", "a description changes in place, with no secret needed"
    assert [f["field"] for f in change["fields"]] == ["description"]
    assert apply(editor, described, secrets=without).get_json()["complete"]
    orders["fields"]["connectionString"] = "ask"
    asked = yaml.safe_dump(config, sort_keys=False)
    change = {c["name"]: c for c in plan(editor, asked, secrets=without)["changes"]}["Orders database"]
    assert (change["action"], change["would"]) == ("pending", "update"), "another reference: the owner types it"


@pytest.mark.parametrize(
    ("frequency", "interval", "start", "now", "made", "noted"),
    [
        ("hour", 1, "2027-01-04T09:30", "2027-01-01T00:00", "2027-01-04T09:30", False),
        ("hour", 2, "2026-01-01T09:30", "2026-12-06T10:00", "2026-12-06T11:30", True),
        ("day", 1, "2026-12-01T09:30", "2026-12-06T09:29", "2026-12-06T09:30", True),
        ("day", 1, "2026-12-01T09:30", "2026-12-06T09:30", "2026-12-07T09:30", True),
        ("week", 1, "2026-11-30T09:30", "2026-12-06T00:00", "2026-12-07T09:30", True),
        ("minute", 15, "2026-12-06T09:00", "2026-12-06T09:20", "2026-12-06T09:30", True),
        ("once", None, "2026-12-01T09:30", "2026-12-06T10:00:30", "2026-12-06T10:02", True),
    ],
)
def test_a_first_run_past_is_moved_to_the_next_on_its_cadence(frequency, interval, start, now, made, noted):
    from app.config_file.desired import first_run
    from app.config_file.model import Schedule

    entry = Schedule(frequency=frequency, interval=interval, start=start, timezone="UTC")
    at = datetime.datetime.fromisoformat(now).replace(tzinfo=datetime.UTC).timestamp()
    text, note = first_run(entry, at)
    assert text == made
    assert (note == f"its first run in the file is past: it starts at {made} UTC, the next on its cadence") is noted
    assert (note is None) is not noted


def test_a_first_run_in_another_zone_is_compared_in_utc():
    from app.config_file.desired import schedule
    from app.config_file.model import Schedule

    paris = schedule(Schedule(frequency="day", interval=1, start="2027-07-01T09:30", timezone="Europe/Paris"))
    assert paris == {
        "frequency": "day",
        "start": "2027-07-01T07:30",
        "interval": 1,
        "backfill": True,
        "error_diagnostics": False,
    }
    once = schedule(Schedule(frequency="once", start="2027-01-01T00:00", delta_column="d", partial_percent=5))
    assert once == {
        "frequency": "once",
        "start": "2027-01-01T00:00",
        "delta_column": "d",
        "error_diagnostics": False,
        "partial_percent": 5,
    }
