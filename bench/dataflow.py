"""Time "Create dataflow" on the review page to the dataflow's page, with every Adobe call answered after 300 ms.

    .venv/bin/python bench/dataflow.py [--latency 0.3] [--rounds 5]

Walks a draft to its review page over HTTP (a table of a new connection, the first dataset, the suggested
mapping, an hourly schedule), then sets the emulator's latency and times the POST that creates the chain and the
dataflow page it leads to. Prints, per round, the seconds taken, the Adobe calls made and how many waits of one
latency they add up to (the sequential calls); the dependency chain needs four: the three independent creates
side by side, the flow, the flow's read, then its source, target and runs side by side.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from harness import running_wizard_and_emulator


def token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def ready_draft(url: str, emulator, n: int) -> tuple[requests.Session, str]:
    """A draft at its review page: (the session, the draft's URL)."""
    session = requests.Session()
    form = session.get(f"{url}/sources/redshift", timeout=10).text
    fields = {
        "csrf_token": token(form),
        "submission_id": re.search(r'name="submission_id" value="([^"]+)"', form).group(1),
        "name": f"Bench {n}",
        "sandbox": "prod",
        "server": "rs.example.com",
        "port": "5439",
        "database": "dev",
        "username": "u",
        "password": "p",
        "duplicate_ok": "1",
    }
    created = session.post(f"{url}/sources/redshift", data=fields, allow_redirects=False, timeout=10)
    connection_id = re.search(r"/connections/([0-9a-f-]{36})", created.headers["Location"]).group(1)
    explore = session.get(
        f"{url}/connections/{connection_id}/explore?sandbox=prod&table=public.customers", timeout=10
    ).text
    started = session.post(
        f"{url}/connections/{connection_id}/dataflows/new?sandbox=prod",
        data={"csrf_token": token(explore), "table": "public.customers"},
        allow_redirects=False,
        timeout=10,
    )
    draft = url + started.headers["Location"].rsplit("/", 1)[0]
    dataset = next(d["id"] for d in emulator.datasets.values() if d["sandboxName"] == "prod")
    page = session.get(f"{draft}/dataset", timeout=10).text
    session.post(f"{draft}/dataset", data={"csrf_token": token(page), "dataset": dataset}, timeout=10)
    page = session.get(f"{draft}/mapping", timeout=10).text
    chosen = {name: value for name, value in re.findall(r'<input [^>]*name="(column_\d+)"[^>]*value="([^"]*)"', page)}
    session.post(f"{draft}/mapping", data={"csrf_token": token(page), **chosen}, timeout=10)
    page = session.get(f"{draft}/schedule", timeout=10).text
    session.post(
        f"{draft}/schedule",
        data={
            "csrf_token": token(page),
            "name": f"Bench {n}",
            "frequency": "hour",
            "interval": "1",
            "start": "2030-01-01T09:30",
            "timezone": "UTC",
            "backfill": "y",
            "delta_column": "created_at",
        },
        timeout=10,
    )
    assert session.get(f"{draft}/review", timeout=10).status_code == 200  # reads (and keeps) the flow spec
    return session, draft


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with running_wizard_and_emulator() as (url, emulator):
        times, waits = [], []
        print(f"latency per Adobe call: {args.latency * 1000:.0f} ms")
        print(f"{'round':>5} {'seconds':>8} {'calls':>6} {'waits':>6}  calls, in the order they arrived")
        for n in range(args.rounds):
            session, draft = ready_draft(url, emulator, n)
            page = session.get(f"{draft}/review", timeout=10).text
            emulator.latency = args.latency
            before = len(emulator.received)
            started = time.perf_counter()
            answer = session.post(f"{draft}/create", data={"csrf_token": token(page)}, timeout=60)
            elapsed = time.perf_counter() - started
            emulator.latency = 0.0
            assert answer.status_code == 200 and "/dataflows/" in answer.url, answer.status_code
            calls = [
                f"{r.method} {r.path.rsplit('/foundation/', 1)[-1]}"
                for r in emulator.received[before:]
                if "/foundation/" in r.path
            ]
            times.append(elapsed)
            waits.append(round(elapsed / args.latency))
            shown = ", ".join(re.sub(r"/[0-9a-f-]{32,36}", "/{id}", c) for c in calls)
            print(f"{n + 1:>5} {elapsed:>8.2f} {len(calls):>6} {waits[-1]:>6}  {shown}")
        print(
            f"median {statistics.median(times):.2f} s from create to the dataflow's page; "
            f"{statistics.median(waits):.0f} sequential waits of {args.latency * 1000:.0f} ms "
            f"(the dependency chain needs 4)"
        )


if __name__ == "__main__":
    main()
