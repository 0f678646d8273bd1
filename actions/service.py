"""Service requests on a verified order: change the delivery, cancel it, return items, complain, check a case.

One form, service_request_form, serves them all. It proves the order is the customer's as the
lookup does, checks that the order's state allows the request (before asking anything more),
asks what the request needs, and confirms; action_submit_service_request then carries it out.
One form means the same rules handle interruptions for every request ("no", "a person please",
a question in between), and a customer can switch ("actually, just cancel it") without starting over.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bind_conversation, conversation_ref, eshop
from actions.crm_log import record_case_later, record_interaction_later
from actions.confirmation import confirmed_slot
from actions.complaints import (
    CASE_STATUS,
    COMPLAINT,
    COMPLAINT_SLOTS,
    ComplaintSlots,
    check_case_belongs_to_email,
    guess_kind_from_first_message,
    open_complaint,
    request_slots,
    tell_case_status,
)
from actions.csat import resolved
from actions.form_answers import answer_or_reprompt, attempt_failed, button, order_snapshot
from actions.orders import day_name
from actions.user_input import address_in, chosen, date_in
from actions.verification import check_ownership, email_slot, first, is_proven, order_number_slot
from integrations.eshop import IN_WAREHOUSE
from integrations.errors import IntegrationError, InvalidRequest, Refused, Unsupported
from integrations.models import (
    Address,
    ItemCondition,
    Order,
    OrderStatus,
    ReturnItem,
    ReturnReason,
    Rma,
    RmaStatus,
)

logger = logging.getLogger(__name__)

CHANGE_DELIVERY, CANCEL, RETURN, RETURN_STATUS = "change_delivery", "cancel", "return", "return_status"
# Asked after the order is proven, per request; the delivery change asks one of its two.
REQUEST_SLOTS = {
    CHANGE_DELIVERY: ("delivery_change", "new_address", "delivery_date", "pickup_point"),
    CANCEL: (),
    RETURN: ("return_items", "return_reason", "return_condition"),
    RETURN_STATUS: (),
    COMPLAINT: request_slots(COMPLAINT),
    CASE_STATUS: request_slots(CASE_STATUS),
}
# Requests that change something are confirmed first; opening a case or looking is not.
CONFIRMED = {CHANGE_DELIVERY, CANCEL, RETURN}
ANSWERS = ("delivery_change", "new_address", "delivery_date", "pickup_point", "return_items", "return_reason", "return_condition",
           *COMPLAINT_SLOTS, "case_number")
ALL_REQUEST_SLOTS = (*ANSWERS, "service_confirmed")
# What the form keeps between turns; all of it is forgotten once the request is done.
FORM_STATE = ("service", "order_id", "service_refusal", "service_checked", "service_order", "service_case", "returnable",
              "pickup_options",
              "lookup_attempts", *ALL_REQUEST_SLOTS)
# The e-shop method that carries out a change, for the adapters that cannot (EShop.handles).
SHOP_METHODS = {CANCEL: "cancel_order", CHANGE_DELIVERY: "change_delivery"}
MAX_DAYS_AHEAD = 30
ALL_ITEMS = "all"

# The question each kind of delivery change asks.
DELIVERY_QUESTIONS = {"address": "new_address", "date": "delivery_date", "pickup": "pickup_point"}
DELIVERY_CHANGES = {"pickup": ("pickup", "pick up", "pick it up", "parcel shop", "packstation", "locker", "collect",
                               "post office"),
                    "address": ("address", "adress", "street", "moved", "house", "flat", "deliver to", "send it to"),
                    "date": ("date", "day", "later", "earlier", "when", "time", "week", "holiday", "away")}
RETURN_REASONS = {
    ReturnReason.WRONG_SIZE.value: ("size", "fit", "small", "big", "large", "tight", "loose"),
    ReturnReason.ARRIVED_DAMAGED.value: ("damaged", "broken", "torn", "crushed"),
    ReturnReason.DEFECTIVE.value: ("defect", "faulty", "doesn't work", "does not work", "stopped working"),
    ReturnReason.WRONG_ITEM.value: ("wrong item", "wrong product", "not what i ordered", "sent me the wrong"),
    ReturnReason.NOT_AS_DESCRIBED.value: ("described", "different", "colour", "color", "looks", "quality"),
    ReturnReason.CHANGED_MIND.value: ("changed my mind", "don't need", "don't want", "don't like", "no longer",
                                      "mind"),
    ReturnReason.OTHER.value: ("other", "something else"),
}
CONDITIONS = {
    ItemCondition.UNOPENED.value: ("unopened", "sealed", "still packed", "original packaging", "never opened"),
    ItemCondition.UNUSED.value: ("unused", "not used", "never used", "never worn", "tags", "tried"),
    ItemCondition.USED.value: ("used", "worn", "wore", "washed"),
}
ALL_WORDS = ("all", "everything", "both", "whole", "every", "entire")

UNCLEAR = {
    "delivery_change": "utter_delivery_change_unclear",
    "return_reason": "utter_return_reason_unclear",
    "return_condition": "utter_return_condition_unclear",
}
RETURN_STATUSES = {
    RmaStatus.OPEN: "utter_return_status_open",
    RmaStatus.RECEIVED: "utter_return_status_received",
    RmaStatus.REFUNDED: "utter_return_status_refunded",
}
# What each refusal means for the customer, per request where it differs.
REFUSALS = {
    "order_already_shipped": {CANCEL: "utter_cancel_refused_shipped", CHANGE_DELIVERY: "utter_change_refused_shipped"},
    "order_cancelled": "utter_service_refused_cancelled",
    "outside_return_window": "utter_return_refused_window",
    "not_delivered_yet": {RETURN: "utter_return_refused_not_delivered", COMPLAINT: "utter_complaint_refused_not_delivered"},
    "not_returnable": "utter_return_refused_not_returnable",
    "already_returned": "utter_return_refused_already_returned",
    "condition_not_accepted": "utter_return_refused_condition",
    "unsupported": "utter_service_unsupported",
    "unavailable": "utter_backend_unavailable",
    "too_many_attempts": "utter_service_attempts_exhausted",
    "not_proven": "utter_service_not_proven",
}
# How a request ended; the rules branch on it (a person is offered after NEEDS_HUMAN).
DONE, REFUSED, NEEDS_HUMAN = "done", "refused", "needs_human"
# After these the customer needs a person; the others come with their own next step.
OFFER_HUMAN_AFTER = {"unsupported", "unavailable", "too_many_attempts", "not_proven", "outside_return_window",
                     "condition_not_accepted", "order_already_shipped"}


class ValidateServiceRequestForm(ComplaintSlots, FormValidationAction):
    def name(self) -> str:
        return "validate_service_request_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("service_refusal"):
            return []
        service = _service(tracker)
        asked = list(REQUEST_SLOTS[service])
        if service == CHANGE_DELIVERY:
            # Until the customer says what to change, the day is the next question after that one.
            wanted = DELIVERY_QUESTIONS.get(tracker.get_slot("delivery_change"), "delivery_date")
            asked = [slot for slot in asked if slot not in DELIVERY_QUESTIONS.values() or slot == wanted]
        if service == CASE_STATUS:
            return ["email", *asked]
        confirm = ["service_confirmed"] if service in CONFIRMED else []
        return ["email", "order_id", *asked, *confirm]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = _applied(tracker, await super().get_validation_events(dispatcher, tracker, domain))
        events += _applied(tracker, await guess_kind_from_first_message(dispatcher, tracker))
        events += _applied(tracker, _reuse_verified_order(tracker))
        ownership, proven_order = await check_ownership(dispatcher, tracker, "service_refusal")
        events += _applied(tracker, ownership)
        events += _applied(tracker, _forget_answers_for_another_request(tracker))
        events += _applied(tracker, _the_only_change_the_shop_makes(tracker))
        # The order just proven is the one to check: no second read of it in the same turn.
        events += _applied(tracker, await _check_request(tracker, proven_order))
        events += _applied(tracker, await check_case_belongs_to_email(dispatcher, tracker))
        return events

    def validate_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        return email_slot(value, dispatcher)

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        return order_number_slot(value, dispatcher)

    def validate_service_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return confirmed_slot("service_confirmed", value, tracker.latest_message, dispatcher)

    async def validate_delivery_change(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        kind = chosen(value, DELIVERY_CHANGES)
        if kind and kind not in eshop().delivery_changes:
            return {"delivery_change": None, "service_refusal": "unsupported"}
        if kind == "pickup":
            return await _offer_pickup_points(dispatcher, tracker)
        return answer_or_reprompt(dispatcher, tracker, "delivery_change", kind, UNCLEAR["delivery_change"])

    def validate_pickup_point(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        said = str(first(value) or "").casefold()
        options = _pickup_options(tracker)
        picked = [point for point in options if point["id"] == said or _names_point(said, point)]
        if len(picked) != 1:
            dispatcher.utter_message(response="utter_pickup_point_unclear")
            return attempt_failed(tracker, "pickup_point")
        return {"pickup_point": picked[0]["id"]}

    def validate_new_address(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        current = order_snapshot(tracker)
        typed = address_in(first(value), current.get("country"))
        if not typed:
            dispatcher.utter_message(response="utter_new_address_unclear")
            return attempt_failed(tracker, "new_address")
        address = {"name": current.get("name") or "", "line1": typed.line1, "postal_code": typed.postal_code,
                   "city": typed.city, "country": typed.country}
        return {"new_address": json.dumps(address)}

    def validate_delivery_date(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        today = date.today()
        day = date_in(first(value), today)
        problem = _delivery_day_problem(day, today)
        if problem:
            dispatcher.utter_message(response=problem, last_day=day_name(today + timedelta(days=MAX_DAYS_AHEAD)))
            return attempt_failed(tracker, "delivery_date")
        return {"delivery_date": day.isoformat()}

    def validate_return_items(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        returnable = _returnable(tracker)
        chosen = _chosen_skus(first(value), returnable)
        if not chosen:
            dispatcher.utter_message(response="utter_return_items_unclear")
            return attempt_failed(tracker, "return_items")
        return {"return_items": ",".join(chosen)}

    def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        reason = chosen(value, RETURN_REASONS)
        return answer_or_reprompt(dispatcher, tracker, "return_reason", reason, UNCLEAR["return_reason"])

    def validate_return_condition(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        condition = chosen(value, CONDITIONS)
        return answer_or_reprompt(dispatcher, tracker, "return_condition", condition, UNCLEAR["return_condition"])


class ActionAskReturnItems(Action):
    """Offers the order's returnable items as buttons; typing their names works too."""

    def name(self) -> str:
        return "action_ask_return_items"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        returnable = _returnable(tracker)
        buttons = [button(f"{line['name']} ({line['quantity']}×)", "return_items", line["sku"]) for line in returnable]
        if len(returnable) > 1:
            buttons.append(button("All of them", "return_items", ALL_ITEMS))
        dispatcher.utter_message(response="utter_ask_return_items", buttons=buttons)
        return []


class ActionAskPickupPoint(Action):
    """Offers the pickup points nearest the order's address as buttons."""

    def name(self) -> str:
        return "action_ask_pickup_point"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        buttons = [button(point["label"], "pickup_point", point["id"]) for point in _pickup_options(tracker)]
        dispatcher.utter_message(response="utter_ask_pickup_point", buttons=buttons)
        return []


class ActionAskServiceConfirmed(Action):
    """Says exactly what will happen, in the customer's terms, before anything is changed."""

    def name(self) -> str:
        return "action_ask_service_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order = order_snapshot(tracker)
        service = tracker.get_slot("service")
        values: dict[str, Any] = {"order_number": order["number"]}
        if service == CANCEL:
            response = "utter_confirm_cancel_paid" if order["status"] == OrderStatus.PAID.value else "utter_confirm_cancel"
            values["total"] = order["total"]
        elif service == CHANGE_DELIVERY and tracker.get_slot("delivery_change") == "address":
            response, values["address"] = "utter_confirm_new_address", _one_line(json.loads(tracker.get_slot("new_address")))
        elif service == CHANGE_DELIVERY and tracker.get_slot("delivery_change") == "pickup":
            response, values["pickup_point"] = "utter_confirm_pickup_point", _picked_point(tracker)["label"]
        elif service == CHANGE_DELIVERY:
            response, values["delivery_date"] = "utter_confirm_delivery_date", _day(tracker.get_slot("delivery_date"))
        else:
            response, values["items"] = "utter_confirm_return", _items_said(tracker)
        dispatcher.utter_message(response=response, **values, buttons=[
            {"title": "Yes, go ahead", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
        return []


class ActionSubmitServiceRequest(Action):
    """Carries out the confirmed request, or explains why it cannot be done and what can."""

    def name(self) -> str:
        return "action_submit_service_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        reset = [SlotSet(slot, None) for slot in FORM_STATE]
        service, refusal = _service(tracker), tracker.get_slot("service_refusal")
        if refusal:
            return reset + _explain_refusal(dispatcher, tracker, refusal)
        if service != CASE_STATUS and not is_proven(tracker, tracker.get_slot("order_id")):
            # The form proves the order before it gets here; a call without a proof signed by this
            # server for this conversation is not one the form made, whatever its slots say.
            logger.warning(json.dumps({"event": "service_request_unproven", "service": service,
                                       "conversation": conversation_ref(tracker)}))
            return reset + _explain_refusal(dispatcher, tracker, "not_proven")
        carry_out = {CANCEL: _cancel, CHANGE_DELIVERY: _change_delivery, RETURN: _create_return,
                     RETURN_STATUS: _tell_return_status, COMPLAINT: open_complaint, CASE_STATUS: tell_case_status}[service]
        try:
            await carry_out(dispatcher, tracker)
            # A complaint is passed to a colleague, not solved: no rating is asked for it yet.
            return reset + [SlotSet("service_outcome", DONE)] + ([] if service == COMPLAINT else resolved(service))
        except Refused as refused:
            return reset + _explain_refusal(dispatcher, tracker, refused.reason)
        except Unsupported:
            return reset + _explain_refusal(dispatcher, tracker, "unsupported")
        except InvalidRequest as invalid:
            logger.info(json.dumps({"event": "service_request_invalid", "service": service, "fields": list(invalid.fields)}))
            dispatcher.utter_message(response="utter_delivery_change_refused_invalid")
            return reset + [SlotSet("service_outcome", NEEDS_HUMAN)]
        except IntegrationError:
            return reset + _explain_refusal(dispatcher, tracker, "unavailable")


# ---- The form's steps after the slots are validated, in order.

def _applied(tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """The next step sees what the previous ones decided."""
    tracker.add_slots(events)
    return events


def _reuse_verified_order(tracker: Tracker) -> list[EventType]:
    """An order proven earlier in the conversation ("where is it?" then "cancel it") is not asked for again."""
    verified = tracker.get_slot("verified_order")
    if _service(tracker) == CASE_STATUS or tracker.get_slot("order_id") or not is_proven(tracker, verified):
        return []
    return [SlotSet("order_id", verified)]


def _forget_answers_for_another_request(tracker: Tracker) -> list[EventType]:
    """A correction ("no, the other order", "actually, cancel it") makes earlier answers meaningless."""
    checked = tracker.get_slot("service_checked")
    if not checked or checked == _request_key(tracker):
        return []
    return [SlotSet(slot, None) for slot in (*ALL_REQUEST_SLOTS, "returnable")]


def _the_only_change_the_shop_makes(tracker: Tracker) -> list[EventType]:
    """Where the shop can change only one thing (the address), asking which change has one answer: not asked."""
    kinds = eshop().delivery_changes
    if _service(tracker) != CHANGE_DELIVERY or tracker.get_slot("delivery_change") or len(kinds) != 1:
        return []
    return [SlotSet("delivery_change", next(iter(kinds)))]


async def _check_request(tracker: Tracker, order: Order | None) -> list[EventType]:
    """Once the order is proven: may this be done to it? Asked once per request and order.

    `order` is the one proven this turn, if any; an order proven earlier is read again (it may have moved on).
    """
    number, service = tracker.get_slot("order_id"), _service(tracker)
    if not is_proven(tracker, number) or tracker.get_slot("service_refusal"):
        return []
    if tracker.get_slot("service_checked") == _request_key(tracker):
        return []
    try:
        if order is None or order.number != number:
            order = await eshop().get_order(number)
        events = [SlotSet("service_checked", _request_key(tracker)), SlotSet("service_order", _snapshot(order))]
        return events + await _state_allows(service, order)
    except Unsupported:
        return [SlotSet("service_refusal", "unsupported")]
    except IntegrationError:
        return [SlotSet("service_refusal", "unavailable")]


async def _state_allows(service: str, order: Order) -> list[EventType]:
    if service in (CANCEL, CHANGE_DELIVERY):
        if order.status is OrderStatus.CANCELLED:
            return [SlotSet("service_refusal", "order_cancelled")]
        if order.status not in IN_WAREHOUSE:
            return [SlotSet("service_refusal", "order_already_shipped")]
        if not eshop().handles(SHOP_METHODS[service]):
            return [SlotSet("service_refusal", "unsupported")]
        return []
    if service == COMPLAINT:
        if order.status is OrderStatus.CANCELLED:
            return [SlotSet("service_refusal", "order_cancelled")]
        if order.status in IN_WAREHOUSE:
            return [SlotSet("service_refusal", "not_delivered_yet")]
        return []
    if service == RETURN:
        eligibility = await eshop().return_eligibility(order.number)
        eligible = eligibility.eligible_lines
        if not eligible:
            reasons = [line.reason_code for line in eligibility.lines if line.reason_code]
            return [SlotSet("service_refusal", reasons[0] if reasons else "not_returnable")]
        returnable = [{"sku": line.sku, "name": line.product_name, "quantity": line.quantity_returnable}
                      for line in eligible]
        return [SlotSet("returnable", json.dumps(returnable))]
    return []


# ---- Carrying out a confirmed request.

async def _cancel(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    number = tracker.get_slot("order_id")
    cancellation = await eshop().cancel_order(
        number, reason="customer_request", idempotency_key=_idempotency_key(tracker, "cancel")
    )
    if cancellation.refund:
        dispatcher.utter_message(response="utter_order_cancelled_now_refund", order_number=number,
                                 amount=str(cancellation.refund.amount))
    else:
        dispatcher.utter_message(response="utter_order_cancelled_now", order_number=number)
    _log(tracker, "cancel_order", f"Cancelled order #{number} in the chat.", "cancelled")


async def _change_delivery(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    number = tracker.get_slot("order_id")
    if tracker.get_slot("delivery_change") == "address":
        address = Address(**json.loads(tracker.get_slot("new_address")))
        await eshop().change_delivery(number, address=address, idempotency_key=_idempotency_key(tracker, "address"))
        dispatcher.utter_message(response="utter_delivery_address_changed", order_number=number,
                                 address=_one_line(json.loads(tracker.get_slot("new_address"))))
        _log(tracker, "change_delivery", f"Changed the delivery address of order #{number}.", "address_changed")
        return
    if tracker.get_slot("delivery_change") == "pickup":
        point = _picked_point(tracker)
        await eshop().change_delivery(number, pickup_point_id=point["id"], idempotency_key=_idempotency_key(tracker, "pickup"))
        dispatcher.utter_message(response="utter_delivery_pickup_changed", order_number=number, pickup_point=point["label"])
        _log(tracker, "change_delivery", f"Order #{number} now goes to pickup point {point['id']}.", "pickup_point_chosen")
        return
    day = date.fromisoformat(tracker.get_slot("delivery_date"))
    await eshop().change_delivery(number, delivery_date=day, idempotency_key=_idempotency_key(tracker, "date"))
    dispatcher.utter_message(response="utter_delivery_date_changed", order_number=number, delivery_date=day_name(day))
    _log(tracker, "change_delivery", f"Moved the delivery of order #{number} to {day.isoformat()}.", "date_changed")


async def _create_return(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    number = tracker.get_slot("order_id")
    reason = ReturnReason(tracker.get_slot("return_reason"))
    condition = ItemCondition(tracker.get_slot("return_condition"))
    quantities = {line["sku"]: line["quantity"] for line in _returnable(tracker)}
    items = [ReturnItem(sku, quantities[sku], reason, condition) for sku in tracker.get_slot("return_items").split(",")]
    # The same request in this conversation gives the same return, however often it is sent.
    rma = await eshop().create_return(number, items, idempotency_key=_idempotency_key(tracker, "return"))
    dispatcher.utter_message(response="utter_return_created", rma_number=rma.number, order_number=number,
                             carrier=rma.carrier_name, label_url=rma.label_url, amount=str(rma.refund.amount))
    _open_return_case(tracker, rma)


async def _tell_return_status(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    number = tracker.get_slot("order_id")
    returns = await eshop().returns_of_order(number)
    if not returns:
        dispatcher.utter_message(response="utter_no_returns_for_order", order_number=number)
        return
    for rma in returns:
        dispatcher.utter_message(response=RETURN_STATUSES[rma.status], rma_number=rma.number,
                                 label_url=rma.label_url, amount=str(rma.refund.amount))


def _open_return_case(tracker: Tracker, rma: Rma) -> None:
    """The return is a case in the CRM too, so a colleague sees it with the conversation; one per return."""
    lines = "\n".join(f"- {item.quantity} × {item.product_name} ({item.sku}): {item.reason}, {item.condition}"
                      for item in rma.items)
    record_case_later(
        subject=f"Return {rma.number} for order #{rma.order_number}",
        description=f"Opened by the customer in the chat.\n{lines}\nLabel: {rma.label_url}",
        priority="normal",
        category="return",
        conversation_id=conversation_ref(tracker),
        email=tracker.get_slot("email"),
        order_number=rma.order_number,
        idempotency_key=f"return-case:{rma.number}",
    )


# ---- Helpers.

def _explain_refusal(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    response = REFUSALS.get(reason, "utter_service_unsupported")
    if isinstance(response, dict):
        response = response.get(tracker.get_slot("service"), "utter_service_unsupported")
    order = order_snapshot(tracker)
    dispatcher.utter_message(response=response, order_number=order.get("number") or tracker.get_slot("order_id"),
                             tracking_url=order.get("tracking_url") or "the link in your shipping email")
    # The rules offer a person after NEEDS_HUMAN; the other refusals name their own next step.
    return [SlotSet("service_outcome", NEEDS_HUMAN if reason in OFFER_HUMAN_AFTER else REFUSED)]


async def _offer_pickup_points(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """The points near the order's address, found now so the next question can offer them; none: ask again."""
    order = order_snapshot(tracker)
    try:
        points = await eshop().pickup_points(order.get("country") or "", order.get("postal_code") or "")
    except (Unsupported, IntegrationError):
        points = []
    if not points:
        dispatcher.utter_message(response="utter_no_pickup_points")
        return {"delivery_change": None}
    options = [{"id": point.id, "name": point.name, "city": point.address.city,
                "label": f"{point.name}, {point.address.line1}, {point.address.city}"} for point in points]
    return {"delivery_change": "pickup", "pickup_options": json.dumps(options)}


def _pickup_options(tracker: Tracker) -> list[dict]:
    return json.loads(tracker.get_slot("pickup_options") or "[]")


def _picked_point(tracker: Tracker) -> dict:
    return next(point for point in _pickup_options(tracker) if point["id"] == tracker.get_slot("pickup_point"))


def _names_point(said: str, point: dict) -> bool:
    words = {word for word in said.replace(",", " ").split() if len(word) > 3}
    return bool(words & set(point["label"].casefold().replace(",", " ").split()))


def _delivery_day_problem(day: date | None, today: date) -> str | None:
    if day is None:
        return "utter_delivery_date_unclear"
    if day <= today or day > today + timedelta(days=MAX_DAYS_AHEAD):
        return "utter_delivery_date_out_of_range"
    if day.weekday() == 6:
        return "utter_delivery_date_sunday"
    return None


def _chosen_skus(text: Any, returnable: list[dict]) -> list[str]:
    said = str(text or "").strip()
    skus = [line["sku"] for line in returnable]
    if said == ALL_ITEMS or any(word in said.casefold().split() for word in ALL_WORDS):
        return skus
    by_sku = [sku for sku in skus if sku.casefold() in said.casefold()]
    if by_sku:
        return by_sku
    words = {word for word in said.casefold().replace(",", " ").split() if len(word) > 2}
    return [line["sku"] for line in returnable if words & set(line["name"].casefold().split())]


def _service(tracker: Tracker) -> str:
    # Set by the intent that started the form; should it be missing, only look, never change anything.
    return tracker.get_slot("service") or RETURN_STATUS


def _request_key(tracker: Tracker) -> str:
    return f"{_service(tracker)}:{tracker.get_slot('order_id')}"


def _idempotency_key(tracker: Tracker, what: str) -> str:
    """Derived from the request itself, so a repeated message or a retried call cannot do it twice."""
    request = json.dumps([tracker.get_slot(slot) for slot in ("order_id", *ANSWERS)])
    return f"{what}:{conversation_ref(tracker)}:{hashlib.sha256(request.encode()).hexdigest()[:16]}"


def _snapshot(order: Order) -> str:
    """What the later turns of the form need to say about the order, without asking the shop again."""
    address = order.shipping_address
    tracking = next((s.tracking_url for s in order.shipments if s.tracking_url), None)
    return json.dumps({
        "number": order.number, "status": order.status.value, "total": str(order.total),
        "name": address.name if address else None, "country": address.country if address else None,
        "postal_code": address.postal_code if address else None,
        "tracking_url": tracking,
        "lines": [{"sku": line.sku, "name": line.product_name} for line in order.lines],
    })


def _returnable(tracker: Tracker) -> list[dict]:
    return json.loads(tracker.get_slot("returnable") or "[]")


def _items_said(tracker: Tracker) -> str:
    chosen = set((tracker.get_slot("return_items") or "").split(","))
    return ", ".join(f"{line['quantity']} × {line['name']}" for line in _returnable(tracker) if line["sku"] in chosen)


def _one_line(address: dict[str, str]) -> str:
    return f"{address['line1']}, {address['postal_code']} {address['city']}, {address['country']}"


def _day(iso: str) -> str:
    return day_name(date.fromisoformat(iso))


def _log(tracker: Tracker, kind: str, summary: str, outcome: str) -> None:
    record_interaction_later(
        email=tracker.get_slot("email"),
        kind=kind,
        summary=summary,
        channel=tracker.get_latest_input_channel() or "unknown",
        conversation_id=conversation_ref(tracker),
        idempotency_key=_idempotency_key(tracker, f"log-{kind}"),
        order_number=tracker.get_slot("order_id"),
        outcome=outcome,
    )
