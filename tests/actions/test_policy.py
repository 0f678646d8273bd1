"""Policy questions: answered from knowledge_base/ with the page, or honestly not at all."""

from __future__ import annotations

import knowledge
from actions import policy
from actions.policy import ActionAnswerPolicyQuestion, entities_as_typed
from tests.actions.conftest import responses, run, tracker


def ask(text: str, entities: list[dict] | None = None, slots: dict | None = None):
    question = tracker(intent="shipping_info", text=text, slots=slots, active_loop=None)
    question.latest_message["entities"] = entities or []
    return run(ActionAnswerPolicyQuestion(), question)


def test_a_question_in_the_data_is_answered_with_its_source():
    slots, messages = ask("how much is shipping to austria")
    assert slots["policy_answered"] is True and slots["policy_topic"] == "shipping"
    assert responses(messages) == ["utter_policy_answer"]
    assert "€" in messages[0]["answer"] and messages[0]["source_url"].startswith("https://")


def test_the_answer_is_found_by_meaning_too():
    # The words tie between the return window and the return costs; the sentence model, loaded
    # when the action server starts, knows the customer asks who pays.
    slots, messages = ask("is return shipping on you or me")
    assert messages[0]["answer"] == "Returns are free: every return comes with a prepaid return label."


def test_the_action_searches_with_the_model_loaded_at_start(monkeypatch):
    calls = []
    monkeypatch.setattr(knowledge, "answer", lambda *args, **kwargs: calls.append(kwargs))
    ask("how much is shipping to austria")
    assert isinstance(policy.EMBEDDER, knowledge.MiniLMEmbedder)
    assert calls[0]["embedder"] is policy.EMBEDDER


def test_a_country_we_dont_deliver_to_gets_a_no_from_the_data():
    slots, messages = ask("do you deliver to Norway?")
    assert slots["policy_answered"] is True
    assert messages[0]["answer"].startswith("No, we don't deliver to Norway. We deliver to: Germany, ")


def test_a_question_not_in_the_data_gets_no_guess():
    slots, messages = ask("do you sell second-hand cars?")
    assert slots["policy_answered"] is False and messages == []


def test_a_broken_knowledge_base_answers_nothing(monkeypatch):
    def broken(*args, **kwargs):
        raise knowledge.KnowledgeBaseError(["shipping.yml: bad"])

    monkeypatch.setattr(knowledge, "answer", broken)
    slots, messages = ask("how much is shipping to austria")
    assert slots["policy_answered"] is False and messages == []


def test_entities_are_passed_as_typed():
    message = {"text": "can I return my jackets to the UK",
               "entities": [{"entity": "category", "value": "tops", "start": 16, "end": 23}]}
    assert entities_as_typed(message) == {"category": ["jackets"]}


def test_a_second_request_of_the_same_message_follows_the_answer():
    slots, messages = ask("how much is shipping to austria", slots={"next_request": "order_status"})
    assert responses(messages) == ["utter_policy_answer", "utter_then_order_status"]
    assert slots["next_request"] is None
    assert [e["name"] for e in slots["__events__"] if e.get("event") == "followup"] == ["order_lookup_form"]


def test_a_question_without_an_answer_drops_the_second_request_with_it():
    slots, _ = ask("do you sell gift wrapping for weddings in space", slots={"next_request": "return_item"})
    assert slots["policy_answered"] is False and slots["next_request"] is None
