"""Questions about shipping, payment, returns and warranty, answered from knowledge_base/ only.

Never a guess: a question the knowledge base has no answer for gets "I don't know" and a colleague.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import knowledge

logger = logging.getLogger(__name__)

# Loaded when the action server starts, so a broken knowledge base fails at deploy time, not at
# the first question; later edits are picked up by the module itself.
knowledge.default_knowledge_base()


class ActionAnswerPolicyQuestion(Action):
    def name(self) -> str:
        return "action_answer_policy_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        message = tracker.latest_message
        try:
            result = knowledge.answer(message.get("text") or "", topic=tracker.get_slot("policy_topic"),
                                      entities=entities_as_typed(message))
        except knowledge.KnowledgeBaseError:
            logger.exception("the knowledge base cannot be loaded")
            result = None
        if result is None:
            return [SlotSet("policy_answered", False), SlotSet("policy_topic", None)]
        dispatcher.utter_message(response="utter_policy_answer", answer=result.text, source_url=result.source_url)
        return [SlotSet("policy_answered", True), SlotSet("policy_topic", result.topic)]


def entities_as_typed(message: dict[str, Any]) -> dict[str, list[str]]:
    """Each entity as the customer typed it ("UK", "jackets"): the knowledge module resolves them itself."""
    text = message.get("text") or ""
    typed: dict[str, list[str]] = {}
    for entity in message.get("entities", []):
        said = text[entity["start"]:entity["end"]] if "start" in entity else str(entity.get("value"))
        typed.setdefault(entity["entity"], []).append(said)
    return typed
