"""A connection whose database owner types the password: how long each step waits on Adobe.

    .venv/bin/python bench/credential_link.py [--latency 0.3] [--rounds 5]

The wizard runs on its emulator (no sign-in), every Platform call answered after --latency seconds. Each round: the
requester sends PostgreSQL's form leaving the password to the owner (a namesake check, then the link), the owner opens
the link (nothing asked of Adobe) and sends the password (the connection made, then tested).

Prints, per step, the Platform calls, the median time and the waits (that time in units of the latency, rounded).
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

from bench.journey import platform_calls

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def timed(emulator, send, url: str, **kwargs) -> tuple[float, list[str], requests.Response]:
    before = len(emulator.received)
    started = time.perf_counter()
    answer = send(url, timeout=30, **kwargs)
    return time.perf_counter() - started, platform_calls(emulator, before), answer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    env = {"WIZARD_DATA_DIR": tempfile.mkdtemp(prefix="link-")}
    steps: dict[str, list] = {}
    with running_wizard_and_emulator(env) as (base, emulator):
        requests.post(f"{emulator.url}/_emulator/latency", json={"seconds": args.latency}, timeout=5).raise_for_status()
        for n in range(args.rounds + 1):
            requester, owner = requests.Session(), requests.Session()
            form = requester.get(base + "/sources/postgresql", timeout=30).text
            data = {
                "csrf_token": TOKEN.search(form).group(1),
                "submission_id": re.search(r'name="submission_id" value="([^"]+)"', form).group(1),
                "name": f"Typed by its owner {n}",
                "sandbox": "prod",
                "method": "basic",
                "server": "pg.example.com",
                "port": "5432",
                "database": "orders",
                "username": "etl",
                "sslMode": "Verify Full",
                "typed_by": "owner",
            }
            made = timed(emulator, requester.post, base + "/sources/postgresql", data=data)
            link = re.search(r'id="new-link">([^<]+)<', made[2].text).group(1)
            opened = timed(emulator, owner.get, link)
            typed = {"csrf_token": TOKEN.search(opened[2].text).group(1), "password": "bench-Pw-1"}
            sent = timed(emulator, owner.post, link, data=typed)
            assert sent[2].status_code == 201, sent[2].text[:500]
            if n:  # the first round fills the caches
                for step, found in (
                    ("requester: the form sent, the link made", made),
                    ("owner: the link opened", opened),
                    ("owner: the password sent (made, then tested)", sent),
                ):
                    steps.setdefault(step, []).append(found)
    print(f"Every Platform call answered after {args.latency * 1000:.0f} ms; median of {args.rounds} rounds.\n")
    print("| step | calls | median | waits |")
    print("| --- | --- | --- | --- |")
    for step, found in steps.items():
        median = statistics.median(seconds for seconds, _calls, _answer in found)
        calls = found[-1][1]
        print(
            f"| {step} | {len(calls)}: {', '.join(calls)} | {median * 1000:.0f} ms | {round(median / args.latency)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
