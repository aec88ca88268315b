"""The pristine form is rendered once per process: what it serves is byte for byte a fresh render, tokens aside."""

from __future__ import annotations

import re

import pytest
import requests

from app.sources import SOURCES
from app.web import wizard

TOKENS = [
    (re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+'), r"\1CSRF"),
    (re.compile(r'(name="submission_id" value=")[^"]+'), r"\1KEY"),
    (re.compile(r'(<meta name="request-id" content=")[^"]+'), r"\1RID"),
    (re.compile(r"Request id, to quote to whoever runs the portal: <code>[0-9a-f]+"), "RID"),
]


def tokens_aside(page: str) -> str:
    for pattern, stand_in in TOKENS:
        page = pattern.sub(stand_in, page)
    return page


def form_urls(emulator) -> list[str]:
    """Every form: the curated four, and each authSpec of every other database spec."""
    curated = {source.connection_spec_id for source in SOURCES.values()}
    urls = [f"/sources/{key}" for key in SOURCES]
    for spec_id, spec in emulator.specs.items():
        if spec_id not in curated and spec["attributes"]["category"] == "Database":
            urls += [f"/sources/spec/{spec_id}?auth={a['name']}" for a in spec["authSpec"]]
    return urls


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_a_cached_form_is_a_fresh_render_for_every_source(fresh_emulator, cloud):
    from app import create_app, services
    from tests.helpers.live import LiveServer, settings_for

    server = LiveServer(create_app(settings_for(fresh_emulator, cloud=cloud)))
    try:
        session = requests.Session()
        for url in form_urls(fresh_emulator):
            kept = services.of(server.app).rendered.setdefault("pristine_forms", {})
            kept.clear()
            fresh = session.get(server.url + url, timeout=10)
            assert len(kept) == 2, url  # the form and its page: the next GET comes from the cache
            cached = session.get(server.url + url, timeout=10)
            assert fresh.status_code == cached.status_code == 200, url
            assert tokens_aside(cached.text) == tokens_aside(fresh.text), url
            # The tokens of each page are its own: the cache never hands out another request's key.
            keys = [re.search(r'name="submission_id" value="([^"]+)"', p.text).group(1) for p in (fresh, cached)]
            assert keys[0] != keys[1], url
    finally:
        server.stop()


def test_error_states_are_rendered_fresh_and_keep_their_tokens(live_server, fresh_emulator):
    session = requests.Session()
    for url in form_urls(fresh_emulator):
        page = session.get(live_server.url + url, timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        key = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
        answers = [
            session.post(
                live_server.url + url, data={"csrf_token": token, "submission_id": key, "name": ""}, timeout=10
            )
            for _ in range(2)
        ]
        assert answers[0].status_code == answers[1].status_code == 400, url
        assert tokens_aside(answers[0].text) == tokens_aside(answers[1].text), url
        assert f'name="submission_id" value="{key}"' in answers[1].text  # the person's own key, not a cached one
        assert wizard._CSRF not in answers[1].text and wizard._KEY not in answers[1].text


def test_the_cached_page_names_whoever_is_signed_in_and_never_another(fresh_emulator, tmp_path):
    from app import create_app
    from app.accounts import add_user
    from tests.helpers.live import LiveServer, settings_for

    users = tmp_path / "users"
    for name in ("ada", "grace"):
        add_user(str(users), name, "a long portal password")
    server = LiveServer(create_app(settings_for(fresh_emulator, auth="accounts", users_file=str(users))))
    try:
        pages = {}
        for name in ("ada", "grace", "ada"):
            session = requests.Session()
            sign_in = session.get(server.url + "/sign-in", timeout=10).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', sign_in).group(1)
            session.post(
                server.url + "/sign-in",
                data={"csrf_token": token, "username": name, "password": "a long portal password", "next": "/"},
                timeout=10,
            )
            page = session.get(server.url + "/sources/redshift", timeout=10).text
            pages.setdefault(name, []).append(page)
            # The sign-out form in the header carries this session's own token, as the form does.
            tokens = set(re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page))
            assert len(tokens) == 1 and wizard._CSRF not in page
        assert "Signed in as <strong>ada</strong>" in pages["ada"][1] and "grace" not in pages["ada"][1]
        assert "Signed in as <strong>grace</strong>" in pages["grace"][0] and ">ada<" not in pages["grace"][0]
    finally:
        server.stop()


def test_a_pristine_form_page_shows_no_notice_warning_or_error(client, fresh_emulator):
    for url in form_urls(fresh_emulator):
        for _ in range(2):  # rendered, then from the cache
            page = client.get(url).get_data(as_text=True)
            for marker in ('id="split-notice"', 'id="namesakes"', 'id="adobe-error"', 'id="error-summary"', "Error: "):
                assert marker not in page, (url, marker)
