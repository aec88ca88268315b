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
    "test": "Test alert from AEP Source Wizard",
}


def link(public_url: str, said: dict) -> str | None:
    """The dataflow's page in the portal."""
    flow_id = (said.get("dataflow") or {}).get("id")
    if not flow_id:
        return None
    query = urlencode({"sandbox": said["sandbox"]})
    return f"{public_url.rstrip('/')}/dataflows/{quote(str(flow_id), safe='')}?{query}"


def summary(said: dict) -> str:
    """One paragraph: what happened, where, the counts and the error codes."""
    flow = said.get("dataflow") or {}
    parts = [
        f"{HEADLINES.get(said['kind'], said['kind'])}: {flow.get('name') or flow.get('id') or 'a dataflow'}"
        f" in sandbox {said['sandbox']}."
    ]
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
        "dataflow": {**(said.get("dataflow") or {}), "url": link(public_url, said)},
        "run": said.get("run"),
        "lateSince": said.get("lateSince"),
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
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open the dataflow>"}]})
    return {"text": text, "blocks": blocks}


def _slack_escape(text: str) -> str:
    # Slack's formatting: &, < and > are written as entities, so a dataflow's name cannot make a link or a mention.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def email_text(said: dict, public_url: str) -> tuple[str, str]:
    """(subject, body) of an alert email."""
    flow = said.get("dataflow") or {}
    subject = (
        f"[AEP] {HEADLINES.get(said['kind'], said['kind'])}: {flow.get('name') or flow.get('id') or ''} "
        f"({said['sandbox']})"
    )
    url = link(public_url, said)
    body = summary(said) + (f"\n\nOpen the dataflow: {url}\n" if url else "\n")
    return subject.replace("\r", " ").replace("\n", " ")[:200], body
