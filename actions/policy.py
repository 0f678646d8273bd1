"""Questions about shipping, payment, returns and warranty, answered from knowledge_base/ only.

Never a guess: a question the knowledge base has no answer for gets "I don't know" and a colleague.
The search finds paraphrases with the NLU's sentence model (all-MiniLM-L6-v2), loaded once, here.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import knowledge
from actions.next_request import NEXT_REQUEST, then_next_request

logger = logging.getLogger(__name__)

# Loaded when the action server starts, so a broken knowledge base or a missing model fails at deploy
# time, not at the first question, and the model's seconds of loading (TensorFlow, weights, the entries'
# embeddings) are paid once rather than by a customer. Later edits are picked up by the module itself.
EMBEDDER = knowledge.MiniLMEmbedder()
knowledge.warm_up(EMBEDDER)


class ActionAnswerPolicyQuestion(Action):
    def name(self) -> str:
        return "action_answer_policy_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        message = tracker.latest_message
        try:
            result = knowledge.answer(message.get("text") or "", topic=tracker.get_slot("policy_topic"),
                                      entities=entities_as_typed(message), embedder=EMBEDDER)
        except knowledge.KnowledgeBaseError:
            logger.exception("the knowledge base cannot be loaded")
            result = None
        if result is None:
            # The rules offer a person next; a second request of the same message goes with the question.
            return [SlotSet("policy_answered", False), SlotSet("policy_topic", None), SlotSet(NEXT_REQUEST, None)]
        dispatcher.utter_message(response="utter_policy_answer", answer=result.text, source_url=result.source_url)
        return ([SlotSet("policy_answered", True), SlotSet("policy_topic", result.topic)]
                + then_next_request(dispatcher, tracker, domain))


def entities_as_typed(message: dict[str, Any]) -> dict[str, list[str]]:
    """Each entity as the customer typed it ("UK", "jackets"): the knowledge module resolves them itself."""
    text = message.get("text") or ""
    typed: dict[str, list[str]] = {}
    for entity in message.get("entities", []):
        said = text[entity["start"]:entity["end"]] if "start" in entity else str(entity.get("value"))
        typed.setdefault(entity["entity"], []).append(said)
    return typed
