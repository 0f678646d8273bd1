"""What an event causes: a changed product empties the catalog cache; news about an order or a cart is
told, once, to the conversation that asked about it, through Rasa's trigger_intent.

A failed message is logged and dropped, never raised: the platform must still get its 200, or it
would retry a delivery that is already recorded as taken.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Callable
from urllib.parse import quote

import requests

from webhooks.conversations import ConversationLinks, email_hash
from webhooks.deliveries import DeliveryLog
from webhooks.events import (
    CART_ABANDONED,
    DELIVERY_DELAYED,
    ORDER_SHIPPED,
    PAYMENT_SUCCEEDED,
    PRODUCT_CHANGED,
    Event,
)

logger = logging.getLogger(__name__)

INTENTS = {
    ORDER_SHIPPED: "EXTERNAL_order_shipped",
    DELIVERY_DELAYED: "EXTERNAL_delivery_delayed",
    PAYMENT_SUCCEEDED: "EXTERNAL_payment_succeeded",
    CART_ABANDONED: "EXTERNAL_cart_abandoned",
}
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
SANDBOX_CATALOG = "/v1/products"
# The delivery log also keeps the news already told, under this sender name.
NEWS = "news"


class Rasa:
    """Rasa's HTTP API: POST /conversations/{id}/trigger_intent, answered on the conversation's channel."""

    def __init__(self, base_url: str, token: str | None = None, timeout: tuple[float, float] = (1.0, 3.0)) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        # Platforms give up on a webhook after a few seconds (Shopify: 5), and this runs before the answer.
        self._timeout = timeout

    def trigger_intent(self, sender_id: str, intent: str, entities: dict[str, str]) -> bool:
        params = {"output_channel": "latest", **({"token": self._token} if self._token else {})}
        url = f"{self._base_url}/conversations/{quote(sender_id, safe='')}/trigger_intent"
        try:
            response = requests.post(url, params=params, json={"name": intent, "entities": entities},
                                     timeout=self._timeout)
        except requests.RequestException as error:
            _log_failure(intent, sender_id, error=type(error).__name__)
            return False
        if not response.ok:
            _log_failure(intent, sender_id, status=response.status_code)
            return False
        return True


class Reactions:
    def __init__(
        self,
        links: ConversationLinks,
        deliveries: DeliveryLog,
        rasa: Rasa,
        invalidate_cache: Callable[[str], int] | None = None,
        catalog_prefix: str = SANDBOX_CATALOG,
    ) -> None:
        """`invalidate_cache` is the e-shop transport's, when this runs in the process that holds its cache."""
        self._links = links
        self._deliveries = deliveries
        self._rasa = rasa
        self._invalidate_cache = invalidate_cache
        self._catalog_prefix = catalog_prefix

    def apply(self, event: Event) -> str:
        """Act on the event; returns what happened, for the log."""
        if event.kind == PRODUCT_CHANGED:
            if self._invalidate_cache is None:
                return "no_cache_here"
            self._invalidate_cache(self._catalog_prefix)
            return "cache_invalidated"
        sender_id = self._links.conversation_for(event.order_number, email_hash(event.email) if event.email else None)
        if sender_id is None:
            return "no_conversation"
        # Platforms report one change in several deliveries (orders/updated, order.updated on every save).
        if not self._deliveries.first_time(NEWS, event.news_key()):
            return "already_told"
        told = self._rasa.trigger_intent(sender_id, INTENTS[event.kind], _entities(event))
        return "told" if told else "not_told"


def _entities(event: Event) -> dict[str, str]:
    values = {"order_id": event.order_number, "carrier": event.carrier, "tracking_url": event.tracking_url,
              "eta": event.eta, "delay_reason": event.delay_reason}
    return {name: value for name, value in values.items() if value is not None}


def _log_failure(intent: str, sender_id: str, **failure) -> None:
    # Sender ids can be phone numbers: the log gets the pseudonym actions/backends.py uses too.
    conversation = "conv-" + hashlib.sha256(sender_id.encode()).hexdigest()[:16]
    logger.warning(json.dumps({"event": "proactive_message_failed", "intent": intent,
                               "conversation": conversation, **failure}))
