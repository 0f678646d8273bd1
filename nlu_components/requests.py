"""Two requests in one message ("where is order 100235, and I want to return the backpack"), one at a time.

The classifier learns each pair as one label joined by "+" (data/nlu/two_requests.yml), in the order the
bot handles them. This component passes the first on as the message's intent, so every rule and form
works unchanged, and the second as the entity `next_request` (slot `next_request`); the first flow's
last action takes it up (actions/next_request.py). No rule per pair is needed.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

SEPARATOR = "+"
NEXT_REQUEST = "next_request"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TwoRequests(GraphComponent, IntentClassifier):
    """Splits a two-request label into the intent handled now and the request kept for later."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # A policy question that names an order number is about that order: it becomes the best-ranked of
        # `order_intents` (config.yml may name others).
        return {"policy_intent": "shipping_info",
                "order_intents": ["order_status", "change_delivery", "cancel_order", "return_item", "return_status",
                                  "file_complaint"]}

    def __init__(self, config: dict[str, Any]) -> None:
        self.policy_intent = config["policy_intent"]
        self.order_intents = frozenset(config["order_intents"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TwoRequests:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not split_two_requests(message):
                self._about_the_named_order(message)
        return messages

    def _about_the_named_order(self, message: Message) -> None:
        """A policy question is general; one that names an order number asks about that order ("can you
        deliver order 100231 on another day?"): the request about an order the classifier ranks highest."""
        intent = message.get(INTENT) or {}
        named_order = any(entity.get("entity") == "order_id" for entity in message.get(ENTITIES) or [])
        if intent.get(INTENT_NAME_KEY) != self.policy_intent or not named_order:
            return
        for entry in message.get(INTENT_RANKING_KEY) or []:
            request = next((part for part in str(entry.get(INTENT_NAME_KEY)).split(SEPARATOR)
                            if part in self.order_intents), None)
            if request:
                message.set(INTENT, {**intent, INTENT_NAME_KEY: request}, add_to_output=True)
                return


def split_two_requests(message: Message) -> bool:
    """Whether the message named two requests (then split into the intent and `next_request`)."""
    intent = message.get(INTENT) or {}
    name = intent.get(INTENT_NAME_KEY) or ""
    if SEPARATOR not in name:
        return False
    first, second = name.split(SEPARATOR, 1)
    message.set(INTENT, {**intent, INTENT_NAME_KEY: first}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, _ranking_with_first(message.get(INTENT_RANKING_KEY) or [], name, first),
                add_to_output=True)
    text = message.get(TEXT) or ""
    # The second request is not a span of the text: a zero-width entity at the end keeps tools that
    # line entities up with tokens (rasa test) from counting it against any word.
    entity = {"entity": NEXT_REQUEST, "value": second, "start": len(text), "end": len(text),
              "confidence_entity": intent.get("confidence"), "extractor": TwoRequests.__name__}
    message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
    return True


def _ranking_with_first(ranking: list[dict[str, Any]], pair: str, first: str) -> list[dict[str, Any]]:
    """The ranking names the intent the dialogue sees, once: the pair's entry becomes the first request's."""
    renamed = [{**entry, INTENT_NAME_KEY: first} if entry.get(INTENT_NAME_KEY) == pair else entry for entry in ranking]
    seen: set[str] = set()
    unique = []
    for entry in renamed:
        if entry.get(INTENT_NAME_KEY) not in seen:
            seen.add(entry.get(INTENT_NAME_KEY))
            unique.append(entry)
    return unique
