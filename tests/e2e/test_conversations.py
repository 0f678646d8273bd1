"""Whole conversations over the REST channel against the real servers.

`rasa test` does not run custom actions; these tests do.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import Chat, bot_messages, sandbox_get, sandbox_post

pytestmark = pytest.mark.e2e

TRACKING_URL = re.compile(r"https://\S+")


def order_data_shown(reply: str) -> bool:
    return bool(TRACKING_URL.search(reply)) or any(w in reply for w in ("DHL", "UPS", "DPD", "delivered", "packed"))


def test_shipped_order_by_number_and_email(chat: Chat):
    asked = chat.say("hi, where is my order #100234?")
    assert "email" in asked.lower()
    answer = chat.say("ben.miller@example.com")
    assert "100234" in answer and TRACKING_URL.search(answer), answer
    assert "Expected delivery" in answer


def test_email_first_then_number(chat: Chat):
    assert "email" in chat.say("where's my package").lower()
    assert "order number" in chat.say("carla.rossi@example.com").lower()
    answer = chat.say("100236")
    assert "delayed" in answer and "Severe weather at the regional hub" in answer, answer


def test_wrong_email_gets_no_order_data(chat: Chat):
    # The wrong email is one no other test proves orders with: a miss suspends its number proofs for a while.
    chat.say("where is order 100234")
    answer = chat.say("david.chen@example.com")
    assert "couldn't find order #100234" in answer
    assert not order_data_shown(answer), answer


def test_correcting_the_email_after_a_mismatch(chat: Chat):
    chat.say("track order 100234")
    assert "couldn't find" in chat.say("david.chen@example.com")
    assert "order number" in chat.say("sorry, it was ben.miller@example.com").lower()
    answer = chat.say("100234")
    assert TRACKING_URL.search(answer), answer


def test_email_only_with_a_one_time_code(chat: Chat, stack):
    chat.say("where is my order")
    chat.say("carla.rossi@example.com")
    sent = chat.say("I don't have the order number")
    assert "6-digit code" in sent, sent
    mails = sandbox_get(stack, "/v1/sandbox/mailbox", to="carla.rossi@example.com")["data"]
    code = re.search(r"\b(\d{6})\b", mails[0]["body"]).group(1)
    answer = chat.say(code)
    assert "100236" in answer and "delayed" in answer, answer


def test_wrong_code_shows_nothing(chat: Chat):
    chat.say("where is my order")
    chat.say("ben.miller@example.com")
    chat.say("i lost the confirmation email")
    answer = chat.say("000001")
    assert "doesn't match" in answer and not order_data_shown(answer), answer


def test_order_status_is_logged_on_the_crm_contact(chat: Chat, stack):
    chat.say("where is my order 100235")
    chat.say("anna.schmidt@example.com")
    (contact,) = sandbox_get(stack, "/v1/crm/contacts", email="anna.schmidt@example.com")["data"]
    for _ in range(20):  # the CRM write happens just after the answer
        logged = [
            i for i in sandbox_get(stack, f"/v1/crm/contacts/{contact['id']}/interactions")["data"]
            if i["order_number"] == "100235" and i["channel"] == "rest"
        ]
        if logged:
            break
        time.sleep(0.1)
    assert len(logged) == 1


def test_asking_for_a_person_opens_a_case(chat: Chat, stack):
    chat.say("my order arrived broken")
    answer = chat.say("I want to talk to a human")
    assert "email" in answer.lower()
    created = chat.say("carla.rossi@example.com")
    number = re.search(r"T-\d+", created)
    assert number, created


def test_asking_for_a_person_while_the_code_is_expected(chat: Chat):
    chat.say("where is my order")
    chat.say("ben.miller@example.com")
    chat.say("I don't have the order number")
    answer = chat.say("I want to talk to a person")
    assert re.search(r"T-\d+", answer) and "6 digits" not in answer, answer


@pytest.mark.xfail(strict=True, reason="issue 10, open: with ~500 off-domain examples, keyboard mash reads as "
                   "out_of_scope (a safe answer that says what the bot does) instead of the fallback, so two in a "
                   "row no longer offer a colleague")
def test_gibberish_is_never_answered_with_a_guess(chat: Chat):
    first = chat.say("qwzx vbnm plok")
    assert "say it another way" in first, first
    second = chat.say("zzkj qqpw xxrt")
    assert "colleague" in second, second


def wait_for_message(stack, sender: str, pattern: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = [text for text in bot_messages(stack, sender) if re.search(pattern, text)]
        if said:
            return said
        time.sleep(0.5)
    raise AssertionError(f"the bot never said /{pattern}/; it said: {bot_messages(stack, sender)}")


def test_the_shops_news_reaches_the_verified_conversation_once(chat: Chat, stack):
    chat.say("where is my order 100232")
    assert "paid" in chat.say("anna.schmidt@example.com").lower()
    stranger = Chat(stack)
    stranger.say("where is my order 100232")
    # Not Anna: this conversation must hear nothing. Not an email other tests prove with either: a miss
    # suspends its number proofs for a while.
    stranger.say("david.chen@example.com")
    sandbox_post(stack, "/v1/sandbox/orders/100232/ship", {"carrier": "dhl", "tracking_number": "JJD0099100232"})
    [news] = wait_for_message(stack, chat.sender, r"on its way with")
    assert "#100232" in news and "JJD0099100232" in news, news
    sandbox_post(stack, "/v1/sandbox/orders/100232/delay",
                 {"reason": "Missed the connecting truck", "estimated_delivery": "2030-05-03"})
    [delay] = wait_for_message(stack, chat.sender, r"delayed")
    assert "Missed the connecting truck" in delay and "Friday 3 May" in delay, delay
    time.sleep(1)
    assert len([text for text in bot_messages(stack, chat.sender) if "on its way with" in text]) == 1
    assert not [text for text in bot_messages(stack, stranger.sender) if "on its way" in text or "delayed" in text]
