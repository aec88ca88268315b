"""Bad input: its message on its field, the form re-rendered with what was typed, nothing sent."""

import re

import pytest

from .helpers.forms import form_data
from .helpers.markup import field_error

CASES = [
    # (variant, field, typed value, words the message must hold)
    ("redshift", "name", "", "required"),
    ("redshift", "server", "", "required"),
    ("redshift", "port", "", "whole number from 1 to 65535"),
    ("redshift", "port", "0", "whole number from 1 to 65535"),
    ("redshift", "port", "65536", "whole number from 1 to 65535"),
    ("redshift", "port", "54 39", "whole number from 1 to 65535"),
    ("redshift", "port", "5439.0", "whole number from 1 to 65535"),
    ("redshift", "port", "-1", "whole number from 1 to 65535"),
    ("redshift", "server", "https://db.example.com:5432", "type db.example.com here and 5432 as the port"),
    ("redshift", "server", "jdbc:redshift://rs.example.com:5439/dev", "not a URL: type rs.example.com"),
    ("redshift", "server", "db.example.com:5439", "without the port"),
    ("redshift", "server", "[2001:db8::5]", "without brackets"),
    ("redshift", "server", "db_example!.com", "Enter a host name such as"),
    ("redshift", "server", "-bad.example.com", "Enter a host name such as"),
    ("redshift", "server", "user@db.example.com", "user name goes in its own field"),
    ("redshift", "server", "db.example.com/dev", "without a path"),
    ("redshift", "database", "orders\tx", "control character"),
    ("redshift", "password", "pass\nword", "control character"),
    ("redshift", "name", "bell\x07", "control character"),
    ("redshift", "username", "", "required"),
    ("phoenix", "httpPath", "hbasephoenix0", "Start the path with “/”, for example /hbasephoenix0"),
    ("phoenix", "host", "https://hb.azurehdinsight.net", "type hb.azurehdinsight.net here"),
    ("phoenix", "port", "eighty", "whole number"),
    ("greenplum-fields", "server", "", "required"),
    ("greenplum-fields", "password", "", "required"),
    ("greenplum-string", "connectionString", "", "Paste the connection string"),
    ("greenplum-string", "connectionString", "HOST=h;PORT=5432;DB=d;UID=u", "no value for PWD"),
    ("greenplum-string", "connectionString", "HOST=h;PORT=5432;UID=u;PWD=p", "no value for DB"),
    ("greenplum-string", "connectionString", "HOST=h;PORT=99999;DB=d;UID=u;PWD=p", "PORT: Enter the port"),
    ("greenplum-string", "connectionString", "HOST=https://h;PORT=1;DB=d;UID=u;PWD=p", "HOST: Enter only the host"),
    ("greenplum-string", "connectionString", "HOST=h;PORT=1;DB=d;UID=u;PWD={p", "never closes it"),
    ("postgresql-string", "connectionString", "Server=s;Database=d;Port=5432;UID=u", "no value for Password"),
    ("postgresql-basic", "sslMode", "Sometimes", "Not a valid choice"),
    ("postgresql-fields", "encryptionMethod", "3", "Not a valid choice"),
    ("redshift", "sandbox", "someone-elses", "Choose one of the sandboxes this portal may use: prod, dev"),
]


@pytest.mark.parametrize(("variant", "field", "value", "message"), CASES)
def test_bad_input_gets_its_message_on_its_field_and_nothing_is_sent(
    client, fresh_emulator, variant, field, value, message
):
    key, data = form_data(variant, **{field: value})
    response = client.post(f"/sources/{key}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in field_error(page, field)
    assert 'aria-invalid="true"' in page and 'role="alert"' in page
    assert not fresh_emulator.creations(), "an invalid form must not reach Flow Service"


def test_what_was_typed_is_kept_except_the_secret(client, fresh_emulator):
    key, data = form_data("postgresql-basic", port="99999", password="Hunter2-secret")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert 'value="pg.example.com"' in page
    assert 'value="Orders warehouse"' in page
    assert 'value="99999"' in page
    assert re.search(r'checked[^>]*value="Verify Full"|value="Verify Full"[^>]*checked', page)
    assert "Hunter2-secret" not in page
    assert "type it again" in page


def test_pasted_connection_string_is_never_echoed(client):
    key, data = form_data("greenplum-string", name="", connectionString="HOST=h;PORT=1;DB=d;UID=u;PWD=TopSecret")
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert "TopSecret" not in page


def test_errors_in_fields_of_the_method_not_chosen_are_ignored(client, fresh_emulator):
    key, data = form_data("greenplum-string", server="https://not-used", port="nope")
    response = client.post(f"/sources/{key}", data=data)
    assert response.status_code == 303
    assert len(fresh_emulator.creations()) == 1
