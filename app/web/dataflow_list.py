"""`GET /dataflows`: every dataflow in the sandboxes the person may view, with its health, filtered, sorted and paged,
and a health summary per sandbox.

Its floor is one wait on Adobe: per sandbox one listing of dataflows and one of the runs since the watcher last read
(`GET /flows`, `GET /runs?property=createdAt>…`), every sandbox's side by side; never a read per dataflow. Records
in the last day and failures in a row come from what the store keeps of the runs (app/store/watch.py), so they are
the same on every worker.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from flask import Blueprint, render_template, request

from .. import services
from ..adobe import AdobeError
from ..sources import SOURCES
from ..sources.described import label_of
from ..together import side_by_side
from ..watch import board, health
from ..watch.watcher import FIRST_LOOK_MS
from . import permissions
from .dataflow_actions import writable

bp = Blueprint("dataflow_list", __name__)
log = logging.getLogger(__name__)
DAY_MS = 86_400_000


def source_names(specs: list[dict] | None = None) -> dict[str, str]:
    """Connection spec id → a source's name, for the sources the portal offers and those Flow Service publishes
    (`specs`, the database specs, when already read)."""
    names = {source.connection_spec_id: source.title for source in SOURCES.values()}
    if specs is None:
        specs, _problem = services.spec_catalog().database_specs()
    for spec in specs:
        names.setdefault(spec["id"], label_of(spec))
    return names


@bp.get("/dataflows")
def index():
    """Every dataflow the person may view, with its health; filters, sort and paging in the query string."""
    permissions.require("view")
    sandboxes = permissions.sandboxes_for("view")
    chosen = (request.args.get("sandbox") or "").strip()
    read_from = [chosen] if chosen in sandboxes else list(sandboxes)
    found = read_board(read_from)
    rows, problems, now, names = found.rows, found.problems, found.now, found.names
    filters = board.Filters.of(request.args, sandboxes, names)
    summary = board.summary(rows, read_from)
    shown = board.keep(rows, filters)
    page, following = board.page_of(shown, request.args.get("next"))
    return render_template(
        "dataflows.html",
        rows=page,
        total=len(shown),
        all_count=len(rows),
        filters=filters,
        summary=summary,
        sandboxes=sandboxes,
        sources=sorted(
            {row.source_spec: row.source for row in rows if row.source_spec}.items(), key=lambda item: item[1].lower()
        ),
        next_token=following,
        first_page=bool(request.args.get("next")),
        problems=problems,
        health_words=health.HEALTH_WORDS,
        now=now,
    )


@dataclasses.dataclass
class Board:
    rows: list[board.Row]
    problems: list[str]
    now: float
    names: dict[str, str]


def read_board(read_from: list[str]) -> Board:
    """Every dataflow of the sandboxes with its health, as the dataflows page and the API list them.

    One wait on Adobe: the specs (kept once read), and each sandbox's flows and runs, side by side. The runs read are
    kept as the watcher would keep them."""
    store = services.store()
    dataflows = services.dataflows()
    cursors = {sandbox: store.watch.cursor(sandbox) for sandbox in read_from}
    now_ms = int(time.time() * 1000)
    # One wait: the specs (kept once read), and each sandbox's flows and runs, side by side.
    calls: list = [lambda: services.spec_catalog().database_specs()[0]]
    for sandbox in read_from:
        since = cursors[sandbox] if cursors[sandbox] is not None else now_ms - FIRST_LOOK_MS
        calls += [lambda s=sandbox: dataflows.sandbox_flows(s), lambda s=sandbox, t=since: dataflows.sandbox_runs(s, t)]
    specs, *reads = side_by_side(calls)
    names = source_names([] if isinstance(specs, Exception) else specs)
    problems, flows, clock_ms = [], [], None
    for index_, sandbox in enumerate(read_from):
        listed, runs = reads[2 * index_], reads[2 * index_ + 1]
        for read in (listed, runs):
            if isinstance(read, Exception) and not isinstance(read, AdobeError):
                raise read
        if isinstance(listed, AdobeError):
            problems.append(f"Sandbox {sandbox}: {listed.message}")
            continue
        clock_ms = clock_ms or listed.clock_ms
        if not listed.complete:
            problems.append(
                f"Sandbox {sandbox} has more dataflows than one page of this list reads; the newest are shown."
            )
        if isinstance(runs, AdobeError):
            problems.append(f"Sandbox {sandbox}: {runs.message} Health is as of the last watch.")
        else:
            # Kept as the watcher would keep them (told about by the watcher, unless it has never read this sandbox).
            store.watch.keep_runs(
                [row for row in (health.run_row(run, sandbox) for run in runs.items) if row],
                noticed=cursors[sandbox] is None,
            )
        flows += [(sandbox, flow) for flow in listed.items if isinstance(flow.get("id"), str)]
    now = (clock_ms or now_ms) / 1000
    kept = store.watch.health(read_from, int(now * 1000) - DAY_MS)
    newest = store.watch.newest(read_from)
    made = store.drafts.made_flows(read_from)
    rows = [
        board.row_of(
            flow,
            sandbox,
            now,
            kept.get(flow["id"]) or {},
            newest.get(flow["id"]) or {},
            made.get(flow["id"]) or {},
            names,
            writable,
        )
        for sandbox, flow in flows
    ]
    return Board(rows, problems, now, names)
