"""Secrets never reach a page, a log line, a cookie or an error shown to a person."""

import base64
import logging
import zlib

import pytest

from app.emulator import Fault

from .forms import form_data

PASSWORD = "Pw-9f83-unique;{}"


def cookie_text(client) -> str:
    texts = []
    for cookie in client._cookies.values():
        value = cookie.value
        texts.append(value)
        payload = value.lstrip(".").split(".")[0]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            texts.append((zlib.decompress(raw) if value.startswith(".") else raw).decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - a cookie we cannot decode is still searched raw
            pass
    return "\n".join(texts)


@pytest.mark.parametrize("fault", [None, Fault("POST", "/connections", status=400, body={"title": "Bad"}),
                                   Fault("POST", "/connections", status=503, body={})])
def test_no_secret_in_pages_logs_or_cookies(client, fresh_emulator, caplog, fault):
    caplog.set_level(logging.DEBUG)
    if fault:
        fresh_emulator.inject(fault)
    key, data = form_data("postgresql-basic", password=PASSWORD)
    response = client.post(f"/sources/{key}", data=data, follow_redirects=True)
    pages = response.get_data(as_text=True) + client.get(f"/sources/{key}").get_data(as_text=True)
    token = next(iter(fresh_emulator.tokens))
    for secret in (PASSWORD, fresh_emulator.client_secret, token):
        assert secret not in pages
        assert secret not in caplog.text
        assert secret not in cookie_text(client)


def test_pages_carry_security_headers(client):
    response = client.get("/sources/redshift")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_settings_repr_hides_the_client_secret(settings):
    assert settings.client_secret not in repr(settings)


def test_a_secret_quoted_back_by_adobe_is_not_shown(client, fresh_emulator):
    echo = {"type": "https://ns.adobe.com/aep/errors/FLOW-1416-400", "title": "Invalid auth params", "status": 400,
            "report": {"detailed-message": f"Login failed for password {PASSWORD}", "request-id": "r1"},
            "errorMessage": f"bad PWD={PASSWORD}"}
    fresh_emulator.inject(Fault("POST", "/connections", status=400, body=echo))
    key, data = form_data("greenplum-fields", password=PASSWORD)
    page = client.post(f"/sources/{key}", data=data).get_data(as_text=True)
    assert "Login failed for password {PASSWORD}" in page
    assert PASSWORD not in page
