"""The code that keeps secrets, on what an attacker would paste or log: how long each takes.

    .venv/bin/python bench/secret_keeping.py [--rounds 5]

Reads connection strings built to make a careless parser slow (64 KB of spaces after `host=`, 8,000 libpq pairs,
8,000 key=value pairs, a 60 KB braced value), finds their secrets and masks them; scrubs a 1 MB log line and a short
one with 80 secrets known (64 tokens, the portal's own and a request's). Prints the median milliseconds of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import logs
from app.sources.connection_string import ConnectionStringError, read_pasted
from app.sources.secrecy import masked_params, secret_values

STRINGS = {
    "host= and 64 KB of spaces": "host=" + " " * 65_000 + "x",
    "8,000 libpq pairs": "host=h " + " ".join(f"k{n}=v" for n in range(8_000)),
    "8,000 key=value pairs": ";".join(f"K{n}=v" for n in range(8_000)) + ";Pwd=x",
    "a 60 KB braced value": "Server=h;Pwd={" + "a}}" * 20_000 + "}",
    "a URI with 2,000 query pairs": "postgresql://u:p@h/db?" + "&".join(f"k{n}=v" for n in range(2_000)),
}


def median_ms(work, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def read_all(text: str) -> None:
    try:
        read_pasted(text)
    except ConnectionStringError:
        pass
    secret_values({"connectionString": text}, {"connectionString"})
    masked_params({"connectionString": text})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    print("connection string (read as pasted, secrets found, masked)   median ms")
    for name, text in STRINGS.items():
        print(f"  {name:<58} {median_ms(lambda text=text: read_all(text), rounds):8.1f}")
    registry = logs.SecretRegistry()
    registry.add_permanent("client-secret-0123456789", 'p@ss "w\\rd"\t9 é')
    registry.add(*(f"token-{n:04d}-" + "x" * 40 for n in range(logs.SecretRegistry.TOKENS_KEPT)))
    registry.add_permanent(*(f"typed-{n}-pw" for n in range(14)))
    line = ("request GET /connections?page=2 took 12 ms; " * 23_000)[:1_000_000] + "client-secret-0123456789"
    print(f"scrub, {len(registry.known())} secrets known                                    median ms")
    print(f"  {'a 1 MB line':<58} {median_ms(lambda: registry.scrub(line), rounds):8.1f}")
    print(f"  {'a short line':<58} {median_ms(lambda: registry.scrub('signed in as ada'), rounds):8.2f}")


if __name__ == "__main__":
    main()
