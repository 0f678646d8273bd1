"""The second request of a message, taken up once the first is answered ("Then I'll help with the return").

nlu_components/requests.py keeps it in the slot `next_request` as the intent that names it. The answer to the
first request (the order status, a policy answer) ends with `then_next_request`, which announces the second
and starts its form. Which service a service intent asks for is read from the domain's own mapping of the
`service` slot, so the two cannot disagree.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

NEXT_REQUEST = "next_request"
ORDER_STATUS = "order_status"
# How the second request is announced, per `service` value (and the order lookup).
ANNOUNCEMENTS = {
    ORDER_STATUS: "utter_then_order_status",
    "return": "utter_then_return",
    "change_delivery": "utter_then_change_delivery",
    "cancel": "utter_then_cancel",
    "complaint": "utter_then_complaint",
}


def then_next_request(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    intent = tracker.get_slot(NEXT_REQUEST)
    if not intent:
        return []
    done = [SlotSet(NEXT_REQUEST, None)]
    if intent == ORDER_STATUS:
        dispatcher.utter_message(response=ANNOUNCEMENTS[ORDER_STATUS])
        return done + [FollowupAction("order_lookup_form")]
    service = _service_asked_by(intent, domain)
    if service not in ANNOUNCEMENTS:
        return done
    dispatcher.utter_message(response=ANNOUNCEMENTS[service])
    return done + [SlotSet("service", service), FollowupAction("service_request_form")]


def _service_asked_by(intent: str, domain: DomainDict) -> str | None:
    mappings: list[dict[str, Any]] = domain.get("slots", {}).get("service", {}).get("mappings", [])
    return next((mapping.get("value") for mapping in mappings
                 if mapping.get("type") == "from_intent" and mapping.get("intent") == intent), None)
