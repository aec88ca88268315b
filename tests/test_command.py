"""The command's own answers before it serves: a port already taken is named, with the setting that moves it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_busy_port_is_named_with_the_setting_that_moves_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
        env.update(WIZARD_DATA_DIR=str(tmp_path), WIZARD_PORT=str(port))
        answer = subprocess.run(
            [str(Path(sys.executable).with_name("aep-source-wizard"))],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert answer.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in answer.stderr and "WIZARD_PORT" in answer.stderr
