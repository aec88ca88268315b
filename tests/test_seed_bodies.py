"""Every body we send has the shape of Adobe's tutorial for that source, key for key."""

import pytest

from app.emulator import Emulator
from app.sources.connection_string import parse_connection_string

from .helpers.forms import form_data
from .helpers.live import settings_for
from .helpers.seeds import SEEDS, seed_examples

# Values the tutorials write unquoted ({PORT}, {SSL}) and the JSON type their text gives them.
UNQUOTED_TYPES = {"port": int, "enableSsl": bool}


def sent_body(app, emulator, variant, **changes):
    key, data = form_data(variant, **changes)
    response = app.test_client().post(f"/sources/{key}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    bodies = emulator.creations()
    assert len(bodies) == 1
    return bodies[0]


def assert_matches(body, example):
    assert body["auth"]["specName"] == example["specName"]
    assert set(body["auth"]["params"]) == set(example["params"])
    for key, seed_value in example["params"].items():
        sent = body["auth"]["params"][key]
        expected = str if seed_value is not None else UNQUOTED_TYPES[key]
        assert type(sent) is expected, f"{key}: sent {type(sent).__name__}, tutorial has {expected.__name__}"
    assert body["connectionSpec"] == {"id": example["id"], "version": example["version"]}
    assert set(body) == {"name", "description", "auth", "connectionSpec"}
    pattern = example["params"].get("connectionString")
    if pattern:
        keys_in_pattern = list(parse_connection_string(pattern))
        assert (
            list(parse_connection_string(body["auth"]["params"]["connectionString"]))[: len(keys_in_pattern)]
            == keys_in_pattern
        )


def test_the_project_carries_the_seeds():
    assert SEEDS.is_dir(), f"{SEEDS} is missing: the project carries Adobe's tutorials as test fixtures"
    assert len(seed_examples("GreenPlum")) == 1
    assert len(seed_examples("PostgreSQL")) == 4


@pytest.mark.parametrize(
    ("variant", "seed", "index"),
    [
        ("greenplum-fields", "GreenPlum", 0),
        ("greenplum-string", "GreenPlum", 0),
        ("postgresql-fields", "PostgreSQL", 0),
        ("postgresql-fields", "PostgreSQL", 1),
        ("postgresql-string", "PostgreSQL", 1),
        ("postgresql-basic", "PostgreSQL", 2),
        ("phoenix", "Phoenix", 0),
    ],
)
def test_azure_bodies_match_their_tutorial(app, fresh_emulator, variant, seed, index):
    assert_matches(sent_body(app, fresh_emulator, variant), seed_examples(seed)[index])


def test_redshift_body_is_the_tutorial_shape_plus_the_port_adobe_now_documents(app, fresh_emulator):
    # The seed tutorial predates the port param; Adobe's current Redshift tutorial sends
    # "port" as a string on Azure and AWS alike, and the wizard follows it.
    example = seed_examples("Redshift")[0]
    example["params"]["port"] = "{PORT}"
    assert_matches(sent_body(app, fresh_emulator, "redshift"), example)


@pytest.fixture(scope="module")
def aws_emulator():
    emulator = Emulator(cloud="aws").start()
    yield emulator
    emulator.stop()


@pytest.fixture
def aws_app(aws_emulator):
    from app import create_app

    aws_emulator.reset()
    app = create_app(settings_for(aws_emulator, cloud="aws"))
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def test_postgresql_basic_on_aws_sends_ssl_mode_as_the_documented_string(aws_app, aws_emulator):
    body = sent_body(aws_app, aws_emulator, "postgresql-basic", sslMode="true")
    assert_matches(body, seed_examples("PostgreSQL")[3])
    assert body["auth"]["params"]["sslMode"] == "true"


def test_redshift_on_aws_adds_the_schema(aws_app, aws_emulator):
    body = sent_body(aws_app, aws_emulator, "redshift", schema="public")
    example = seed_examples("Redshift")[0]
    example["params"].update(port="{PORT}", schema="{SCHEMA}")
    assert_matches(body, example)
    assert body["auth"]["params"]["schema"] == "public"


def test_phoenix_sends_port_as_number_and_ssl_as_boolean(app, fresh_emulator):
    params = sent_body(app, fresh_emulator, "phoenix")["auth"]["params"]
    assert params["port"] == 443 and params["enableSsl"] is True


def test_phoenix_unticked_ssl_is_false(app, fresh_emulator):
    key, data = form_data("phoenix")
    del data["enableSsl"]
    assert app.test_client().post(f"/sources/{key}", data=data).status_code == 303
    assert fresh_emulator.creations()[0]["auth"]["params"]["enableSsl"] is False


def test_password_with_every_awkward_character_reaches_adobe_unchanged(app, fresh_emulator):
    body = sent_body(app, fresh_emulator, "greenplum-fields", password="p;a}ss{= ")
    assert parse_connection_string(body["auth"]["params"]["connectionString"])["PWD"] == "p;a}ss{= "
