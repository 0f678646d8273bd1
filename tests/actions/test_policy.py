"""Policy questions: answered from knowledge_base/ with the page, or honestly not at all."""

from __future__ import annotations

import knowledge
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
