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
from integrations.mail import Attachment, Mail, mailer_from_env
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


# ---- data subject rights and the mail port

def a_customer_with_history(env) -> str:
    """A contact of its own (the seed stays as it is) with an interaction and a case; its email."""
    email = f"rights-{uuid.uuid4().hex[:8]}@example.com"
    crm = crm_from_env(env)
    contact = asyncio.run(crm.upsert_contact(email, first_name="Rita"))
    asyncio.run(crm.log_interaction(contact.id, kind="order_status", summary="Asked about order 100231.",
                                    channel="web", conversation_id="conv-rights", idempotency_key=f"ix-{email}"))
    asyncio.run(crm.create_ticket(subject="Chat handover", description="Customer: hello", priority="normal",
                                  category="handover", conversation_id="conv-rights", email=email,
                                  idempotency_key=f"tk-{email}"))
    return email


def test_an_export_holds_every_crm_record_of_the_email(env):
    email = a_customer_with_history(env)
    export = asyncio.run(crm_from_env(env).export_contact(email.upper()))
    assert export.platform == "sandbox" and not export.empty
    (contact,) = export.records["contacts"]
    (interaction,) = export.records["interactions"]
    (ticket,) = export.records["tickets"]
    assert (contact["email"], contact["first_name"], contact["marketing_consent"]) == (email, "Rita", False)
    assert interaction["summary"] == "Asked about order 100231." and ticket["email"] == email
    assert export.records["deals"] == () and export.records["leads"] == ()


def test_erasure_removes_the_records_and_says_what_stays(env):
    email = a_customer_with_history(env)
    crm = crm_from_env(env)
    erasure = asyncio.run(crm.erase_contact(email))
    assert erasure.erased["contacts"] == erasure.erased["interactions"] == erasure.erased["tickets"] == 1
    assert erasure.erased["stored_answers"] >= 2  # the keyed creations' answers repeated the email
    assert erasure.kept == ()
    assert asyncio.run(crm.export_contact(email)).empty
    assert set(asyncio.run(crm.erase_contact(email)).erased.values()) == {0}


def test_seeded_marketing_consent_is_withdrawn(launch_sandbox):
    server = launch_sandbox()  # of its own: the shared sandbox keeps Anna's consent
    env = {"SANDBOX_URL": server.base_url, "SANDBOX_API_KEY": server.api_key}
    crm = crm_from_env(env)
    (before,) = asyncio.run(crm.export_contact("anna.schmidt@example.com")).records["contacts"]
    withdrawal = asyncio.run(crm.withdraw_marketing_consent("anna.schmidt@example.com"))
    (after,) = asyncio.run(crm.export_contact("anna.schmidt@example.com")).records["contacts"]
    assert before["marketing_consent"] and not after["marketing_consent"] and withdrawal.had_contact
    assert not asyncio.run(crm.withdraw_marketing_consent("nobody-at-all@example.com")).had_contact


def test_a_mail_with_an_attachment_lands_in_the_sandbox_mailbox_once(env, sandbox_server):
    to = f"mail-{uuid.uuid4().hex[:8]}@example.com"
    mail = Mail(to, "Your data", "Attached.", (Attachment("my-data.json", "application/json", '{"a": 1}'),))
    mailer = mailer_from_env(env)
    asyncio.run(mailer.send(mail, idempotency_key=f"export:{to}"))
    asyncio.run(mailer.send(mail, idempotency_key=f"export:{to}"))  # a retry after a lost answer
    (received,) = requests.get(f"{sandbox_server.base_url}/v1/sandbox/mailbox", params={"to": to},
                               headers={"Authorization": f"Bearer {sandbox_server.api_key}"}, timeout=5).json()["data"]
    assert (received["subject"], received["body"]) == ("Your data", "Attached.")
    assert received["attachments"] == [{"filename": "my-data.json", "content_type": "application/json",
                                        "content": '{"a": 1}'}]
