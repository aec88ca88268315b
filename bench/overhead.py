"""What the wizard adds on top of Flow Service itself, and how fast it serves a form.

    .venv/bin/python bench/overhead.py [--submissions 300] [--seconds 10] [--threads 8]

1. Submission overhead: the median and p99 of a full wizard submission (POST the
   form, get the 303) minus those of a direct `requests.post` of the same body to
   the same emulator, with a token in hand: the physical limit. Goal: <= 3 ms median.
2. Form pages per second from the wizard (GET /sources/redshift) against a
   minimal Flask app (bench/minimal_app.py) on the same gunicorn settings.
   Goal: >= 0.5x the minimal app.
3. IMS token fetches per 1,000 creations, read from the emulator. Goal: one per worker.

The emulator runs in its own process; the wizard runs as `aep-source-wizard` with
one worker, in real mode against it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import REPO, free_port, in_parallel, wait_for  # noqa: E402

BODY = {"name": "", "description": "", "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff",
                                                         "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {
            "server": "rs.example.com", "port": "5439", "database": "dev", "username": "etl", "password": "pw"}}}
FORM = {"description": "", "sandbox": "prod", "duplicate_ok": "1", "server": "rs.example.com", "port": "5439",
        "database": "dev", "username": "etl", "password": "pw"}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def pages_per_second(url: str, seconds: float, threads: int) -> float:
    count, lock, until = [0], threading.Lock(), time.monotonic() + seconds

    def hammer():
        session = requests.Session()
        done = 0
        while time.monotonic() < until:
            if session.get(url, timeout=30).status_code == 200:
                done += 1
        with lock:
            count[0] += done

    in_parallel([hammer] * threads)
    return count[0] / seconds


def gunicorn_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env.update(extra)
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    secret = "overhead-secret"
    emulator = subprocess.Popen([sys.executable, "-m", "app.emulator", "--client-secret", secret], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)
    emulator_url, client_id, org_id = emulator.stdout.readline().split()
    port, minimal_port = free_port(), free_port()
    wizard = subprocess.Popen([sys.executable, "-m", "app.cli"], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=gunicorn_env(
        AEP_CLIENT_ID=client_id, AEP_CLIENT_SECRET=secret, AEP_ORG_ID=org_id, AEP_PLATFORM_URL=emulator_url,
        AEP_IMS_URL=emulator_url, WIZARD_AUTH="none", WIZARD_SECRET_KEY="overhead", WIZARD_PORT=str(port),
        WIZARD_DATA_DIR=tempfile.mkdtemp(prefix="wizard-overhead-"), WEB_CONCURRENCY="1"))
    minimal = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
                                "--bind", f"127.0.0.1:{minimal_port}", "--chdir", str(REPO / "bench"),
                                "minimal_app:app"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=gunicorn_env(WEB_CONCURRENCY="1"))
    base, minimal_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{minimal_port}/"
    try:
        wait_for(base + "/healthz")
        wait_for(minimal_url)
        stats_before = requests.get(emulator_url + "/_emulator/stats", timeout=5).json()
        # 1. Through the wizard.
        session = requests.Session()
        through = []
        for n in range(args.submissions):
            page = session.get(base + "/sources/redshift", timeout=30).text
            data = {**FORM, "name": f"Overhead {n}",
                    "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
                    "submission_id": re.search(r'name="submission_id" value="([^"]+)"', page).group(1)}
            started = time.perf_counter()
            answer = session.post(base + "/sources/redshift", data=data, allow_redirects=False, timeout=30)
            through.append(time.perf_counter() - started)
            assert answer.status_code == 303, answer.status_code
        # ... and straight to the emulator, token in hand.
        token = requests.post(emulator_url + "/ims/token/v3", timeout=10, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "scope": "openid"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "x-api-key": client_id, "x-gw-ims-org-id": org_id,
                   "x-sandbox-name": "prod", "Content-Type": "application/json"}
        direct_session, direct = requests.Session(), []
        for n in range(args.submissions):
            started = time.perf_counter()
            answer = direct_session.post(emulator_url + "/data/foundation/flowservice/connections", headers=headers,
                                         json={**BODY, "name": f"Direct {n}"}, timeout=30)
            direct.append(time.perf_counter() - started)
            assert answer.status_code == 201
        stats = requests.get(emulator_url + "/_emulator/stats", timeout=5).json()
        # 2. Pages per second.
        wizard_rps = pages_per_second(base + "/sources/redshift", args.seconds, args.threads)
        minimal_rps = pages_per_second(minimal_url, args.seconds, args.threads)
    finally:
        for process in (wizard, minimal, emulator):
            process.terminate()
            process.wait(15)
    fetches = stats["token_fetches"] - stats_before["token_fetches"] - 1  # less the bench's own token
    result = {
        "submissions": args.submissions,
        "wizard_submit_ms": {"median": round(statistics.median(through) * 1000, 2),
                             "p99": round(percentile(through, 0.99) * 1000, 2)},
        "direct_post_ms": {"median": round(statistics.median(direct) * 1000, 2),
                           "p99": round(percentile(direct, 0.99) * 1000, 2)},
        "overhead_ms": {"median": round((statistics.median(through) - statistics.median(direct)) * 1000, 2),
                        "p99": round((percentile(through, 0.99) - percentile(direct, 0.99)) * 1000, 2)},
        "form_pages_per_s": round(wizard_rps, 1), "minimal_app_pages_per_s": round(minimal_rps, 1),
        "throughput_ratio": round(wizard_rps / minimal_rps, 2),
        "ims_fetches_per_1000_creations": round(fetches * 1000 / args.submissions, 2),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
