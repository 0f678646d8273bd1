"""Where is my order? Verifying who asks, finding the order, explaining its status.

Order data is shown only when the order's email matches the one the user gave:
either together with the order number, or proven with a one-time code sent to
that address. Unknown numbers and mismatched emails get the same answer, so
nobody learns anything about other customers' orders.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.backends import bind_conversation, conversation_ref, eshop, turn_ref
from actions.crm_log import record_interaction_later
from actions.csat import resolved
from actions.next_request import NEXT_REQUEST, then_next_request
from actions.verification import (
    check_ownership,
    checked_login_code,
    email_slot,
    is_proven,
    order_number_slot,
    proven,
    proven_customer,
    send_code_and_ask,
)
from integrations.errors import IntegrationError
from integrations.models import Order, OrderStatus, Shipment
from webhooks.conversations import email_hash, remember_conversation

logger = logging.getLogger(__name__)

FAILURE_RESPONSES = {
    "unavailable": "utter_backend_unavailable",
    "too_many_attempts": "utter_lookup_attempts_exhausted",
    "verification_failed": "utter_login_code_failed",
    "no_orders": "utter_no_orders_for_account",
}

LOOKUP_SLOTS = ("order_id", "login_code", "use_login_code", "lookup_failure")


class ValidateOrderLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_lookup_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("lookup_failure"):
            return []
        wants_code = tracker.get_slot("use_login_code") and eshop().login_codes_supported
        if wants_code and not proven_customer(tracker):
            return ["email", "login_code"]
        return ["email", "order_id"]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        typed_now = tracker.slots_to_validate().keys()
        code_asked = tracker.get_slot("requested_slot") == "login_code"
        events = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        events += _refuse_login_code_if_unsupported(dispatcher, tracker)
        if code_asked:
            # A typed code also looks like an order number to the NLU: it is neither looked up nor kept as one
            # (an order the code proves comes from validate_login_code).
            taken_for_a_number = "order_id" in typed_now and not any(e["name"] == "order_id" for e in events)
            return events + ([SlotSet("order_id", None)] if taken_for_a_number else [])
        ownership, _ = await check_ownership(dispatcher, tracker, "lookup_failure")
        return events + ownership

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return email_slot(value, dispatcher)

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return order_number_slot(value, dispatcher)

    async def validate_login_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        slots, check = await checked_login_code(dispatcher, tracker, value, "lookup_failure")
        if check is None:
            return slots
        try:
            orders = await eshop().orders_of_customer(check.customer_id)
        except IntegrationError:
            return {"login_code": None, "lookup_failure": "unavailable"}
        proof = proven(tracker, tracker.get_slot("email"), orders=[order.number for order in orders],
                       customer_id=check.customer_id)
        slots = {"login_code": None, "order_id": None, **{event["name"]: event["value"] for event in proof}}
        if not orders:
            slots["lookup_failure"] = "no_orders"
        elif len(orders) == 1:
            slots["order_id"] = orders[0].number
        return slots


class ActionAskOrderId(Action):
    """Asks for the order number, or lets a verified customer pick among their orders."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        customer_id = proven_customer(tracker)
        if not customer_id:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        try:
            orders = await eshop().orders_of_customer(customer_id)
        except IntegrationError:
            return _stop_lookup("unavailable")
        dispatcher.utter_message(response="utter_ask_order_choice", buttons=[_order_button(o) for o in orders[:10]])
        return []


class ActionAskLoginCode(Action):
    """Sends the one-time code (once per address) and asks for it."""

    def name(self) -> str:
        return "action_ask_login_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        try:
            return await send_code_and_ask(dispatcher, tracker)
        except IntegrationError:
            return _stop_lookup("unavailable")


class ActionShowOrderStatus(Action):
    def name(self) -> str:
        return "action_show_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        reset = [SlotSet(slot, None) for slot in LOOKUP_SLOTS] + [SlotSet("lookup_attempts", 0)]
        # A second request in the same message needs the order; without it, it is dropped with the lookup.
        unanswered = reset + [SlotSet(NEXT_REQUEST, None)]
        email, number = tracker.get_slot("email"), tracker.get_slot("order_id")
        failure = tracker.get_slot("lookup_failure")
        if failure:
            return unanswered + _explain_failure(dispatcher, tracker, failure)
        if not is_proven(tracker, number):
            # Only the form proves an order; a tracker that merely names one shows nothing.
            dispatcher.utter_message(response="utter_order_not_found_for_email", order_number=number, email=email)
            return unanswered
        try:
            order = await eshop().get_order(number)
        except IntegrationError:
            return unanswered + _explain_failure(dispatcher, tracker, "unavailable")
        for message in status_messages(order):
            dispatcher.utter_message(**message)
        _log_lookup(tracker, f"Asked where order #{order.number} is; told it is {order.status.value}.", "answered")
        await _follow_news_of(tracker, order)
        # "can I cancel it?" right after needs no second proof: verified_order names this one.
        answered = reset + [SlotSet("verified_order", order.number)] + resolved("order_status")
        return answered + (then_next_request(dispatcher, tracker, domain) or _offer_help_if_delivered(order))


def _offer_help_if_delivered(order: Order) -> list[EventType]:
    """A parcel the carrier calls delivered may not have arrived: the offer is its own response, so the
    rules can read the customer's answer to it ("it never came", "yes please") as accepting it."""
    if any(shipment.status == "delivered" for shipment in order.shipments):
        return [FollowupAction("utter_offer_colleague_for_missing_parcel")]
    return []


def status_messages(order: Order) -> list[dict[str, Any]]:
    """The responses (with their values) that explain where an order is."""
    base = {"order_number": order.number}
    if order.status is OrderStatus.CANCELLED:
        response = "utter_order_cancelled_refunded" if order.refund_status == "refunded" else "utter_order_cancelled"
        return [
            {
                "response": response,
                **base,
                "cancelled_date": day_name(order.cancelled_at),
                "cancel_reason": order.cancel_reason or "no reason given",
                "total": str(order.total),
            }
        ]
    if order.status is OrderStatus.PENDING or not order.shipments:
        response = "utter_order_pending" if order.status is OrderStatus.PENDING else "utter_order_paid"
        return [{"response": response, **base, "placed_date": day_name(order.placed_at), "total": str(order.total)}]
    messages = [_shipment_message(order, shipment) for shipment in order.shipments]
    if len(messages) > 1:
        messages.insert(0, {"response": "utter_order_split", **base, "parcel_count": len(messages)})
    return messages


def _shipment_message(order: Order, shipment: Shipment) -> dict[str, Any]:
    message = {
        "order_number": order.number,
        "carrier": shipment.carrier_name,
        "tracking_url": shipment.tracking_url,
        "eta": day_name(shipment.estimated_delivery),
    }
    if shipment.status == "delivered":
        return {"response": "utter_shipment_delivered", **message, "delivered_date": day_name(shipment.delivered_at)}
    if shipment.status == "delayed" or order.status is OrderStatus.DELAYED:
        reason = shipment.delay_reason or "the parcel is running late"
        return {"response": "utter_shipment_delayed", **message, "delay_reason": reason}
    return {"response": "utter_shipment_in_transit", **message, "latest_update": _latest_update(shipment)}


def _latest_update(shipment: Shipment) -> str:
    event = shipment.latest_event
    if not event:
        return "the carrier has the parcel"
    where = f" in {event.location}" if event.location else ""
    return f"{event.description}{where} ({day_name(event.at)})"


def day_name(moment: date | datetime | None) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}" if moment else "not known yet"


def _order_button(order: Order) -> dict[str, str]:
    return {
        "title": f"#{order.number} from {order.placed_at:%d %b %Y} ({order.status.value})",
        "payload": f'/inform{{"order_id":"{order.number}"}}',
    }


def _explain_failure(dispatcher: CollectingDispatcher, tracker: Tracker, failure: str) -> list[EventType]:
    dispatcher.utter_message(response=FAILURE_RESPONSES[failure])
    # Only an outage is logged: after a failed verification the email is unproven,
    # and a stranger's attempt does not belong on that contact's timeline.
    if failure == "unavailable" and tracker.get_slot("email"):
        _log_lookup(tracker, "Asked where an order is; the order system could not be reached.", "backend_unavailable")
    return [FollowupAction("utter_offer_human")]


def _log_lookup(tracker: Tracker, summary: str, outcome: str) -> None:
    record_interaction_later(
        email=tracker.get_slot("email"),
        kind="order_status",
        summary=summary,
        channel=tracker.get_latest_input_channel() or "unknown",
        conversation_id=conversation_ref(tracker),
        idempotency_key=f"order-status:{turn_ref(tracker)}",
        order_number=tracker.get_slot("order_id"),
        outcome=outcome,
    )


async def _follow_news_of(tracker: Tracker, order: Order) -> None:
    """Let the shop's webhooks (shipped, delayed…) reach this conversation, now that the customer is verified."""
    try:
        await asyncio.to_thread(
            remember_conversation, tracker.sender_id, order_number=order.number, email_hash=email_hash(order.email)
        )
    except SQLAlchemyError:
        # Missing a later update is better than failing the answer just given.
        logger.warning(json.dumps({"event": "conversation_link_failed", "conversation": conversation_ref(tracker)}))


def _refuse_login_code_if_unsupported(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Where the shop's platform cannot email a code, the order number is the only way in: say so once."""
    asked_now = "use_login_code" in tracker.slots_to_validate()
    if not (asked_now and tracker.get_slot("use_login_code")) or eshop().login_codes_supported:
        return []
    dispatcher.utter_message(response="utter_login_code_unsupported")
    return [SlotSet("use_login_code", None)]


def _stop_lookup(failure: str) -> list[EventType]:
    """End the form at once; action_show_order_status then explains and offers a human."""
    return [SlotSet("lookup_failure", failure), SlotSet("requested_slot", None), ActiveLoop(None)]
