"""Config as code over a sandbox of many connections: how long export, plan and apply take, and the calls they make.

    .venv/bin/python bench/config_plan.py [--connections 20] [--latency 0.1]

The wizard runs in-process on its emulator (no sign-in, so the API needs no token). Each connection (PostgreSQL,
basic authentication) is made in prod with one dataflow through the API. Then the emulator answers every Platform
call after --latency seconds, and prod is exported, the file planned against dev, applied to dev, and planned again
(nothing to do). Prints, for each, the Platform calls made, the time, and that time in units of the latency: the waits
on Adobe one after another (reads that depend on nothing but the sandbox go side by side).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.cli import with_emulator  # noqa: E402
from app.config import Settings  # noqa: E402
from tests.helpers.dataflows import FIRST_RUN  # noqa: E402

FIELDS = {
    "method": "basic",
    "server": "db.example.com",
    "port": 5432,
    "database": "orders",
    "username": "etl",
    "password": "bench-Secret-9",
    "sslMode": "Verify Full",
}


def timed(name: str, emulator, latency: float, call) -> object:
    before = len(emulator.received)
    started = time.perf_counter()
    answer = call()
    took = time.perf_counter() - started
    calls = Counter(f"{r.method} {r.path.rsplit('/', 1)[-1][:20]}" for r in list(emulator.received)[before:])
    waits = f" ({took / latency:.1f} × the latency)" if latency else ""
    print(f"{name}: {sum(calls.values())} Platform calls, {took * 1000:.0f} ms{waits}")
    print("    " + ", ".join(f"{n} × {what}" for what, n in calls.most_common(6)))
    return answer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    settings, emulator = with_emulator(
        Settings.from_env({"AEP_SANDBOXES": "prod,dev", "WIZARD_DATA_DIR": tempfile.mkdtemp(prefix="config-bench-")})
    )
    app = create_app(settings)
    client = app.test_client()
    dataset = next(
        d["id"] for d in emulator.datasets.values() if (d["sandboxName"], d["name"]) == ("prod", "Web orders")
    )
    try:
        for n in range(args.connections):
            body = {"source": "postgresql", "sandbox": "prod", "name": f"Orders {n:03d}", "fields": FIELDS}
            made = client.post("/api/v1/connections", json=body)
            assert made.status_code == 201, made.get_json()
            flow = {
                "sandbox": "prod",
                "connection_id": made.get_json()["id"],
                "table": "public.orders",
                "dataset_id": dataset,
                "schedule": {"name": f"Orders {n:03d} hourly", "start": FIRST_RUN, "timezone": "UTC"},
            }
            answer = client.post("/api/v1/dataflows", json=flow)
            assert answer.status_code == 201, answer.get_json()
        requests.post(f"{emulator.url}/_emulator/latency", json={"seconds": args.latency}, timeout=5).raise_for_status()
        print(
            f"{args.connections} connections with a dataflow each; every Platform call answered after "
            f"{args.latency * 1000:.0f} ms"
        )
        text = timed("export prod", emulator, args.latency, lambda: client.get("/api/v1/config?sandbox=prod")).text
        secrets = {f"Orders {n:03d}": {"password": FIELDS["password"]} for n in range(args.connections)}
        body = {"sandbox": "dev", "file": text, "secrets": secrets}
        planned = timed(
            "plan against an empty dev", emulator, args.latency, lambda: client.post("/api/v1/config/plan", json=body)
        )
        print(f"    {planned.get_json()['summary']}")
        applied = timed("apply to dev", emulator, args.latency, lambda: client.post("/api/v1/config/apply", json=body))
        assert applied.get_json()["complete"], applied.get_json()
        again = timed(
            "plan again (no change)", emulator, args.latency, lambda: client.post("/api/v1/config/plan", json=body)
        )
        assert {c["action"] for c in again.get_json()["changes"]} <= {"none", "left"}
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
