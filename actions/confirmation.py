"""A change (a cancellation, a new address, a return, an erasure) goes ahead only on an unambiguous yes.

The classifier alone is not enough: statements such as "that's incorrect" or "yes, no, wait" share words
with yeses and were read as `affirm` with high confidence. A yes counts when the customer pressed the
button, or when the message is `affirm` with high confidence and carries no sign of a no; anything else
is asked again, which costs one turn, while a wrong yes costs an order.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

# Below this the classifier is unsure between yes and something else; asking again is cheap.
CLEAR_YES_CONFIDENCE = 0.9
# Words that make a yes doubtful however confident the classifier is ("yes, no, wait", "isn't right").
DOUBT = re.compile(
    r"\b(?:no|not|nope|nah|never|wrong|incorrect|false|untrue|mistake|wait|hold on|stop|rather not|abort|keep|leave|"
    r"forget|changed my mind|scratch|misunderst\w*|afraid)\b|n't\b|\bdont\b",
    re.IGNORECASE,
)
BUTTON_YES = "/affirm"


def is_clear_yes(message: dict[str, Any]) -> bool:
    text = (message.get("text") or "").strip()
    if text == BUTTON_YES:
        return True
    intent = message.get("intent") or {}
    confident = intent.get("name") == "affirm" and (intent.get("confidence") or 0.0) >= CLEAR_YES_CONFIDENCE
    return confident and not DOUBT.search(text)


def confirmed_slot(slot: str, value: Any, message: dict[str, Any], dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """The confirmation slot as validated: kept on a clear yes, otherwise emptied so the form asks again."""
    if value is True and is_clear_yes(message):
        return {slot: True}
    dispatcher.utter_message(response="utter_confirmation_unclear")
    return {slot: None}
