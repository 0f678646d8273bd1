"""One delivery from signature to reaction, and the answer the sender gets.

Answers follow how platforms behave: they retry anything but a 2xx, so whatever a retry cannot change
(a duplicate, a topic we ignore) gets a 200, and only a delivery we refuse gets an error.
Blocking (database, Rasa): app.py runs it on a worker thread.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from webhooks.conversations import ConversationLinks
from webhooks.deliveries import DeliveryLog
from webhooks.events import UnusablePayload, event_from, time_in_payload
from webhooks.reactions import Reactions
from webhooks.signatures import (
    SHOPIFY,
    VERIFIERS,
    WOOCOMMERCE,
    DeliveryRejected,
    StaleDelivery,
    check_fresh,
    is_woocommerce_ping,
    json_object,
)

logger = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)
# Shopify resends the original X-Shopify-Triggered-At on every retry; WooCommerce's age comes from the body.
RETRIES_KEEP_THE_FIRST_TIMESTAMP = frozenset({SHOPIFY, WOOCOMMERCE})


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class WebhookReceiver:
    def __init__(
        self,
        secrets: Mapping[str, Sequence[str]],
        deliveries: DeliveryLog,
        links: ConversationLinks,
        reactions: Reactions,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        """`secrets`: per sender, the active secrets, newest first; a sender without any refuses everything."""
        self._secrets = {sender: tuple(secrets.get(sender) or ()) for sender in VERIFIERS}
        self._deliveries = deliveries
        self._links = links
        self._reactions = reactions
        self._clock = clock
        self._purged_at: datetime | None = None

    def unconfigured(self) -> list[str]:
        return [sender for sender, secrets in self._secrets.items() if not secrets]

    def receive(self, sender: str, headers: Mapping[str, str], body: bytes) -> Answer:
        headers = {name.lower(): value for name, value in headers.items()}
        if not self._secrets[sender]:
            _log("webhook_refused", sender, reason="not_configured")
            return _error(503, "not_configured", f"No webhook secret is configured for {sender}.")
        if sender == WOOCOMMERCE and is_woocommerce_ping(headers, body):
            _log("webhook_ping", sender)
            return Answer(200, {"status": "ignored"})
        try:
            delivery = VERIFIERS[sender](headers, body, self._secrets[sender])
            payload = json_object(body)
            sent_at = delivery.sent_at or time_in_payload(sender, payload)
            if sent_at is not None:
                check_fresh(sent_at, self._clock())
            event = event_from(sender, delivery.topic, payload)
        except StaleDelivery as rejection:
            _log("webhook_refused", sender, reason=rejection.type)
            if sender in RETRIES_KEEP_THE_FIRST_TIMESTAMP:
                # Their retries after an outage are stale by construction, and a run of errors makes the
                # platform switch the webhook off: take it (a 2xx), apply nothing.
                return Answer(200, {"status": "stale"})
            return _error(rejection.status, rejection.type, rejection.message)
        except DeliveryRejected as rejection:
            # Only the reason is logged: a refused delivery's headers and body are not to be trusted.
            _log("webhook_refused", sender, reason=rejection.type)
            return _error(rejection.status, rejection.type, rejection.message)
        except UnusablePayload as problem:
            _log("webhook_ignored", sender, topic=delivery.topic, delivery_id=delivery.delivery_id,
                 reason=f"unusable payload: {problem}")
            return Answer(200, {"status": "ignored"})
        if event is None:
            _log("webhook_ignored", sender, topic=delivery.topic, delivery_id=delivery.delivery_id, reason="topic")
            return Answer(200, {"status": "ignored"})
        self._purge_now_and_then()
        if not self._deliveries.first_time(sender, delivery.delivery_id):
            _log("webhook_duplicate", sender, topic=delivery.topic, delivery_id=delivery.delivery_id)
            return Answer(200, {"status": "duplicate"})
        outcome = self._reactions.apply(event)
        _log("webhook_applied", sender, topic=delivery.topic, delivery_id=delivery.delivery_id, kind=event.kind,
             outcome=outcome)
        return Answer(200, {"status": "applied"})

    def _purge_now_and_then(self) -> None:
        now = self._clock()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            self._deliveries.purge()
            self._links.purge()


def _error(status: int, kind: str, message: str) -> Answer:
    return Answer(status, {"error": {"type": kind, "message": message}})


def _log(event: str, sender: str, **fields: Any) -> None:
    # Ids, topics and outcomes only: bodies, emails and signatures never reach the log.
    logger.log(logging.WARNING if event == "webhook_refused" else logging.INFO,
               json.dumps({"event": event, "sender": sender, **fields}))
