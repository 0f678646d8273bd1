"""Where actions get the e-shop and the CRM, and what identifies a conversation to them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from functools import lru_cache

from rasa_sdk import Tracker

from actions.attempt_limits import AttemptLimits, Limits
from actions.proof import ProofSigner
from integrations.config import crm_from_env, eshop_from_env, state_database_url
from integrations.crm import CRM
from integrations.eshop import EShop
from integrations.state_database import state_engine
from integrations.transport import answer_within, correlation_id

logger = logging.getLogger(__name__)

# All upstream calls of one action together: with Rasa's own ~200 ms, a reply fits in 700 ms.
ACTION_BUDGET_SECONDS = 0.45


@lru_cache(maxsize=1)
def eshop() -> EShop:
    return eshop_from_env()


@lru_cache(maxsize=1)
def crm() -> CRM:
    return crm_from_env()


@lru_cache(maxsize=1)
def proof_signer() -> ProofSigner:
    secret = os.environ.get("ACTION_PROOF_SECRET")
    if not secret:
        # Still safe, but proofs die with this process and other action servers cannot read them.
        logger.warning(json.dumps({"event": "action_proof_secret_missing",
                                   "hint": "set ACTION_PROOF_SECRET, the same on every action server"}))
        return ProofSigner(secrets.token_bytes(32))
    return ProofSigner(secret.encode())


@lru_cache(maxsize=1)
def attempt_limits() -> AttemptLimits:
    return AttemptLimits(state_engine(state_database_url()), Limits.from_env())


def conversation_ref(tracker: Tracker) -> str:
    """A stable, pseudonymous id for the conversation.

    Sender ids can be phone numbers (WhatsApp), so logs and upstream systems get
    a hash instead.
    """
    return "conv-" + hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:16]


def bind_conversation(tracker: Tracker) -> str:
    """Tag every upstream call made for this action with the conversation's id, and bound them in time."""
    ref = conversation_ref(tracker)
    correlation_id.set(ref)
    answer_within(ACTION_BUDGET_SECONDS)
    return ref


def turn_ref(tracker: Tracker) -> str:
    """Identifies the user message being answered, so a retried turn repeats no write."""
    message_id = tracker.latest_message.get("message_id")
    return f"{conversation_ref(tracker)}:{message_id or len(tracker.events)}"
