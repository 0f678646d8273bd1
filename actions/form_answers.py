"""What the service request form's answers have in common: re-asking, counting misses, buttons, the order.

Shared by actions/service.py and actions/complaints.py.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.verification import missed

def answer_or_reprompt(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: str | None,
                       unclear: str) -> dict:
    if value:
        return {slot: value}
    dispatcher.utter_message(response=unclear)
    return attempt_failed(tracker, slot)


def attempt_failed(tracker: Tracker, slot: str) -> dict[str, Any]:
    """A miss in the service request form, whose failures end in `service_refusal`."""
    return missed(tracker, slot, "service_refusal")


def order_snapshot(tracker: Tracker) -> dict[str, Any]:
    return json.loads(tracker.get_slot("service_order") or "{}")


def button(title: str, slot: str, value: str) -> dict[str, str]:
    return {"title": title, "payload": "/inform" + json.dumps({slot: value}, separators=(",", ":"))}
