"""The portal as it is served (`aep-source-wizard`, gunicorn): slow clients cannot starve it, guesses cannot race."""

from __future__ import annotations

import concurrent.futures
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from app.accounts import add_user
from app.web.auth import FREE_FAILURES

from .helpers.markup import csrf_token
from .helpers.servers import REPO, serve, wait_until_up

SLOW_CLIENTS = 64


def emulator_env(emulator, **extra) -> dict:
    return dict(
        AEP_CLIENT_ID=emulator.client_id,
        AEP_CLIENT_SECRET=emulator.client_secret,
        AEP_ORG_ID=emulator.org_id,
        AEP_PLATFORM_URL=emulator.url,
        AEP_IMS_URL=emulator.url,
        WIZARD_SECRET_KEY="serving-test-key",
        **extra,
    )


def trickle(url: str, stop: threading.Event, opened: list) -> None:
    """A slow client: a request line, then one header line a second, never the blank line that ends it."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    opened.append(sock)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    n = 0
    while not stop.wait(1.0):
        try:
            sock.sendall(f"X-Slow-{n}: a\r\n".encode())
        except OSError:
            return
        n += 1


@pytest.mark.slow
def test_slow_clients_cannot_starve_the_portal(fresh_emulator, tmp_path):
    url, process = serve(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        WIZARD_AUTH="none",
        WEB_CONCURRENCY="2",
        WIZARD_DATA_DIR=str(tmp_path),
        **emulator_env(fresh_emulator),
    )
    stop, opened = threading.Event(), []
    try:
        wait_until_up(url, process)
        slow = [threading.Thread(target=trickle, args=(url, stop, opened), daemon=True) for _ in range(SLOW_CLIENTS)]
        for thread in slow:
            thread.start()
        time.sleep(2.0)  # every slow client is connected and trickling
        assert len(opened) == SLOW_CLIENTS
        timings = []
        for path in ("/healthz", "/", "/sources/redshift", "/connections") * 2:
            started = time.monotonic()
            assert requests.get(url + path, timeout=10).status_code == 200
            timings.append(time.monotonic() - started)
        print(f"\nwith {SLOW_CLIENTS} slow clients: slowest of {len(timings)} pages {max(timings) * 1000:.0f} ms")
        assert max(timings) < 2.0, timings
    finally:
        stop.set()
        for sock in opened:
            sock.close()
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.slow
def test_rapid_guesses_on_several_workers_are_throttled_together(fresh_emulator, tmp_path):
    users = tmp_path / "users"
    add_user(str(users), "ada", "the right password 1")
    url, process = serve(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        WEB_CONCURRENCY="4",
        WIZARD_USERS_FILE=str(users),
        WIZARD_DATA_DIR=str(tmp_path),
        **emulator_env(fresh_emulator),
    )
    try:
        wait_until_up(url, process)

        def guess(_n):
            session = requests.Session()
            page = session.get(url + "/sign-in", timeout=30).text
            return session.post(
                url + "/sign-in",
                timeout=30,
                allow_redirects=False,
                data={"csrf_token": csrf_token(page), "username": "ada", "password": "a wrong guess", "next": "/"},
            )

        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            statuses = [response.status_code for response in pool.map(guess, range(40))]
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    checked = statuses.count(401)
    print(f"\n40 guesses at once on 4 workers: {checked} reached the password check, {statuses.count(429)} waited")
    assert checked <= FREE_FAILURES + 1 and statuses.count(429) == 40 - checked
    assert len({line.split("pid: ")[1].split('"')[0] for line in output.splitlines() if "Booting worker" in line}) == 4


def test_the_master_leaves_ssl_clients_to_the_patched_workers():
    """gevent patches each worker; requests or urllib3 imported before that break HTTPS (a RecursionError)."""
    import subprocess

    script = (
        "import sys; import app.cli as cli; from app.config import Settings; cli.gunicorn_options(); "
        "settings, emulator = cli.with_emulator(Settings.from_env({})); "
        "print(sorted(m for m in ('requests', 'urllib3', 'sqlalchemy') if m in sys.modules)); emulator.stop()"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    from app import gunicorn_conf

    assert gunicorn_conf.worker_class == "gevent"


def test_the_script_is_served_compacted_and_whole():
    from app.static_files import compact_js

    assert compact_js(b"// note\n  var a = 1; // kept\n\n    f(a);\n") == b"var a = 1; // kept\nf(a);\n"
    from pathlib import Path

    source = (Path(__file__).resolve().parents[1] / "static" / "wizard.js").read_bytes()
    served = compact_js(source)
    code = [line.strip() for line in source.decode().splitlines() if line.strip() and not line.strip().startswith("//")]
    assert served.decode().splitlines() == code and len(served) < 0.85 * len(source)
