"""Proving that an order is the customer's: its number and the email it was placed with must match.

Shared by every form that touches an order, so the rule is written once. Unknown numbers, mismatched
emails and tries refused by the attempt limits (actions/attempt_limits.py) all get the same answer,
so nobody learns anything about other customers' orders. What was proven is kept as a proof the
action server signs (actions/proof.py): every later action reads ownership from it, not from slots.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import attempt_limits, eshop, proof_signer
from actions.proof import Proof
from actions.user_input import login_code_in, normalized_email, normalized_order_number
from integrations.errors import IntegrationError, InvalidRequest, NotFound
from integrations.models import LoginCodeCheck, Order

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
        order = None if await proof_refused(tracker, email) else await owned_order(email, number)
    except IntegrationError:
        return [SlotSet(failure_slot, "unavailable")], None
    if order:
        return proven(tracker, email, orders=[order.number]), order
    slots = await missed_proof(tracker, email, "order_id", failure_slot)
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


async def missed_proof(tracker: Tracker, email: str, slot: str, failure_slot: str) -> dict[str, Any]:
    """A failed proof (wrong pair, or refused by the limits): counted over time, and in this form."""
    await asyncio.to_thread(attempt_limits().record_miss, attempt_keys(tracker, email))
    return missed(tracker, slot, failure_slot)


async def proof_refused(tracker: Tracker, email: str) -> bool:
    return await asyncio.to_thread(attempt_limits().proof_refused, attempt_keys(tracker, email))


async def send_login_code(tracker: Tracker, email: str) -> bool:
    """Sends a one-time code unless this email or conversation has had its share; False: no mail was sent.

    Raises IntegrationError when the shop cannot be reached.
    """
    if not await asyncio.to_thread(attempt_limits().take_code, attempt_keys(tracker, email)):
        return False
    await eshop().send_login_code(email)
    return True


async def send_code_and_ask(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Sends the one-time code to the conversation's email, once per address and within the limits, and asks
    for it. Raises IntegrationError when the shop cannot be reached."""
    email = tracker.get_slot("email")
    events: list[EventType] = []
    if tracker.get_slot("login_code_sent_to") != email:
        sent = await send_login_code(tracker, email)
        # Past the limit no mail goes out, and the customer is told to use a code sent before.
        dispatcher.utter_message(response="utter_login_code_sent" if sent else "utter_login_code_limit", email=email)
        events.append(SlotSet("login_code_sent_to", email))
    dispatcher.utter_message(response="utter_ask_login_code")
    return events


async def checked_login_code(dispatcher: CollectingDispatcher, tracker: Tracker, value: Any,
                             failure_slot: str) -> tuple[dict[str, Any], LoginCodeCheck | None]:
    """A typed one-time code checked for the conversation's email: the form's slots, and the check if it passed.

    A malformed or wrong code is asked again (with the tries left); the last wrong try, or an unreachable
    shop, sets `failure_slot` (verification_failed / unavailable) so the form ends.
    """
    code = login_code_in(first(value))
    if not code:
        dispatcher.utter_message(response="utter_login_code_malformed")
        return {"login_code": None}, None
    try:
        check = await eshop().verify_login_code(tracker.get_slot("email"), code)
    except IntegrationError:
        return {"login_code": None, failure_slot: "unavailable"}, None
    if check.verified:
        return {"login_code": None}, check
    if check.attempts_left <= 0:
        return {"login_code": None, failure_slot: "verification_failed"}, None
    dispatcher.utter_message(response="utter_login_code_wrong", attempts_left=check.attempts_left)
    return {"login_code": None}, None


def attempt_keys(tracker: Tracker, email: str) -> dict[str, str | None]:
    """Who is trying: the email, the conversation, and the client address the channel vouched for."""
    metadata = tracker.latest_message.get("metadata") or {}
    client = metadata.get("client") if isinstance(metadata, dict) else None
    return {"email": email, "conversation": tracker.sender_id, "client": client if isinstance(client, str) else None}


def proven(tracker: Tracker, email: str, orders: Sequence[str] = (), customer_id: str | None = None) -> list[EventType]:
    """Sign what this email has now proven, added to what it proved before in this conversation.

    `verified_order` names the order proven last, so "cancel it" right after needs no number; it proves
    nothing by itself.
    """
    earlier = proof_of(tracker)
    proof = Proof(email, frozenset(orders), customer_id)
    if earlier and earlier.email == email:
        proof = earlier.widened(proof.orders, customer_id)
    events: list[EventType] = [SlotSet("ownership_proof", proof_signer().sign(tracker.sender_id, proof))]
    if len(orders) == 1:
        events.append(SlotSet("verified_order", orders[0]))
    return events


def proof_of(tracker: Tracker) -> Proof | None:
    return proof_signer().read(tracker.sender_id, tracker.get_slot("ownership_proof"))


def is_proven(tracker: Tracker, number: str | None) -> bool:
    """Whether `number` was proven with the email the conversation has now (another email proves nothing)."""
    proof = proof_of(tracker)
    return bool(number and proof and proof.email == tracker.get_slot("email") and number in proof.orders)


def proven_email(tracker: Tracker) -> str | None:
    """The email this conversation has proven, whatever the email slot says now."""
    proof = proof_of(tracker)
    return proof.email if proof else None


def proven_customer(tracker: Tracker) -> str | None:
    """The customer account proven with a one-time code for the email the conversation has now."""
    proof = proof_of(tracker)
    return proof.customer_id if proof and proof.email == tracker.get_slot("email") else None


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
