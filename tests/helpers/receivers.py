"""Real receivers on loopback for what the portal sends out: a webhook (that can fail, be slow, and checks the
signature it is given a secret for) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from typing import Any


class Webhook:
    """An HTTP receiver: `answers` queues the statuses of the next requests (200 otherwise), `delay` slows each answer;
    `received` keeps every request (headers, body, JSON), `seen_events` the distinct X-Wizard-Event ids."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.secret: str | None = None
        self._lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(404)
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook._lock:
                    status = hook.answers.pop(0) if hook.answers else 200
                    hook.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "json": _json(body),
                            "status": status,
                            "at": time.monotonic(),
                        }
                    )
                time.sleep(hook.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def seen_events(self) -> list[str]:
        return [r["headers"].get("x-wizard-event", "") for r in self.received]

    def signed(self, request: dict[str, Any], secret: str) -> bool:
        """Whether a request's X-Wizard-Signature is HMAC-SHA256 of "timestamp.body" under `secret`."""
        parts = dict(p.split("=", 1) for p in request["headers"]["x-wizard-signature"].split(","))
        mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"]) and parts["t"] == request["headers"]["x-wizard-timestamp"]

    def wait_for(self, count: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class Mailbox:
    """An SMTP server on loopback (aiosmtpd) keeping every message it is given."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                import email.policy

                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                box.messages.append((envelope.rcpt_tos, message))
                return "250 OK"

        from .servers import free_port

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._controller.stop()
