"""A dataflow's health from Flow Service's objects: how a run ended, when the next run is due, whether the dataflow
is late, and the one word the dataflows page shows for it. Pure functions: no store, no HTTP."""

from __future__ import annotations

import dataclasses
import json

# How a run ended, in the portal's words: Flow Service says `success` or `failed` (any case, as Adobe's examples
# write both); a success with failed records is `partial` ("partly ingested").
FINAL = ("success", "partial", "failed")
SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
# How long after a due time a dataflow with no run is late (our choice: a quarter of its interval, at least 15
# minutes and at most 3 hours; Adobe's own "Ingestion Delay" alert waits 150 minutes for a run that has started).
GRACE_SHARE, GRACE_LEAST, GRACE_MOST = 0.25, 15 * 60, 3 * 3600
# The health words, worst first: what the summary counts and the filter links name.
HEALTH = ("failing", "partial", "late", "disabled", "healthy")
HEALTH_WORDS = {
    "failing": "Failing",
    "partial": "Partly ingested",
    "late": "Late",
    "disabled": "Disabled",
    "healthy": "Healthy",
}


# Adobe's error for a run that failed while copying data from the source (the flow run notifications guide: "An
# error occurred while data is being copied from a source"): where a database that refuses the credentials fails it.
COPY_FAILED = "CONNECTOR-1001-500"
# How many of a dataflow's newest ended runs must all have failed so before its pages say the credentials may be at
# fault (our choice: Adobe's sources FAQ puts it as "all recent runs fail"; one failure alone may be the network).
SUSPECT_RUNS = 2
ENDED = ("success", "partial", "failed")


def credentials_suspect(rows: list[dict]) -> bool:
    """Whether a dataflow's newest ended runs (as the store keeps them, `run_row`, newest first) all failed while
    copying from the source: then its credentials have most likely changed or expired."""
    ended = [row for row in rows if row.get("status") in ENDED][:SUSPECT_RUNS]
    if len(ended) < SUSPECT_RUNS:
        return False
    for row in ended:
        errors = json.loads(row["errors"]) if isinstance(row.get("errors"), str) else row.get("errors") or []
        if row["status"] != "failed" or COPY_FAILED not in {error.get("code") for error in errors}:
            return False
    return True


# The most dataflows of a connection whose runs its page looks at (our choice: a bound per page).
MOST_FLOWS_LOOKED_AT = 20


def suspect_flows(flows: list[dict], runs_of) -> list[dict]:
    """Those of a connection's dataflows whose recent runs (`runs_of(flow id, limit)`, the store's) all failed while
    copying from the source."""
    return [f for f in flows[:MOST_FLOWS_LOOKED_AT] if credentials_suspect(runs_of(f["id"], SUSPECT_RUNS * 3))]


def run_status(run: dict) -> str:
    """`success`, `partial`, `failed`, or Flow Service's own word (lower case) for a run that has not ended."""
    metrics = part(run, "metrics")
    summary = part(metrics, "statusSummary")
    status = str(summary.get("status") or "").lower() or "unknown"
    records = part(metrics, "recordSummary")
    if status == "success" and _number(records.get("failedRecordCount")) > 0:
        return "partial"
    return status


def run_row(run: dict, sandbox: str) -> dict | None:
    """What the store keeps of a run (app/store/watch.py), or None for an item that is not a run."""
    if not isinstance(run.get("id"), str) or not isinstance(run.get("flowId"), str):
        return None
    metrics = part(run, "metrics")
    records = part(metrics, "recordSummary")
    duration = part(metrics, "durationSummary")
    summary = part(metrics, "statusSummary")
    errors = items(summary, "errors")
    return {
        "run_id": run["id"][:64],
        "sandbox": sandbox,
        "flow_id": run["flowId"][:64],
        "created_ms": int(_number(run.get("createdAt"))),
        "completed_ms": int(_number(duration.get("completedAtUTC"))) or None,
        "status": run_status(run)[:16],
        "records_read": int(_number(records.get("inputRecordCount"))),
        "records_written": int(_number(records.get("outputRecordCount"))),
        "records_failed": int(_number(records.get("failedRecordCount"))),
        "errors": json.dumps(
            [
                {"code": str(e.get("code") or "")[:64], "message": str(e.get("message") or "")[:300]}
                for e in errors
                if isinstance(e, dict)
            ][:10]
        ),
    }


def part(value: dict, key: str) -> dict:
    """value[key] when it is an object, else an empty one: Adobe's objects read without trusting their shape."""
    found = value.get(key)
    return found if isinstance(found, dict) else {}


def items(value: dict, key: str) -> list:
    """value[key] when it is a list, else an empty one."""
    found = value.get(key)
    return found if isinstance(found, list) else []


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0.0


def step_seconds(flow: dict) -> int | None:
    """The seconds between a scheduled dataflow's runs, or None (scheduled once, or unreadable)."""
    schedule = part(flow, "scheduleParams")
    try:
        step = SECONDS[str(schedule.get("frequency"))] * int(str(schedule.get("interval")))
    except (KeyError, ValueError):
        return None
    return step if step > 0 else None


def start_seconds(flow: dict) -> float | None:
    schedule = part(flow, "scheduleParams")
    try:
        return float(str(schedule.get("startTime")))
    except ValueError:
        return None


def next_due(flow: dict, now: float) -> float | None:
    """When the dataflow's next run falls due after `now` (seconds), or None (disabled, once and past, unreadable)."""
    if flow.get("state") != "enabled":
        return None
    start, step = start_seconds(flow), step_seconds(flow)
    if start is None:
        return None
    if start > now:
        return start
    if step is None:
        return None
    return start + (int((now - start) // step) + 1) * step


def grace(step: int) -> float:
    return min(max(step * GRACE_SHARE, GRACE_LEAST), GRACE_MOST)


def last_run_ms(flow: dict, newest_kept_ms: int | None = None) -> int | None:
    """When the dataflow last ran: its lastRunDetails (as `GET /flows` gives it) or the newest run kept."""
    details = part(flow, "lastRunDetails")
    found = [int(_number(details.get("startedAtUTC")))] if _number(details.get("startedAtUTC")) else []
    if newest_kept_ms:
        found.append(newest_kept_ms)
    return max(found) if found else None


def late_since(flow: dict, now: float, last_ms: int | None) -> float | None:
    """The due time a run should have followed by now (seconds), or None when the dataflow is not late: enabled, on a
    schedule, and no run since a due time more than its grace ago."""
    step, start = step_seconds(flow), start_seconds(flow)
    if flow.get("state") != "enabled" or step is None or start is None or start > now:
        return None
    created = _number(flow.get("createdAt")) / 1000
    last_due = start + int((now - start) // step) * step
    if last_due < created:
        return None  # nothing was due since the dataflow was made
    if now - last_due < grace(step):
        last_due -= step  # the latest due time is still within its grace: look at the one before
        if last_due < max(start, created):
            return None
    if last_ms is not None and last_ms / 1000 >= last_due:
        return None
    return last_due


@dataclasses.dataclass(frozen=True)
class Health:
    """One dataflow's health on the dataflows page."""

    word: str  # one of HEALTH
    last_status: str | None  # the last run's status, as run_status says
    last_run_ms: int | None
    next_due: float | None
    late_since: float | None


def health_of(flow: dict, now: float, last_status: str | None, newest_kept_ms: int | None = None) -> Health:
    """The dataflow's health word: failing (its last run failed), partial (ingested part), late, disabled, healthy."""
    last_ms = last_run_ms(flow, newest_kept_ms)
    if last_status is None:
        details = part(flow, "lastRunDetails")
        last_status = str(details.get("state") or "").lower() or None
    late = late_since(flow, now, last_ms)
    if flow.get("state") != "enabled":
        word = "disabled"
    elif last_status == "failed":
        word = "failing"
    elif late is not None:
        word = "late"
    elif last_status == "partial":
        word = "partial"
    else:
        word = "healthy"
    return Health(word, last_status, last_ms, next_due(flow, now), late)
