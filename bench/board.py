"""The dataflows page (`GET /dataflows`) over many dataflows: the Adobe calls it makes and how long it takes.

    .venv/bin/python bench/board.py [--flows 200] [--sandboxes prod,dev,stage] [--latency 0.3] [--rounds 3]

The wizard runs on its emulator with the flows made across the sandboxes (a fifth failing, a tenth partly ingested),
the watcher's store empty (the page reads the last day's runs itself) or filled (after one watcher round, it reads
only what is newer). Then the emulator answers every Platform call after --latency seconds, and the page is loaded
--rounds times after one load that fills the caches. Prints, per case, the calls per load (by path and sandbox), the
median time, and that time in units of the latency: the waits on Adobe one after another. The floor is one wait:
every sandbox's two listings side by side.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from werkzeug.serving import make_server

from app import create_app, services
from app.cli import with_emulator
from app.config import Settings
from app.watch.watcher import Watcher
from tests.helpers.dataflows import FLOW, Maker

PG_SPEC = "74a1c565-4e59-48d7-9d67-7c03b8a13137"


def base_connection(maker: Maker) -> str:
    answer = requests.post(
        f"{maker.emulator.url}{FLOW}/connections",
        headers=maker.headers,
        timeout=5,
        json={
            "name": "crm",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=db;Database=crm;Port=5432;UID=app;Password=pw"},
            },
            "connectionSpec": {"id": PG_SPEC, "version": "1.0"},
        },
    )
    answer.raise_for_status()
    return answer.json()["id"]


def make_flows(emulator, sandboxes: list[str], count: int) -> None:
    makers = {sandbox: Maker(emulator, sandbox) for sandbox in sandboxes}
    bases = {sandbox: base_connection(maker) for sandbox, maker in makers.items()}
    for n in range(count):
        sandbox = sandboxes[n % len(sandboxes)]
        outcomes = ["failed"] if n % 5 == 0 else ["partial"] if n % 10 == 1 else []
        makers[sandbox].due_flow(bases[sandbox], outcomes, name=f"Table {n:03d} every 15 minutes")


def loads(url: str, emulator, rounds: int) -> tuple[list[float], Counter]:
    session = requests.Session()
    assert session.get(url + "/dataflows", timeout=120).status_code == 200  # caches filled
    times, calls = [], Counter()
    for _ in range(rounds):
        before = len(emulator.received)
        started = time.perf_counter()
        answer = session.get(url + "/dataflows", timeout=120)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.status_code
        calls = Counter(
            f"GET {r.path.rsplit('/', 1)[-1]} ({r.headers.get('X-Sandbox-Name', '-')})"
            for r in emulator.received[before:]
            if not r.path.startswith(("/_emulator", "/ims"))
        )
    return times, calls


def report(case: str, times: list[float], calls: Counter, latency: float) -> None:
    median = statistics.median(times)
    print(
        f"{case}: {sum(calls.values())} calls per load, median {median * 1000:.0f} ms "
        f"({median / latency:.1f} × the latency)"
        if latency
        else f"{case}: median {median * 1000:.0f} ms"
    )
    for call, n in sorted(calls.items()):
        print(f"    {n:>3}  {call}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--sandboxes", default="prod,dev,stage")
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandboxes = [s.strip() for s in args.sandboxes.split(",") if s.strip()]
    settings, emulator = with_emulator(
        Settings.from_env({"AEP_SANDBOXES": ",".join(sandboxes), "WIZARD_DATA_DIR": tempfile.mkdtemp(prefix="board-")})
    )
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        started = time.perf_counter()
        make_flows(emulator, sandboxes, args.flows)
        print(
            f"{args.flows} dataflows in {len(sandboxes)} sandboxes made in {time.perf_counter() - started:.1f} s; "
            f"every Platform call answered after {args.latency * 1000:.0f} ms"
        )
        requests.post(f"{emulator.url}/_emulator/latency", json={"seconds": args.latency}, timeout=5).raise_for_status()
        times, calls = loads(url, emulator, args.rounds)
        report("before the watcher's first round (the page reads the last day's runs)", times, calls, args.latency)
        Watcher(services.of(app), 60).run_once()
        times, calls = loads(url, emulator, args.rounds)
        report("after a watcher round (the page reads the runs since)", times, calls, args.latency)
        page = requests.get(url + "/dataflows", timeout=120).text
        rows = set(re.findall(r'href="/dataflows/([0-9a-f-]{36})', page))
        print(f"rows on the first page: {len(rows)}")
    finally:
        server.shutdown()
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
