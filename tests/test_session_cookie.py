"""The session cookie behind HTTPS is `__Host-session` (Secure, Path=/, no Domain); over plain http it keeps its name.

Whether a request came over HTTPS is the app's decision per request: TLS to the app itself, or X-Forwarded-Proto
from as many proxies as WIZARD_PROXY_COUNT says. A cookie without the prefix is not read over HTTPS, so a cookie
planted from a plain-http page or a sibling subdomain cannot fix someone's session.
"""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.accounts import add_user

from .helpers.live import settings_for

PASSWORD = "correct-horse-battery"


@pytest.fixture
def portal(fresh_emulator, tmp_path):
    users = tmp_path / "users"
    add_user(str(users), "ada", PASSWORD)

    def build(**changes):
        app = create_app(settings_for(fresh_emulator, auth="accounts", users_file=str(users), **changes))
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        return app

    return build


class Https:
    """The test client as a browser at https://portal.example.com (Flask's client takes base_url per request)."""

    BASE = "https://portal.example.com"

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, path, **kwargs):
        return self.client.get(path, base_url=self.BASE, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, base_url=self.BASE, **kwargs)

    def __getattr__(self, name):  # set_cookie, delete_cookie, get_cookie
        return getattr(self.client, name)


def set_cookies(response) -> dict[str, str]:
    """Each Set-Cookie of the answer by cookie name: the whole header line."""
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}


def sign_in(client, **kwargs):
    return client.post("/sign-in", data={"username": "ada", "password": PASSWORD, "next": "/connections"}, **kwargs)


def test_over_https_the_cookie_has_the_host_prefix_and_what_it_requires(portal):
    client = Https(portal())
    answer = sign_in(client)
    assert answer.status_code == 303
    cookies = set_cookies(answer)
    assert list(cookies) == ["__Host-session"]
    attributes = [part.strip().lower() for part in cookies["__Host-session"].split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes and "httponly" in attributes
    assert not any(part.startswith("domain=") for part in attributes)
    # The browser sends it back under that name, and the person is signed in.
    page = client.get("/connections?sandbox=prod")
    assert page.status_code == 200 and "Signed in as <strong>ada</strong>" in page.get_data(as_text=True)


def test_over_https_a_cookie_without_the_prefix_is_not_read(portal):
    app = portal()
    plain = app.test_client()  # a session made over plain http: its cookie is named "session"
    assert sign_in(plain).status_code == 303
    value = plain.get_cookie("session").value
    https = Https(app)
    https.set_cookie("session", value, domain="portal.example.com")
    page = https.get("/connections?sandbox=prod")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    # The same value under the prefixed name is the same session: only the name decided.
    https.delete_cookie("session", domain="portal.example.com")
    https.set_cookie("__Host-session", value, domain="portal.example.com")
    assert https.get("/connections?sandbox=prod").status_code == 200


def test_behind_a_counted_proxy_forwarded_https_gives_the_prefix(portal):
    client = portal(proxy_count=1).test_client()
    https = {"X-Forwarded-Proto": "https"}
    answer = sign_in(client, headers=https)
    assert list(set_cookies(answer)) == ["__Host-session"] and "Secure" in set_cookies(answer)["__Host-session"]
    assert client.get("/connections?sandbox=prod", headers=https).status_code == 200
    # Without the forwarded https, the same browser's cookie is not the plain-http one.
    assert client.get("/connections?sandbox=prod").status_code == 302


def test_forwarded_https_from_an_uncounted_proxy_changes_nothing(portal):
    answer = sign_in(portal(proxy_count=0).test_client(), headers={"X-Forwarded-Proto": "https"})
    assert list(set_cookies(answer)) == ["session"]


def test_plain_http_on_a_laptop_keeps_the_plain_cookie_and_signs_in(portal):
    client = portal().test_client()
    answer = sign_in(client)
    cookie = set_cookies(answer)["session"]
    assert "Secure" not in cookie and re.search(r"(?i)path=/", cookie)
    page = client.get("/connections?sandbox=prod")
    assert page.status_code == 200 and "Signed in as <strong>ada</strong>" in page.get_data(as_text=True)


def test_signing_out_over_https_removes_the_prefixed_cookie(portal):
    client = Https(portal())
    sign_in(client)
    answer = client.post("/sign-out")
    assert answer.status_code == 303
    gone = set_cookies(answer)["__Host-session"]
    assert "Expires=Thu, 01 Jan 1970" in gone and "Secure" in gone
    assert client.get("/connections?sandbox=prod").status_code == 302
