"""The dataflows page's rows: each dataflow of the sandboxes a person may view, with its health, filtered, sorted
and paged; and the health summary per sandbox. Built from one listing of dataflows and one of recent runs per
sandbox (read by the view) and what the store keeps (records, failures in a row, what the portal made)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json

from . import health
from .rules import source_spec

PAGE = 50
SORTS = ("name", "last-run", "failures")
STATUSES = ("failed", "partial", "success", "none")


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    name: str
    sandbox: str
    source_spec: str | None
    source: str
    table: str | None
    dataset: str | None
    dataset_id: str | None
    state: str
    health: health.Health
    records_24h: int
    failures_in_row: int
    writable: bool

    @property
    def last_status(self) -> str:
        return self.health.last_status or "none"


@dataclasses.dataclass(frozen=True)
class Filters:
    sandbox: str = ""
    state: str = ""
    status: str = ""
    health: str = ""
    source: str = ""
    text: str = ""
    sort: str = "name"

    @classmethod
    def of(cls, args, sandboxes, sources) -> Filters:
        """The filters a query string asks for; a value that is not one of the choices is ignored."""

        def pick(name, choices):
            value = (args.get(name) or "").strip()
            return value if value in choices else ""

        return cls(
            sandbox=pick("sandbox", sandboxes),
            state=pick("state", ("enabled", "disabled")),
            status=pick("status", STATUSES),
            health=pick("health", health.HEALTH),
            source=pick("source", sources),
            text=(args.get("q") or "").strip()[:100],
            sort=pick("sort", SORTS) or "name",
        )

    def query(self, **changes) -> dict:
        """The query string of these filters, with `changes`, for links."""
        values = {
            "sandbox": self.sandbox,
            "state": self.state,
            "status": self.status,
            "health": self.health,
            "source": self.source,
            "q": self.text,
            "sort": self.sort if self.sort != "name" else "",
            **changes,
        }
        return {key: value for key, value in values.items() if value}


def row_of(
    flow: dict, sandbox: str, now: float, kept: dict, newest: dict, made: dict, source_names: dict, writable
) -> Row:
    """One dataflow's row: `kept` is the store's health of it, `newest` its newest run kept, `made` what the portal
    recorded when it made it (table, dataset)."""
    last = newest.get("status")
    healthy = health.health_of(flow, now, last, newest.get("created_ms"))
    failures = int(kept.get("failures_in_row") or 0)
    if healthy.last_status == "failed":
        failures = max(failures, 1)  # the newest failure, before the watcher has counted it
    elif healthy.last_status in ("success", "partial"):
        failures = 0
    spec = source_spec(flow)
    dataset = made.get("dataset") or {}
    return Row(
        id=flow["id"],
        name=str(flow.get("name") or flow["id"]),
        sandbox=sandbox,
        source_spec=spec,
        source=source_names.get(spec or "", "another source" if spec else "unknown source"),
        table=made.get("table"),
        dataset=dataset.get("name"),
        dataset_id=dataset.get("id"),
        state=str(flow.get("state") or "unknown"),
        health=healthy,
        records_24h=int(kept.get("records") or 0),
        failures_in_row=failures,
        writable=writable(flow),
    )


def keep(rows: list[Row], filters: Filters) -> list[Row]:
    """The rows the filters keep, sorted as asked."""
    text = filters.text.lower()

    def wanted(row: Row) -> bool:
        return (
            (not filters.sandbox or row.sandbox == filters.sandbox)
            and (not filters.state or row.state == filters.state)
            and (not filters.status or row.last_status == filters.status)
            and (not filters.health or row.health.word == filters.health)
            and (not filters.source or row.source_spec == filters.source)
            and (
                not text
                or any(
                    text in (value or "").lower() for value in (row.name, row.id, row.table, row.dataset, row.source)
                )
            )
        )

    kept = [row for row in rows if wanted(row)]
    if filters.sort == "last-run":
        kept.sort(key=lambda row: (-(row.health.last_run_ms or 0), row.name.lower()))
    elif filters.sort == "failures":
        kept.sort(key=lambda row: (-row.failures_in_row, row.name.lower()))
    else:
        kept.sort(key=lambda row: (row.name.lower(), row.id))
    return kept


def summary(rows: list[Row], sandboxes) -> dict[str, dict[str, int]]:
    """Per sandbox, how many dataflows are failing, partial, late, disabled, healthy."""
    counts = {sandbox: dict.fromkeys(health.HEALTH, 0) for sandbox in sandboxes}
    for row in rows:
        counts.setdefault(row.sandbox, dict.fromkeys(health.HEALTH, 0))[row.health.word] += 1
    return counts


def page_of(rows: list, token: str | None) -> tuple[list, str | None]:
    """One page of PAGE rows from where `token` says (an opaque continuation token, as Adobe's listings page), and the
    token of the next page (None at the end)."""
    start = _offset(token)
    following = start + PAGE if start + PAGE < len(rows) else None
    return rows[start : start + PAGE], _token(following) if following is not None else None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["o"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        return 0
    return offset if isinstance(offset, int) and 0 <= offset < 1_000_000 else 0
