"""The commands a person or a pipeline runs on a configuration file (`aep-source-wizard check | export | plan |
apply`): `check` reads the file offline; the others talk to a portal's API with a token (WIZARD_TOKEN, `--url`).
Secrets are read here, from the environment or a file as each reference says, and sent only to the portal, over the
same call that applies them; nothing printed or saved holds one."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from .load import Refused, load
from .model import ASK, ENV_REFERENCE, FileReference

PLAN_SIGNS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "pending": "…", "blocked": "!"}
# How long apply waits, at most, for another apply to the same sandbox to end.
BUSY_WAIT_SECONDS = 120


def _say(command: str, text: str) -> None:
    print(f"aep-source-wizard {command}: {text}", file=sys.stderr)


def _read(command: str, path: str) -> str | None:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        _say(command, f"{path} cannot be read ({error.strerror})")
        return None


def check(path: str) -> int:
    """Check a configuration file against its schema and say each problem with its line: 0 when it is fine."""
    text = _read("check", path)
    if text is None:
        return 2
    try:
        config = load(text)
    except Refused as refused:
        for problem in refused.problems:
            print(f"{path}: {problem}")
        return 1
    print(f"{path}: fine: {len(config.connections)} connections, {len(config.dataflows)} dataflows")
    return 0


def secrets_for(path: str, text: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Each secret's value as its reference gives it here: ${NAME} from the environment, {file: PATH} from that file
    (relative to the configuration file's folder, a final newline dropped), `ask` left to the owner. Also what could
    not be read, by reference (never a value)."""
    config = load(text)
    found: dict[str, dict[str, str]] = {}
    unread = []
    folder = Path(path).resolve().parent if path != "-" else Path.cwd()
    for connection in config.connections:
        for field, value in connection.fields.items():
            if isinstance(value, FileReference):
                try:
                    secret = (folder / value.file).read_text(encoding="utf-8")
                except OSError as error:
                    unread.append(
                        f"{connection.name}.{field}: {{file: {value.file}}} cannot be read ({error.strerror})"
                    )
                    continue
                found.setdefault(connection.name, {})[field] = secret.removesuffix("\n")
            elif isinstance(value, str) and value != ASK and re.match(ENV_REFERENCE, value):
                name = value[2:-1]
                if name in os.environ:
                    found.setdefault(connection.name, {})[field] = os.environ[name]
                else:
                    unread.append(f"{connection.name}.{field}: {value} is not set")
    return found, unread


def _call(command: str, url: str, path: str, body: dict):
    """POST to the portal's API with the token; (status, JSON) or None when it cannot be reached."""
    import requests

    token = os.environ.get("WIZARD_TOKEN", "").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        # An apply of many objects takes minutes (each waits on Adobe): the portal's own limits bound it.
        answer = requests.post(url.rstrip("/") + path, json=body, headers=headers, timeout=3600)
    except requests.RequestException as error:
        _say(command, f"the portal at {url} cannot be reached ({type(error).__name__})")
        return None
    try:
        return answer.status_code, answer.json(), answer.headers
    except ValueError:
        return answer.status_code, {"title": f"the portal answered {answer.status_code}"}, answer.headers


def _refused(command: str, found: dict) -> None:
    _say(command, f"{found.get('title')}: {found.get('detail') or ''}".strip())
    for error in found.get("errors") or []:
        line = f"line {error['line']}: " if error.get("line") else ""
        print(f"  {line}{error.get('field')}: {error.get('message')}", file=sys.stderr)


def show(plan: dict) -> None:
    """The plan in words, object by object, as a terminal shows it."""
    print(f"Plan for sandbox {plan['sandbox']} ({plan['digest']}):")
    unchanged, left = [], []
    for change in plan["changes"]:
        if change["action"] == "none" and not change["drift"]:
            unchanged.append(change["name"])
            continue
        if change["action"] == "left":
            left.append(f"{change['kind']} {change['name']}")
            continue
        sign = PLAN_SIGNS.get(change["action"], "=")
        print(f"  {sign} {change['kind']} {change['name']}: {change['action']}")
        for field in change["fields"]:
            before = "" if field["from"] is None else f"{field['from']} → "
            print(f"      {field['field']}: {before}{field['to']}")
        for note in change["notes"]:
            print(f"      note: {note}")
        for drift in change["drift"]:
            print(f"      drift: {drift}")
        for problem in change["problems"]:
            line = f"line {problem['line']}: " if problem.get("line") else ""
            print(f"      problem: {line}{problem['where']}: {problem['message']}")
    if unchanged:
        print(f"  = no change: {', '.join(unchanged)}")
    if left:
        print(f"  in the sandbox, not in the file (left; --prune deletes them): {', '.join(left)}")
    counts = {k: v for k, v in plan["summary"].items() if v and k not in ("none", "left")}
    print("Summary: " + (", ".join(f"{n} {a}" for a, n in counts.items()) or "no change"))


def plan_or_apply(command: str, args) -> int:
    """`plan` (0: no change, 2: changes, 1: problems) or `apply` (0: all done, 1: not)."""
    if not args.url.startswith(("https://", "http://")):
        _say(command, "say which portal: --url https://… or WIZARD_URL")
        return 2
    text = _read(command, args.file)
    if text is None:
        return 2
    try:
        given, unread = secrets_for(args.file, text)
    except Refused as refused:
        for problem in refused.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        return 1
    for line in unread:
        _say(command, line)
    body: dict = {"sandbox": args.sandbox, "file": text, "secrets": given, "prune": args.prune}
    if command == "apply" and args.plan:
        try:
            saved = json.loads(Path(args.plan).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _say(command, f"{args.plan} is not a plan saved by plan --out")
            return 2
        if saved.get("sandbox") != args.sandbox:
            _say(command, f"{args.plan} is a plan for sandbox {saved.get('sandbox')}, not {args.sandbox}")
            return 1
        body["plan_digest"] = saved.get("digest")
    waited = 0.0
    while True:
        called = _call(command, args.url, f"/api/v1/config/{command}", body)
        if called is None:
            return 1
        status, found, headers = called
        if command == "apply" and status == 409 and "Retry-After" in headers and waited < BUSY_WAIT_SECONDS:
            _say(command, "another apply to this sandbox is under way: waiting for it to end")
            pause = min(float(headers["Retry-After"]), 10.0)
            time.sleep(pause)
            waited += pause
            continue
        break
    if status != 200:
        _refused(command, found)
        return 1
    if command == "plan":
        show(found)
        if args.out:
            Path(args.out).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
            _say(command, f"saved the plan to {args.out}: apply it with apply --plan {args.out}")
        if any(c["action"] == "blocked" for c in found["changes"]):
            return 1
        return 2 if any(c["action"] in ("create", "update", "replace", "delete") for c in found["changes"]) else 0
    show(found["plan"])
    print("Applied:")
    for result in found["results"]:
        if result["outcome"] != "skipped" or result["message"]:
            said = f": {result['message']}" if result.get("message") else ""
            print(f"  {result['kind']} {result['name']}: {result['action']} {result['outcome']}{said}")
            if result.get("link"):
                # Given this once, for the person to pass on: their terminal, never a log.
                print(f"    {result['link']}")
    if not found["complete"]:
        _say(command, "not everything was applied: mend what failed, then apply again to go on from there")
        return 1
    return 0


def export(url: str, sandbox: str, connections: list[str], out: str) -> int:
    """Ask a portal's API for a sandbox's file and write it: 0 when written, 1 when the portal refused (its words)."""
    import requests

    token = os.environ.get("WIZARD_TOKEN", "").strip()
    if not url.startswith(("https://", "http://")):
        _say("export", "say which portal: --url https://… or WIZARD_URL")
        return 2
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = requests.get(
            url.rstrip("/") + "/api/v1/config",
            params={"sandbox": sandbox, "connection": connections},
            headers=headers,
            timeout=120,
        )
    except requests.RequestException as error:
        _say("export", f"the portal at {url} cannot be reached ({type(error).__name__})")
        return 1
    if answer.status_code != 200:
        try:
            problem = answer.json()
            said = f"{problem.get('title')}: {problem.get('detail') or ''}".strip()
        except ValueError:
            said = f"answered {answer.status_code}"
        _say("export", said)
        return 1
    if out == "-":
        sys.stdout.write(answer.text)
    else:
        Path(out).write_text(answer.text, encoding="utf-8")
        _say("export", f"wrote {out}")
    return 0


def run(args) -> int:
    """The command `args` names (argparse's namespace from app/cli.py)."""
    if args.command == "check":
        return check(args.file)
    if args.command == "export":
        return export(args.url, args.sandbox, args.connection, args.out)
    return plan_or_apply(args.command, args)
