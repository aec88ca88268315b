"""N simulated people create connections for T seconds through gunicorn against the emulator.

    .venv/bin/python bench/load.py --users 20 --seconds 30 --workers 2
    .venv/bin/python bench/load.py --users 30 --seconds 60 --workers 2 --replicas 2 \
        --database-url postgresql://user:pw@127.0.0.1:5432/db --restart-at 15 --outage-at 30 --outage-seconds 15

With --database-url, the portals share that PostgreSQL through a TCP proxy on loopback (tests/tcp_proxy.py), which
the bench cuts at --restart-at (every open connection dropped, as a restart or failover drops them) and takes down
for --outage-seconds at --outage-at (the database unreachable). The answers are then counted per phase (before, the
restart, the outage, after), and at the end the connections Flow Service holds, the submissions recorded, the
creations audited and the duplicates, once every creation made during the outage has been recorded. BENCH_LOG=path
keeps the portals' logs there.

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
sys.path.insert(0, str(REPO))
from tests.tcp_proxy import TcpProxy  # noqa: E402 - the repository's root is on the path only from here

FORM = {
    "description": "load",
    "sandbox": "prod",
    "duplicate_ok": "1",
    "server": "rs.example.com",
    "port": "5439",
    "database": "dev",
    "username": "etl",
    "password": "load-test-pw",
}


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


class Phases:
    """Which phase of a fault run a moment falls in, and the answers counted in each."""

    def __init__(self, started: float, restart_at: float | None, outage_at: float | None, outage_seconds: float):
        self.started, self.restart_at, self.outage_at, self.outage_seconds = (
            started,
            restart_at,
            outage_at,
            outage_seconds,
        )
        self.counts: dict[str, dict[str, int]] = {}

    def of(self, moment: float) -> str:
        at = moment - self.started
        if self.outage_at is not None and self.outage_at <= at < self.outage_at + self.outage_seconds:
            return "outage"
        if self.restart_at is not None and self.restart_at <= at < self.restart_at + 2:
            return "restart"
        marks = [m for m in (self.restart_at, self.outage_at) if m is not None]
        return "before" if not marks or at < min(marks) else "after"

    def count(self, moment: float, status: str) -> None:
        phase = self.counts.setdefault(self.of(moment), {})
        phase[status] = phase.get(status, 0) + 1


# A submission's answers that are not errors: created (303), created and to be recorded (202), and the store away
# (503: nothing was sent to Adobe).
FINE = {303, 202, 503}
# The portals' logs, when BENCH_LOG names a file.
LOG = open(os.environ["BENCH_LOG"], "w") if os.environ.get("BENCH_LOG") else subprocess.DEVNULL  # noqa: SIM115


def person(
    base: str, number: int, until: float, latencies: list, errors: list, lock: threading.Lock, phases: Phases
) -> None:
    session = requests.Session()
    iteration = 0
    while time.monotonic() < until:
        iteration += 1
        try:
            page = session.get(f"{base}/sources/redshift", timeout=30).text
            data = {
                **FORM,
                "name": f"Load {number}-{iteration}",
                "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
                "submission_id": re.search(r'name="submission_id" value="([^"]+)"', page).group(1),
            }
            started = time.perf_counter()
            moment = time.monotonic()
            sends = 2 if random.random() < 0.2 else 1
            answers: list = []

            def send(answers=answers, data=data, moment=moment):
                try:
                    answers.append(
                        session.post(f"{base}/sources/redshift", data=data, allow_redirects=False, timeout=60)
                    )
                except requests.RequestException as error:
                    with lock:
                        phases.count(moment, type(error).__name__)
                        errors.append(f"{data['name']}: {type(error).__name__}")

            in_parallel([send] * sends)
            elapsed = time.perf_counter() - started
            bad = [a.status_code for a in answers if a.status_code not in FINE]
            with lock:
                for answer in answers:
                    phases.count(moment, str(answer.status_code))
                if all(a.status_code == 303 for a in answers):
                    latencies.append(elapsed)
                if bad or len({a.headers.get("Location") for a in answers if a.status_code == 303}) > 1:
                    errors.append(f"{data['name']}: {bad or 'different results'}")
            if any(a.status_code == 503 for a in answers):
                time.sleep(0.5)  # as a person would wait before trying again
        except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
            with lock:
                phases.count(time.monotonic(), type(error).__name__)
                errors.append(f"person {number}: {type(error).__name__}: {error}")


def connections_in(emulator_url: str, client_id: str, org_id: str, secret: str) -> list[dict]:
    token = requests.post(
        f"{emulator_url}/ims/token/v3",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "openid"},
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": client_id,
        "x-gw-ims-org-id": org_id,
        "x-sandbox-name": "prod",
    }
    items, token_param = [], None
    while True:
        params = {"limit": "100", **({"continuationToken": token_param} if token_param else {})}
        body = requests.get(
            f"{emulator_url}/data/foundation/flowservice/connections", headers=headers, params=params, timeout=30
        ).json()
        items += body["items"]
        href = body.get("_links", {}).get("next", {}).get("href")
        if not href:
            return items
        token_param = re.search(r"continuationToken=([^&]+)", href).group(1)


def run(
    users: int,
    seconds: float,
    workers: int,
    replicas: int = 1,
    database_url: str | None = None,
    restart_at: float | None = None,
    outage_at: float | None = None,
    outage_seconds: float = 15.0,
) -> dict:
    secret = "load-bench-secret"
    emulator = subprocess.Popen(
        [sys.executable, "-m", "app.emulator", "--client-secret", secret], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    emulator_url, client_id, org_id = emulator.stdout.readline().split()
    data_dir = tempfile.mkdtemp(prefix="wizard-load-")
    proxy, store_url = None, f"sqlite:///{data_dir}/wizard.sqlite3"
    if database_url:
        host_port = re.search(r"@([^/]+)/", database_url).group(1)
        host, _, port_text = host_port.partition(":")
        proxy = TcpProxy(host, int(port_text or 5432))
        store_url = database_url.replace(host_port, f"127.0.0.1:{proxy.port}", 1)
        _empty(store_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env.update(
        AEP_CLIENT_ID=client_id,
        AEP_CLIENT_SECRET=secret,
        AEP_ORG_ID=org_id,
        AEP_PLATFORM_URL=emulator_url,
        AEP_IMS_URL=emulator_url,
        WIZARD_AUTH="none",
        WIZARD_SECRET_KEY="load-bench",
        WIZARD_DATA_DIR=data_dir,
        WEB_CONCURRENCY=str(workers),
        **({"WIZARD_DATABASE_URL": store_url} if database_url else {}),
    )
    portals, bases = [], []
    for _ in range(replicas):
        port = free_port()
        portals.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.cli"],
                cwd=REPO,
                env={**env, "WIZARD_PORT": str(port)},
                stdout=LOG,
                stderr=subprocess.STDOUT,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            wait_for(base + "/healthz")
        latencies, errors, lock = [], [], threading.Lock()
        started = time.monotonic()
        phases = Phases(started, restart_at, outage_at, outage_seconds)
        faults = []
        if proxy and restart_at is not None:
            faults.append(threading.Timer(restart_at, proxy.cut))
        if proxy and outage_at is not None:
            faults += [threading.Timer(outage_at, proxy.down), threading.Timer(outage_at + outage_seconds, proxy.up)]
        for fault in faults:
            fault.start()
        in_parallel(
            [
                lambda n=n: person(bases[n % len(bases)], n, started + seconds, latencies, errors, lock, phases)
                for n in range(users)
            ]
        )
        elapsed = time.monotonic() - started
        for fault in faults:
            fault.join()
        created = connections_in(emulator_url, client_id, org_id, secret)
        names = [c["name"] for c in created]
        recorded, audited = _recorded(store_url, len(created))
    finally:
        for portal in portals:
            portal.terminate()
        emulator.terminate()
        for portal in portals:
            portal.wait(90)
        emulator.wait(15)
        if proxy:
            proxy.down()
    ordered = sorted(latencies)
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "workers": workers,
        "replicas": replicas,
        "store": "postgresql" if database_url else "sqlite",
        "submissions": len(latencies),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1) if ordered else None,
        "answers_by_phase": phases.counts,
        "errors": len(errors),
        "first_errors": errors[:5],
        "duplicates": len(names) - len(set(names)),
        "created": len(created),
        "recorded": recorded,
        "audited": audited,
    }


def _empty(url: str) -> None:
    """A PostgreSQL schema with none of the portal's tables (each run starts clean)."""
    engine = create_engine(url)
    with engine.begin() as db:
        for table in (
            "audit",
            "submissions",
            "sessions",
            "sign_in_failures",
            "cleanups",
            "dataflow_drafts",
            "run_retries",
            "leases",
            "alembic_version",
            "schema_version",
        ):
            db.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def _recorded(url: str, created: int, wait: float = 30.0) -> tuple[int, int]:
    """(submissions recorded, creations audited), once they have caught up with what Adobe made (late records are
    written as soon as the store answers), or after `wait` seconds."""
    engine = create_engine(url)
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as db:
            recorded = db.execute(text("SELECT COUNT(*) FROM submissions WHERE state = 'done'")).scalar()
            audited = db.execute(text("SELECT COUNT(*) FROM audit WHERE action = 'create' AND outcome = 'ok'")).scalar()
        if (recorded >= created and audited >= created) or time.monotonic() > deadline:
            engine.dispose()
            return recorded, audited
        time.sleep(0.5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=1, help="portals (each with its workers) over one store")
    parser.add_argument("--database-url", help="a PostgreSQL to share, reached through a proxy the bench can fault")
    parser.add_argument("--restart-at", type=float, help="second at which every database connection is dropped")
    parser.add_argument("--outage-at", type=float, help="second at which the database becomes unreachable")
    parser.add_argument("--outage-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    result = run(
        args.users,
        args.seconds,
        args.workers,
        args.replicas,
        args.database_url,
        args.restart_at,
        args.outage_at,
        args.outage_seconds,
    )
    print(json.dumps(result, indent=2))
    ok = not result["errors"] and not result["duplicates"] and result["created"] == result["recorded"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
