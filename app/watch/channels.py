"""Sending an alert: to a webhook (JSON, signed), to a Slack incoming webhook, or by email over SMTP.

A webhook's request carries `X-Wizard-Event` (the event's id, the same on every try: a receiver drops what it has
seen), `X-Wizard-Delivery`, `X-Wizard-Timestamp` and `X-Wizard-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of
"<timestamp>.<body>" under the rule's signing secret>`. No redirect is followed (a redirect could carry the body
elsewhere), and no request goes to a link-local address (a cloud's metadata service), nor to loopback unless the
operator allows it (WIZARD_ALERTS_TO_LOOPBACK=1).
"""

from __future__ import annotations

import email.message
import hashlib
import hmac
import ipaddress
import json
import smtplib
import socket
import ssl
import time
from urllib.parse import unquote, urlsplit

import urllib3

# How long a destination has to answer (our choice, as I/O Events gives a webhook: 10 seconds).
TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)
USER_AGENT = "aep-source-wizard-alerts/1"
_POOL = urllib3.PoolManager(retries=False, timeout=TIMEOUT, maxsize=4)


class SendFailed(Exception):
    """A send that did not go through; `again` says whether trying later may help."""

    def __init__(self, message: str, again: bool = True):
        super().__init__(message)
        self.message, self.again = message, again


def check_destination(url: str, loopback: bool) -> str | None:
    """Why a webhook URL may not be used, or None: http(s) with a host, not link-local, not loopback unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Give an http:// or https:// address."
    if parts.username or parts.password:
        return "Put no user name or password in the address; the request is signed instead."
    try:
        addresses = {
            info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        }
    except (socket.gaierror, UnicodeError, ValueError):
        return f"The host {parts.hostname} cannot be found from the portal."
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
            return f"The host {parts.hostname} is a link-local or reserved address, which alerts are never sent to."
        if ip.is_loopback and not loopback:
            return (
                f"The host {parts.hostname} is this machine (loopback); alerts go there only when the portal's "
                "operator sets WIZARD_ALERTS_TO_LOOPBACK=1."
            )
    return None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _post(url: str, body: bytes, headers: dict, loopback: bool) -> None:
    refusal = check_destination(url, loopback)
    if refusal:
        raise SendFailed(refusal, again=False)
    try:
        answer = _POOL.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            redirect=False,
            preload_content=False,
        )
        answer.read(65536)  # enough to finish the exchange; what it says is not kept
        answer.release_conn()
    except urllib3.exceptions.HTTPError as error:
        raise SendFailed(f"no answer ({type(error).__name__})") from None
    if 200 <= answer.status < 300:
        return
    # Retried as I/O Events retries its own deliveries: 429 and 5xx (but 505); 408 too. Anything else is the
    # receiver refusing, and is failed at once (it can be sent again from the Alerts page).
    again = answer.status in (408, 429) or (500 <= answer.status < 600 and answer.status != 505)
    raise SendFailed(f"answered {answer.status}", again=again)


def send_webhook(url: str, secret: str, payload: dict, delivery_id: str, loopback: bool) -> None:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    _post(
        url,
        body,
        {
            "X-Wizard-Event": payload["id"],
            "X-Wizard-Delivery": delivery_id,
            "X-Wizard-Timestamp": str(timestamp),
            "X-Wizard-Signature": signature(secret, timestamp, body),
        },
        loopback,
    )


def send_slack(url: str, payload: dict, loopback: bool) -> None:
    _post(url, json.dumps(payload, ensure_ascii=False).encode(), {}, loopback)


def smtp_password(smtp_url: str) -> str:
    """The password in WIZARD_SMTP_URL (a secret the logs scrub), or ""."""
    return unquote(urlsplit(smtp_url).password or "") if smtp_url else ""


def send_email(smtp_url: str, sender: str, to: list[str], subject: str, text: str) -> None:
    """Send one email through WIZARD_SMTP_URL: smtps:// (TLS from the start) or smtp:// (STARTTLS when the server
    offers it; a password is never sent over a connection without TLS, except to this machine)."""
    parts = urlsplit(smtp_url)
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message.set_content(text)
    context = ssl.create_default_context()
    try:
        if parts.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                parts.hostname or "", parts.port or 465, timeout=10, context=context
            )
        else:
            server = smtplib.SMTP(parts.hostname or "", parts.port or 25, timeout=10)
        with server:
            server.ehlo()
            secure = parts.scheme == "smtps"
            if not secure and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
                secure = True
            if parts.username:
                local = parts.hostname in ("localhost", "127.0.0.1", "::1")
                if not secure and not local:
                    raise SendFailed(
                        "the mail server offers no STARTTLS, and the password is not sent in clear", again=False
                    )
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        raise SendFailed("the mail server refused the recipients", again=False) from None
    except smtplib.SMTPAuthenticationError:
        raise SendFailed("the mail server refused the user name and password", again=False) from None
    except (smtplib.SMTPException, OSError) as error:
        raise SendFailed(f"mail not sent ({type(error).__name__})") from None
