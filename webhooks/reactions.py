"""What an event causes: a changed product empties the catalog cache; news about an order or a cart is
told, once, to the conversation that asked about it, through Rasa's trigger_intent.

News about an order is told only when the order, read back from the shop, agrees with it (webhooks/news.py):
Shopify and WooCommerce do not sign their topic, so a genuine body under another topic must change nothing.
The message carries only the order's number; the action reads the order itself for what it tells.

A failed message is logged and dropped, never raised: the platform must still get its 200, or it
would retry a delivery that is already recorded as taken.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Callable
from urllib.parse import quote

import requests

from integrations.errors import IntegrationError, NotFound
from integrations.eshop import EShop
from webhooks.conversations import ConversationLinks, email_hash
from webhooks.deliveries import DeliveryLog
from webhooks.events import CART_ABANDONED, PRODUCT_CHANGED, Event
from webhooks.news import INTENTS, shop_news

logger = logging.getLogger(__name__)

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
        eshop: EShop,
        invalidate_cache: Callable[[str], int] | None = None,
        catalog_prefix: str = SANDBOX_CATALOG,
    ) -> None:
        """`eshop` is where orders are read back; `invalidate_cache` is the e-shop transport's, when this runs
        in the process that holds its cache."""
        self._links = links
        self._deliveries = deliveries
        self._rasa = rasa
        self._eshop = eshop
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
        if event.kind == CART_ABANDONED:
            # Only the sandbox reports carts, and it signs its event type; the message names nothing from it.
            return self._tell_once(sender_id, event.kind, _cart_key(event), {})
        return self._tell_what_the_shop_confirms(sender_id, event)

    def _tell_what_the_shop_confirms(self, sender_id: str, event: Event) -> str:
        try:
            # apply() runs on a worker thread (app.py), where no event loop is running.
            order = asyncio.run(self._eshop.get_order(event.order_number))
        except NotFound:
            return "not_confirmed_by_shop"
        except IntegrationError:
            # The platform still gets its 200 (receiver.py answers after this). An error would not bring the
            # news back: the delivery log already holds this delivery, so a retry is a duplicate; Shopify's
            # retries keep the first X-Shopify-Triggered-At and turn stale within minutes; WooCommerce does
            # not retry but switches a webhook off after five failures in a row. Nothing is marked as told,
            # so the next delivery of the same news (an orders/updated) can still tell it, and a customer who
            # asks meanwhile gets the shop's answer.
            return "shop_unreadable"
        news = shop_news(event.kind, order)
        if news is None:
            return "not_confirmed_by_shop"
        return self._tell_once(sender_id, event.kind, news.key(), {"order_id": order.number})

    def _tell_once(self, sender_id: str, kind: str, news_key: str, entities: dict[str, str]) -> str:
        # Platforms report one change in several deliveries (orders/updated, order.updated on every save).
        if not self._deliveries.first_time(NEWS, news_key):
            return "already_told"
        told = self._rasa.trigger_intent(sender_id, INTENTS[kind], entities)
        return "told" if told else "not_told"


def _cart_key(event: Event) -> str:
    return hashlib.sha256(json.dumps([event.kind, event.cart_id]).encode()).hexdigest()


def _log_failure(intent: str, sender_id: str, **failure) -> None:
    # Sender ids can be phone numbers: the log gets the pseudonym actions/backends.py uses too.
    conversation = "conv-" + hashlib.sha256(sender_id.encode()).hexdigest()[:16]
    logger.warning(json.dumps({"event": "proactive_message_failed", "intent": intent,
                               "conversation": conversation, **failure}))
