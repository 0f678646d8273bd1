"""Passing the customer to a human with the whole context, and never guessing."""

from __future__ import annotations

from typing import Any

from babel import Locale
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backends import bind_conversation, turn_ref
from actions.crm_log import open_ticket
from actions.user_input import normalized_email
from integrations.outbox import DELIVERED, PENDING

TRANSCRIPT_TURNS = 30
REDACTED_CODE = "[one-time code removed]"
# The slot `language` holds the ISO 639-1 code of a language the assistant doesn't speak, when the customer
# wrote in one (nlu_components/languages.py); the agent sees its English name (babel's) in the case.
LANGUAGE_NAMES = Locale("en").languages


class ValidateHandoverForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handover_form"

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = normalized_email(value[0] if isinstance(value, list) else value)
        if not email:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"email": email}


class ActionRequestHuman(Action):
    """Opens a CRM case carrying the conversation so far, so nobody has to ask twice."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        conversation = bind_conversation(tracker)
        email = tracker.get_slot("email")
        outcome = await open_ticket(
            subject=handover_subject(tracker),
            description=transcript(tracker),
            priority="normal",
            category="handover",
            conversation_id=conversation,
            email=email,
            idempotency_key=f"handover:{turn_ref(tracker)}",
        )
        if outcome.status == DELIVERED:
            dispatcher.utter_message(
                response="utter_handover_created", ticket_number=outcome.result["number"], email=email
            )
        elif outcome.status == PENDING:
            dispatcher.utter_message(response="utter_handover_queued", email=email)
        else:
            dispatcher.utter_message(response="utter_handover_failed")
        return []


class ActionHandleFallback(Action):
    """Asks to rephrase once; the second miss in a row offers a person instead of guessing."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if consecutive_fallbacks(tracker) < 2:
            dispatcher.utter_message(response="utter_ask_rephrase")
            # Wait for the rephrased message: as the core fallback, predicting again would ask again.
            return [FollowupAction("action_listen")]
        dispatcher.utter_message(response="utter_fallback_offer_human")
        return [FollowupAction("utter_offer_human")]


def consecutive_fallbacks(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


def customer_language(tracker: Tracker) -> str | None:
    """The language the customer wrote in, as "German (de)", if it is one the assistant doesn't speak."""
    code = tracker.get_slot("language")
    if not code or code == "en":
        return None
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def handover_subject(tracker: Tracker) -> str:
    language = customer_language(tracker)
    if language:
        return f"Chat handover: the customer asked for a person, writes in {language}"
    return "Chat handover: the customer asked for a person"


def transcript(tracker: Tracker) -> str:
    """The recent conversation as the agent will read it, without one-time codes."""
    lines: list[str] = []
    requested_slot = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            requested_slot = event.get("value")
        elif kind == "user" and event.get("text"):
            text = REDACTED_CODE if requested_slot == "login_code" else event["text"]
            lines.append(f"Customer: {text}")
        elif kind == "bot" and event.get("text"):
            lines.append(f"Assistant: {event['text']}")
    order = tracker.get_slot("order_id")
    header = [f"Order mentioned: #{order}"] if order else []
    language = customer_language(tracker)
    if language:
        header.append(f"Customer's language: {language}; the assistant speaks only English.")
    return "\n".join(header + lines[-TRANSCRIPT_TURNS:])
