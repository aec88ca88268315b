"""Calling the portal's API in tests: tokens made the way a person makes them (on the API tokens page), and a client
whose every answer is checked against the portal's own OpenAPI document."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest

PASSWORD = "the portal password 42"
NEW_TOKEN = re.compile(r'id="new-token">([^<]+)<')


def make_token(
    client: FlaskClient, name: str = "script", role: str | None = None, sandboxes: str = "*", days: int = 30
) -> str:
    """A token made on the API tokens page by the person `client` is signed in as; without `role`, the highest the
    page offers them."""
    if role is None:
        offered = re.findall(
            r'<option[^>]*value="(viewer|creator|editor|admin)"', client.get("/tokens").get_data(as_text=True)
        )
        role = offered[-1]
    page = client.post("/tokens", data={"name": name, "role": role, "sandboxes": sandboxes, "days": str(days)})
    assert page.status_code == 201, page.get_data(as_text=True)[:2000]
    found = NEW_TOKEN.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def signed_in(app: Flask, name: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/sign-in", data={"username": name, "password": password, "next": "/"})
    assert answer.status_code == 303, answer.status_code
    return client


@functools.cache
def _document_of(text: str) -> OpenAPI:
    import json

    # Problem documents are JSON too (RFC 9457), read as such.
    config = Config(
        extra_media_type_deserializers={
            "application/problem+json": json.loads,
            # A configuration file, read as YAML.
            "application/yaml": yaml.safe_load,
        }
    )
    return OpenAPI.from_dict(json.loads(text), config=config)


class Api:
    """Calls with a bearer token (or none); every answer is checked against /api/openapi.json."""

    def __init__(self, app: Flask, token: str | None = None):
        self.client = app.test_client()
        self.token = token
        self.document = _document_of(self.client.get("/api/openapi.json").get_data(as_text=True))
        self.calls = 0

    def __call__(self, method: str, path: str, json: Any = None, headers: dict | None = None, **kwargs):
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        response = self.client.open(path, method=method, json=json, headers=sent, **kwargs)
        # The answer is checked against the operation the call was for (its body was read by the portal already).
        asked = MockRequest("http://localhost", method, urlsplit(path).path)
        self.document.validate_response(asked, WerkzeugOpenAPIResponse(response))
        assert "Set-Cookie" not in response.headers, "the API never sets a cookie"
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (response.status_code, response.mimetype)
        assert response.status_code < 500 or response.status_code in (502, 503, 504), response.get_data(as_text=True)
        self.calls += 1
        return response

    def get(self, path: str, **kwargs):
        return self("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self("POST", path, json=json, **kwargs)
