"""Telling a customer the shop's news about their order, when a webhook brings it.

The webhook receiver triggers an EXTERNAL_* intent in the conversation that asked about the order;
the values come as that message's entities. They are read from the message, not from slots, so an
update never repeats a carrier or date from an earlier one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.orders import day_name

NEWS_RESPONSES = {
    "EXTERNAL_order_shipped": "utter_news_order_shipped",
    "EXTERNAL_delivery_delayed": "utter_news_delivery_delayed",
    "EXTERNAL_payment_succeeded": "utter_news_payment_succeeded",
    "EXTERNAL_cart_abandoned": "utter_news_cart_abandoned",
}


class ActionTellOrderNews(Action):
    def name(self) -> str:
        return "action_tell_order_news"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        values = news_values(tracker.latest_message.get("entities") or [])
        response = NEWS_RESPONSES[intent]
        if intent == "EXTERNAL_order_shipped" and "tracking_url" not in values:
            response = "utter_news_order_shipped_untracked"
        dispatcher.utter_message(response=response, **values)
        return []


def news_values(entities: list[dict[str, Any]]) -> dict[str, str]:
    values = {entity["entity"]: str(entity["value"]) for entity in entities if entity.get("value") is not None}
    values.setdefault("delay_reason", "the carrier reported a delay")
    values["eta"] = _readable_day(values.get("eta"))
    return values


def _readable_day(value: str | None) -> str:
    try:
        return day_name(date.fromisoformat(value) if value else None)
    except ValueError:
        return value
