"""The worker CPU of creating a connection through the API, beside creating it through its form, in the same run.

    .venv/bin/python bench/api_create.py [--samples 300]

The wizard runs as `python -m app.cli` (gunicorn, one gevent worker, built-in accounts) against the emulator in its
own process. One person signs in, makes an API token on the API tokens page, then creates connections alternately:
through the form (GET the form, POST it; the POST alone is what the API call replaces) and through POST
/api/v1/connections with the token and an Idempotency-Key. Each request's CPU is read from /proc around it
(schedstat of every thread of the master and its worker), so the emulator's share is never counted. Figures are only
comparable within one run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from load import REPO, free_port  # noqa: E402
from overhead import CSRF, FORM, KEY, PARAMS, cpu_ns, family, start_wizard, stop, until_ok  # noqa: E402

from app.accounts import add_user  # noqa: E402

PASSWORD = "the bench password 42"
TOKEN = re.compile(r'id="new-token">([^<]+)<')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="creations of each kind")
    args = parser.parse_args(argv)
    secret = "api-bench-secret"
    emulator_process = subprocess.Popen(
        [sys.executable, "-m", "app.emulator", "--client-secret", secret], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    users = tempfile.mktemp(prefix="api-bench-users-")  # noqa: S306 - a bench's own scratch file
    add_user(users, "bench", PASSWORD)
    wizard = None
    try:
        url, client_id, org_id = emulator_process.stdout.readline().split()
        emulator = {"url": url, "client_id": client_id, "org_id": org_id, "secret": secret}
        port = free_port()
        wizard = start_wizard(
            port,
            emulator,
            WIZARD_AUTH="accounts",
            WIZARD_USERS_FILE=users,
            WIZARD_SECRET_KEY="api-bench",
            WIZARD_DATA_DIR=tempfile.mkdtemp(prefix="api-bench-"),
        )
        base = f"http://127.0.0.1:{port}"
        until_ok(base + "/healthz")
        time.sleep(1)
        servers = family(wizard.pid)
        person = requests.Session()
        page = person.get(base + "/sign-in", timeout=30).text
        person.post(
            base + "/sign-in",
            data={"username": "bench", "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)},
            timeout=30,
        )
        page = person.get(base + "/tokens", timeout=30).text
        made = person.post(
            base + "/tokens",
            data={
                "name": "bench",
                "role": "admin",
                "sandboxes": "*",
                "days": "1",
                "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            },
            timeout=30,
        ).text
        token = TOKEN.search(made).group(1)
        script = requests.Session()
        script.headers["Authorization"] = f"Bearer {token}"
        cpu: dict[str, list[float]] = {"form GET + POST": [], "form POST alone": [], "API POST": []}
        for i in range(args.samples):
            before = cpu_ns(servers)
            form = person.get(base + "/sources/redshift", timeout=30).text
            posted = cpu_ns(servers)
            answer = person.post(
                base + "/sources/redshift",
                data={
                    **FORM,
                    "name": f"form {i}",
                    "csrf_token": CSRF.search(form).group(1),
                    "submission_id": KEY.search(form).group(1),
                },
                allow_redirects=False,
                timeout=30,
            )
            after = cpu_ns(servers)
            assert answer.status_code == 303, answer.status_code
            cpu["form GET + POST"].append((after - before) / 1e6)
            cpu["form POST alone"].append((after - posted) / 1e6)
            before = cpu_ns(servers)
            answer = script.post(
                base + "/api/v1/connections",
                json={
                    "source": "redshift",
                    "sandbox": "prod",
                    "name": f"api {i}",
                    "fields": PARAMS,
                    "allow_duplicate_name": True,
                },
                headers={"Idempotency-Key": f"bench-{i}"},
                timeout=30,
            )
            cpu["API POST"].append((cpu_ns(servers) - before) / 1e6)
            assert answer.status_code == 201, answer.text
        print(f"worker CPU per connection created, {args.samples} of each, interleaved (ms: median, p90, mean)")
        for name, values in cpu.items():
            ordered = sorted(values)
            p90 = ordered[int(len(ordered) * 0.9)]
            print(f"  {name:17} {statistics.median(values):6.2f} {p90:6.2f} {statistics.fmean(values):6.2f}")
        print(
            "  API POST / form POST alone (medians): "
            f"{statistics.median(cpu['API POST']) / statistics.median(cpu['form POST alone']):.2f}"
        )
    finally:
        stop(*(p for p in (wizard, emulator_process) if p))
        Path(users).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
