"""Proving that an order is the customer's: its number and the email it was placed with must match.

Shared by every form that touches an order, so the rule is written once. Unknown numbers and
mismatched emails get the same answer, so nobody learns anything about other customers' orders.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import eshop
from actions.user_input import normalized_email, normalized_order_number
from integrations.errors import IntegrationError, InvalidRequest, NotFound
from integrations.models import Order

MAX_LOOKUP_ATTEMPTS = 3


async def owned_order(email: str, number: str) -> Order | None:
    """The order, if it exists and was placed with this email; raises IntegrationError when the shop is unreachable."""
    try:
        order = await eshop().get_order(number)
    except (NotFound, InvalidRequest):
        return None
    return order if order.belongs_to(email) else None


async def check_ownership(
    dispatcher: CollectingDispatcher, tracker: Tracker, failure_slot: str
) -> tuple[list[EventType], Order | None]:
    """After the user gave an email or an order number: the order if it is theirs, else the events of a miss.

    A miss clears the number and counts; the third one, or an unreachable shop, sets `failure_slot`
    (too_many_attempts / unavailable) so the form ends and the flow explains.
    """
    email, number = tracker.get_slot("email"), tracker.get_slot("order_id")
    given_now = {"email", "order_id"} & tracker.slots_to_validate().keys()
    if not (email and number and given_now) or tracker.get_slot(failure_slot):
        return [], None
    try:
        order = await owned_order(email, number)
    except IntegrationError:
        return [SlotSet(failure_slot, "unavailable")], None
    if order:
        return proven(order.number, email), order
    slots = missed(tracker, "order_id", failure_slot)
    if failure_slot not in slots:
        dispatcher.utter_message(response="utter_order_not_found_for_email", order_number=number, email=email)
    return [SlotSet(name, value) for name, value in slots.items()], None


def missed(tracker: Tracker, slot: str, failure_slot: str) -> dict[str, Any]:
    """A wrong answer: `slot` is asked again and the miss counted; the third miss sets `failure_slot`
    to too_many_attempts, so the form ends and a person is offered instead of a fourth question."""
    attempts = (tracker.get_slot("lookup_attempts") or 0) + 1
    slots: dict[str, Any] = {slot: None, "lookup_attempts": attempts}
    if attempts >= MAX_LOOKUP_ATTEMPTS:
        slots[failure_slot] = "too_many_attempts"
    return slots


def proven(number: str, email: str) -> list[EventType]:
    """Remember which order this email has proven, so the next request about it needs no second proof."""
    return [SlotSet("verified_order", number), SlotSet("verified_email", email)]


def is_proven(tracker: Tracker, number: str | None) -> bool:
    """Whether `number` was proven with the email the conversation has now (another email proves nothing)."""
    email = tracker.get_slot("email")
    return bool(number and email and tracker.get_slot("verified_order") == number
                and tracker.get_slot("verified_email") == email)


def email_slot(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    email = normalized_email(first(value))
    if not email:
        dispatcher.utter_message(response="utter_invalid_email")
    return {"email": email}


def order_number_slot(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    number = normalized_order_number(first(value))
    if not number:
        dispatcher.utter_message(response="utter_invalid_order_id")
    return {"order_id": number}


def first(value: Any) -> Any:
    # Two extractors can find the same entity; the slot then holds a list.
    return value[0] if isinstance(value, list) and value else value
