"""Service requests as whole conversations against the real servers, checked in the sandbox's data.

They share the session's sandbox, so each order is changed by one test only: 100231 (Anna, pending)
gets a new address, day and pickup point and is then cancelled; 100235 (Anna, delivered) is returned.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import Chat, sandbox_get

pytestmark = pytest.mark.e2e

ANNA, BEN = "anna.schmidt@example.com", "ben.miller@example.com"
RMA_NUMBER = re.compile(r"RMA-[\w-]+")


def test_a_new_delivery_address_reaches_the_order(chat: Chat, stack):
    assert "email" in chat.say("I moved, can you send my order to my new address?").lower()
    assert "order" in chat.say(ANNA).lower()
    assert "change" in chat.say("100231").lower()
    assert "address" in chat.say("the address").lower()
    confirm = chat.say("Gartenweg 3, 80331 München")
    assert "Gartenweg 3, 80331 München, DE" in confirm, confirm
    done = chat.say("yes")
    assert "Done" in done, done
    address = sandbox_get(stack, "/v1/orders/100231")["shipping_address"]
    assert (address["line1"], address["postal_code"]) == ("Gartenweg 3", "80331")


def test_a_wrong_day_is_asked_again_and_a_good_one_is_kept(chat: Chat, stack):
    chat.say("can you deliver order 100231 on another day?")
    chat.say(ANNA)
    chat.say("the delivery day")
    assert "Sundays" in chat.say("next sunday")
    confirm = chat.say("next tuesday")
    assert "Tuesday" in confirm, confirm
    assert "Done" in chat.say("yes please")
    assert sandbox_get(stack, "/v1/orders/100231")["requested_delivery_date"]


def test_a_pickup_point_near_the_address_can_be_chosen(chat: Chat, stack):
    chat.say("I won't be home, can order 100231 go to a pickup point?")
    chat.say(ANNA)
    [offered] = stack.say(chat.sender, "a pickup point")
    address = sandbox_get(stack, "/v1/orders/100231")["shipping_address"]  # München, since the first test
    nearest = sandbox_get(stack, "/v1/pickup-points", country=address["country"], postal_code=address["postal_code"],
                          limit=1)["data"][0]
    assert "pickup points" in offered["text"] and nearest["id"] in offered["buttons"][0]["payload"], offered
    confirm = chat.say(offered["buttons"][0]["payload"])  # the customer taps the first button
    assert nearest["name"] in confirm, confirm
    assert "Done" in chat.say("yes")
    assert sandbox_get(stack, "/v1/orders/100231")["pickup_point_id"] == nearest["id"]


def test_cancelling_after_looking_the_order_up_needs_no_second_proof(chat: Chat, stack):
    chat.say("where is my order 100231")
    assert "waiting for payment" in chat.say(ANNA)
    confirm = chat.say("can I cancel it?")
    assert "Shall I cancel order #100231" in confirm and "email" not in confirm.lower(), confirm
    done = chat.say("yes")
    assert "is cancelled" in done and "Nothing was charged" in done, done
    assert sandbox_get(stack, "/v1/orders/100231")["status"] == "cancelled"
    again = Chat(stack)
    again.say("cancel order 100231")
    assert "has been cancelled" in again.say(ANNA)


def test_a_shipped_order_cannot_get_a_new_address_but_gets_a_next_step(chat: Chat):
    chat.say("I need to change the delivery address of order 100234")
    answer = chat.say(BEN)
    assert "already shipped" in answer and "https://" in answer, answer


def test_a_return_gives_one_rma_and_one_crm_case_even_when_the_yes_is_repeated(chat: Chat, stack):
    assert "email" in chat.say("I want to return my order").lower()
    chat.say(ANNA)
    assert "Which items" in chat.say("100235")
    chat.say("all of them")
    chat.say("it doesn't fit")
    confirm = chat.say("still sealed")
    assert "Shall I register the return" in confirm, confirm
    created = chat.say("yes")
    rma = RMA_NUMBER.search(created)
    assert rma and "label" in created, created
    chat.say("yes")  # the customer's last message arrives twice
    returns = sandbox_get(stack, "/v1/returns", order_number="100235")["data"]
    assert [r["number"] for r in returns] == [rma.group(0)]
    assert len(crm_cases_about(stack, ANNA, rma.group(0))) == 1
    later = Chat(stack)
    later.say("where is my return?")
    answer = later.say(f"{ANNA}, order 100235")
    assert rma.group(0) in answer and "waiting for your parcel" in answer, answer


def test_a_return_after_the_window_is_refused_with_the_warranty_as_next_step(chat: Chat):
    chat.say("I'd like to send back order 100240")
    answer = chat.say(BEN)
    assert "return window" in answer and "warranty" in answer, answer


def crm_cases_about(stack, email: str, text: str, timeout: float = 10) -> list[dict]:
    """The CRM's tickets for this customer that mention `text`; the case is written just after the answer."""
    (contact,) = sandbox_get(stack, "/v1/crm/contacts", email=email)["data"]
    deadline = time.monotonic() + timeout
    while True:
        tickets = [t for t in sandbox_get(stack, "/v1/crm/tickets", contact_id=contact["id"])["data"]
                   if text in t["subject"]]
        if tickets or time.monotonic() > deadline:
            return tickets
        time.sleep(0.2)


def test_a_complaint_becomes_a_case_whose_status_only_its_customer_sees(chat: Chat, stack):
    assert "email" in chat.say("the headlamp from my order arrived broken, the glass is cracked").lower()
    chat.say(BEN)
    assert "Which item" in chat.say("100241")
    opened = chat.say("the headlamp")
    case = re.search(r"case (T-\d+)", opened)
    assert case and "by" in opened, opened
    stranger = Chat(stack)
    stranger.say(f"any news on case {case.group(1)}?")
    # Not an email the other tests prove with: a miss suspends its proofs for a while.
    assert "couldn't find case" in stranger.say("david.chen@example.com")
    owner = Chat(stack)
    owner.say(f"any news on case {case.group(1)}?")
    status = owner.say(BEN)
    assert case.group(1) in status and "with our team" in status, status


def test_policy_questions_are_answered_from_the_shops_pages_or_not_at_all(chat: Chat):
    shipping = chat.say("how much is shipping to austria?")
    assert "€" in shipping and "https://shop.example/policies/shipping" in shipping, shipping
    unknown = Chat(chat.stack).say("do you deliver to parcel lockers?")
    assert "can't find that" in unknown and "colleague" in unknown, unknown
