"""The token provider: one fetch for many calls, renewal before expiry, one fetch under contention, clear failures."""

import threading

import pytest

from app.adobe import AdobeError
from app.adobe.http import make_session
from app.adobe.ims import TokenProvider
from app.emulator import Fault

from .helpers.forms import form_data
from .helpers.live import READ_TIMEOUT, SLOW


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def provider(emulator, clock=None, secret=None, timeout=(2, 2)):
    return TokenProvider(
        make_session(frozenset({"POST"})),
        emulator.url,
        emulator.client_id,
        secret or emulator.client_secret,
        ["openid", "AdobeID"],
        timeout,
        **({"clock": clock} if clock else {}),
    )


def test_many_creations_use_one_token(client, fresh_emulator):
    for _ in range(5):
        key, data = form_data("redshift")
        assert client.post(f"/sources/{key}", data=data).status_code == 303
    assert fresh_emulator.token_fetches == 1
    assert len(fresh_emulator.connections) == 5


def test_the_token_request_is_form_encoded_client_credentials(fresh_emulator):
    provider(fresh_emulator).token()
    request = [r for r in fresh_emulator.received if r.path == "/ims/token/v3"][0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=client_credentials" in request.body and b"scope=openid%2CAdobeID" in request.body


def test_a_new_token_is_fetched_shortly_before_expiry(fresh_emulator):
    clock = Clock()
    tokens = provider(fresh_emulator, clock)
    first = tokens.token()
    clock.now += 86399 - 301
    assert tokens.token() == first and fresh_emulator.token_fetches == 1
    clock.now += 2  # now inside the last five minutes of the token's life
    assert tokens.token() != first and fresh_emulator.token_fetches == 2


def test_concurrent_requests_share_one_fetch(fresh_emulator):
    fresh_emulator.inject(Fault("POST", "/ims/token/v3", delay=0.4))
    tokens = provider(fresh_emulator)
    results, barrier = [], threading.Barrier(12)

    def ask():
        barrier.wait()
        results.append(tokens.token())

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 12
    assert fresh_emulator.token_fetches == 1


def test_a_refused_token_is_renewed_once_and_the_creation_goes_through(client, fresh_emulator):
    key, data = form_data("redshift")
    assert client.post(f"/sources/{key}", data=data).status_code == 303
    fresh_emulator.tokens.clear()  # IMS revoked every token it issued
    assert client.post(f"/sources/{key}", data=data).status_code == 303
    assert fresh_emulator.token_fetches == 2 and len(fresh_emulator.connections) == 2


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (None, "invalid_client: invalid client_secret parameter"),
        (
            Fault("POST", "/ims/token/v3", status=503, body={"error": "server_error"}, times=5),
            "IMS had a problem on its side",
        ),
        (Fault("POST", "/ims/token/v3", delay=SLOW), "did not answer in time"),
        (Fault("POST", "/ims/token/v3", status=200, body={"token_type": "bearer"}), "without an access token"),
    ],
)
def test_ims_failures_become_a_clear_message_on_the_page(fresh_emulator, settings, fault, words):
    from app import create_app

    if fault:
        fresh_emulator.inject(fault)
    else:
        settings = settings.replace(client_secret="wrong-secret-value")
    app = create_app(settings.replace(read_timeout=READ_TIMEOUT))
    app.config.update(WTF_CSRF_ENABLED=False)
    key, data = form_data("redshift")
    response = app.test_client().post(f"/sources/{key}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert words in page and "Nothing was sent to Flow Service" in page
    assert "wrong-secret-value" not in page and fresh_emulator.client_secret not in page
    assert 'value="rs.example.com"' in page
    assert not fresh_emulator.creations()


def test_an_unknown_client_id_names_the_variable_to_check(fresh_emulator):
    tokens = TokenProvider(make_session(), fresh_emulator.url, "nobody", "x", ["openid"], (2, 2))
    with pytest.raises(AdobeError, match="AEP_CLIENT_ID and AEP_CLIENT_SECRET") as caught:
        tokens.token()
    assert caught.value.code == "invalid_client"
