"""The NLU's entities with a known format come from rules, not from DIET; DIET sees only their shape.

DIET learns entities from the training examples and, for emails, order and phone numbers, case numbers and
coupon codes, memorises the examples' values instead of their format. This extractor runs after DIET
(config.yml): per message it drops what DIET extracted of those types, and anything of DIET's that overlaps
a value the rules found (a phone number DIET read as a quantity), and adds the rules' entities, normalised
(nlu_components/formats.py).

FormatValueMasker runs right after the tokenizer, in training and in use: the tokens of each value with a
known format are read by the featurizers as one stand-in value of that type ("name@example.com"), so the
classifier learns "my email is <an email>" rather than the seed's addresses, and a customer at gmx.at or
writing "100 234" is as clear to it as the examples were. The message text and the entities' spans are
left as they are.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
    TEXT_TOKENS,
)
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.formats import DEFAULT_PHONE_REGION, FORMAT_ENTITIES, Found, entities_in



@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class FormatEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Emails, phone numbers, order and case numbers and coupon codes, found by their format."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # National phone numbers ("0151 2345678") are read in this region; numbers with "+"/"00" anywhere.
        return {"phone_region": DEFAULT_PHONE_REGION}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["phonenumbers"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.phone_region = config["phone_region"]

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FormatEntityExtractor:
        return cls({**cls.get_default_config(), **config})

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The training examples' entities are annotations to learn from: never replaced by extracted ones.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = entities_in(message.get(TEXT) or "", self._phone_region_of(message))
            kept = [entity for entity in message.get(ENTITIES, []) if not _replaced(entity, found)]
            added = self.add_extractor_name([_entity(item) for item in found])
            entities = sorted(kept + added, key=lambda entity: entity.get(ENTITY_ATTRIBUTE_START) or 0)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def _phone_region_of(self, message: Message) -> str:
        """A national number ("06 12 34 56 78") means nothing without its country: a channel that knows the
        customer's (the shop's country site, the visitor's locale) sends it as message metadata `country`."""
        country = (message.get("metadata") or {}).get("country")
        if isinstance(country, str) and country.isalpha() and len(country) == 2:
            return country.upper()
        return self.phone_region


def _replaced(entity: Dict[Text, Any], found: List[Found]) -> bool:
    """DIET's entity gives way: its type is the rules' to find, or it covers characters of a found value."""
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    overlaps = start is not None and end is not None and any(start < f.end and f.start < end for f in found)
    return entity.get(ENTITY_ATTRIBUTE_TYPE) in FORMAT_ENTITIES or overlaps


def _entity(found: Found) -> Dict[Text, Any]:
    return {ENTITY_ATTRIBUTE_TYPE: found.entity, ENTITY_ATTRIBUTE_VALUE: found.value,
            ENTITY_ATTRIBUTE_START: found.start, ENTITY_ATTRIBUTE_END: found.end, ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: 1.0}


# What the featurizers read for a value of each type: one ordinary value, so every value reads alike.
STAND_INS = {"email": "name@example.com", "order_id": "100234", "phone": "+491701234567",
             "case_number": "T-000123", "coupon_code": "SAVE10"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class FormatValueMasker(GraphComponent):
    """Gives the featurizers one stand-in token for each value with a known format (see the module)."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FormatValueMasker:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TEXT_TOKENS)
            if tokens and message.get(TEXT):
                message.set(TEXT_TOKENS, masked(tokens, entities_in(message.get(TEXT))))
        return messages


def masked(tokens: List[Token], found: List[Found]) -> List[Token]:
    """The tokens with those of each found value merged into one token that reads as its type's stand-in."""
    out: List[Token] = []
    for token in tokens:
        value = next((f for f in found if token.start < f.end and f.start < token.end), None)
        if value is None:
            out.append(token)
        elif out and out[-1].get("masks") == (value.start, value.end):
            out[-1].end = token.end
        else:
            stand_in = STAND_INS[value.entity]
            out.append(Token(stand_in, token.start, token.end, data={"masks": (value.start, value.end)},
                             lemma=stand_in))
    return out
