"""The sandbox adapters against the real sandbox backend over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from integrations.config import ConfigurationError, crm_from_env, eshop_from_env
from integrations.errors import AuthenticationFailed, NotFound
from integrations.models import OrderStatus


@pytest.fixture
def env(sandbox_server):
    return {"SANDBOX_URL": sandbox_server.base_url, "SANDBOX_API_KEY": sandbox_server.api_key}


def latest_code(sandbox_server, email: str) -> str:
    mails = requests.get(
        f"{sandbox_server.base_url}/v1/sandbox/mailbox",
        params={"to": email},
        headers={"Authorization": f"Bearer {sandbox_server.api_key}"},
        timeout=5,
    ).json()["data"]
    return re.search(r"\b(\d{6})\b", mails[0]["body"]).group(1)


def test_shipped_order_has_tracking(env):
    order = asyncio.run(eshop_from_env(env).get_order("100234"))
    assert order.status is OrderStatus.SHIPPED
    assert order.belongs_to(" Ben.Miller@Example.com ")
    assert not order.belongs_to("anna.schmidt@example.com")
    (shipment,) = order.shipments
    assert shipment.carrier_name and shipment.tracking_url.startswith("https://")
    assert shipment.estimated_delivery is not None and len(shipment.events) >= 3


def test_delayed_and_cancelled_orders_carry_their_explanations(env):
    shop = eshop_from_env(env)
    delayed = asyncio.run(shop.get_order("100236"))
    assert delayed.status is OrderStatus.DELAYED
    assert delayed.shipments[0].delay_reason == "Severe weather at the regional hub"
    cancelled = asyncio.run(shop.get_order("100237"))
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.refund_status == "refunded"


def test_unknown_order_is_not_found(env):
    with pytest.raises(NotFound):
        asyncio.run(eshop_from_env(env).get_order("99999999"))


def test_orders_of_customer_newest_first(env):
    orders = asyncio.run(eshop_from_env(env).orders_of_customer("cust_anna"))
    numbers = {o.number for o in orders}
    assert {"100231", "100232", "100235", "100238"} <= numbers
    assert all(o.belongs_to("anna.schmidt@example.com") for o in orders)
    assert [o.placed_at for o in orders] == sorted((o.placed_at for o in orders), reverse=True)


def test_login_code_round_trip(env, sandbox_server):
    shop = eshop_from_env(env)
    asyncio.run(shop.send_login_code("david.chen@example.com"))
    code = latest_code(sandbox_server, "david.chen@example.com")
    wrong = "000000" if code != "000000" else "111111"
    failed = asyncio.run(shop.verify_login_code("david.chen@example.com", wrong))
    assert not failed.verified and failed.attempts_left == 4
    passed = asyncio.run(shop.verify_login_code("david.chen@example.com", code))
    assert passed.verified and passed.customer_id == "cust_david"


def test_wrong_key_is_an_authentication_failure(env):
    with pytest.raises(AuthenticationFailed):
        asyncio.run(eshop_from_env({**env, "SANDBOX_API_KEY": "wrong"}).get_order("100234"))


def test_contact_upsert_never_duplicates(env):
    crm = crm_from_env(env)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    first = asyncio.run(crm.upsert_contact(email))
    again = asyncio.run(crm.upsert_contact(email.upper(), first_name="Nina"))
    assert first.id == again.id


def test_interaction_and_ticket_creation_are_idempotent(env):
    crm = crm_from_env(env)
    contact = asyncio.run(crm.upsert_contact("ben.miller@example.com"))
    key = f"test-{uuid.uuid4()}"
    log = lambda: crm.log_interaction(  # noqa: E731
        contact.id, kind="order_status", summary="asked", channel="rest", conversation_id="conv-1",
        order_number="100234", outcome="answered", idempotency_key=key,
    )
    assert asyncio.run(log()).id == asyncio.run(log()).id
    ticket = lambda: crm.create_ticket(  # noqa: E731
        subject="s", description="d", priority="normal", category="handover", conversation_id="conv-1",
        email="ben.miller@example.com", idempotency_key=key,
    )
    first, second = asyncio.run(ticket()), asyncio.run(ticket())
    assert first.number == second.number and first.number.startswith("T-")


def test_a_complaint_case_keeps_its_due_time_and_photos_and_is_found_by_its_number(env):
    crm = crm_from_env(env)
    # As the outbox hands them over: JSON values, read back from the database.
    keywords = json.loads(json.dumps({
        "subject": "Complaint (arrived damaged): Trail Headlamp 400", "description": "The glass is cracked.",
        "priority": "high", "category": "complaint", "conversation_id": "conv-7", "email": "Ben.Miller@example.com",
        "order_number": "100241", "idempotency_key": f"test-{uuid.uuid4()}",
        "due_at": "2026-11-27T15:09:53.123456+00:00", "attachments": ("https://photos.example.com/p/123",),
    }))
    ticket = asyncio.run(crm.create_ticket(**keywords))
    assert (ticket.email, ticket.category, ticket.status, ticket.priority) == (
        "ben.miller@example.com", "complaint", "open", "high")
    assert ticket.due_at == datetime(2026, 11, 27, 15, 9, 53, tzinfo=timezone.utc)
    assert ticket.created_at is not None and ticket.created_at.tzinfo is not None
    assert asyncio.run(crm.get_ticket(ticket.number)) == ticket
    assert asyncio.run(crm.get_ticket(ticket.number.lower())) == ticket
    assert asyncio.run(crm.get_ticket(ticket.id)) == ticket


def test_a_case_without_a_due_time_gets_one_from_its_priority(env):
    crm = crm_from_env(env)
    ticket = asyncio.run(crm.create_ticket(
        subject="s", description="d", priority="urgent", category="complaint", conversation_id="conv-8",
        idempotency_key=f"test-{uuid.uuid4()}"))
    assert ticket.email is None
    assert timedelta(hours=4) <= ticket.due_at - ticket.created_at < timedelta(hours=4, seconds=1)


def test_a_ticket_of_another_customer_comes_with_that_customers_email(env):
    # The adapter only reports whose case it is; the dialogue compares it with the verified email.
    ticket = asyncio.run(crm_from_env(env).get_ticket("T-000102"))
    assert (ticket.id, ticket.email, ticket.status) == ("tk_anna_zip", "anna.schmidt@example.com", "pending")
    assert ticket.due_at is not None and ticket.category == "complaint"


@pytest.mark.parametrize("number", ["T-999999", "", "  ", "../contacts", "T-000102/../T-000101"])
def test_an_unknown_ticket_number_is_not_found(env, number):
    with pytest.raises(NotFound):
        asyncio.run(crm_from_env(env).get_ticket(number))


def test_unknown_platform_is_a_configuration_error(env):
    with pytest.raises(ConfigurationError):
        eshop_from_env({**env, "ESHOP_PLATFORM": "nope"})
    with pytest.raises(ConfigurationError):
        crm_from_env({"CRM_PLATFORM": "sandbox"})  # no key
