"""The core of data subject requests (data_rights/) on real stores: a SQL tracker store in a file, the state
database, the real sandbox's CRM and mailbox. Each test gives the customer a history in all three, and a
second customer whose data must stay."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa_sdk import Tracker
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from actions.backends import conversation_ref
from actions.csat import CsatRating
from data_rights.audit import PrivacyRequest
from data_rights.conversations import ConversationStore, open_conversation_store, open_tracker_store
from data_rights.desk import PrivacyDesk, desk_from_env
from data_rights.state import conversation_pseudonym
from integrations.config import ConfigurationError, state_database_url
from integrations.errors import ServiceUnavailable, Unsupported
from integrations.outbox import DELIVERED, OutboxRow
from integrations.state_database import state_engine, utc_now
from tests.actions.conftest import api
from tests.privacy.conftest import save_conversation, stored_senders
from webhooks.conversations import ConversationLinks, email_hash


@dataclass
class Customer:
    email: str
    chat: str     # a conversation in which they typed their email
    linked: str   # a conversation linked to them after verification, without the email in it


def customer_everywhere(server, rasa_store, engine, name: str) -> Customer:
    """A customer with a history in the tracker store, the state database and the sandbox CRM."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    customer = Customer(email, f"chat-{name}-{uuid.uuid4().hex[:6]}", f"linked-{name}-{uuid.uuid4().hex[:6]}")
    save_conversation(rasa_store, customer.chat, ("I want to talk to a person", "Which email should we use?"),
                      (email, "I've passed our conversation on as case T-1."), slots={"email": email})
    save_conversation(rasa_store, customer.linked, (f"where is parcel of {name}", "It is on its way."))
    ConversationLinks(engine).remember(customer.linked, order_number="100231", email_hash=email_hash(email))
    with Session(engine, future=True) as session, session.begin():
        session.add(CsatRating(conversation=conversation_pseudonym(customer.linked), topic="order_status",
                               score=5, rated_at=utc_now()))
        session.add(OutboxRow(idempotency_key=f"handover:{conversation_pseudonym(customer.chat)}:7", kind="ticket",
                              payload={}, status=DELIVERED, next_attempt_at=utc_now(), created_at=utc_now(),
                              result={"number": "T-1", "email": email}))
        session.add(OutboxRow(idempotency_key=f"csat:conv-elsewhere-{name}", kind="interaction",
                              payload={"email": email.upper(), "details": {"summary": "Rated 5"}},
                              status="pending", next_attempt_at=utc_now(), created_at=utc_now()))
    contact = api(server, "POST", "/v1/crm/contacts", json={"email": email, "first_name": name.title()})
    api(server, "POST", f"/v1/crm/contacts/{contact['id']}/interactions",
        json={"channel": "web", "kind": "order_status", "summary": f"{name} asked about an order."})
    api(server, "POST", "/v1/crm/tickets", json={"subject": "Chat handover", "description": "Customer: hello",
                                                 "priority": "normal", "category": "handover", "email": email})
    return customer


@pytest.fixture
def engine(fresh_state):
    return state_engine(state_database_url())


@pytest.fixture
def desk(shop, rasa_store, engine, endpoints, monkeypatch) -> PrivacyDesk:
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    return desk_from_env()


@pytest.fixture
def two_customers(shop, rasa_store, engine) -> tuple[Customer, Customer]:
    return (customer_everywhere(shop, rasa_store, engine, "rosa"), customer_everywhere(shop, rasa_store, engine, "otto"))


def test_an_export_holds_the_customers_conversations_state_rows_and_crm_records(desk, two_customers):
    rosa, otto = two_customers
    export = asyncio.run(desk.export(rosa.email.upper(), "operator"))
    assert set(export.conversations) == {rosa.chat, rosa.linked}
    said = [event.get("text") for events in export.conversations.values() for event in events]
    assert rosa.email in said and "where is parcel of rosa" in said and "It is on its way." in said
    assert [row["sender_id"] for row in export.state["conversation_links"]] == [rosa.linked]
    assert [row["score"] for row in export.state["csat_ratings"]] == [5]
    assert {row["kind"] for row in export.state["outbox"]} == {"ticket", "interaction"}
    (contact,) = export.crm.records["contacts"]
    assert contact["email"] == rosa.email and len(export.crm.records["tickets"]) == 1
    document = json.loads(export.as_json())
    assert document["customer_service"]["records"]["interactions"][0]["summary"] == "rosa asked about an order."
    assert otto.email not in export.as_json() and otto.chat not in export.as_json()


def test_erasure_leaves_nothing_of_the_customer_and_everything_of_the_other(desk, two_customers, rasa_store, engine):
    rosa, otto = two_customers
    erasure = asyncio.run(desk.erase(rosa.email, "operator"))
    assert (erasure.conversations, erasure.state) == (2, {"outbox": 2, "conversation_links": 1, "csat_ratings": 1})
    assert erasure.crm.erased["contacts"] == erasure.crm.erased["tickets"] == erasure.crm.erased["interactions"] == 1
    assert any("tax law" in reason for reason in erasure.everything_kept)
    assert stored_senders(rasa_store) == {otto.chat, otto.linked}
    afterwards = asyncio.run(desk.export(rosa.email, "operator"))
    assert not afterwards.conversations and afterwards.crm.empty and not any(afterwards.state.values())
    assert set(asyncio.run(desk.export(otto.email, "operator")).conversations) == {otto.chat, otto.linked}
    with Session(engine, future=True) as session:
        assert session.scalar(select(OutboxRow.idempotency_key).where(OutboxRow.kind == "ticket")).startswith(
            f"handover:{conversation_pseudonym(otto.chat)}")


def test_every_request_is_audited_without_personal_data(desk, two_customers, engine):
    rosa, _ = two_customers
    asyncio.run(desk.export(rosa.email, "conv-0123456789abcdef"))
    asyncio.run(desk.erase(rosa.email, "operator"))
    desk.record_refusal("conv-0123456789abcdef", "consent", rosa.email, "not_verified")
    entries = desk.audit.entries_about(rosa.email.upper())
    assert [(e.requested_by, e.kind, e.result) for e in entries] == [
        ("conv-0123456789abcdef", "export", "done"), ("operator", "erase", "done"),
        ("conv-0123456789abcdef", "consent", "not_verified")]
    with Session(engine, future=True) as session:
        rows = list(session.scalars(select(PrivacyRequest)))
    stored = json.dumps([[str(getattr(row, c.key)) for c in inspect(PrivacyRequest).columns] for row in rows])
    assert email_hash(rosa.email) in stored and "rosa" not in stored and "example.com" not in stored


def test_a_failed_erasure_is_audited_and_can_simply_be_asked_again(shop_down, rasa_store, engine, endpoints,
                                                                 monkeypatch):
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    save_conversation(rasa_store, "chat-lena", ("it's lena@example.com", "Thanks."))
    with pytest.raises(ServiceUnavailable):
        asyncio.run(desk_from_env().erase("lena@example.com", "operator"))
    (entry,) = desk_from_env().audit.entries_about("lena@example.com")
    assert entry.result == "failed:ServiceUnavailable"


def test_the_export_is_mailed_to_the_email_itself_as_json(desk, two_customers, shop):
    rosa, _ = two_customers
    asyncio.run(desk.send_export(rosa.email, "conv-0123456789abcdef", idempotency_key=f"export:{rosa.email}"))
    (mail,) = api(shop, "GET", "/v1/sandbox/mailbox", params={"to": rosa.email})["data"]
    (attachment,) = mail["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("my-data.json", "application/json")
    document = json.loads(attachment["content"])
    assert document["email"] == rosa.email and len(document["conversations"]) == 2
    assert "orders, invoices" in mail["body"]


def test_a_conversation_written_back_by_rasa_after_the_erasure_is_deleted_again(rasa_store):
    store = ConversationStore(rasa_store)
    save_conversation(rasa_store, "chat-rewrite", ("it's mia@example.com", "Thanks."))
    assert store.delete(store.senders_mentioning("mia@example.com")) > 0

    async def erase_then_rasa_writes_the_turn_back():
        deferred = asyncio.create_task(store.delete_after_turn("chat-rewrite", "action_submit_privacy_request"))
        await asyncio.sleep(0.5)
        assert not deferred.done()  # nothing of this turn stored yet: it waits
        await asyncio.to_thread(save_conversation, rasa_store, "chat-rewrite", ("it's mia@example.com", "Erased."),
                                extra=[ActionExecuted("action_submit_privacy_request")])
        return await asyncio.wait_for(deferred, timeout=5)

    assert asyncio.run(erase_then_rasa_writes_the_turn_back()) > 0
    assert "chat-rewrite" not in stored_senders(rasa_store)


def test_a_deferred_deletion_gives_up_waiting_and_deletes_anyway(rasa_store):
    save_conversation(rasa_store, "chat-stuck", ("hello", "Hi!"))
    deleted = asyncio.run(ConversationStore(rasa_store).delete_after_turn("chat-stuck", "never_ran", timeout=0.3))
    assert deleted > 0 and "chat-stuck" not in stored_senders(rasa_store)


def test_only_a_sql_tracker_store_can_be_searched_and_erased(tmp_path):
    none = tmp_path / "none.yml"
    none.write_text("action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n")
    redis = tmp_path / "redis.yml"
    redis.write_text("tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: 1\n")
    assert open_conversation_store(none) is None  # Rasa's own memory: nothing here can reach it
    with pytest.raises(Unsupported, match="RedisTrackerStore"):
        open_conversation_store(redis)


def test_without_a_reachable_tracker_store_the_export_and_the_erasure_say_so(fresh_shop, engine, tmp_path,
                                                                           monkeypatch):
    endpoints = tmp_path / "memory.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n")
    monkeypatch.setenv("RASA_ENDPOINTS_FILE", str(endpoints))
    export = asyncio.run(desk_from_env().export("anna.schmidt@example.com", "operator"))
    assert export.conversations == {} and "only in its memory" in export.notes[0]
    assert export.crm.records["contacts"][0]["email"] == "anna.schmidt@example.com"
    erasure = asyncio.run(desk_from_env().erase("anna.schmidt@example.com", "operator"))
    assert erasure.conversations == 0 and any("only in its memory" in reason for reason in erasure.kept)


def test_only_the_tracker_stores_settings_are_read_from_the_endpoints_file(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    # The action server's token is not the operator's business: a missing one must not stop an erasure.
    endpoints.write_text('action_endpoint:\n  url: "http://127.0.0.1:5055/webhook"\n  headers:\n'
                         '    Authorization: "Bearer ${ACTION_SERVER_TOKEN}"\n'
                         "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: ${TRACKER_DIR}/tracker.db\n")
    store = open_tracker_store(endpoints, {"TRACKER_DIR": str(tmp_path)})
    assert isinstance(store, SQLTrackerStore) and str(tmp_path / "tracker.db") in str(store.engine.url)
    with pytest.raises(ConfigurationError, match="TRACKER_DIR"):
        open_tracker_store(endpoints, {})
    with pytest.raises(ConfigurationError, match="RASA_ENDPOINTS_FILE"):
        open_tracker_store(tmp_path / "missing.yml", {})


def test_the_pseudonym_is_the_one_the_actions_use():
    tracker = Tracker("whatsapp:+4915112345678", {}, {}, [], False, None, {}, "action_listen")
    assert conversation_pseudonym(tracker.sender_id) == conversation_ref(tracker)


def test_an_email_with_like_wildcards_finds_only_itself(rasa_store):
    save_conversation(rasa_store, "chat-underscore", ("it's a_b@example.com", "Thanks."))
    save_conversation(rasa_store, "chat-lookalike", ("it's axb@example.com", "Thanks."))
    assert ConversationStore(rasa_store).senders_mentioning("A_B@example.com") == {"chat-underscore"}

