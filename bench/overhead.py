"""What the wizard costs on top of the floor, measured fairly: paired, interleaved, and in CPU time.

    .venv/bin/python bench/overhead.py [--samples 1500] [--seconds 5] [--rounds 3]

Three variants create the same connection on the same emulator (its own process):
  direct     a POST straight to Flow Service, token in hand: the physical limit;
  forwarder  bench/forwarder_app.py, a minimal Flask app that only forwards the form, on the wizard's
             gunicorn settings: the hop any server-side portal pays;
  wizard     the real thing (`python -m app.cli`, one gevent worker, real mode against the emulator).
Every iteration sends one of each, in a new random order; the differences are taken per iteration
(paired), so a slow moment of the machine falls on all three. Each server's CPU per request is read
from /proc (schedstat: nanoseconds on a CPU, every thread of the master and its workers; utime + stime
in clock ticks as a cross-check over the whole run): far less noisy than wall time on a shared machine.

Pages: `wrk` (Debian's, installed when missing) against bench/minimal_app.py and the wizard's form, in
alternating rounds, with the CPU each page cost. Then cold start (spawn to the first 200), resident
memory per worker after the load, and IMS fetches. Every figure is printed beside its goal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import REPO, free_port  # noqa: E402

SPEC = "3416976c-a9ca-4bba-901a-1f08f66978ff"
PARAMS = {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "etl", "password": "pw"}
FORM = {"description": "", "sandbox": "prod", "duplicate_ok": "1", **PARAMS}
TICK = os.sysconf("SC_CLK_TCK")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
KEY = re.compile(r'name="submission_id" value="([^"]+)"')


# What a server costs, from /proc.


def family(master: int) -> list[int]:
    """The gunicorn master and its workers."""
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def cpu_ns(pids) -> int:
    """Nanoseconds on a CPU of every thread of `pids` (schedstat)."""
    total = 0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                    total += int(stat.read().split()[0])
        except OSError:
            continue
    return total


def ticks(pids) -> int:
    """utime + stime of `pids`, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kib = int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))
    return kib / 1024


# Starting things.


def gunicorn_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "WIZARD_"))}
    env.update(WEB_CONCURRENCY="1", **extra)
    return env


def until_ok(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{url} did not come up")


def start_gunicorn(app: str, port: int, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:app.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(REPO / "bench"),
            app,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=gunicorn_env(**env),
    )


def start_wizard(port: int, emulator: dict, **env: str) -> subprocess.Popen:
    """The wizard as `python -m app.cli` on `port`, against the emulator, without sign-in unless `env` says else."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=gunicorn_env(
            **{
                "AEP_CLIENT_ID": emulator["client_id"],
                "AEP_CLIENT_SECRET": emulator["secret"],
                "AEP_ORG_ID": emulator["org_id"],
                "AEP_PLATFORM_URL": emulator["url"],
                "AEP_IMS_URL": emulator["url"],
                "WIZARD_AUTH": "none",
                "WIZARD_SECRET_KEY": "overhead",
                "WIZARD_PORT": str(port),
                "WIZARD_DATA_DIR": tempfile.mkdtemp(prefix="overhead-"),
                **env,
            }
        ),
    )


def stop(*processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(15)


# Statistics.


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def summary(values_s) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"median": statistics.median(ms), "p95": percentile(ms, 0.95), "p99": percentile(ms, 0.99)}


# The measurements.


def submissions(n: int, urls: dict, emulator: dict, servers: dict) -> dict:
    direct_url = emulator["url"] + "/data/foundation/flowservice/connections"
    clients = {name: requests.Session() for name in ("direct", "forwarder", "wizard")}
    wall = {name: [] for name in clients}
    cpu = {name: 0 for name in ("forwarder", "wizard")}
    ticks_before = {name: ticks(servers[name]) for name in cpu}
    for i in range(n):
        for variant in random.sample(list(clients), 3):
            session = clients[variant]
            name = f"{variant} {i}"
            if variant == "wizard":
                page = session.get(urls["wizard"] + "/sources/redshift", timeout=30).text
                data = {
                    **FORM,
                    "name": name,
                    "csrf_token": CSRF.search(page).group(1),
                    "submission_id": KEY.search(page).group(1),
                }
            before = cpu_ns(servers[variant]) if variant in cpu else 0
            started = time.perf_counter()
            if variant == "direct":
                answer = session.post(
                    direct_url,
                    headers=emulator["headers"],
                    timeout=30,
                    json={
                        "name": name,
                        "description": "",
                        "auth": {"specName": "Basic Authentication", "params": PARAMS},
                        "connectionSpec": {"id": SPEC, "version": "1.0"},
                    },
                )
                ok = answer.status_code == 201
            elif variant == "forwarder":
                answer = session.post(
                    urls["forwarder"] + "/submit", data={**FORM, "name": name}, allow_redirects=False, timeout=30
                )
                ok = answer.status_code == 303
            else:
                answer = session.post(
                    urls["wizard"] + "/sources/redshift", data=data, allow_redirects=False, timeout=30
                )
                ok = answer.status_code == 303
            wall[variant].append(time.perf_counter() - started)
            if variant in cpu:
                cpu[variant] += cpu_ns(servers[variant]) - before
            if not ok:
                raise SystemExit(f"{variant} failed: {answer.status_code}")
    pairs = {
        "wizard - forwarder": [w - f for w, f in zip(wall["wizard"], wall["forwarder"], strict=False)],
        "forwarder - direct": [f - d for f, d in zip(wall["forwarder"], wall["direct"], strict=False)],
        "wizard - direct": [w - d for w, d in zip(wall["wizard"], wall["direct"], strict=False)],
    }
    return {
        "samples": n,
        "wall_ms": {name: summary(values) for name, values in wall.items()},
        "paired_difference_ms": {name: summary(values) for name, values in pairs.items()},
        "cpu_ms_per_submission": {name: cpu[name] / n / 1e6 for name in cpu},
        # The wizard's includes the GET of each form, which the schedstat figure leaves out.
        "utime_stime_ms_per_submission": {
            name: (ticks(servers[name]) - ticks_before[name]) * 1000 / TICK / n for name in cpu
        },
    }


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package) ...", file=sys.stderr)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "wrk"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def wrk(binary: str, url: str, seconds: float) -> tuple[float, int]:
    out = subprocess.run(
        [binary, "-t1", "-c8", f"-d{int(seconds)}s", url], capture_output=True, text=True, check=True
    ).stdout
    return (
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        int(re.search(r"(\d+) requests in", out).group(1)),
    )


def pages(binary: str, urls: dict, servers: dict, seconds: float, rounds: int) -> dict:
    rates = {"minimal": [], "wizard": []}
    cpu = {"minimal": [], "wizard": []}
    for _ in range(rounds):
        for name in ("minimal", "wizard"):
            before = cpu_ns(servers[name])
            rate, count = wrk(binary, urls[name + "_page"], seconds)
            cpu[name].append((cpu_ns(servers[name]) - before) / count / 1e6)
            rates[name].append(rate)
    return {
        "pages_per_s": {name: statistics.median(v) for name, v in rates.items()},
        "pages_per_s_rounds": rates,
        "cpu_ms_per_page": {name: statistics.median(v) for name, v in cpu.items()},
    }


def cold_starts(emulator: dict, rounds: int) -> dict:
    times = {"minimal": [], "wizard": []}
    for _ in range(rounds):
        for name in ("minimal", "wizard"):
            port = free_port()
            started = time.perf_counter()
            process = start_gunicorn("minimal_app:app", port) if name == "minimal" else start_wizard(port, emulator)
            until_ok(f"http://127.0.0.1:{port}/" if name == "minimal" else f"http://127.0.0.1:{port}/sources/redshift")
            times[name].append(time.perf_counter() - started)
            stop(process)
    return {name: statistics.median(v) for name, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1500, help="submissions per variant")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk round, whole seconds")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds and cold starts per app")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--forwarder-client",
        choices=("requests", "urllib3"),
        default="requests",
        help="what the forwarder sends with: requests (the default), or urllib3 as the wizard does",
    )
    args = parser.parse_args(argv)
    binary = ensure_wrk()
    secret = "overhead-secret"
    emulator_process = subprocess.Popen(
        [sys.executable, "-m", "app.emulator", "--client-secret", secret], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        return measure(args, binary, secret, emulator_process)
    finally:
        stop(emulator_process)


def measure(args, binary: str, secret: str, emulator_process) -> int:
    url, client_id, org_id = emulator_process.stdout.readline().split()
    token = requests.post(
        url + "/ims/token/v3",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "openid"},
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": client_id,
        "x-gw-ims-org-id": org_id,
        "x-sandbox-name": "prod",
        "Content-Type": "application/json",
    }
    emulator = {"url": url, "client_id": client_id, "org_id": org_id, "secret": secret, "headers": headers}
    ports = {name: free_port() for name in ("wizard", "forwarder", "minimal")}
    processes = {
        "wizard": start_wizard(ports["wizard"], emulator),
        "forwarder": start_gunicorn(
            "forwarder_app:app",
            ports["forwarder"],
            FORWARD_URL=url + "/data/foundation/flowservice/connections",
            FORWARD_HEADERS=json.dumps(headers),
            FORWARD_CLIENT=args.forwarder_client,
        ),
        "minimal": start_gunicorn("minimal_app:app", ports["minimal"]),
    }
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    urls.update(wizard_page=urls["wizard"] + "/sources/redshift", minimal_page=urls["minimal"] + "/")
    try:
        for name in ("wizard", "forwarder", "minimal"):
            until_ok(urls[name] + ("/healthz" if name == "wizard" else "/"))
        servers = {name: family(process.pid) for name, process in processes.items()}
        fetches_before = requests.get(url + "/_emulator/stats", timeout=5).json()["token_fetches"]
        submitted = submissions(args.samples, urls, emulator, servers)
        fetches = requests.get(url + "/_emulator/stats", timeout=5).json()["token_fetches"] - fetches_before
        served = pages(binary, urls, servers, args.seconds, args.rounds)
        memory = max(rss_mib(pid) for pid in servers["wizard"][1:])
    finally:
        stop(*processes.values())
    cold = cold_starts(emulator, args.rounds)

    pair = submitted["paired_difference_ms"]["wizard - forwarder"]
    cpu = submitted["cpu_ms_per_submission"]
    page_cpu = served["cpu_ms_per_page"]
    rates = served["pages_per_s"]
    rows = [
        ("submission: wizard - forwarder, median (ms)", pair["median"], "<= 1.5", pair["median"] <= 1.5),
        ("submission: wizard - forwarder, p95 (ms)", pair["p95"], "<= 5", pair["p95"] <= 5),
        ("submission: wizard - forwarder, p99 (ms)", pair["p99"], "(reported)", None),
        ("submission: worker CPU, wizard (ms)", cpu["wizard"], "<= 2.5", cpu["wizard"] <= 2.5),
        ("submission: worker CPU, forwarder (ms)", cpu["forwarder"], "(reported)", None),
        (
            "submission: CPU wizard / forwarder",
            cpu["wizard"] / cpu["forwarder"],
            "<= 2.5",
            cpu["wizard"] / cpu["forwarder"] <= 2.5,
        ),
        ("form page: worker CPU, wizard (ms)", page_cpu["wizard"], "<= 0.8", page_cpu["wizard"] <= 0.8),
        (
            "form page: CPU wizard / minimal",
            page_cpu["wizard"] / page_cpu["minimal"],
            "<= 2",
            page_cpu["wizard"] / page_cpu["minimal"] <= 2,
        ),
        (
            "form page: pages/s wizard / minimal (wrk)",
            rates["wizard"] / rates["minimal"],
            ">= 0.6",
            rates["wizard"] / rates["minimal"] >= 0.6,
        ),
        (
            "cold start: wizard / minimal",
            cold["wizard"] / cold["minimal"],
            "<= 1.3",
            cold["wizard"] / cold["minimal"] <= 1.3,
        ),
        ("memory: resident per worker after load (MiB)", memory, "<= 64", memory <= 64),
        ("IMS token fetches (one worker)", fetches, "1", fetches == 1),
    ]
    print(f"{'figure':48} {'value':>9}  {'goal':>10}  met")
    for label, value, goal, met in rows:
        print(f"{label:48} {value:9.2f}  {goal:>10}  {'' if met is None else 'yes' if met else 'NO'}")
    print()
    print(
        "wall time per submission (ms):  "
        + "  ".join(
            f"{name} {s['median']:.2f}/{s['p95']:.2f}/{s['p99']:.2f}" for name, s in submitted["wall_ms"].items()
        )
        + "   (median/p95/p99)"
    )
    for name, s in submitted["paired_difference_ms"].items():
        print(f"paired {name:20} median {s['median']:.2f}  p95 {s['p95']:.2f}  p99 {s['p99']:.2f} ms")
    print(
        "utime+stime per submission (ms, wizard incl. its form GET): "
        + "  ".join(f"{k} {v:.2f}" for k, v in submitted["utime_stime_ms_per_submission"].items())
    )
    print(
        f"pages/s (median of {args.rounds} wrk rounds): minimal {rates['minimal']:.0f}, wizard {rates['wizard']:.0f}; "
        f"CPU per page: minimal {page_cpu['minimal']:.3f} ms, wizard {page_cpu['wizard']:.3f} ms"
    )
    print(f"cold start: minimal {cold['minimal']:.2f} s, wizard {cold['wizard']:.2f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "submissions": submitted,
                    "pages": served,
                    "cold_start_s": cold,
                    "rss_mib": memory,
                    "ims_fetches": fetches,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
