"""Two requests in one message: the first is the intent, the second waits in `next_request`."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from nlu_components.requests import TwoRequests


def parsed(text: str, name: str, confidence: float, ranking: list[tuple[str, float]]) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": name, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
    message.set("entities", [{"entity": "order_id", "value": "100512", "start": 13, "end": 19}], add_to_output=True)
    return message


def test_a_pair_becomes_the_first_request_and_the_second_waits():
    text = "where's order 100512 & can I return a glove"
    (message,) = TwoRequests(TwoRequests.get_default_config()).process([parsed(text, "order_status+return_item", 0.81,
                                                [("order_status+return_item", 0.81), ("order_status", 0.12),
                                                 ("return_item", 0.05)])])
    assert message.get("intent") == {"name": "order_status", "confidence": 0.81}
    assert [entry["name"] for entry in message.get("intent_ranking")] == ["order_status", "return_item"]
    entities = message.get("entities")
    assert entities[0]["entity"] == "order_id"
    assert entities[1]["entity"] == "next_request" and entities[1]["value"] == "return_item"
    assert entities[1]["start"] == entities[1]["end"] == len(text)
    assert "next_request" in str(message.as_dict(only_output_properties=True))


def test_a_single_request_is_left_alone():
    message = parsed("where's order 100512", "order_status", 0.9, [("order_status", 0.9), ("return_item", 0.1)])
    TwoRequests(TwoRequests.get_default_config()).process([message])
    assert message.get("intent")["name"] == "order_status"
    assert [e["entity"] for e in message.get("entities")] == ["order_id"]


def test_a_fallback_is_left_alone():
    message = parsed("blorp", "nlu_fallback", 0.4, [("order_status+return_item", 0.3)])
    TwoRequests(TwoRequests.get_default_config()).process([message])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_a_policy_question_naming_an_order_is_about_that_order():
    component = TwoRequests({"policy_intent": "shipping_info", "order_intents": ["order_status", "change_delivery"]})
    message = parsed("could order 100512 come on friday instead", "shipping_info", 0.97,
                     [("shipping_info", 0.97), ("shipping_info+change_delivery", 0.02), ("order_status", 0.01)])
    component.process([message])
    assert message.get("intent") == {"name": "change_delivery", "confidence": 0.97}


def test_a_policy_question_without_an_order_number_stays_one():
    component = TwoRequests({"policy_intent": "shipping_info", "order_intents": ["change_delivery"]})
    message = parsed("can deliveries come on saturdays", "shipping_info", 0.97,
                     [("shipping_info", 0.97), ("change_delivery", 0.03)])
    message.set("entities", [], add_to_output=True)
    component.process([message])
    assert message.get("intent")["name"] == "shipping_info"
