"""Unit tests of the handover to a person and of the fallback."""

from __future__ import annotations

from actions.crm_log import outbox
from actions.handover import ActionHandleFallback, ActionRequestHuman, handover_subject, transcript
from tests.actions.conftest import api, followups, responses, run, tracker


def user(text: str, intent: str = "inform") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def test_first_miss_asks_to_rephrase_second_offers_a_person():
    _, first = run(ActionHandleFallback(), tracker(intent="nlu_fallback", text="blorp", active_loop=None))
    assert responses(first) == ["utter_ask_rephrase"]
    history = [user("blorp", "nlu_fallback"), bot("Sorry, I didn't quite get that.")]
    slots, second = run(
        ActionHandleFallback(), tracker(intent="nlu_fallback", text="blarp", events=history, active_loop=None)
    )
    assert responses(second) == ["utter_fallback_offer_human"]
    assert followups(slots) == ["utter_offer_human"]


def test_an_understood_message_resets_the_count():
    history = [user("blorp", "nlu_fallback"), user("hello", "greet")]
    _, messages = run(ActionHandleFallback(), tracker(intent="nlu_fallback", events=history, active_loop=None))
    assert responses(messages) == ["utter_ask_rephrase"]


def test_transcript_keeps_the_conversation_but_not_one_time_codes():
    events = [
        user("where is my order", "order_status"),
        bot("What's the email?"),
        {"event": "slot", "name": "requested_slot", "value": "login_code"},
        user("483920"),
        {"event": "slot", "name": "requested_slot", "value": None},
        user("I want a human", "request_human"),
    ]
    text = transcript(tracker(events=events, active_loop=None))
    assert "483920" not in text
    assert "Customer: where is my order" in text and "Assistant: What's the email?" in text


def test_the_agent_learns_the_language_the_customer_wrote_in():
    events = [user("Wann kommt mein Paket?", "other_language"),
              bot("Entschuldigung, ich kann leider nur auf Englisch antworten.")]
    german = tracker(slots={"language": "de"}, events=events, active_loop=None)
    assert "German (de)" in handover_subject(german)
    assert transcript(german).startswith("Customer's language: German (de); the assistant speaks only English.")
    assert "Customer: Wann kommt mein Paket?" in transcript(german)
    # A code without a name still reaches the agent; English, or no language noticed, adds nothing.
    assert "(is)" in transcript(tracker(slots={"language": "is"}, active_loop=None))
    for slots in ({"language": "en"}, {}):
        plain = tracker(slots=slots, events=events, active_loop=None)
        assert handover_subject(plain) == "Chat handover: the customer asked for a person"
        assert "language" not in transcript(plain)


def test_handover_opens_one_case_with_the_conversation(shop):
    history = [user("my parcel is lost", "file_complaint"), bot("I'm sorry something went wrong.")]
    a_tracker = tracker(
        slots={"email": "carla.rossi@example.com"}, events=history, intent="request_human", text="human please",
        active_loop=None, sender="handover-test",
    )
    _, messages = run(ActionRequestHuman(), a_tracker)
    _, again = run(ActionRequestHuman(), a_tracker)
    assert responses(messages) == ["utter_handover_created"]
    assert messages[0]["ticket_number"] == again[0]["ticket_number"]
    tickets = [
        t for t in api(shop, "GET", "/v1/crm/tickets", params={"limit": 100})["data"]
        if t["number"] == messages[0]["ticket_number"]
    ]
    assert len(tickets) == 1 and "my parcel is lost" in tickets[0]["description"]


def test_handover_during_an_outage_is_kept_and_the_customer_told(shop_down):
    _, messages = run(
        ActionRequestHuman(), tracker(slots={"email": "carla.rossi@example.com"}, intent="request_human", active_loop=None)
    )
    assert responses(messages) == ["utter_handover_queued"]
    assert outbox().counts() == {"pending": 1}


def test_a_case_the_crm_refuses_gets_another_way(shop):
    # The CRM validates emails; an address it refuses cannot be fixed by retrying.
    _, messages = run(
        ActionRequestHuman(), tracker(slots={"email": "not-an-email"}, intent="request_human", active_loop=None)
    )
    assert responses(messages) == ["utter_handover_failed"]
    assert outbox().counts() == {"rejected": 1}
