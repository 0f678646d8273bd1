"""What the service request form's answers have in common: re-asking, counting misses, buttons, the order.

Shared by actions/service.py and actions/complaints.py.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

MAX_MISSES = 3


def answer_or_reprompt(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: str | None,
                       unclear: str) -> dict:
    if value:
        return {slot: value}
    dispatcher.utter_message(response=unclear)
    return attempt_failed(tracker, slot)


def attempt_failed(tracker: Tracker, slot: str) -> dict[str, Any]:
    """Re-asked after a miss; after the third, the customer is offered a person instead of a fourth try."""
    attempts = (tracker.get_slot("lookup_attempts") or 0) + 1
    if attempts >= MAX_MISSES:
        return {slot: None, "lookup_attempts": attempts, "service_refusal": "too_many_attempts"}
    return {slot: None, "lookup_attempts": attempts}


def order_snapshot(tracker: Tracker) -> dict[str, Any]:
    return json.loads(tracker.get_slot("service_order") or "{}")


def button(title: str, slot: str, value: str) -> dict[str, str]:
    return {"title": title, "payload": "/inform" + json.dumps({slot: value}, separators=(",", ":"))}
