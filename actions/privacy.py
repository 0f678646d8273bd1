"""Data subject rights in the chat: a copy of one's data by email, its erasure, no more marketing mail.

Only the owner of an email may ask: privacy_request_form has them prove it with a one-time code sent to it
through the shop (an order number with its email proves knowing an order, not owning the mailbox, and is
not enough to erase anything). An erasure is confirmed first, with what the shop must keep. Where the shop
cannot send codes, or the CRM cannot do what is asked, the customer hears so and a colleague gets a case
(the handover path). data_rights/desk.py carries the request out and audits it, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any, Coroutine

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.backends import bind_conversation, crm, eshop, turn_ref
from actions.confirmation import confirmed_slot
from actions.verification import (
    checked_login_code,
    email_slot,
    proven,
    proven_customer,
    proven_email,
    send_code_and_ask,
)
from integrations.config import ConfigurationError
from integrations.errors import IntegrationError, Unsupported
from integrations.transport import answer_within
from data_rights.audit import CONSENT, ERASE, EXPORT, FAILED, NOT_VERIFIED, UNSUPPORTED
from data_rights.desk import PrivacyDesk, desk_from_env

logger = logging.getLogger(__name__)

SUBMIT = "action_submit_privacy_request"
# An export or an erasure takes several calls, and the customer waits for it once: more than a quick answer.
PRIVACY_BUDGET_SECONDS = 8.0
# Per request, the CRM method it needs (CRM.handles): without it a colleague takes the request.
CRM_METHODS = {EXPORT: "export_contact", ERASE: "erase_contact", CONSENT: "withdraw_marketing_consent"}
FAILURE_RESPONSES = {"unavailable": "utter_privacy_unavailable", "verification_failed": "utter_login_code_failed"}
DONE_RESPONSES = {EXPORT: "utter_privacy_export_sent", ERASE: "utter_privacy_erased",
                  CONSENT: "utter_privacy_consent_withdrawn"}
FORM_SLOTS = ("privacy_request", "privacy_confirmed", "privacy_failure", "login_code")
# After an erasure nothing of the customer stays in the conversation: no later action writes about them.
IDENTITY_SLOTS = ("email", "ownership_proof", "verified_order", "login_code_sent_to", "order_id")

_deferred: set[asyncio.Task] = set()


@lru_cache(maxsize=1)
def privacy_desk() -> PrivacyDesk:
    return desk_from_env(crm=crm())


class ValidatePrivacyRequestForm(FormValidationAction):
    def name(self) -> str:
        return "validate_privacy_request_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # Nothing to ask when it cannot be done here: the submit action says so and hands over.
        if tracker.get_slot("privacy_failure") or not can_be_done_here(tracker):
            return []
        slots = [] if code_proven_email(tracker) else ["email", "login_code"]
        if tracker.get_slot("privacy_request") == ERASE:
            slots.append("privacy_confirmed")
        return slots

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return email_slot(value, dispatcher)

    def validate_privacy_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return confirmed_slot("privacy_confirmed", value, tracker.latest_message, dispatcher)

    async def validate_login_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        slots, check = await checked_login_code(dispatcher, tracker, value, "privacy_failure")
        if check is None:
            return slots
        proof = proven(tracker, tracker.get_slot("email"), customer_id=check.customer_id)
        return {"login_code": None, **{event["name"]: event["value"] for event in proof}}


class ActionAskPrivacyLoginCode(Action):
    """Sends the one-time code to the email (once, and within the limits) and asks for it."""

    def name(self) -> str:
        return "action_ask_privacy_request_form_login_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        bind_conversation(tracker)
        try:
            return await send_code_and_ask(dispatcher, tracker)
        except IntegrationError:
            # The form ends here; the submit action apologises and offers a person.
            return [SlotSet("privacy_failure", "unavailable"), SlotSet("requested_slot", None), ActiveLoop(None)]


class ActionSubmitPrivacyRequest(Action):
    """Carries the request out for the proven email, or says honestly why not and who will."""

    def name(self) -> str:
        return SUBMIT

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested_by = bind_conversation(tracker)
        answer_within(PRIVACY_BUDGET_SECONDS)
        request = tracker.get_slot("privacy_request") or EXPORT
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS]
        failure = tracker.get_slot("privacy_failure")
        claimed = tracker.get_slot("email")
        if failure:
            dispatcher.utter_message(response=FAILURE_RESPONSES[failure])
            result = NOT_VERIFIED if failure == "verification_failed" else f"{FAILED}:shop_unavailable"
            await _record_refusal(requested_by, request, claimed, result)
            return reset + _outcome("needs_human")
        if not can_be_done_here(tracker):
            dispatcher.utter_message(response="utter_privacy_needs_colleague")
            await _record_refusal(requested_by, request, claimed, UNSUPPORTED)
            return reset + _outcome("needs_colleague")
        email = code_proven_email(tracker)
        if email is None:
            # Only the form proves the email; a tracker that merely names one gets nothing done.
            dispatcher.utter_message(response="utter_privacy_not_verified")
            await _record_refusal(requested_by, request, claimed, NOT_VERIFIED)
            return reset + _outcome("refused")
        try:
            events = await _carry_out(request, email, requested_by, tracker)
        except Unsupported:
            dispatcher.utter_message(response="utter_privacy_needs_colleague")
            return reset + _outcome("needs_colleague")
        except (IntegrationError, SQLAlchemyError, ConfigurationError) as failure:
            # The desk audited it; the operator learns of it here, the customer may simply ask again.
            logger.error(json.dumps({"event": "privacy_request_failed", "conversation": requested_by,
                                     "request": request, "error": type(failure).__name__}))
            dispatcher.utter_message(response="utter_privacy_unavailable")
            return reset + _outcome("needs_human")
        dispatcher.utter_message(response=DONE_RESPONSES[request], email=email)
        return reset + events + _outcome("done")


async def _carry_out(request: str, email: str, requested_by: str, tracker: Tracker) -> list[EventType]:
    """Does what was asked; the slot events that follow from it."""
    desk = privacy_desk()
    if request == EXPORT:
        await desk.send_export(email, requested_by, idempotency_key=f"privacy-export:{turn_ref(tracker)}")
        return []
    if request == CONSENT:
        await desk.withdraw_marketing_consent(email, requested_by)
        return []
    await desk.erase(email, requested_by)
    if desk.conversations is not None:
        # Rasa writes this turn back after the reply, and with it the conversation: delete it again then.
        _in_background(desk.conversations.delete_after_turn(tracker.sender_id, SUBMIT))
    return [SlotSet(slot, None) for slot in IDENTITY_SLOTS]


def can_be_done_here(tracker: Tracker) -> bool:
    """Whether this shop can prove the email (one-time codes) and its CRM do what is asked."""
    request = tracker.get_slot("privacy_request") or EXPORT
    provable = code_proven_email(tracker) is not None or eshop().login_codes_supported
    return provable and crm().handles(CRM_METHODS[request])


def code_proven_email(tracker: Tracker) -> str | None:
    """The email this conversation proved with a one-time code, if it is the one the customer gives now."""
    email = proven_email(tracker)
    return email if email and proven_customer(tracker) else None


def _outcome(outcome: str) -> list[EventType]:
    return [SlotSet("privacy_outcome", outcome)]


async def _record_refusal(requested_by: str, request: str, email: str | None, result: str) -> None:
    """Audit a request that was not carried out (the desk audits the others itself)."""
    if not email:
        return  # nobody named: there is no subject to keep the request under
    try:
        await asyncio.to_thread(privacy_desk().record_refusal, requested_by, request, email, result)
    except (IntegrationError, SQLAlchemyError, ConfigurationError) as failure:
        # The customer's answer does not depend on it; the operator sees it in the log.
        logger.error(json.dumps({"event": "privacy_audit_failed", "conversation": requested_by,
                                 "error": type(failure).__name__}))


def _in_background(work: Coroutine) -> None:
    task = asyncio.get_running_loop().create_task(work)
    # The loop keeps only weak references to tasks; this set keeps them alive until done.
    _deferred.add(task)
    task.add_done_callback(_deferred.discard)
