"""The sandbox adapters against the real sandbox backend over HTTP."""

from __future__ import annotations

import asyncio
import re
import uuid

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


def test_unknown_platform_is_a_configuration_error(env):
    with pytest.raises(ConfigurationError):
        eshop_from_env({**env, "ESHOP_PLATFORM": "nope"})
    with pytest.raises(ConfigurationError):
        crm_from_env({"CRM_PLATFORM": "sandbox"})  # no key
