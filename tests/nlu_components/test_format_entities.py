"""FormatEntityExtractor, the Rasa component: on real Rasa messages, after DIET's entities, and alone on the
benchmark generator's messages (benchmarks/entity_extraction.py), judged by the benchmark's own judge."""

from __future__ import annotations

from collections import Counter

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import benchmarks.entity_extraction as benchmark
from nlu_components.format_entities import FormatEntityExtractor

MESSAGES_PER_FORMAT = 60


def extractor(**config) -> FormatEntityExtractor:
    # Not trainable and stateless: the graph creates it from its config alone.
    return FormatEntityExtractor.create(config, model_storage=None, resource=None, execution_context=None)


def diet(entity: str, text: str, part: str) -> dict:
    start = text.index(part)
    return {"entity": entity, "value": part, "start": start, "end": start + len(part),
            "confidence_entity": 0.71, "extractor": "DIETClassifier"}


def test_it_replaces_diets_format_entities_and_keeps_the_others():
    text = "Hi, I'm Eliška, the 2 boots from order 300 117 never came, call 0157 88990011 or eliska.dvorak@mailbox.org"
    message = Message(data={"text": text, "entities": [
        diet("order_id", text, "300"),            # half of the number
        diet("quantity", text, "0157"),           # a phone number read as an amount
        diet("email", text, "eliska"),            # a memorised fragment
        diet("quantity", text, "2"),
        diet("product", text, "boots"),
    ]})

    [processed] = extractor().process([message])

    entities = processed.as_dict(only_output_properties=True)["entities"]
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("quantity", "2"), ("product", "boots"), ("order_id", "300117"), ("phone", "+4915788990011"),
        ("email", "eliska.dvorak@mailbox.org"),
    ]
    mine = [e for e in entities if e["extractor"] == "FormatEntityExtractor"]
    assert [text[e["start"]:e["end"]] for e in mine] == ["300 117", "0157 88990011", "eliska.dvorak@mailbox.org"]
    assert all(e["confidence_entity"] == 1.0 for e in mine)


def test_a_message_without_text_or_entities_passes():
    [processed] = extractor().process([Message(data={"text": ""})])
    assert processed.get("entities") == []


def test_the_phone_region_reads_national_numbers():
    text = "appelez-moi au 06 12 34 56 78"
    assert extractor().process([Message(data={"text": text})])[0].get("entities")[0]["value"] == "+49612345678"
    assert extractor(phone_region="FR").process([Message(data={"text": text})])[0].get("entities")[0]["value"] \
        == "+33612345678"


def test_training_data_keeps_its_annotations():
    example = Message(data={"text": "order 1234 please", "intent": "order_status",
                            "entities": [{"entity": "order_id", "value": "1234", "start": 6, "end": 10}]})
    data = TrainingData([example])

    assert extractor().process_training_data(data) is data
    assert example.get("entities") == [{"entity": "order_id", "value": "1234", "start": 6, "end": 10}]


@pytest.fixture(scope="module")
def outcomes():
    """The component alone on the generator's messages; national phone numbers read in the customer's
    country, as the benchmark reads them (one extractor per region, as one per deployment)."""
    extractors: dict[str, FormatEntityExtractor] = {}
    results = []
    for message in benchmark.generate_all(MESSAGES_PER_FORMAT, entities=benchmark.TARGETS):
        region = message.country or "DE"
        component = extractors.setdefault(region, extractor(phone_region=region))
        [processed] = component.process([Message(data={"text": message.text})])
        results.append(benchmark.judge(message, processed.get("entities")))
    return results


def test_the_component_alone_meets_the_issues_targets(outcomes):
    messages, correct = Counter(), Counter()
    for outcome in outcomes:
        messages[outcome.message.entity] += 1
        correct[outcome.message.entity] += outcome.ok
    rates = {entity: correct[entity] / messages[entity] for entity in messages}
    assert set(rates) == set(benchmark.TARGETS)
    assert all(rates[entity] >= target for entity, target in benchmark.TARGETS.items()), rates


def test_the_featurizers_read_each_format_value_as_one_stand_in_token():
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    from nlu_components.format_entities import FormatValueMasker

    text = "hi it's order 100 734 and my mail is Zofia.Kral@seznam.cz thanks"
    message = Message(data={"text": text})
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    FormatValueMasker().process([message])
    tokens = message.get("text_tokens")
    assert [t.text for t in tokens] == ["hi", "it", "s", "order", "100234", "and", "my", "mail", "is",
                                        "name@example.com", "thanks"]
    assert text[tokens[4].start:tokens[4].end] == "100 734" and message.get("text") == text
