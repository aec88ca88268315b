"""Faults from Adobe: an actionable message, never a 500, and never a second connection."""

import html
import re
import threading

import pytest

from app import services
from app.adobe import AdobeError
from app.emulator import Fault

from .helpers.forms import form_data
from .helpers.live import IN_TIME, SLOW

POST = ("POST", "/connections")
FLOW_400 = {
    "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
    "title": "Invalid request",
    "status": 400,
    "report": {"detailed-message": "Auth params do not match: port is required", "request-id": "req-123"},
    "errorMessage": "Auth params do not match: port is required",
    "errorDetails": {},
}


def submit(client, variant="redshift", **changes):
    key, data = form_data(variant, **changes)
    data.setdefault("submission_id", "s" * 20)
    response = client.post(f"/sources/{key}", data=data)
    return response, html.unescape(response.get_data(as_text=True))


def posts(emulator):
    return len(emulator.creations())


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        (
            Fault(*POST, status=403, body={"error_code": "403003", "message": "Api Key is invalid"}),
            502,
            ["403 (403003): Api Key is invalid", "AEP_CLIENT_ID"],
        ),
        (
            Fault(*POST, status=401, body={"error_code": "401013", "message": "Oauth token is not valid"}, times=2),
            502,
            ["401 (401013): Oauth token is not valid", "refused the wizard's credentials"],
        ),
        (
            Fault(
                *POST,
                status=429,
                headers={"Retry-After": "30"},
                body={"error_code": "429050", "message": "Too many requests"},
            ),
            429,
            ["Wait about 30 seconds and submit again"],
        ),
        (
            Fault(*POST, status=400, body=FLOW_400),
            400,
            ["FLOW-1100-400", "Invalid request", "port is required", "req-123", "Correct the fields"],
        ),
        (
            Fault(*POST, status=503, body={"error_code": "503", "message": "Service Unavailable"}),
            502,
            ["answered 503", "No connection was created, so submitting again is safe"],
        ),
        (Fault(*POST, status=502, body="<html>Bad gateway</html>"), 502, ["answered 502", "No connection was created"]),
        (Fault(*POST, status=504, delay=SLOW), 502, ["did not answer in time", "It was not created; submit again"]),
    ],
)
def test_flow_service_faults_give_an_actionable_message_and_keep_the_form(client, fresh_emulator, fault, status, words):
    fresh_emulator.inject(fault)
    response, page = submit(client)
    assert response.status_code == status
    for word in words:
        assert word in page
    assert 'value="rs.example.com"' in page and "s3cret" not in page
    assert fresh_emulator.connections == {}


@pytest.mark.parametrize(
    "fault",
    [
        Fault(*POST, status=500, body={"title": "Internal Error"}, after_handling=True),
        Fault(*POST, delay=SLOW, after_handling=True),
        Fault(*POST, status=201, body="<html>not json</html>", after_handling=True),
        Fault(*POST, status=201, body={"etag": "no id"}, after_handling=True),
    ],
    ids=["500-after-create", "timeout-after-create", "201-html", "201-without-id"],
)
def test_a_lost_answer_finds_the_connection_instead_of_creating_another(client, fresh_emulator, fault):
    fresh_emulator.inject(fault)
    response, _page = submit(client)
    assert response.status_code == 303
    (connection_id,) = fresh_emulator.connections
    assert response.headers["Location"].startswith(f"/connections/{connection_id}?sandbox=prod&created=")
    assert posts(fresh_emulator) == 1


def test_after_a_failure_the_same_form_can_be_submitted_again(client, fresh_emulator):
    fresh_emulator.inject(Fault(*POST, status=503, body={}))
    assert submit(client)[0].status_code == 502
    assert submit(client)[0].status_code == 303
    assert len(fresh_emulator.connections) == 1


@pytest.mark.read_timeout(IN_TIME)  # the delay widens the window; the answer still comes in time
def test_a_double_click_creates_one_connection(client, app, fresh_emulator):
    fresh_emulator.inject(Fault(*POST, delay=0.5, after_handling=True))
    answers = []

    def click():
        answers.append(submit(app.test_client())[0])

    threads = [threading.Thread(target=click) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert len({a.headers["Location"] for a in answers}) == 1
    assert posts(fresh_emulator) == 1 and len(fresh_emulator.connections) == 1


def test_resending_a_form_that_succeeded_shows_the_same_connection(client, fresh_emulator):
    first = submit(client)[0]
    again = submit(client)[0]
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert posts(fresh_emulator) == 1


def test_an_unknown_spec_name_is_adobes_flow_1415_400(app, fresh_emulator):
    client = services.of(app).connections
    body = {
        "name": "x",
        "auth": {"specName": "Key Based", "params": {}},
        "connectionSpec": {"id": "37b6bf40-d318-4655-90be-5cd6f65d334b", "version": "1.0"},
    }
    with pytest.raises(AdobeError) as caught:
        client.create_connection("prod", body)
    assert caught.value.code == "FLOW-1415-400" and caught.value.status == 400
    assert "Key Based" in caught.value.message and "37b6bf40-d318-4655-90be-5cd6f65d334b" in caught.value.message
    assert re.fullmatch(r"[0-9a-f-]{36}", caught.value.request_id)


def test_a_param_of_the_wrong_type_is_refused_by_the_emulator(app, fresh_emulator):
    params = {"host": "h", "port": "8765", "httpPath": "/", "enableSsl": "true", "username": "u", "password": "p"}
    body = {
        "name": "x",
        "auth": {"specName": "Basic Authentication", "params": params},
        "connectionSpec": {"id": "102706fb-a5cd-42ee-afe0-bc42f017ff43", "version": "1.0"},
    }
    with pytest.raises(AdobeError) as caught:
        services.of(app).connections.create_connection("prod", body)
    assert "auth.params.enableSsl: 'true' is not of type 'boolean'" in caught.value.message
    assert "auth.params.port: '8765' is not of type 'integer'" in caught.value.message


def test_the_connection_page_explains_a_flow_service_outage(client, fresh_emulator):
    response, _ = submit(client)
    # Four 503s: the first answer and the three retries a GET gets.
    fresh_emulator.inject(Fault("GET", "/connections/" + list(fresh_emulator.connections)[0], status=503, times=4))
    page = client.get(response.headers["Location"])
    assert page.status_code == 502
    assert "Flow Service had a problem on its side" in page.get_data(as_text=True)


def test_a_get_is_retried_through_brief_outages(client, fresh_emulator):
    response, _ = submit(client)
    connection_path = "/connections/" + list(fresh_emulator.connections)[0]
    fresh_emulator.inject(Fault("GET", connection_path, status=502, times=1))
    fresh_emulator.inject(Fault("GET", connection_path, status=429, headers={"Retry-After": "1"}, times=1))
    started = __import__("time").monotonic()
    assert client.get(response.headers["Location"]).status_code == 200
    assert __import__("time").monotonic() - started >= 1.0  # Retry-After was honoured
    gets = [r for r in fresh_emulator.received if r.method == "GET" and r.path.endswith(connection_path)]
    assert len(gets) == 3


@pytest.mark.parametrize(
    "fault",
    [
        Fault(*POST, status=201, malformed=True, after_handling=True),
        Fault(*POST, drop=True, after_handling=True),
        Fault(*POST, status=500, body={"error": "oops"}, after_handling=True),
    ],
)
def test_a_lost_answer_after_creating_finds_the_one_connection(client, fresh_emulator, fault):
    fresh_emulator.inject(fault)
    response, _page = submit(client)
    assert response.status_code == 303
    assert len(fresh_emulator.connections) == 1 and posts(fresh_emulator) == 1


@pytest.mark.parametrize(
    "fault, words",
    [
        (Fault(*POST, drop=True), "Submit again"),
        (Fault(*POST, status=400, malformed=True), "Flow Service rejected what was sent"),
    ],
)
def test_a_request_that_failed_before_creating_says_so(client, fresh_emulator, fault, words):
    fresh_emulator.inject(fault)
    response, page = submit(client)
    assert response.status_code in (400, 502) and words.lower() in page.lower()
    assert not fresh_emulator.connections


def test_connection_refused_is_explained(fresh_emulator):
    from app import create_app

    from .helpers.live import settings_for

    app = create_app(settings_for(fresh_emulator, platform_url="http://127.0.0.1:9"))
    app.config.update(WTF_CSRF_ENABLED=False)
    response, page = submit(app.test_client())
    assert response.status_code == 502 and "could not reach Flow Service" in page
    assert "AEP_PLATFORM_URL" in page


def test_the_emulator_takes_faults_over_http(fresh_emulator):
    import requests

    url = fresh_emulator.url + "/_emulator/faults"
    assert (
        requests.post(
            url, json={"method": "POST", "path": "/ims/token/v3", "status": 500, "times": 2}, timeout=5
        ).status_code
        == 201
    )
    assert requests.post(url, json={"method": "POST"}, timeout=5).status_code == 400
    assert requests.post(fresh_emulator.url + "/ims/token/v3", timeout=5).status_code == 500
    assert requests.delete(url, timeout=5).status_code == 204
    assert not fresh_emulator.faults


def test_an_old_namesake_is_not_taken_for_the_lost_connection(client, fresh_emulator):
    submit(client, name="Orders warehouse")
    old = next(iter(fresh_emulator.connections.values()))
    old["createdAt"] -= 60 * 60 * 1000  # made an hour ago
    fresh_emulator.inject(Fault(*POST, status=503, body={"error": "down"}))
    response, page = submit(client, submission_id="t" * 20)
    assert response.status_code == 502 and "No connection was created" in page


@pytest.mark.parametrize(
    "fault, status, words",
    [
        (Fault(*POST, status=404, body={"error_code": "404", "message": "Not Found"}), 404, "no such resource"),
        (
            Fault(
                *POST,
                status=412,
                body={
                    "type": "https://ns.adobe.com/aep/errors/FLOW-1404-412",
                    "title": "Precondition failed",
                    "status": 412,
                    "report": {"detailed-message": "stale", "request-id": "r"},
                    "errorMessage": "stale",
                },
            ),
            400,
            "Precondition failed",
        ),
        (Fault(*POST, status=500, body={"error": "internal"}), 502, "answered 500"),
    ],
)
def test_more_flow_service_faults_are_explained_and_create_nothing(client, fresh_emulator, fault, status, words):
    fresh_emulator.inject(fault)
    response, page = submit(client)
    assert response.status_code == status and words in page
    assert not fresh_emulator.connections and posts(fresh_emulator) == 1
