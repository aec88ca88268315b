"""Everything about which values are secret, and how they are hidden: one place, so no page or log forgets one.

- Which params are secret: what an authSpec marks `"format": "password"` (`SECRET_PARAMS` for the
  curated sources), and inside a connection string every key that looks like a secret
  (`PWD`, `Password`, `KeyStorePassword`, `…Token`, `…Key`, `…Secret`).
- Redaction, for the request shown as curl: each secret becomes a placeholder such as
  `{PASSWORD}`; putting the secret back where its placeholder stands gives exactly what
  Flow Service received (in a connection string, the value as the string carries it).
- Masking, for a connection read back from Flow Service: a fixed mask whatever the length.
- A connection string is shown (masked or redacted) with its other parts only when it reads
  cleanly as Flow Service's key=value pairs, holds a secret key, and no value shown could hold a
  secret of its own; otherwise it is hidden whole (`_secrets_replaced`, one rule for both).
- The values themselves (`secret_values`), so that logs can scrub them and Adobe's text that
  repeats one is withheld (`app.logs`, `app.adobe.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from .connection_string import URI, ConnectionStringError, read_pairs, read_pasted

# Params Flow Service marks "format": "password" in the curated sources' authSpecs.
SECRET_PARAMS = frozenset({"password", "connectionString"})
# Keys inside a connection string whose values are secrets: passwords, keys, tokens, secrets.
SECRET_KEY = re.compile(r"(pwd|pass|secret|token|key|credential|signature|sas)", re.I)
# Fixed, whatever the secret: a mask must not tell how long the secret is.
MASK = "•••••••• (hidden)"
# A value that may hold a secret of its own: a pair inside it, or a URI's user info.
HOLDS_A_SECRET = re.compile(r"=|://[^/?#]*@")


def is_secret_key(key: str) -> bool:
    """Whether a connection-string key names a secret (over-redacting is the safe mistake)."""
    return bool(SECRET_KEY.search(key))


def placeholder(name: str) -> str:
    """`password` → {PASSWORD}, `privateKey` → {PRIVATE_KEY}, `KeyStorePassword` → {KEY_STORE_PASSWORD}."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
    return "{" + re.sub(r"[^A-Z0-9]+", "_", words).strip("_") + "}"


def key_placeholder(key: str) -> str:
    """A connection-string key's placeholder: {PASSWORD} for PWD and Password, else named after the key."""
    return "{PASSWORD}" if key.lower() in ("pwd", "password") else placeholder(key)


def redact_param(name: str, value) -> str:
    """A secret param's placeholder; a connection string keeps its structure with each secret's placeholder.

    In a connection string the placeholder stands for the value as the string carries it (wrapped in
    braces, `}` doubled, when it holds ; { } = or edge spaces), so that putting it back is exact.
    """
    if name != "connectionString" or not isinstance(value, str):
        return placeholder(name)
    redacted = _secrets_replaced(value, key_placeholder)
    return "{CONNECTION_STRING}" if redacted is None else redacted


def _secrets_replaced(text: str, replacement: Callable[[str], str]) -> str | None:
    """A connection string exactly as written, each secret key's value (as the string carries it) replaced by
    `replacement(key)`; None when it must be hidden whole: it does not read as Flow Service's key=value pairs (a URI,
    libpq's form, a typo), it holds no secret key, or a value shown could hold a secret of its own."""
    if URI.match(text.strip()):
        return None
    try:
        pairs = read_pairs(text)
    except ConnectionStringError:
        return None
    if not any(is_secret_key(key) for key, _, _ in pairs):
        return None
    shown, last = [], 0
    for key, value, where in pairs:
        if is_secret_key(key):
            shown += [text[last : where.start], replacement(key)]
            last = where.stop
        elif HOLDS_A_SECRET.search(value):
            return None
    return "".join(shown) + text[last:]


def redacted_params(params: dict, secret_names) -> dict:
    """`params` with every secret param redacted."""
    return {name: redact_param(name, value) if name in secret_names else value for name, value in params.items()}


def secret_values(params: dict, secret_names) -> list[str]:
    """Every secret in `params`: each secret param, and inside a connection string (pairs, libpq's or a URI) each
    secret key's value, as read and, in a URI, as written (percent-encoded)."""
    values = []
    for name, value in params.items():
        if name in secret_names and isinstance(value, str) and value:
            values.append(value)
            if name == "connectionString":
                values.extend(_string_secrets(value))
    return values


def _string_secrets(text: str) -> list[str]:
    """The secret keys' values of a connection string however it reads: as Flow Service reads it (key=value pairs,
    each value as read and as the string carries it, in braces) and as pasted (libpq's form, or a URI, whose password
    is also taken as written)."""
    found = []
    try:
        found += [
            shape
            for key, value, where in read_pairs(text)
            if is_secret_key(key) and value
            for shape in (value, text[where])
        ]
    except ConnectionStringError:
        pass
    try:
        found += [value for key, value in read_pasted(text)[1].items() if is_secret_key(key) and value]
    except ConnectionStringError:
        pass
    written = urlsplit(text.strip().removeprefix("jdbc:")).password if URI.match(text.strip()) else None
    return list(dict.fromkeys(found + ([written] if written else [])))


def _shown_string(text: str) -> str:
    """A connection string fit to show: each secret masked where it stands, or masked whole (`_secrets_replaced`)."""
    shown = _secrets_replaced(text, lambda key: MASK)
    return MASK if shown is None else shown


def masked_params(params: dict, secret_names=SECRET_PARAMS, order=()) -> list[tuple[str, str]]:
    """Auth params fit to show: secrets masked, a connection string keeping all but its secrets.

    They come in `order` (the source's own, as its spec lists them), then any others by name.
    """
    rank = {name: index for index, name in enumerate(order)}
    shown = []
    for name, value in sorted((params or {}).items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])):
        secret = name in secret_names or name in SECRET_PARAMS or is_secret_key(name)
        if secret or (isinstance(value, str) and set(value) == {"*"}):
            value = _shown_string(value) if name == "connectionString" and isinstance(value, str) else MASK
        shown.append((name, "true" if value is True else "false" if value is False else str(value)))
    return shown
