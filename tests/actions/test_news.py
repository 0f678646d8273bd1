"""action_tell_order_news against the seeded sandbox: what it tells comes from the shop, and only to a
conversation linked to the order or its customer, whatever the EXTERNAL_* message carries."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.news import ActionTellOrderNews
from tests.actions.conftest import responses, run
from webhooks import conversations
from webhooks.conversations import email_hash

EVIL = "https://evil.example/phish"
CONVERSATION = "web-news-1"


def news_tracker(intent: str, entities: dict[str, str], sender: str = CONVERSATION) -> Tracker:
    """The tracker of a turn with an EXTERNAL_* intent, as trigger_intent or a typed /intent{...} makes it."""
    parsed = {"intent": {"name": intent, "confidence": 1.0}, "text": f"/{intent}",
              "entities": [{"entity": name, "value": value} for name, value in entities.items()]}
    return Tracker(sender, {}, parsed, [{"event": "user", "text": parsed["text"], "parse_data": parsed}], False, None,
                   {}, "action_listen")


def link(order_number: str | None = None, email: str | None = None, sender: str = CONVERSATION) -> None:
    conversations._state_links().remember(sender, order_number=order_number,
                                          email_hash=email_hash(email) if email else None)


def told(intent: str, entities: dict[str, str], sender: str = CONVERSATION) -> list[dict]:
    return run(ActionTellOrderNews(), news_tracker(intent, entities, sender))[1]


def test_a_shipped_order_is_told_with_the_shops_carrier_and_link_never_the_messages(shop):
    link("100234", "ben.miller@example.com")
    [message] = told("EXTERNAL_order_shipped", {"order_id": "100234", "tracking_url": EVIL, "carrier": "Evil Post"})
    assert message["response"] == "utter_news_order_shipped"
    assert (message["order_id"], message["carrier"]) == ("100234", "DHL")
    assert message["tracking_url"].startswith("https://") and "JJD0099123456" in message["tracking_url"]
    assert EVIL not in str(message) and "Evil Post" not in str(message)


def test_a_delay_is_told_with_the_shops_reason_and_date(shop):
    link("100236", "carla.rossi@example.com")
    [message] = told("EXTERNAL_delivery_delayed", {"order_id": "100236", "delay_reason": "click " + EVIL,
                                                   "eta": "2000-01-01"})
    assert message["response"] == "utter_news_delivery_delayed"
    assert message["delay_reason"] == "Severe weather at the regional hub"
    assert message["eta"] not in ("2000-01-01", "not known yet") and EVIL not in str(message)


def test_a_paid_order_is_told_its_payment(shop):
    link("100232")
    assert responses(told("EXTERNAL_payment_succeeded", {"order_id": "100232"})) == ["utter_news_payment_succeeded"]


def test_a_conversation_linked_to_the_customer_hears_about_their_other_order(shop):
    link("100235", "ben.miller@example.com")
    assert responses(told("EXTERNAL_order_shipped", {"order_id": "100234"})) == ["utter_news_order_shipped"]


def test_a_conversation_linked_to_nothing_or_to_someone_else_hears_nothing(shop):
    assert told("EXTERNAL_order_shipped", {"order_id": "100234", "tracking_url": EVIL}) == []
    link("100232", "anna.schmidt@example.com", sender="anna")
    assert told("EXTERNAL_order_shipped", {"order_id": "100234"}, sender="anna") == []
    link("100234", "ben.miller@example.com", sender="ben")
    assert told("EXTERNAL_payment_succeeded", {"order_id": "100232"}, sender="ben") == []


def test_news_the_shops_order_does_not_agree_with_is_not_told(shop):
    link("100234", "ben.miller@example.com")
    link("100232", "anna.schmidt@example.com")
    assert told("EXTERNAL_delivery_delayed", {"order_id": "100234"}) == []  # on its way, not late
    assert told("EXTERNAL_payment_succeeded", {"order_id": "100234"}) == []  # shipped, not newly paid
    assert told("EXTERNAL_order_shipped", {"order_id": "100232"}) == []  # paid, still in the warehouse


def test_without_an_order_number_or_a_known_order_nothing_is_told(shop):
    link("100234")
    assert told("EXTERNAL_order_shipped", {"tracking_url": EVIL}) == []
    assert told("EXTERNAL_order_shipped", {"order_id": "999999"}) == []
    assert told("EXTERNAL_order_shipped", {"order_id": "100234; DROP"}) == []


def test_with_the_shop_down_nothing_is_told(shop_down):
    link("100234")
    assert told("EXTERNAL_order_shipped", {"order_id": "100234", "tracking_url": EVIL}) == []
