"""Telling a customer the shop's news about their order, when a webhook brings it.

The webhook receiver triggers an EXTERNAL_* intent with the order's number in the conversation that asked
about the order. Anyone can type such a message, entities included, so the message only says which order
to look at: the order is read from the shop, the news is told only where the shop's data agrees with it
(webhooks/news.py) and only to a conversation linked to that order or its customer, and every value told
(carrier, tracking link, date, reason) is the shop's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.backends import bind_conversation, eshop
from actions.orders import day_name
from actions.user_input import normalized_order_number
from integrations.errors import IntegrationError, NotFound
from integrations.models import Order
from webhooks.conversations import conversation_follows, email_hash
from webhooks.events import CART_ABANDONED, ORDER_SHIPPED, PAYMENT_SUCCEEDED
from webhooks.news import KINDS, ShopNews, shop_news

logger = logging.getLogger(__name__)

# Where the shop gives no reason for a late parcel.
UNKNOWN_DELAY = "the carrier reported a delay"


class ActionTellOrderNews(Action):
    def name(self) -> str:
        return "action_tell_order_news"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        conversation = bind_conversation(tracker)
        kind = KINDS.get((tracker.latest_message.get("intent") or {}).get("name"))
        if kind == CART_ABANDONED:
            dispatcher.utter_message(response="utter_news_cart_abandoned")
            return []
        news, withheld = await _confirmed_news(tracker, kind)
        if news is None:
            # Silence, whatever the reason: a typed EXTERNAL_* message learns nothing about any order.
            logger.info(json.dumps({"event": "order_news_withheld", "conversation": conversation, "reason": withheld}))
            return []
        dispatcher.utter_message(**_news_message(news))
        return []


async def _confirmed_news(tracker: Tracker, kind: str | None) -> tuple[ShopNews | None, str]:
    """The news as the shop tells it, if this conversation may hear it; else None and why not."""
    number = normalized_order_number(_entity(tracker, "order_id"))
    if kind is None or number is None:
        return None, "no_order_news"
    try:
        order = await eshop().get_order(number)
    except NotFound:
        return None, "unknown_order"
    except IntegrationError:
        return None, "shop_unavailable"
    if not await _follows(tracker.sender_id, order):
        return None, "not_linked"
    news = shop_news(kind, order)
    return (news, "") if news else (None, "not_confirmed_by_shop")


async def _follows(sender_id: str, order: Order) -> bool:
    try:
        return await asyncio.to_thread(conversation_follows, sender_id, order.number, email_hash(order.email))
    except SQLAlchemyError:
        # Whom the news may reach is unknown: nobody hears it.
        return False


def _news_message(news: ShopNews) -> dict[str, Any]:
    """The response and its values, all from the shop's order."""
    parcel, base = news.shipment, {"order_id": news.order_number}
    if news.kind == PAYMENT_SUCCEEDED:
        return {"response": "utter_news_payment_succeeded", **base}
    if news.kind == ORDER_SHIPPED:
        if parcel and parcel.carrier_name and parcel.tracking_url:
            return {"response": "utter_news_order_shipped", **base, "carrier": parcel.carrier_name,
                    "tracking_url": parcel.tracking_url}
        return {"response": "utter_news_order_shipped_untracked", **base}
    # A delay: shop_news names the late parcel.
    return {"response": "utter_news_delivery_delayed", **base, "delay_reason": parcel.delay_reason or UNKNOWN_DELAY,
            "eta": day_name(parcel.estimated_delivery)}


def _entity(tracker: Tracker, name: str) -> str | None:
    values = [entity.get("value") for entity in tracker.latest_message.get("entities") or []
              if entity.get("entity") == name]
    return str(values[0]) if values and values[0] is not None else None
