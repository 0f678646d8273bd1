"""A change goes ahead only on an unambiguous yes (actions/confirmation.py).

The phrasings here are written for this test, apart from the NLU data and tests/understanding/negations.yml.
"""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.confirmation import confirmed_slot, is_clear_yes


def parsed(text: str, intent: str = "affirm", confidence: float = 0.99) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": confidence}}


@pytest.mark.parametrize("text", ["yes", "Yes please, go ahead", "yep do it", "sure thing", "correct", "ok go"])
def test_a_confident_yes_without_doubt_is_a_yes(text):
    assert is_clear_yes(parsed(text))


def test_the_yes_button_is_a_yes_whatever_the_classifier_says():
    assert is_clear_yes({"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}})
    assert is_clear_yes({"text": "/affirm", "intent": {}})


@pytest.mark.parametrize("text", [
    "yes, no, wait", "that isn't right", "this is NOT my address", "incorrect postcode", "hmm that's false",
    "nope", "yes but hold on", "don't", "dont do that", "please stop", "i'd rather not", "you misunderstood",
    "keep the order", "leave it", "forget about it", "I changed my mind", "wrong parcel",
])
def test_doubt_beats_a_confident_affirm(text):
    assert not is_clear_yes(parsed(text))


@pytest.mark.parametrize("intent,confidence", [("affirm", 0.6), ("affirm", 0.89), ("deny", 0.99), ("inform", 0.95)])
def test_anything_but_a_confident_affirm_is_asked_again(intent, confidence):
    assert not is_clear_yes(parsed("yes", intent, confidence))


def test_an_unclear_yes_empties_the_slot_and_says_why():
    dispatcher = CollectingDispatcher()
    assert confirmed_slot("service_confirmed", True, parsed("yes... no", confidence=0.97), dispatcher) == {
        "service_confirmed": None}
    assert [message["response"] for message in dispatcher.messages] == ["utter_confirmation_unclear"]


def test_a_clear_yes_keeps_the_slot_silently():
    dispatcher = CollectingDispatcher()
    assert confirmed_slot("privacy_confirmed", True, parsed("yes go ahead"), dispatcher) == {"privacy_confirmed": True}
    assert dispatcher.messages == []
