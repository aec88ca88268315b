"""The wizard as a real process for the tests: gunicorn through `aep-source-wizard`, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from .live import scratch_dir

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any AEP_ or WIZARD_ setting, a scratch data dir (and temporary folder), then
    `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env["WIZARD_DATA_DIR"] = scratch_dir("wizard-cli-")
    env["TMPDIR"] = scratch_dir("tmp-")
    env.update(extra)
    return env


def wait_until_up(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    """Wait for `url`'s /healthz to answer 200; fail with the process's output if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else process.returncode
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up in {seconds} s")


def serve(command: Sequence[str], cwd: str | Path, **env: str) -> tuple[str, subprocess.Popen[str]]:
    """Start `command` with WIZARD_PORT set to a free port; its URL and the process (output piped, as text)."""
    port = free_port()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=clean_env(WIZARD_PORT=str(port), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return f"http://127.0.0.1:{port}", process
