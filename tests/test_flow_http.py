"""Over real HTTP, browser-like client → wizard → emulator: the id shown is the one Flow Service stored."""

import http.server
import re
import threading
import urllib.error
import urllib.request

import pytest
import requests

from app import services

from .helpers.forms import VARIANTS, form_data
from .helpers.markup import csrf_token, submission_id


def create_via_http(base_url, variant, **changes):
    key, data = form_data(variant, **changes)
    session = requests.Session()
    form_page = session.get(f"{base_url}/sources/{key}", timeout=10)
    assert form_page.status_code == 200
    data.update(csrf_token=csrf_token(form_page.text), submission_id=submission_id(form_page.text))
    response = session.post(f"{base_url}/sources/{key}", data=data, allow_redirects=False, timeout=10)
    return session, data, response


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_source_creates_a_connection_and_shows_its_id(live_server, fresh_emulator, variant):
    session, _data, response = create_via_http(live_server.url, variant)
    assert response.status_code == 303, response.text[:3000]
    location = response.headers["Location"]
    assert re.fullmatch(r"/connections/[0-9a-f-]{36}\?sandbox=prod&created=[A-Za-z0-9_-]{16,64}", location)
    result = session.get(live_server.url + location, timeout=10)
    assert result.status_code == 200
    shown_id = re.search(r'<code id="connection-id">([^<]+)</code>', result.text).group(1)
    assert list(fresh_emulator.connections) == [shown_id]
    stored = fresh_emulator.connections[shown_id]
    assert stored["etag"].replace('"', "&#34;") in result.text
    assert stored["name"] in result.text and ">enabled<" in result.text
    assert "Emulator:</strong> nothing is sent to Adobe" in result.text


def test_the_chosen_sandbox_is_used_lowercase_and_shown(live_server, fresh_emulator):
    session, _data, response = create_via_http(live_server.url, "redshift", sandbox="dev")
    assert "?sandbox=dev&created=" in response.headers["Location"]
    post = [r for r in fresh_emulator.received if r.method == "POST" and r.path.endswith("/connections")][0]
    assert post.headers["X-Sandbox-Name"] == "dev"
    assert ">dev<" in session.get(live_server.url + response.headers["Location"], timeout=10).text


@pytest.mark.parametrize(
    "fetch_site, kept",
    [
        ("same-origin", True),  # from the wizard's own page, say after the wizard restarted: what was typed stays
        ("cross-site", False),  # from a page elsewhere: no form prefilled with someone else's values
    ],
)
def test_a_post_without_the_csrf_token_is_refused(live_server, fresh_emulator, fetch_site, kept):
    key, data = form_data("redshift")
    response = requests.post(
        f"{live_server.url}/sources/{key}", data=data, timeout=10, headers={"Sec-Fetch-Site": fetch_site}
    )
    assert response.status_code == 400
    assert ("the form expired; submit it again" in response.text) is kept
    assert ('value="rs.example.com"' in response.text) is kept
    assert not fresh_emulator.creations()


def test_every_call_carries_the_documented_headers(live_server, fresh_emulator):
    create_via_http(live_server.url, "phoenix")
    flow_calls = [r for r in fresh_emulator.received if r.path.startswith("/data/foundation/flowservice")]
    assert [r.method for r in flow_calls] == ["POST"]
    headers = flow_calls[0].headers
    assert headers["Authorization"].startswith("Bearer emulator-")
    assert headers["X-Api-Key"] == fresh_emulator.client_id
    assert headers["X-Gw-Ims-Org-Id"] == fresh_emulator.org_id
    assert headers["Content-Type"] == "application/json"


def test_unknown_source_and_connection_pages_are_404_not_500(live_server, fresh_emulator):
    assert requests.get(f"{live_server.url}/sources/oracle", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/connections/{'0' * 36}?sandbox=prod", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/connections/abc?sandbox=not-allowed", timeout=10).status_code == 404


def test_healthz(live_server):
    assert requests.get(f"{live_server.url}/healthz", timeout=10).json() == {"status": "ok", "mode": "emulator"}


def test_a_netrc_entry_for_adobes_host_cannot_replace_the_bearer_token(fresh_emulator, tmp_path, monkeypatch):
    # requests, trusting the environment, would send ~/.netrc's login as Basic auth instead of our token.
    from app import create_app

    from .helpers.live import settings_for

    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login mallory password stolen\n")
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    app = create_app(settings_for(fresh_emulator))
    services.of(app).connections.list_connection_specs("prod")
    calls = [r for r in fresh_emulator.received if r.path.endswith("/connectionSpecs")]
    assert calls and all(r.headers["Authorization"].startswith("Bearer ") for r in calls)


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy on loopback: records each request line, passes the request on, answers as it was answered."""

    seen: list = []

    def _forward(self):
        type(self).seen.append(self.requestline)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
        request = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
        try:
            answer = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5)
        except urllib.error.HTTPError as refused:
            answer = refused
        content = answer.read()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


def test_proxies_come_from_the_environment_at_start_up_and_no_proxy_is_honoured(fresh_emulator, monkeypatch):
    from app import create_app
    from app.adobe.http import network_settings

    from .helpers.live import settings_for

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        app = create_app(settings_for(fresh_emulator))
        monkeypatch.delenv("HTTP_PROXY")  # read once, at start-up: later changes do not matter
        services.of(app).connections.list_connection_specs("prod")
        assert any(line.startswith(f"POST {fresh_emulator.url}/ims/token/v3") for line in _Proxy.seen)
        assert any(
            line.startswith(f"GET {fresh_emulator.url}/data/foundation/flowservice/connectionSpecs")
            for line in _Proxy.seen
        )
        calls = [r for r in fresh_emulator.received if r.path.endswith("/connectionSpecs")]
        assert calls and calls[-1].headers["Authorization"].startswith("Bearer ")
        _Proxy.seen.clear()
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        services.of(create_app(settings_for(fresh_emulator))).connections.list_connection_specs("prod")
        assert _Proxy.seen == []
    finally:
        proxy.shutdown()
        proxy.server_close()
    env = {"HTTPS_PROXY": "http://proxy.internal:3128", "REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}
    assert network_settings("https://platform.adobe.io", env) == (
        {"https": "http://proxy.internal:3128"},
        "/etc/ssl/corp.pem",
    )
    for covering in (".adobe.io", "adobe.io", "*.adobe.io", "platform.adobe.io", "*", "x.org, adobe.io:443"):
        assert network_settings("https://platform.adobe.io", {**env, "NO_PROXY": covering})[0] == {}, covering
    for other in ("example.com", "notadobe.io", "io.adobe"):
        assert network_settings("https://platform.adobe.io", {**env, "NO_PROXY": other})[0], other
    assert network_settings("https://platform.adobe.io", {}) == ({}, True)
