"""Complaints about goods (defective, arrived damaged, wrong item, missing) and their status later.

A complaint becomes a CRM case at once, because the customer wants its number: with a summary of
what they said, the item, links to their photos, a priority from the kind of problem and the
due date our service promise gives it. Its status is shown later only to the email it was opened for.
These are steps and slots of the service request form (actions/service.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import conversation_ref, crm
from actions.crm_log import open_ticket
from actions.form_answers import answer_or_reprompt, attempt_failed, button, order_snapshot
from actions.handover import transcript
from actions.orders import day_name
from actions.user_input import choice_in, chosen
from actions.verification import first, missed_proof, proof_refused
from integrations.errors import IntegrationError, NotFound
from integrations.outbox import DELIVERED, PENDING
from nlu_components.formats import normalized_case_number

COMPLAINT, CASE_STATUS = "complaint", "case_status"
COMPLAINT_SLOTS = ("complaint_item", "complaint_kind", "complaint_details")
COMPLAINT_KINDS = {
    "arrived_damaged": ("damaged", "broken", "crushed", "cracked", "dented", "torn", "wet", "ruined", "smashed"),
    "wrong_item": ("wrong", "instead of", "someone else", "not what i ordered", "different"),
    "missing": ("missing", "wasn't in", "was not in", "not in the box", "not in the parcel", "only got", "gone"),
    "defective": ("defect", "faulty", "stopped working", "doesn't work", "does not work", "won't", "leak", "came off",
                  "fell apart", "holes", "warranty", "coming apart", "doesn't charge"),
}
# Damaged, wrong or missing goods leave the customer without what they paid for: answered first.
PRIORITIES = {"arrived_damaged": "high", "wrong_item": "high", "missing": "high", "defective": "normal"}
BUSINESS_DAYS_TO_ANSWER = {"high": 1, "normal": 2}
PHOTO_LINK = re.compile(r"https?://[^\s<>\"']+")
MIN_DETAIL_WORDS = 3
CASE_STATUSES = {"open": "utter_case_status_open", "pending": "utter_case_status_pending",
                 "solved": "utter_case_status_solved", "closed": "utter_case_status_solved"}


class ComplaintSlots:
    """The complaint's questions, validated; mixed into the service request form's validation."""

    def validate_complaint_item(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        lines = order_snapshot(tracker).get("lines", [])
        said = str(first(value) or "").casefold()
        chosen = [line for line in lines if line["sku"].casefold() == said or _names_it(said, line["name"])]
        if len(chosen) != 1:
            dispatcher.utter_message(response="utter_complaint_item_unclear")
            return attempt_failed(tracker, "complaint_item")
        return {"complaint_item": chosen[0]["sku"]}

    def validate_complaint_kind(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        kind = chosen(value, COMPLAINT_KINDS)
        return answer_or_reprompt(dispatcher, tracker, "complaint_kind", kind, "utter_complaint_kind_unclear")

    def validate_complaint_details(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        details = str(first(value) or "").strip()
        if len(PHOTO_LINK.sub("", details).split()) < MIN_DETAIL_WORDS:
            dispatcher.utter_message(response="utter_complaint_details_unclear")
            return attempt_failed(tracker, "complaint_details")
        return {"complaint_details": details[:2000]}

    def validate_case_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        number = normalized_case_number(str(first(value) or ""))
        if not number:
            dispatcher.utter_message(response="utter_case_number_unclear")
            return attempt_failed(tracker, "case_number")
        return {"case_number": number}


def request_slots(service: str) -> tuple[str, ...]:
    return COMPLAINT_SLOTS if service == COMPLAINT else ("case_number",)


async def guess_kind_from_first_message(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """ "My bottle arrived dented" already says what the problem is: no need to ask for it again."""
    if tracker.get_slot("service") != COMPLAINT or tracker.get_slot("complaint_kind"):
        return []
    if tracker.latest_message.get("intent", {}).get("name") != "file_complaint":
        return []
    text = tracker.latest_message.get("text") or ""
    kind = choice_in(text, COMPLAINT_KINDS)
    if not kind:
        return []
    # A message that names the problem also describes it well enough for the case.
    described = [SlotSet("complaint_details", text)] if len(text.split()) >= MIN_DETAIL_WORDS else []
    return [SlotSet("complaint_kind", kind), *described]


async def check_case_belongs_to_email(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """A case's status goes only to the email it was opened for; other people learn nothing, not even that it exists."""
    email, number = tracker.get_slot("email"), tracker.get_slot("case_number")
    given_now = {"email", "case_number"} & tracker.slots_to_validate().keys()
    if tracker.get_slot("service") != CASE_STATUS or not (email and number and given_now):
        return []
    try:
        # Case numbers can be guessed like order numbers: the same limits, the same answer when refused.
        ticket = None if await proof_refused(tracker, email) else await crm().get_ticket(number)
    except NotFound:
        ticket = None
    except IntegrationError:
        return [SlotSet("service_refusal", "unavailable")]
    if ticket and ticket.email and ticket.email.casefold() == email.casefold():
        case = {"number": ticket.number, "status": ticket.status, "subject": ticket.subject,
                "due_at": ticket.due_at.isoformat() if ticket.due_at else None}
        return [SlotSet("service_case", json.dumps(case))]
    slots = await missed_proof(tracker, email, "case_number", "service_refusal")
    if "service_refusal" not in slots:
        dispatcher.utter_message(response="utter_case_not_found_for_email", case_number=number, email=email)
    return [SlotSet(name, value) for name, value in slots.items()]


class ActionAskComplaintItem(Action):
    """Offers the order's items as buttons; typing the name works too."""

    def name(self) -> str:
        return "action_ask_complaint_item"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lines = order_snapshot(tracker).get("lines", [])
        if len(lines) == 1:
            return [SlotSet("complaint_item", lines[0]["sku"])]
        dispatcher.utter_message(response="utter_ask_complaint_item",
                                 buttons=[button(line["name"], "complaint_item", line["sku"]) for line in lines])
        return []


async def open_complaint(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    order = order_snapshot(tracker)
    kind, details = tracker.get_slot("complaint_kind"), tracker.get_slot("complaint_details")
    item = next(line for line in order["lines"] if line["sku"] == tracker.get_slot("complaint_item"))
    priority = PRIORITIES[kind]
    due = answer_due(priority, datetime.now(timezone.utc))
    photos = PHOTO_LINK.findall(details)
    request = json.dumps([order["number"], item["sku"], kind, details])
    outcome = await open_ticket(
        subject=f"Complaint ({kind.replace('_', ' ')}): {item['name']}, order #{order['number']}",
        description=_summary(order["number"], item, kind, details, photos) + "\n\nConversation:\n" + transcript(tracker),
        priority=priority,
        category="complaint",
        conversation_id=conversation_ref(tracker),
        email=tracker.get_slot("email"),
        order_number=order["number"],
        idempotency_key=f"complaint:{conversation_ref(tracker)}:{hashlib.sha256(request.encode()).hexdigest()[:16]}",
        due_at=due.isoformat(),
        attachments=photos,
    )
    if outcome.status == DELIVERED:
        dispatcher.utter_message(response="utter_complaint_opened", case_number=outcome.result["number"],
                                 due_date=day_name(due), email=tracker.get_slot("email"))
    elif outcome.status == PENDING:
        dispatcher.utter_message(response="utter_complaint_queued", email=tracker.get_slot("email"))
    else:
        dispatcher.utter_message(response="utter_handover_failed")


async def tell_case_status(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    case = json.loads(tracker.get_slot("service_case"))
    due = datetime.fromisoformat(case["due_at"]) if case["due_at"] else None
    dispatcher.utter_message(response=CASE_STATUSES.get(case["status"], "utter_case_status_open"),
                             case_number=case["number"], subject=case["subject"], due_date=day_name(due))


def answer_due(priority: str, now: datetime) -> datetime:
    """When a colleague must have answered: business days from now, weekends not counted."""
    due, days = now, BUSINESS_DAYS_TO_ANSWER.get(priority, 2)
    while days:
        due += timedelta(days=1)
        if due.weekday() < 5:
            days -= 1
    return due


def _summary(order_number: str, item: dict, kind: str, details: str, photos: list[str]) -> str:
    lines = [f"Order: #{order_number}", f"Item: {item['name']} ({item['sku']})",
             f"Problem: {kind.replace('_', ' ')}", f"In the customer's words: {details}"]
    lines += [f"Photo: {link}" for link in photos]
    return "\n".join(lines)


def _names_it(said: str, name: str) -> bool:
    words = {word for word in re.split(r"\W+", said) if len(word) > 2}
    return bool(words & set(re.split(r"\W+", name.casefold())))
