"""A dataflow's recent runs as a small bar chart: records read, written and failed per run, oldest on the left, drawn
by the server as SVG (no JavaScript library); the page's table of runs is its text alternative."""

from __future__ import annotations

import dataclasses

from .health import part, run_status

HEIGHT, SLOT, BAR, GAP = 80, 18, 5, 1


@dataclasses.dataclass(frozen=True)
class Bar:
    x: int
    read: int
    written: int
    failed: int
    heights: tuple[int, int, int]
    status: str
    started_ms: int | None


@dataclasses.dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    most: int


def _count(records: dict, key: str) -> int:
    value = records.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def bars(runs: list[dict]) -> Chart | None:
    """The chart of `runs` (newest first, as Flow Service lists them), or None without runs."""
    if not runs:
        return None
    counted = []
    for run in reversed(runs):
        metrics = part(run, "metrics")
        records = part(metrics, "recordSummary")
        duration = part(metrics, "durationSummary")
        started = duration.get("startedAtUTC")
        counted.append(
            (
                _count(records, "inputRecordCount"),
                _count(records, "outputRecordCount"),
                _count(records, "failedRecordCount"),
                run_status(run),
                int(started) if isinstance(started, (int, float)) else None,
            )
        )
    most = max([max(read, written, failed) for read, written, failed, _s, _t in counted] + [1])
    drawn = [
        Bar(
            x=i * SLOT + 2,
            read=read,
            written=written,
            failed=failed,
            heights=tuple(round(HEIGHT * n / most) for n in (read, written, failed)),  # type: ignore[arg-type]
            status=status,
            started_ms=started,
        )
        for i, (read, written, failed, status, started) in enumerate(counted)
    ]
    return Chart(drawn, width=len(drawn) * SLOT + 4, height=HEIGHT + 4, most=most)
