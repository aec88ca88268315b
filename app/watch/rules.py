"""Events and the alert rules they match: the kinds of event, an event's id (what makes it once), what it says, and
`Events.tell`, which makes an event with one delivery per matching rule."""

from __future__ import annotations

import datetime
import hashlib

from .health import items, part

# The events a rule may ask for, in the words the Alerts page uses.
KINDS = {
    "failed": "A run failed",
    "partial": "A run ingested only part of its records",
    "late": "No run came when one was due (late)",
    "recovered": "Runs succeed again after a failure or lateness",
    "disabled": "The dataflow was disabled",
    # About a connection (app/web/owner.py, and the watcher's round): a rule for one dataflow never matches them.
    "credentials-entered": "A database owner typed a connection's credentials, through a credential link",
    "credentials-expiring": "A connection's credentials expire within a week, as its owner said",
}
# The events about a connection rather than a dataflow.
CONNECTION_KINDS = ("credentials-entered", "credentials-expiring")
# A test sent from the Alerts page: matched by its own rule only.
TEST = "test"


def event_id(kind: str, *what: str) -> str:
    """The id of the event `kind` about `what` (a run, a dataflow and an episode): the same happening, wherever it is
    seen from (a watcher round, another replica, Adobe's push), is the same event."""
    return hashlib.sha256("\x1f".join((kind, *what)).encode()).hexdigest()[:40]


def source_spec(flow: dict) -> str | None:
    """The connection spec of the source a dataflow reads, as its inheritedAttributes say."""
    inherited = part(flow, "inheritedAttributes")
    sources = items(inherited, "sourceConnections")
    spec = sources[0].get("connectionSpec") if sources and isinstance(sources[0], dict) else None
    return spec.get("id") if isinstance(spec, dict) and isinstance(spec.get("id"), str) else None


def matches(rule: dict, kind: str, sandbox: str, flow_id: str | None, source: str | None) -> bool:
    """Whether an event of `kind` about this dataflow is one `rule` asks for."""
    if kind == TEST or kind not in rule["events"]:
        return False
    if rule["sandbox"] not in ("*", sandbox):
        return False
    if rule.get("flow_id") and rule["flow_id"] != flow_id:
        return False
    # A rule for one source matches only dataflows known to read it (our choice: an unknown source is not guessed).
    return not rule.get("source") or rule["source"] == source


def iso(ms: float | None) -> str | None:
    if not ms:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(
    kind: str,
    sandbox: str,
    flow: dict,
    run: dict | None = None,
    late_since: float | None = None,
    errors: list[dict] | None = None,
) -> dict:
    """What an event says, kept with it (never a secret: names, ids, counts and Adobe's error codes)."""
    said: dict = {
        "kind": kind,
        "sandbox": sandbox,
        "dataflow": {"id": flow.get("id"), "name": flow.get("name"), "source": source_spec(flow)},
    }
    if run:
        said["run"] = {
            "id": run["run_id"],
            "status": run["status"],
            "startedAt": iso(run.get("created_ms")),
            "recordsRead": run.get("records_read"),
            "recordsWritten": run.get("records_written"),
            "recordsFailed": run.get("records_failed"),
            "errors": [{"code": e["code"][:64], "message": e["message"][:300]} for e in errors or []][:10],
        }
    if late_since is not None:
        said["lateSince"] = iso(late_since * 1000)
    return said


class Events:
    """Makes events, each once, with a delivery for every rule that matches (app/store/alerts.py)."""

    def __init__(self, store):
        self._store = store

    def tell(
        self,
        kind: str,
        key: tuple[str, ...],
        sandbox: str,
        flow: dict,
        said: dict,
        origin: str,
        run_id: str | None = None,
    ) -> bool:
        """Make the event `kind` about `key`, unless it was made already: True when this call made it."""
        source = source_spec(flow)
        rule_ids = [
            rule["id"] for rule in self._store.alerts.rules() if matches(rule, kind, sandbox, flow.get("id"), source)
        ]
        return self._store.alerts.add_event(
            event_id(kind, *key), kind, sandbox, said, origin, rule_ids, flow_id=flow.get("id"), run_id=run_id
        )

    def tell_about_connection(self, kind: str, key: tuple[str, ...], sandbox: str, connection: dict, **more) -> bool:
        """Make the event `kind` about a connection ({id, name, source: its connection spec}), once for `key`."""
        said = {"kind": kind, "sandbox": sandbox, "connection": connection, **more}
        rule_ids = [
            rule["id"]
            for rule in self._store.alerts.rules()
            if matches(rule, kind, sandbox, None, connection.get("source"))
        ]
        return self._store.alerts.add_event(event_id(kind, *key), kind, sandbox, said, "portal", rule_ids)
