"""One JSON line per event on stdout, with the request id, and never a secret.

Every record is scrubbed as it is made of the secrets the portal knows of (the
client secret, each access token, and whatever the current request registered,
such as a database password): its message, each extra field, its stack and any
traceback, so that every handler sees it clean, a deployment's own included.
`JsonFormatter` scrubs its whole line once more, in each shape a JSON line can
carry a secret. A last line of defence behind code that does not log secrets to
begin with.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import weakref
from functools import partial
from urllib.parse import quote, quote_plus

from flask import Flask, g, has_request_context, request
from gunicorn import glogging

REDACTED = "[redacted]"
# A credential link's token (app/store/credential_links.py: aswl_ then 43 characters), wherever it stands: in a path
# that gunicorn's access log or a proxy's error quotes, before any request has registered it.
LINK_TOKEN = re.compile(r"aswl_[A-Za-z0-9_-]{20,}")
# An id a proxy in front may hand us; anything else is replaced by our own.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# What no escaping or percent-encoding changes.
PLAIN = re.compile(r"^[A-Za-z0-9._~-]*$")
# A JSON line: any text as it is (not as \u escapes), anything else as its text.
JSON = json.JSONEncoder(ensure_ascii=False, default=str)
# JSON as most libraries write it, with \u escapes.
ASCII_JSON = json.JSONEncoder()
# How a URL carries a text: percent-encoded whole (a query's value), in a path (“/” kept), in a form (space as “+”).
PERCENT_ENCODINGS = (partial(quote, safe=""), quote, quote_plus)
# The shortest secret the scrubber replaces (see SecretRegistry.scrub).
SCRUBBED_FROM = 4


def shapes_of(secret: str) -> frozenset[str]:
    """A secret as a log line may carry it: raw, JSON-escaped (a JSON line's fields, with or without \\u escapes), as
    Python's repr (a traceback that quotes it), the repr JSON-escaped, percent-encoded (a URL's path, query or form)
    and as the repr of its UTF-8 bytes. Not cached: no secret outlives its use."""
    if PLAIN.match(secret):  # tokens and most passwords: every shape is the secret itself
        return frozenset((secret,))
    quoted = repr(secret)[1:-1]
    return frozenset(
        {
            secret,
            JSON.encode(secret)[1:-1],
            ASCII_JSON.encode(secret)[1:-1],
            quoted,
            JSON.encode(quoted)[1:-1],
            repr(secret.encode())[2:-1],
            *(encode(secret) for encode in PERCENT_ENCODINGS),
        }
    )


class SecretRegistry:
    """Secrets that must never be written out: the portal's own, recent tokens, and the current request's."""

    # Tokens expire within a day; keep the most recent ones only.
    TOKENS_KEPT = 64

    def __init__(self):
        self._lock = threading.Lock()
        # The client secret and the secret key: never forgotten, however many tokens come and go.
        self._permanent: set[str] = set()
        self._tokens: dict[str, None] = {}

    def add_permanent(self, *values: str) -> None:
        with self._lock:
            self._permanent.update(v for v in values if v)

    def add(self, *values: str) -> None:
        """Remember tokens; the oldest are forgotten past TOKENS_KEPT."""
        with self._lock:
            self._tokens.update(dict.fromkeys(filter(None, values)))
            while len(self._tokens) > self.TOKENS_KEPT:
                self._tokens.pop(next(iter(self._tokens)))

    def add_for_request(self, *values: str) -> None:
        """Secrets the current request carries (typed passwords): known until the request ends."""
        if has_request_context():
            g.setdefault("log_secrets", set()).update(v for v in values if v)

    def known(self) -> list[str]:
        """Every secret known now, longest first."""
        with self._lock:
            known = set(self._permanent) | set(self._tokens)
        if has_request_context():
            known |= set(g.get("log_secrets", ()))
        return sorted(known, key=len, reverse=True)

    def quotes_secret(self, text: str) -> bool:
        """Whether `text` holds any secret known now, however short: such text is withheld, never edited."""
        return bool(text) and any(shape in text for secret in self.known() for shape in shapes_of(secret))

    def scrub(self, text: str) -> str:
        """`text` with every stretch that holds a secret replaced by one REDACTED.

        The last line of defence for logs. Secrets shorter than SCRUBBED_FROM characters are left alone here
        (replacing every "p" would ruin the log and point at the password); texts that hold them are withheld
        earlier. Each secret is found in every shape a log line can carry it, wherever it stands; where two found
        overlap (a secret inside another, or two that share letters), their stretches join, so none is half-replaced.
        """
        spans = sorted(
            (start, start + len(shape))
            for secret in self.known()
            if len(secret) >= SCRUBBED_FROM
            for shape in shapes_of(secret)
            for start in _places(text, shape)
        )
        kept, last = [], 0
        for start, end in spans:
            if start >= last:
                kept += [text[last:start], REDACTED]
            last = max(last, end)
        return "".join(kept) + text[last:]


def _places(text: str, shape: str):
    """Where `shape` starts in `text`, each place, overlapping ones included."""
    start = text.find(shape)
    while start >= 0:
        yield start
        start = text.find(shape, start + 1)


_registries: weakref.WeakSet[SecretRegistry] = weakref.WeakSet()


def scrub(text: str) -> str:
    for registry in list(_registries):
        text = registry.scrub(text)
    return LINK_TOKEN.sub("aswl_" + REDACTED, text)


_plain = logging.Formatter()
_make_record = logging.getLogRecordFactory()


def _scrubbed_value(value: object) -> object:
    """An extra field's value scrubbed: a text as text, anything else as its text if that quoted a secret."""
    if isinstance(value, str):
        return scrub(value)
    shown = str(value)
    clean = scrub(shown)
    return value if clean == shown else clean


class _ScrubbedFields(dict):
    """A record's attributes. `Logger.makeRecord` writes each `extra` field into the record's `__dict__` after the
    record factory has returned; this mapping scrubs each one as it is written."""

    def __setitem__(self, key: str, value: object) -> None:
        super().__setitem__(key, _scrubbed_value(value))


def _scrubbed_record(*args, **kwargs) -> logging.LogRecord:
    """Scrub a record as it is made, so that every handler (pytest's and a deployment's included) sees it clean.

    Its message is formatted and scrubbed now and its arguments dropped, so that no handler formats them again; a
    message whose arguments do not fit it stands as written. Its traceback is formatted and scrubbed now and the
    exception dropped: formatters print `exc_text` when it is set, and none can format the exception again."""
    record = _make_record(*args, **kwargs)
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = str(record.msg)
    record.msg, record.args = scrub(message), None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    if record.exc_info:
        record.exc_text = scrub(_plain.formatException(record.exc_info))
        record.exc_info = None
    record.__dict__ = _ScrubbedFields(record.__dict__)
    return record


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, request id and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            if g.get("user"):
                entry["user"] = g.user
            if g.get("token"):
                entry["token"] = f"{g.token['name']} ({g.token['prefix']})"
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(JSON.encode(entry))


def configure(level: int = logging.INFO) -> None:
    """Send the root logger's records to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic names each of its plugins as it loads them: seven lines of no use at every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def watch(registry: SecretRegistry) -> None:
    """Scrub every record made from now on of the secrets `registry` knows."""
    _registries.add(registry)
    logging.setLogRecordFactory(_scrubbed_record)


def init_app(app: Flask, registry: SecretRegistry) -> None:
    """Scrub every record of `registry`'s secrets, and give every request an id (shown on error pages and sent back
    as X-Request-Id)."""
    watch(registry)

    # A proxy we count (WIZARD_PROXY_COUNT) may pass its own id along, so one id follows the request.
    trust_offered = bool(app.config["SETTINGS"].proxy_count)

    @app.before_request
    def assign_request_id():
        offered = request.headers.get("X-Request-Id", "") if trust_offered else ""
        g.request_id = offered if REQUEST_ID.match(offered) else os.urandom(16).hex()

    @app.after_request
    def send_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response


class GunicornLogger(glogging.Logger):
    """gunicorn's own messages and its access log as JSON lines on stdout."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(JsonFormatter())
            logger.handlers[:] = [handler]
            logger.propagate = False

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
            return
        headers = dict((name.lower(), value) for name, value in (resp.headers or ()))
        # The path only: a query string is the person's business, and the Referer too.
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(str(resp.status).split()[0]) if resp.status else None,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote": environ.get("REMOTE_ADDR"),
                "request_id": headers.get("x-request-id"),
            },
        )
