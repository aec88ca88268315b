"""How a connection spec Flow Service publishes reads to a person: its label, a one-line summary, and what each of its
authSpecs asks for."""

from __future__ import annotations

from .generic import param_label


def label_of(spec: dict) -> str:
    return (spec.get("attributes") or {}).get("connectorName") or spec.get("name") or spec.get("id", "")


def summary_of(spec: dict) -> str:
    """A short line for the picker's card: the spec's own description, or how the source connects."""
    text = str(spec.get("description") or "").strip()
    if text:
        return text if len(text) <= 140 else text[: text.rfind(" ", 0, 137)].rstrip(",;:") + "…"
    names = [str(a.get("name")) for a in spec.get("authSpec") or [] if a.get("name")]
    return "Connect with " + " or ".join(names) + "." if names else ""


def describe_auth(auth_spec: dict) -> str:
    """What choosing this authSpec asks of the person, in words (the spec's own text is often the same for all)."""
    schema = auth_spec.get("spec") or {}
    properties = schema.get("properties") or {}
    required = [n for n in schema.get("required") or properties if n in properties]
    if list(properties) == ["connectionString"]:
        shape = str(properties["connectionString"].get("description") or "")
        shape = shape.split(":", 1)[1].strip() if ":" in shape else ""
        return (
            "Paste one connection string"
            + (f", shaped like {shape}" if shape else "")
            + ". It holds the password, so it is never shown again."
        )
    labels = [param_label(n) for n in required]
    words = [label if label.split(" ", 1)[0].isupper() else label[:1].lower() + label[1:] for label in labels]
    listed = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
    return f"Fill in the {listed} one by one." if listed else "Fill in the fields the source asks for."
