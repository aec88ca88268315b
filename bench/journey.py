"""The journey from a connection to a running dataflow: how many times each page waits on Adobe, one after another.

    .venv/bin/python bench/journey.py [--latency 0.3] [--rounds 3]

The wizard runs on its emulator with one PostgreSQL connection. A person walks a new dataflow from its table to its
review, the emulator answering every Platform call after --latency seconds, and each page of the way is loaded once to
fill the caches and --rounds times more; then the dataflow is created, and the pages that show it are loaded so too.

Prints a table: per page, the Platform calls per load, the median time, the waits (that time in units of the latency,
rounded) and the floor, the waits the page's data needs: reads that depend on each other one after another, reads that
do not side by side, what is safe to keep kept. Each page's docstring says why its floor is what it is.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "scripts"))

from harness import running_wizard_and_emulator

from tests.helpers.dataflows import Maker, Walk
from tests.helpers.forms import connection_body

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{24,32}")
# (page, its path with {connection}, {flow} and {draft} filled in, its floor)
PAGES = [
    ("explore: tables", "/connections/{connection}/explore?sandbox=prod", 1),
    ("explore: a table's columns", "/connections/{connection}/explore?sandbox=prod&table=public.customers", 1),
    ("dataflow step: dataset", "{draft}/dataset", 1),
    ("dataflow step: mapping", "{draft}/mapping", 0),
    ("dataflow step: schedule", "{draft}/schedule", 0),
    ("dataflow step: review", "{draft}/review", 0),
    # Once the dataflow is made (the first of these makes it):
    ("a dataflow's page", "/dataflows/{flow}?sandbox=prod", 2),
    ("connections list", "/connections?sandbox=prod", 1),
    ("a connection's page (with its dataflows)", "/connections/{connection}?sandbox=prod", 2),
]


def platform_calls(emulator, since: int) -> list[str]:
    """The Platform calls made since `since`, each as its method and path with ids written {id}."""
    return sorted(
        f"{r.method} {ID.sub('{id}', r.path.split('/data/foundation/', 1)[-1])}"
        for r in emulator.received[since:]
        if not r.path.startswith(("/_emulator", "/ims"))
    )


def measure(session: requests.Session, url: str, emulator, rounds: int) -> tuple[float, list[str]]:
    """(the median seconds of `rounds` loads after one that fills the caches, the calls of the last load)."""
    assert session.get(url, timeout=60).status_code == 200, url
    times, calls = [], []
    for _ in range(rounds):
        before = len(emulator.received)
        started = time.perf_counter()
        answer = session.get(url, timeout=60)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (url, answer.status_code)
        calls = platform_calls(emulator, before)
    return statistics.median(times), calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    env = {"AEP_SANDBOXES": "prod,dev", "WIZARD_DATA_DIR": tempfile.mkdtemp(prefix="journey-")}
    with running_wizard_and_emulator(env) as (base, emulator):
        maker = Maker(emulator, "prod")
        made = requests.post(
            f"{emulator.url}/data/foundation/flowservice/connections",
            headers=maker.headers,
            json=connection_body("Orders"),
            timeout=5,
        )
        made.raise_for_status()
        connection = made.json()["id"]
        walk = Walk(base, connection)
        walk.dataset(emulator)
        assert walk.mapping().status_code == 302
        assert walk.schedule().status_code == 302
        requests.post(f"{emulator.url}/_emulator/latency", json={"seconds": args.latency}, timeout=5).raise_for_status()
        print(
            f"Every Platform call answered after {args.latency * 1000:.0f} ms; median of {args.rounds} loads "
            "after one that fills the caches.\n"
        )
        print("| page | calls per load | median | waits | floor |")
        print("| --- | --- | --- | --- | --- |")
        total = floors = 0
        flow = ""
        for page, path, floor in PAGES:
            if "{flow}" in path and not flow:
                created = walk.send("create", {})
                assert created.status_code == 302, created.text
                flow = created.headers["Location"].split("/dataflows/", 1)[1].split("?")[0]
            url = path.format(connection=connection, flow=flow, draft=walk.url)
            url = url if url.startswith("http") else base + url
            median, calls = measure(walk.session, url, emulator, args.rounds)
            waits = round(median / args.latency)
            total, floors = total + waits, floors + floor
            print(f"| {page} | {len(calls)}: {', '.join(calls)} | {median * 1000:.0f} ms | {waits} | {floor} |")
        print(f"\nIn all {total} waits; the floors add up to {floors}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
