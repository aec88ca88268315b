"""A dataflow's chain, made exactly once: the requests a plan sends, and the steps that send them.

The chain is Adobe's tutorial's: a source connection (the table), a target connection (the dataset), a mapping
set, then the flow that joins them. The first three depend on nothing but the plan, so they are sent side by
side; the flow waits for their ids. Each id goes to the store the moment Adobe gives it, under the draft's key,
so a second submit, another worker or a retry after a stop carries on with the same objects. A create whose
answer was lost is never sent again blindly: the object is looked up first, by the marker each description holds.
"""

from __future__ import annotations

import dataclasses

from ..adobe import AdobeError
from ..adobe.bodies import flow_body, source_connection_body, target_connection_body
from ..adobe.data_prep import mapping_set
from ..adobe.gateway import DATA_PREP, FLOW_SERVICE, Service
from ..together import side_by_side
from .draft import Draft
from .mapping import mapping_rows

# How long one request may hold a chain before another may take it over (our choice: longer than any
# request's timeouts, retries included).
LEASE_SECONDS = 120
# Placeholders for ids that exist only once the chain is made, as the review page shows the requests.
PLACEHOLDERS = {
    "source_id": "{SOURCE_CONNECTION_ID}",
    "target_id": "{TARGET_CONNECTION_ID}",
    "mapping_id": "{MAPPING_SET_ID}",
}


@dataclasses.dataclass(frozen=True)
class Step:
    """One object of the chain: the store column its id goes to, what it is, and the request that makes it."""

    column: str
    what: str
    method: str
    service: Service
    path: str
    body: dict


class Stopped(Exception):
    """The chain stopped at a step: what to tell the person. Every object made so far is in the store."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id


def marker(key: str) -> str:
    """The description each object of a draft's chain carries: how a lost answer's object is found again."""
    return f"Made by AEP Source Wizard for dataflow draft {key[:16]}"


def names(draft: Draft) -> dict[str, str]:
    """The names of the chain's objects: each distinct per draft, so that a look-up finds this draft's only."""
    plan, tag = draft.plan, draft.key[:8]
    return {
        "source_id": f"{plan['table']} source (wizard {tag})",
        "target_id": f"{plan['dataset']['name']} target (wizard {tag})",
        "mapping_id": f"wizard-{tag}-mapping",
        "flow_id": plan["schedule"]["name"],
    }


def steps(draft: Draft, flow_spec: dict, ids: dict | None = None) -> list[Step]:
    """The four requests, in order; the flow's body names the other three ids (placeholders until known)."""
    plan = draft.plan
    ids = {**PLACEHOLDERS, **{k: v for k, v in (ids or {}).items() if v}}
    called, described = names(draft), marker(draft.key)
    schedule = plan["schedule"]
    delta_kind = next((c["kind"] for c in plan["columns"] if c["name"] == schedule["delta_column"]), "date-time")
    source = source_connection_body(
        called["source_id"], described, draft.connection_id, plan["spec_id"], plan["table"], plan["columns"]
    )
    target = target_connection_body(called["target_id"], described, plan["schema"]["id"], plan["dataset"]["id"])
    mapping = mapping_set(called["mapping_id"], plan["schema"]["id"], mapping_rows(plan))
    flow = flow_body(
        called["flow_id"],
        described,
        flow_spec,
        ids["source_id"],
        ids["target_id"],
        ids["mapping_id"],
        start=schedule["start"],
        frequency=schedule["frequency"],
        interval=schedule.get("interval"),
        backfill=schedule.get("backfill", False),
        delta_column=schedule["delta_column"],
        delta_kind=delta_kind,
        error_diagnostics=bool(schedule.get("error_diagnostics")),
        partial_percent=schedule.get("partial_percent"),
    )
    return [
        Step("source_id", "source connection", "POST", FLOW_SERVICE, "/sourceConnections", source),
        Step("target_id", "target connection", "POST", FLOW_SERVICE, "/targetConnections", target),
        Step("mapping_id", "mapping set", "POST", DATA_PREP, "/mappingSets", mapping),
        Step("flow_id", "dataflow", "POST", FLOW_SERVICE, "/flows", flow),
    ]


class Chain:
    """Makes a draft's chain with the given clients and store; `create` and `remove` are each safe to repeat."""

    def __init__(self, dataflows, data_prep, store):
        self._dataflows, self._data_prep, self._store = dataflows, data_prep, store

    def create(self, draft: Draft, flow_spec: dict, resumed: bool = False) -> str:
        """Make what is missing of the chain; the flow's id. Raises Stopped, with every made id stored.

        `resumed`: an earlier attempt stopped (or its request died) with some step unconfirmed, so each missing
        object is looked up before it is sent: an answer lost then may have made it."""
        ids = draft.made
        if ids["flow_id"]:
            return ids["flow_id"]
        first = [s for s in steps(draft, flow_spec, ids)[:3] if not ids[s.column]]
        outcomes = side_by_side(lambda s=s: self._make(draft, s, look_first=resumed) for s in first)
        stops = []
        for step, outcome in zip(first, outcomes, strict=True):
            if isinstance(outcome, Stopped):
                stops.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                ids[step.column] = outcome
        if stops:
            raise Stopped(" ".join(s.message for s in stops), stops[0].request_id)
        flow = steps(draft, flow_spec, ids)[3]
        return self._make(draft, flow, narrowed=[f"sourceConnectionIds[]=={ids['source_id']}"], look_first=resumed)

    def recover(self, draft: Draft, flow_spec: dict) -> dict[str, str | None]:
        """Look up, and record, each object of the chain that Adobe may have made while no one recorded it (the
        request making it died), without sending any create; the ids known after. Raises Stopped when a look-up
        fails."""
        ids = draft.made
        for step in steps(draft, flow_spec, ids):
            if ids[step.column]:
                continue
            narrowed = (
                [f"sourceConnectionIds[]=={ids['source_id']}"] if step.column == "flow_id" and ids["source_id"] else []
            )
            found = self._look_up(draft, step, narrowed)
            if found is not None:
                self._store.drafts.made(draft.key, step.column, found)
                ids[step.column] = found
        return ids

    def remove(self, draft: Draft) -> list[str]:
        """Delete what the chain made, the flow first (Flow Service's order); what was deleted, in words.
        Data Prep documents no way to delete a mapping set, so one made stays (it does nothing on its own)."""
        done = []
        for column, kind in (
            ("flow_id", "flows"),
            ("target_id", "targetConnections"),
            ("source_id", "sourceConnections"),
        ):
            if getattr(draft, column):
                try:
                    self._dataflows.delete(draft.sandbox, kind, getattr(draft, column))
                except AdobeError as error:
                    raise Stopped(error.message, error.request_id) from None
                self._store.drafts.made(draft.key, column, None)
                done.append(f"{kind[:-1]} {getattr(draft, column)}")
        return done

    def _make(self, draft: Draft, step: Step, narrowed=(), look_first: bool = False) -> str:
        sandbox, key = draft.sandbox, draft.key
        if look_first:
            found = self._look_up(draft, step, narrowed)
            if found is not None:
                self._store.drafts.made(key, step.column, found)
                return found
        try:
            if step.column == "mapping_id":
                made = self._data_prep.create(sandbox, step.body)
            else:
                made = self._dataflows.create(sandbox, step.path.strip("/"), step.body)
        except AdobeError as error:
            if not _maybe_made(error):
                raise Stopped(f"The {step.what} was not created: {error.message}", error.request_id) from None
            found = self._look_up(draft, step, narrowed)
            if found is None:
                raise Stopped(
                    f"The {step.what} is unconfirmed: {error.message} The wizard looked for it and found "
                    "none, so it was not made; continue to try again.",
                    error.request_id,
                ) from None
            self._store.drafts.made(key, step.column, found)
            return found
        self._store.drafts.made(key, step.column, made.id)
        return made.id

    def _look_up(self, draft: Draft, step: Step, narrowed) -> str | None:
        try:
            if step.column == "mapping_id":
                return self._data_prep.find(draft.sandbox, step.body["name"])
            return self._dataflows.find(
                draft.sandbox, step.path.strip("/"), step.body["name"], step.body["description"], narrowed
            )
        except AdobeError as error:
            raise Stopped(
                f"The {step.what} is unconfirmed, and looking for it failed too: {error.message} "
                "Continue once Adobe answers again; it will be looked for before anything is sent.",
                error.request_id,
            ) from None


def _maybe_made(error: AdobeError) -> bool:
    """Whether a failed create may still have made its object: no whole answer, or Adobe's own failure."""
    return error.maybe_done
