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

from .connection_string import URI, ConnectionStringError, read_pairs, read_pasted, split_uri

# Params Flow Service marks "format": "password" in the curated sources' authSpecs.
SECRET_PARAMS = frozenset({"password", "connectionString"})
# Names whose values are secrets, as a param or a key inside a connection string: pwd and pw, pass (password,
# passphrase), secret, token, key, credential, sig (signature), sas, jwt, bearer, cookie, otp, and auth but for the
# names of a mechanism (AuthMech, authSource, authType, Authentication…).
SECRET_KEY = re.compile(
    r"pw|pass|secret|token|key|credential|sig|sas|jwt|bearer|cookie|otp|auth(?!mech|source|type|entication)", re.I
)
# Fixed, whatever the secret: a mask must not tell how long the secret is.
MASK = "•••••••• (hidden)"
# A key shown beside a masked secret: a plain name (letters, digits, space, _ . -); anything else may be part of one.
PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9 _.-]*")
# A value that may hold a secret of its own: a pair inside it, or user info (user:password@, with a scheme or not).
HOLDS_A_SECRET = re.compile(r"=|:[^@]*@")
# Oracle's thin JDBC form, user/password@ after the driver's name.
ORACLE_THIN = re.compile(r"jdbc:oracle:[a-z]+:[^/@]*/([^@]+)@", re.I)


def is_secret_key(key: str) -> bool:
    """Whether a name (a param's, or a key's inside a connection string) names a secret: over-redacting is the safe
    mistake."""
    return bool(SECRET_KEY.search(key))


def is_secret_param(name: str, secret_names) -> bool:
    """The one rule for a param, used by pages, curl, the audit, exports and logs: its source marks it secret, Flow
    Service marks it secret for every curated source, or its name looks secret."""
    return name in secret_names or name in SECRET_PARAMS or is_secret_key(name)


def placeholder(name: str) -> str:
    """`password` → {PASSWORD}, `privateKey` → {PRIVATE_KEY}, `KeyStorePassword` → {KEY_STORE_PASSWORD}."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
    return "{" + re.sub(r"[^A-Z0-9]+", "_", words).strip("_") + "}"


def key_placeholder(key: str) -> str:
    """A connection-string key's placeholder: {PASSWORD} for PWD (and Password), else named after the key."""
    return "{PASSWORD}" if key.lower() == "pwd" else placeholder(key)


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
    libpq's form, a typo), it holds no secret key, or a key shown is not a plain name or a value shown could hold a
    secret of its own."""
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
        elif not PLAIN_KEY.fullmatch(key) or HOLDS_A_SECRET.search(value):
            return None
    return "".join(shown) + text[last:]


def redacted_params(params: dict, secret_names) -> dict:
    """`params` with every secret param redacted."""
    return {
        name: redact_param(name, value) if is_secret_param(name, secret_names) else value
        for name, value in params.items()
    }


def secret_values(params: dict, secret_names) -> list[str]:
    """Every secret in `params`: each secret param, and inside a connection string (pairs, libpq's or a URI) each
    secret key's value, as read and, in a URI, as written (percent-encoded)."""
    values = []
    for name, value in params.items():
        if is_secret_param(name, secret_names) and isinstance(value, str) and value:
            values.append(value)
            if name == "connectionString":
                values.extend(_string_secrets(value))
    return values


def _string_secrets(text: str) -> list[str]:
    """The secret keys' values of a connection string however it reads: as Flow Service reads it and as pasted."""
    return list(dict.fromkeys([*_secrets_as_sent(text), *_secrets_as_pasted(text)]))


def _secrets_as_sent(text: str) -> list[str]:
    """As Flow Service reads key=value pairs: each secret value as read, trimmed, and as the string carries it. A URI
    is not such pairs."""
    try:
        pairs = [] if URI.match(text.strip()) else read_pairs(text)
    except ConnectionStringError:
        return []
    return [
        shape
        for key, value, where in pairs
        if is_secret_key(key) and value.strip()
        for shape in (value, value.strip(), text[where])
    ]


def _secrets_as_pasted(text: str) -> list[str]:
    """As pasted: libpq's form or a URI read into pairs; a URI's password and secret query values also as written
    (percent-encoded); the password of Oracle's thin form."""
    try:
        found = [value for key, value in read_pasted(text)[1].items() if is_secret_key(key) and value]
    except ConnectionStringError:
        found = []
    text = text.strip()
    if URI.match(text):
        parts, _ = split_uri(text)
        written = (
            value for key, _, value in (pair.partition("=") for pair in parts.query.split("&")) if is_secret_key(key)
        )
        found += [parts.password or "", *written]
    oracle = ORACLE_THIN.match(text)
    if oracle:
        found.append(oracle.group(1))
    return [value for value in found if value]


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
        if is_secret_param(name, secret_names) or (isinstance(value, str) and set(value) == {"*"}):
            value = _shown_string(value) if name == "connectionString" and isinstance(value, str) else MASK
        shown.append((name, "true" if value is True else "false" if value is False else str(value)))
    return shown
