"""Sending each event's deliveries: in every worker of every replica, each delivery taken by one sender at a time (a
lease in the store that runs out when its sender dies), sent, and recorded; a failure waits and is tried again, as
I/O Events retries its own deliveries (1, 2, 4, 8, then 15 minutes between tries, for a day), then is kept as failed
with its last error, to be sent again from the Alerts page.

A sender that dies after the destination took the request but before it was recorded leaves the delivery to be
taken again when its lease runs out: the same event may then arrive twice, with the same `X-Wizard-Event` id for the
receiver to drop (at least once, as I/O Events and every webhook sender can promise; never twice without a death).
"""

from __future__ import annotations

import logging
import random
import threading
import time

from ..store.health import StoreUnavailable
from . import channels, messages
from .sealing import Sealer, Unsealable

log = logging.getLogger(__name__)

# The waits between tries, in units of Settings.alert_retry_seconds (a minute in production), and how long a
# delivery is tried for: a day of minutes.
WAITS = (1, 2, 4, 8, 15)
TRIED_FOR = 1440
# How often each process looks for deliveries due (our choice; at most the watch interval).
EVERY_SECONDS = 5.0


def next_wait(attempts: int) -> int:
    """The wait (in units) after the `attempts`-th try failed."""
    return WAITS[min(attempts, len(WAITS)) - 1]


class Deliverer:
    """Sends deliveries due, in this process."""

    def __init__(self, services, clock=time.time):
        self._services = services
        self._clock = clock
        settings = services.settings
        self.sealer = Sealer(settings.secret_key)
        self.unit = settings.alert_retry_seconds

    def run_once(self) -> int:
        """Send what is due now; how many were sent."""
        sent = 0
        try:
            for event_id, rule_id in self._services.store.alerts.due(self._clock()):
                sent += self.deliver(event_id, rule_id)
        except StoreUnavailable:
            return sent
        return sent

    def deliver(self, event_id: str, rule_id: str) -> int:
        """Take one delivery and send it: 1 when sent, 0 otherwise (taken by another, failed, or waiting)."""
        alerts = self._services.store.alerts
        taken = alerts.take(event_id, rule_id, self._clock())
        if taken is None:
            return 0
        rule, event = alerts.rule(rule_id), alerts.event(event_id)
        if rule is None or event is None:
            alerts.not_sent(event_id, rule_id, "the rule was removed", None)
            return 0
        try:
            self.send(rule, event)
        except channels.SendFailed as failure:
            tried_for = (self._clock() - taken["first_at"]) / max(self.unit, 1e-6)
            wait = next_wait(taken["attempts"])
            again = failure.again and tried_for + wait <= TRIED_FOR
            alerts.not_sent(event_id, rule_id, failure.message, self._clock() + wait * self.unit if again else None)
            log.warning(
                "alert %s to rule %s not sent (try %d): %s%s",
                event_id[:12],
                rule_id,
                taken["attempts"],
                failure.message,
                "; trying again later" if again else "; given up",
            )
            return 0
        alerts.sent(event_id, rule_id, self._clock())
        log.info("alert %s sent to rule %s (%s)", event_id[:12], rule_id, rule["channel"])
        return 1

    def send(self, rule: dict, event: dict) -> None:
        """Send one event through a rule's channel; SendFailed when it did not go through."""
        settings = self._services.settings
        said = event["body"]
        public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
        loopback = settings.alerts_to_loopback
        if rule["channel"] == "email":
            if not settings.smtp_url:
                raise channels.SendFailed("no mail server is set (WIZARD_SMTP_URL)", again=False)
            subject, text = messages.email_text(said, public_url)
            channels.send_email(settings.smtp_url, settings.smtp_from, rule["target"].split(","), subject, text)
            return
        try:
            destination = self.sealer.open(rule["id"], rule["target"])
        except Unsealable:
            raise channels.SendFailed(
                "the destination was saved under another WIZARD_SECRET_KEY: enter it again", again=False
            ) from None
        # Known to the log scrubber from now on in this process: a URL with a token in it, a signing secret.
        secret = self.sealer.signing_secret(rule["id"], destination.get("salt") or "")
        self._services.secrets.add_permanent(destination["url"], secret)
        if rule["channel"] == "slack":
            channels.send_slack(destination["url"], messages.slack_json(said, public_url), loopback)
        else:
            channels.send_webhook(
                destination["url"],
                secret,
                messages.webhook_json(event, said, public_url),
                f"{event['id'][:16]}.{rule['id']}",
                loopback,
            )


def start(services, every: float = EVERY_SECONDS) -> threading.Thread:
    """Send deliveries due, now and then, in this process, for as long as it lives."""
    deliverer = Deliverer(services)

    def loop():
        while True:
            time.sleep(every * random.uniform(0.5, 1.0))
            try:
                deliverer.run_once()
            except Exception:
                log.exception("alert deliveries failed")

    thread = threading.Thread(target=loop, name="alert-deliveries", daemon=True)
    thread.start()
    return thread
