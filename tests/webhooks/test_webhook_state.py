"""The state the receiver keeps: deliveries seen, and which conversation asked about what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from webhooks import conversations
from webhooks.conversations import ConversationLinks, email_hash, remember_conversation
from webhooks.deliveries import DeliveryLog
from webhooks.tables import ConversationLink, WebhookDelivery


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0)

    def __call__(self) -> datetime:
        return self.now


def test_a_delivery_is_new_once_per_sender(engine):
    log = DeliveryLog(engine)
    assert log.first_time("shopify", "d-1") is True
    assert log.first_time("shopify", "d-1") is False
    assert log.first_time("DeliveryLog-in-another-process", "d-1") is True
    assert DeliveryLog(engine).first_time("shopify", "d-1") is False


def test_deliveries_are_forgotten_after_seven_days_not_before(engine):
    clock = Clock()
    log = DeliveryLog(engine, clock)
    log.first_time("sandbox", "old")
    clock.now += timedelta(days=3)
    log.first_time("sandbox", "recent")
    clock.now += timedelta(days=4, seconds=1)
    assert log.purge() == 1
    with Session(engine, future=True) as session:
        assert list(session.scalars(select(WebhookDelivery.delivery_id))) == ["recent"]
    assert log.first_time("sandbox", "recent") is False


def test_only_a_hash_of_the_email_is_stored(engine, links):
    links.remember("conv-a", order_number="100234", email_hash=email_hash(" Ben.Miller@Example.com "))
    with Session(engine, future=True) as session:
        stored = session.scalars(select(ConversationLink)).one()
    assert stored.email_hash == email_hash("ben.miller@example.com") != "ben.miller@example.com"
    assert links.conversation_for(None, email_hash("BEN.MILLER@example.com")) == "conv-a"


@pytest.mark.parametrize("wrong", ["ben.miller@example.com", "ABC", email_hash("x@example.com").upper()])
def test_anything_but_a_hash_is_refused_as_email_hash(links, wrong):
    with pytest.raises(ValueError):
        links.remember("conv-a", email_hash=wrong)


def test_a_link_needs_an_order_or_a_customer(links):
    with pytest.raises(ValueError):
        links.remember("conv-a")


def test_the_newest_conversation_wins_and_linking_again_makes_it_newest(engine):
    clock = Clock()
    links = ConversationLinks(engine, clock)
    links.remember("conv-a", order_number="100234")
    clock.now += timedelta(minutes=1)
    links.remember("conv-b", order_number="100234")
    assert links.conversation_for("100234", None) == "conv-b"
    clock.now += timedelta(minutes=1)
    links.remember("conv-a", order_number="100234")
    assert links.conversation_for("100234", None) == "conv-a"
    with Session(engine, future=True) as session:
        assert len(session.scalars(select(ConversationLink)).all()) == 2


def test_links_older_than_thirty_days_are_not_used_and_are_purged(engine):
    clock = Clock()
    links = ConversationLinks(engine, clock)
    links.remember("conv-old", order_number="100234")
    clock.now += timedelta(days=30, seconds=1)
    assert links.conversation_for("100234", None) is None
    assert links.purge() == 1


def test_the_action_server_remembers_in_the_state_database(monkeypatch, state_url, engine):
    monkeypatch.setenv("STATE_DATABASE_URL", state_url)
    conversations._state_links.cache_clear()
    try:
        remember_conversation("conv-from-actions", order_number="100236", email_hash=email_hash("c@example.com"))
    finally:
        conversations._state_links.cache_clear()
    assert ConversationLinks(engine).conversation_for("100236", None) == "conv-from-actions"


def test_a_conversation_follows_the_orders_and_the_customer_it_was_linked_to_for_thirty_days(engine):
    clock = Clock()
    links = ConversationLinks(engine, clock)
    ben, anna = email_hash("ben.miller@example.com"), email_hash("anna.schmidt@example.com")
    links.remember("conv-ben", order_number="100234", email_hash=ben)
    assert links.follows("conv-ben", "100234", ben)
    assert links.follows("conv-ben", "100241", ben)  # another order of the same customer
    assert not links.follows("conv-ben", "100232", anna)
    assert not links.follows("conv-anna", "100234", ben)
    clock.now += timedelta(days=30, seconds=1)
    assert not links.follows("conv-ben", "100234", ben)
