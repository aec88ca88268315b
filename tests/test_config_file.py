"""Config as code, the file: the example reads; unknown keys, a secret written in clear, a dataflow naming no
connection, names said twice and text that is not YAML are each refused on their line, never quoting a value; the
file's JSON Schema is served beside the OpenAPI document and editors can check files with it."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from app import create_app
from app.cli import main
from app.config_file.load import Refused, load
from app.config_file.model import SECRET_NAME_RE, json_schema

from .helpers.live import settings_for

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "sandbox.yaml"


def refused(text: str) -> list[str]:
    with pytest.raises(Refused) as caught:
        load(text)
    return [str(problem) for problem in caught.value.problems]


def test_the_example_reads_with_every_part():
    config = load(EXAMPLE.read_text())
    orders, warehouse = config.connections
    assert orders.fields["password"] == "${ORDERS_DB_PASSWORD}" and warehouse.fields["password"].file
    flow = config.dataflows[0]
    assert flow.connection == "Orders database" and flow.schema_ == "Orders schema"
    assert flow.mapping and flow.mapping.columns["email"] == "personalEmail.address"
    assert flow.schedule.timezone == "Europe/Paris" and flow.state == "enabled"


def test_an_unknown_key_is_refused_on_its_line():
    text = EXAMPLE.read_text().replace("    description: The orders", "    colour: red\n    description: The orders")
    problems = refused(text)
    line = text.splitlines().index("    colour: red") + 1
    assert problems == [f"line {line}: connections[0].colour: not a key this file knows."]


@pytest.mark.parametrize("name", ["password", "connectionString", "sasToken", "clientSecret", "privateKeyPassphrase"])
def test_a_secret_written_in_clear_is_refused_on_its_line_without_its_value(name):
    text = EXAMPLE.read_text().replace("      password: ${ORDERS_DB_PASSWORD}", f"      {name}: hunter2-in-clear")
    problems = refused(text)
    line = text.splitlines().index(f"      {name}: hunter2-in-clear") + 1
    assert len(problems) == 1 and problems[0].startswith(f"line {line}: connections[0].fields.{name}: a secret")
    assert "hunter2" not in problems[0]


@pytest.mark.parametrize("reference", ["${DB_PASSWORD}", "ask", "{file: /run/secrets/db}"])
def test_every_kind_of_reference_is_taken(reference):
    load(EXAMPLE.read_text().replace("${ORDERS_DB_PASSWORD}", reference))


def test_a_dataflow_naming_no_connection_and_names_said_twice_are_refused_on_their_lines():
    text = EXAMPLE.read_text().replace("    connection: Orders database", "    connection: Orders db")
    text = text.replace("  - name: Warehouse", "  - name: Orders database")
    problems = refused(text)
    lines = text.splitlines()
    twice, nameless = lines.index("  - name: Orders database", 5) + 1, lines.index("    connection: Orders db") + 1
    assert problems == [
        f"line {twice}: connections[1].name: Orders database is named twice.",
        f"line {nameless}: dataflows[0].connection: names no connection of this file.",
    ]


def test_text_that_is_not_yaml_or_not_this_file_says_where():
    assert refused("apiVersion: [unclosed\n")[0].startswith("line ")
    assert refused("- a list\n") == ["line 1: the file: must be a mapping with apiVersion, connections and dataflows."]
    assert "apiVersion" in refused("connections: []\n")[0]
    assert refused("apiVersion: aep-source-wizard/v2\n")[0].startswith("line 1: apiVersion: not allowed here")


def test_the_schema_is_draft_2020_12_served_beside_the_openapi_document(fresh_emulator):
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    # An editor's check (no portal code): the example passes, a secret in clear does not.
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(yaml.safe_load(EXAMPLE.read_text())))
    clear = yaml.safe_load(EXAMPLE.read_text().replace("${ORDERS_DB_PASSWORD}", "in-clear"))
    assert list(validator.iter_errors(clear))
    client = create_app(settings_for(fresh_emulator)).test_client()
    served = client.get("/api/config-schema.json")
    assert served.status_code == 200 and served.mimetype == "application/schema+json" and served.get_json() == schema
    assert client.get("/api/openapi.json").get_json()["externalDocs"]["url"] == "/api/config-schema.json"


def test_the_secret_name_rule_covers_the_secrets_sources_use():
    for name in ("password", "PWD", "clientSecret", "accountKey", "sasToken", "privateKeyPassphrase", "s3SecretKey"):
        assert SECRET_NAME_RE.search(name), name
    for name in ("server", "port", "database", "username", "sslMode", "encryptionMethod", "host"):
        assert not SECRET_NAME_RE.search(name), name


def test_the_check_command_says_each_problem_with_its_line_and_never_a_secret(tmp_path, capsys):
    assert main(["check", "-f", str(EXAMPLE)]) == 0
    assert "fine: 2 connections, 1 dataflows" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("${ORDERS_DB_PASSWORD}", "s3cret-typed-here"))
    assert main(["check", "-f", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "connections[0].fields.password: a secret written in clear" in out and "s3cret" not in out
    assert main(["check", "-f", str(tmp_path / "missing.yaml")]) == 2
