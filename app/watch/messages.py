"""What an alert says, per channel: the webhook's JSON, Slack's message (text and blocks, Slack's incoming-webhook
format), and an email's subject and text. Each says what happened, to which dataflow in which sandbox, the run's
counts and Adobe's error codes, and links to the dataflow's page."""

from __future__ import annotations

from urllib.parse import quote, urlencode

HEADLINES = {
    "failed": "Dataflow run failed",
    "partial": "Dataflow run ingested only part of its records",
    "late": "Dataflow is late: no run since one was due",
    "recovered": "Dataflow runs again",
    "disabled": "Dataflow was disabled",
    "credentials-entered": "A database owner typed a connection's credentials",
    "credentials-expiring": "A connection's credentials expire soon",
    "test": "Test alert from AEP Source Wizard",
}


def link(public_url: str, said: dict) -> str | None:
    """The page in the portal of the dataflow (or connection) the event is about."""
    kind, found = ("connections", said["connection"]) if said.get("connection") else ("dataflows", said.get("dataflow"))
    object_id = (found or {}).get("id")
    if not object_id:
        return None
    query = urlencode({"sandbox": said["sandbox"]})
    return f"{public_url.rstrip('/')}/{kind}/{quote(str(object_id), safe='')}?{query}"


def _about(said: dict) -> str:
    """The dataflow's (or connection's) name, as an alert names it."""
    if said.get("connection"):
        connection = said["connection"]
        return f"connection {connection.get('name') or connection.get('id')}"
    flow = said.get("dataflow") or {}
    return flow.get("name") or flow.get("id") or "a dataflow"


def _open(said: dict) -> str:
    return "Open the connection" if said.get("connection") else "Open the dataflow"


def summary(said: dict) -> str:
    """One paragraph: what happened, where, the counts and the error codes."""
    parts = [f"{HEADLINES.get(said['kind'], said['kind'])}: {_about(said)} in sandbox {said['sandbox']}."]
    run = said.get("run")
    if run:
        parts.append(
            f"Run {run['id']} ({run['status']}, started {run.get('startedAt') or 'at an unknown time'}): "
            f"{run.get('recordsRead') or 0} records read, {run.get('recordsWritten') or 0} written, "
            f"{run.get('recordsFailed') or 0} failed."
        )
        codes = [e["code"] for e in run.get("errors") or [] if e.get("code")]
        if codes:
            parts.append("Adobe's errors: " + ", ".join(codes) + ".")
    if said.get("expiresAt"):
        parts.append(f"Its owner said they expire at {said['expiresAt']}: rotate them, or send the owner a link.")
    if said.get("requestedBy"):
        parts.append(f"Asked for by {said['requestedBy']}; the test right after: {said.get('test') or 'not run'}.")
    if said.get("lateSince"):
        parts.append(f"A run was due at {said['lateSince']} and none has come.")
    if said["kind"] == "test":
        parts = ["Test alert from AEP Source Wizard: this rule's destination works."]
    return " ".join(parts)


def webhook_json(event: dict, said: dict, public_url: str) -> dict:
    created = event["created_at"]
    created = created.isoformat() if hasattr(created, "isoformat") else str(created)
    return {
        "id": event["id"],
        "type": said["kind"],
        "createdAt": created,
        "summary": summary(said),
        "sandbox": said["sandbox"],
        "dataflow": {**(said.get("dataflow") or {}), "url": link(public_url, said)} if "dataflow" in said else None,
        "connection": {**said["connection"], "url": link(public_url, said)} if said.get("connection") else None,
        "run": said.get("run"),
        "lateSince": said.get("lateSince"),
        **{key: said[key] for key in ("expiresAt", "requestedBy", "test") if key in said},
    }


def slack_json(said: dict, public_url: str) -> dict:
    """Slack's incoming-webhook message: `text` (the notification's fallback) and Block Kit blocks."""
    text = summary(said)
    url = link(public_url, said)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": HEADLINES.get(said["kind"], said["kind"])[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)[:3000]}},
    ]
    if url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|{_open(said)}>"}]})
    return {"text": text, "blocks": blocks}


def _slack_escape(text: str) -> str:
    # Slack's formatting: &, < and > are written as entities, so a dataflow's name cannot make a link or a mention.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def email_text(said: dict, public_url: str) -> tuple[str, str]:
    """(subject, body) of an alert email."""
    subject = f"[AEP] {HEADLINES.get(said['kind'], said['kind'])}: {_about(said)} ({said['sandbox']})"
    url = link(public_url, said)
    body = summary(said) + (f"\n\n{_open(said)}: {url}\n" if url else "\n")
    return subject.replace("\r", " ").replace("\n", " ")[:200], body
