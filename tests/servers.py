"""The wizard as a real process for the tests: gunicorn through `aep-source-wizard`, on a free loopback port."""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env["WIZARD_DATA_DIR"] = tempfile.mkdtemp(prefix="wizard-cli-")
    env.update(extra)
    return env


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up in {seconds} s")


def serve(command: list[str], cwd, **env):
    port = free_port()
    process = subprocess.Popen(command, cwd=cwd, env=clean_env(WIZARD_PORT=str(port), **env),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return f"http://127.0.0.1:{port}", process
