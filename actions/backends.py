"""Where actions get the e-shop and the CRM, and what identifies a conversation to them."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from rasa_sdk import Tracker

from integrations.config import crm_from_env, eshop_from_env
from integrations.crm import CRM
from integrations.eshop import EShop
from integrations.transport import correlation_id


@lru_cache(maxsize=1)
def eshop() -> EShop:
    return eshop_from_env()


@lru_cache(maxsize=1)
def crm() -> CRM:
    return crm_from_env()


def conversation_ref(tracker: Tracker) -> str:
    """A stable, pseudonymous id for the conversation.

    Sender ids can be phone numbers (WhatsApp), so logs and upstream systems get
    a hash instead.
    """
    return "conv-" + hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:16]


def bind_conversation(tracker: Tracker) -> str:
    """Tag every upstream call made for this turn with the conversation's id."""
    ref = conversation_ref(tracker)
    correlation_id.set(ref)
    return ref


def turn_ref(tracker: Tracker) -> str:
    """Identifies the user message being answered, so a retried turn repeats no write."""
    message_id = tracker.latest_message.get("message_id")
    return f"{conversation_ref(tracker)}:{message_id or len(tracker.events)}"
