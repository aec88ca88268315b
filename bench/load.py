"""N simulated people create connections for T seconds through gunicorn against the emulator.

    .venv/bin/python bench/load.py --users 20 --seconds 30 --workers 2

The emulator runs in a process of its own; the wizard runs as `aep-source-wizard`
(gunicorn, WEB_CONCURRENCY workers) in real mode pointed at it, with a fresh
SQLite store. Each person opens the form and submits it; one submission in five
is sent a second time at once, as a double click does. Prints throughput,
p50/p99 latency of a submission, errors, duplicates (names Flow Service holds
more than once), and connections created versus submissions the store recorded.
Exits 1 when there were errors or duplicates, or created != recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
FORM = {"description": "load", "sandbox": "prod", "duplicate_ok": "1", "server": "rs.example.com", "port": "5439",
        "database": "dev", "username": "etl", "password": "load-test-pw"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def in_parallel(calls) -> None:
    """Run each call on a thread of its own and wait for all of them."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def person(base: str, number: int, until: float, latencies: list, errors: list, lock: threading.Lock) -> None:
    session = requests.Session()
    iteration = 0
    while time.monotonic() < until:
        iteration += 1
        try:
            page = session.get(f"{base}/sources/redshift", timeout=30).text
            data = {**FORM, "name": f"Load {number}-{iteration}",
                    "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
                    "submission_id": re.search(r'name="submission_id" value="([^"]+)"', page).group(1)}
            started = time.perf_counter()
            sends = 2 if random.random() < 0.2 else 1
            answers = []
            in_parallel([lambda: answers.append(
                session.post(f"{base}/sources/redshift", data=data, allow_redirects=False, timeout=60))] * sends)
            elapsed = time.perf_counter() - started
            bad = [a.status_code for a in answers if a.status_code != 303]
            with lock:
                latencies.append(elapsed)
                if bad or len({a.headers.get("Location") for a in answers}) != 1:
                    errors.append(f"{data['name']}: {bad or 'different results'}")
        except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
            with lock:
                errors.append(f"person {number}: {type(error).__name__}: {error}")


def connections_in(emulator_url: str, client_id: str, org_id: str, secret: str) -> list[dict]:
    token = requests.post(f"{emulator_url}/ims/token/v3", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "openid"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-api-key": client_id, "x-gw-ims-org-id": org_id,
               "x-sandbox-name": "prod"}
    items, token_param = [], None
    while True:
        params = {"limit": "100", **({"continuationToken": token_param} if token_param else {})}
        body = requests.get(f"{emulator_url}/data/foundation/flowservice/connections", headers=headers,
                            params=params, timeout=30).json()
        items += body["items"]
        href = body.get("_links", {}).get("next", {}).get("href")
        if not href:
            return items
        token_param = re.search(r"continuationToken=([^&]+)", href).group(1)


def run(users: int, seconds: float, workers: int) -> dict:
    secret = "load-bench-secret"
    emulator = subprocess.Popen([sys.executable, "-m", "app.emulator", "--client-secret", secret], cwd=REPO,
                                stdout=subprocess.PIPE, text=True)
    emulator_url, client_id, org_id = emulator.stdout.readline().split()
    data_dir = tempfile.mkdtemp(prefix="wizard-load-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env.update(AEP_CLIENT_ID=client_id, AEP_CLIENT_SECRET=secret, AEP_ORG_ID=org_id, AEP_PLATFORM_URL=emulator_url,
               AEP_IMS_URL=emulator_url, WIZARD_AUTH="none", WIZARD_SECRET_KEY="load-bench", WIZARD_PORT=str(port),
               WIZARD_DATA_DIR=data_dir, WEB_CONCURRENCY=str(workers))
    wizard = subprocess.Popen([sys.executable, "-m", "app.cli"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz")
        latencies, errors, lock = [], [], threading.Lock()
        started = time.monotonic()
        in_parallel([lambda n=n: person(base, n, started + seconds, latencies, errors, lock) for n in range(users)])
        elapsed = time.monotonic() - started
        created = connections_in(emulator_url, client_id, org_id, secret)
        names = [c["name"] for c in created]
        engine = create_engine(f"sqlite:///{data_dir}/wizard.sqlite3")
        with engine.connect() as db:
            recorded = db.execute(text("SELECT COUNT(*) FROM submissions WHERE state = 'done'")).scalar()
            audited = db.execute(text("SELECT COUNT(*) FROM audit WHERE action = 'create' AND outcome = 'ok'")).scalar()
    finally:
        wizard.terminate()
        emulator.terminate()
        wizard.wait(15)
        emulator.wait(15)
    ordered = sorted(latencies)
    return {
        "users": users, "seconds": round(elapsed, 1), "workers": workers,
        "submissions": len(latencies),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1) if ordered else None,
        "errors": len(errors), "first_errors": errors[:5],
        "duplicates": len(names) - len(set(names)),
        "created": len(created), "recorded": recorded, "audited": audited,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    result = run(args.users, args.seconds, args.workers)
    print(json.dumps(result, indent=2))
    ok = not result["errors"] and not result["duplicates"] and result["created"] == result["recorded"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
