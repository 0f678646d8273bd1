"""The receiver in process: each delivery is applied once or refused, and a refused one changes nothing.

Rasa is a real HTTP server (pytest_httpserver) that records every trigger_intent call; the e-shop that
orders are read back from is in memory (conftest.ShopStandIn); the read cache is a recording stand-in.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from local_stack import free_port
from integrations.models import OrderStatus
from tests.webhooks.conftest import RASA_TOKEN, TRIGGER_INTENT, build_receiver, parcel, trigger_intent_calls
from tests.webhooks.platforms import (
    EMAIL,
    SECRETS,
    SENDERS,
    TRACKING_URL,
    minutes,
    now,
    resigned,
    sandbox,
    shipped,
    shopify,
    woo_order,
    woo_time,
    woocommerce,
)
from webhooks.conversations import email_hash
from webhooks.tables import WebhookDelivery

CONVERSATION = "web-3f2a9c"
RASA_ARGS = {"output_channel": "latest", "token": RASA_TOKEN}
# Only which order: what the customer is told, the action reads from the shop.
SHIPPED_100234 = {"name": "EXTERNAL_order_shipped", "entities": {"order_id": "100234"}}


@pytest.fixture
def asked_about_order(links):
    links.remember(CONVERSATION, order_number="100234")


def deliveries_recorded(engine) -> int:
    with Session(engine, future=True) as session:
        return session.scalar(select(func.count()).select_from(WebhookDelivery))


@pytest.mark.parametrize("sender", SENDERS)
def test_a_good_delivery_is_applied_once_and_told_to_the_conversation_that_asked(
        sender, receiver, rasa, asked_about_order):
    headers, body = shipped(sender, "100234", delivery_id="d-1")
    answer = receiver.receive(sender, headers, body)
    assert (answer.status, answer.body) == (200, {"status": "applied"})
    assert trigger_intent_calls(rasa) == [{"conversation": CONVERSATION, "args": RASA_ARGS, "body": SHIPPED_100234}]

    replay = receiver.receive(sender, headers, body)
    assert (replay.status, replay.body) == (200, {"status": "duplicate"})
    assert len(trigger_intent_calls(rasa)) == 1


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize(("case", "status", "error"), [
    ("wrong secret", 401, "invalid_signature"),
    ("changed body", 401, "invalid_signature"),
    ("old", 400, "stale_delivery"),
    ("from the future", 400, "stale_delivery"),
    ("malformed JSON", 400, "invalid_request"),
    ("a JSON array", 400, "invalid_request"),
])
def test_a_refused_delivery_changes_nothing(sender, case, status, error, receiver, rasa, cache, engine,
                                            asked_about_order):
    headers, body = shipped(sender, "100234")
    if case == "wrong secret":
        headers, body = resigned(sender, headers, body, "a-secret-nobody-configured")
    elif case == "changed body":
        body = body.replace(b"100234", b"100239")
    elif case == "old":
        headers, body = shipped(sender, "100234", sent_at=now() - minutes(5.5))
    elif case == "from the future":
        headers, body = shipped(sender, "100234", sent_at=now() + minutes(1.5))
    elif case == "malformed JSON":
        headers, body = resigned(sender, headers, b'{"order_number": 100234', SECRETS[sender][0])
    else:
        headers, body = resigned(sender, headers, b"[1, 2]", SECRETS[sender][0])
    answer = receiver.receive(sender, headers, body)
    if error == "stale_delivery" and sender != "sandbox":
        # A platform whose retries are stale by construction gets a 2xx, so it keeps the webhook on.
        assert (answer.status, answer.body) == (200, {"status": "stale"})
    else:
        assert answer.status == status and answer.body["error"]["type"] == error
    assert trigger_intent_calls(rasa) == [] and cache.invalidated == [] and deliveries_recorded(engine) == 0


def test_woocommerce_age_is_read_from_the_signed_body(receiver, rasa, asked_about_order):
    headers, body = shipped("woocommerce", "100234", sent_at=now() - minutes(6))
    assert json.loads(body)["date_modified_gmt"]
    assert receiver.receive("woocommerce", headers, body).body == {"status": "stale"}
    assert trigger_intent_calls(rasa) == []


@pytest.mark.parametrize("sender", SENDERS)
def test_a_delivery_signed_with_the_previous_secret_passes_during_a_rotation(sender, receiver, rasa,
                                                                            asked_about_order):
    answer = receiver.receive(sender, *shipped(sender, "100234", secret_index=1))
    assert answer.body == {"status": "applied"} and len(trigger_intent_calls(rasa)) == 1


@pytest.mark.parametrize("sender", SENDERS)
def test_two_concurrent_copies_of_a_delivery_apply_once(sender, receiver, rasa, asked_about_order):
    headers, body = shipped(sender, "100234", delivery_id="same-delivery")
    copies, answers = 6, []
    start = threading.Barrier(copies)

    def deliver():
        start.wait()
        answers.append(receiver.receive(sender, headers, body).body["status"])

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == ["applied"] + ["duplicate"] * (copies - 1)
    assert len(trigger_intent_calls(rasa)) == 1


@pytest.mark.parametrize(("sender", "delivery"), [
    ("shopify", lambda: shopify({"id": 1}, "checkouts/update")),
    ("woocommerce", lambda: woocommerce({"id": 1}, "coupon.created")),
    ("sandbox", lambda: sandbox({"event": "order.refunded", "data": {}}, "order.refunded")),
])
def test_an_unknown_topic_is_acknowledged_and_ignored(sender, delivery, receiver, rasa, cache, engine):
    answer = receiver.receive(sender, *delivery())
    assert (answer.status, answer.body) == (200, {"status": "ignored"})
    assert trigger_intent_calls(rasa) == [] and cache.invalidated == [] and deliveries_recorded(engine) == 0


@pytest.mark.parametrize(("sender", "delivery"), [
    ("shopify", lambda: shopify({"id": 632910392, "title": "Trail Runner"}, "products/update")),
    ("woocommerce", lambda: woocommerce({"id": 799, "name": "Trail Runner",
                                         "date_modified_gmt": woo_time(now())}, "product.updated")),
    ("sandbox", lambda: sandbox({"event": "product.updated", "data": {"product": {"id": "trail-runner-gtx"}}},
                                "product.updated")),
])
def test_a_changed_product_empties_the_catalog_cache_once(sender, delivery, receiver, rasa, cache):
    headers, body = delivery()
    assert receiver.receive(sender, headers, body).body == {"status": "applied"}
    assert receiver.receive(sender, headers, body).body == {"status": "duplicate"}
    assert cache.invalidated == ["/v1/products"] and trigger_intent_calls(rasa) == []


@pytest.mark.parametrize("failure", ["down", 500, 404])
def test_when_rasa_fails_the_delivery_still_gets_its_200_and_the_failure_is_logged(
        failure, engine, httpserver, cache, eshop, links, caplog):
    links.remember(CONVERSATION, order_number="100234")
    if failure == "down":
        rasa_url = f"http://127.0.0.1:{free_port()}"
    else:
        httpserver.expect_request(TRIGGER_INTENT, method="POST").respond_with_json({"status": "failure"},
                                                                                  status=failure)
        rasa_url = httpserver.url_for("/")
    receiver = build_receiver(engine, rasa_url, cache, eshop)
    with caplog.at_level(logging.INFO, logger="webhooks"):
        answer = receiver.receive("sandbox", *shipped("sandbox", "100234"))
    assert (answer.status, answer.body) == (200, {"status": "applied"})
    failures = [json.loads(r.getMessage()) for r in caplog.records if "proactive_message_failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0]["intent"] == "EXTERNAL_order_shipped"
    expected = {"error": "ConnectionError"} if failure == "down" else {"status": failure}
    assert failures[0].items() >= expected.items()
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("webhooks"))
    assert CONVERSATION not in ours and failures[0]["conversation"].startswith("conv-")


def test_without_a_conversation_about_it_nobody_is_told(receiver, rasa):
    assert receiver.receive("sandbox", *shipped("sandbox", "100234")).body == {"status": "applied"}
    assert trigger_intent_calls(rasa) == []


def test_the_conversation_about_the_order_is_told_before_one_of_the_same_customer(receiver, rasa, links):
    links.remember("about-the-customer", email_hash=email_hash(EMAIL))
    links.remember("about-the-order", order_number="100234")
    links.remember("about-another-order", order_number="100239")
    receiver.receive("shopify", *shipped("shopify", "100234"))
    receiver.receive("shopify", *shipped("shopify", "100235"))
    assert [call["conversation"] for call in trigger_intent_calls(rasa)] == ["about-the-order", "about-the-customer"]


def test_an_abandoned_cart_is_told_to_the_customers_conversation(receiver, rasa, links):
    links.remember("about-the-customer", email_hash=email_hash(EMAIL))
    payload = {"event": "cart.abandoned", "data": {"cart": {"id": "cart_ben_1", "items": []}, "email": EMAIL.upper()}}
    assert receiver.receive("sandbox", *sandbox(payload, "cart.abandoned")).body == {"status": "applied"}
    assert trigger_intent_calls(rasa) == [{"conversation": "about-the-customer", "args": RASA_ARGS,
                                           "body": {"name": "EXTERNAL_cart_abandoned", "entities": {}}}]


def test_a_delay_is_told_when_the_shop_reports_it(receiver, rasa, eshop, asked_about_order):
    eshop.holds("100234", OrderStatus.DELAYED, parcel("delayed", delay_reason="Severe weather at the hub"))
    payload = {"event": "order.delayed", "data": {
        "order": {"number": "100234", "email": EMAIL, "status": "delayed"},
        "shipment": {"carrier": {"code": "ups", "name": "UPS"}, "tracking_number": "1Z9",
                     "tracking_url": "https://t.example/1Z9", "estimated_delivery": "2030-05-06",
                     "delay_reason": "Severe weather at the hub"}}}
    receiver.receive("sandbox", *sandbox(payload, "order.delayed"))
    assert [call["body"] for call in trigger_intent_calls(rasa)] == [
        {"name": "EXTERNAL_delivery_delayed", "entities": {"order_id": "100234"}}]


def test_shopify_reports_a_delay_in_orders_updated_and_the_customer_hears_it_once(receiver, rasa, eshop,
                                                                                  asked_about_order):
    def order_update(shipment_status):
        return shopify({"order_number": 100234, "email": EMAIL, "fulfillments": [
            {"created_at": "2024-07-01T10:00:00-04:00", "tracking_company": "DHL", "tracking_number": "JJD1",
             "tracking_url": TRACKING_URL, "shipment_status": shipment_status}]}, "orders/updated")

    assert receiver.receive("shopify", *order_update("in_transit")).body == {"status": "ignored"}
    eshop.holds("100234", OrderStatus.DELAYED, parcel("delayed"))
    assert receiver.receive("shopify", *order_update("delayed")).body == {"status": "applied"}
    assert receiver.receive("shopify", *order_update("delayed")).body == {"status": "applied"}  # a later edit
    assert [call["body"] for call in trigger_intent_calls(rasa)] == [
        {"name": "EXTERNAL_delivery_delayed", "entities": {"order_id": "100234"}}]


def test_woocommerce_order_updates_tell_only_the_save_that_completed_or_paid_the_order(receiver, rasa, eshop,
                                                                                      asked_about_order):
    completed_earlier = woo_order("100234", "completed", now(), changed_status_at=now() - minutes(30))
    assert receiver.receive("woocommerce", *woocommerce(completed_earlier, "order.updated")).body == {
        "status": "ignored"}
    eshop.holds("100234", OrderStatus.PAID)
    paid = woo_order("100234", "processing", now())
    assert receiver.receive("woocommerce", *woocommerce(paid, "order.updated")).body == {"status": "applied"}
    eshop.holds("100234", OrderStatus.SHIPPED, parcel())
    completed = woo_order("100234", "completed", now())
    for _ in range(2):  # the same news in two deliveries (two saves within the same minute)
        assert receiver.receive("woocommerce", *woocommerce(completed, "order.updated")).body == {"status": "applied"}
    assert [call["body"]["name"] for call in trigger_intent_calls(rasa)] == [
        "EXTERNAL_payment_succeeded", "EXTERNAL_order_shipped"]


def test_a_signed_payload_without_an_order_number_is_acknowledged_and_ignored(receiver, rasa, engine):
    headers, body = shopify({"email": EMAIL, "fulfillments": []}, "orders/fulfilled")
    assert receiver.receive("shopify", headers, body).body == {"status": "ignored"}
    assert trigger_intent_calls(rasa) == [] and deliveries_recorded(engine) == 0


def test_woocommerces_unsigned_ping_gets_its_200_and_nothing_else(receiver, rasa, engine):
    answer = receiver.receive("woocommerce", {"User-Agent": "WooCommerce/8.9 Hookshot"}, b"webhook_id=7")
    assert (answer.status, answer.body) == (200, {"status": "ignored"})
    assert deliveries_recorded(engine) == 0
    unsigned = receiver.receive("woocommerce", {}, shipped("woocommerce", "100234")[1])
    assert unsigned.status == 401


def test_a_sender_without_secrets_refuses_everything(engine, rasa, cache, eshop, asked_about_order):
    receiver = build_receiver(engine, rasa.url_for("/"), cache, eshop, secrets={"sandbox": SECRETS["sandbox"]})
    answer = receiver.receive("shopify", *shipped("shopify", "100234"))
    assert answer.status == 503 and answer.body["error"]["type"] == "not_configured"
    assert receiver.unconfigured() == ["shopify", "woocommerce"] and trigger_intent_calls(rasa) == []


def test_logs_hold_no_bodies_emails_or_signatures(receiver, rasa, links, caplog):
    links.remember(CONVERSATION, order_number="100234")
    deliveries = [shipped(sender, "100234") for sender in SENDERS]
    with caplog.at_level(logging.DEBUG):
        for sender, (headers, body) in zip(SENDERS, deliveries):
            receiver.receive(sender, headers, body)
            receiver.receive(sender, headers, body)
            receiver.receive(sender, *resigned(sender, headers, body, "wrong"))
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("webhooks")]
    assert len(ours) == 9 and all(json.loads(line)["event"].startswith("webhook_") for line in ours)
    signatures = [value for headers, _ in deliveries for name, value in headers.items() if "ignature" in name
                  or "Hmac" in name]
    for secret_or_pii in [EMAIL, "JJD0099123456", *signatures]:
        assert secret_or_pii not in caplog.text



# ---- The event type cannot be rewritten: the sandbox signs it, the others' orders are read back from the shop.

@pytest.mark.parametrize("header", ["order.delayed", "payment.succeeded", "product.updated"])
def test_a_sandbox_delivery_whose_event_header_was_rewritten_is_refused(header, receiver, rasa, cache, engine,
                                                                        asked_about_order):
    headers, body = shipped("sandbox", "100234")
    answer = receiver.receive("sandbox", {**headers, "X-Sandbox-Event": header, "X-Sandbox-Delivery-Id": "new-id"},
                              body)
    assert answer.status == 400 and answer.body["error"]["type"] == "topic_mismatch"
    assert trigger_intent_calls(rasa) == [] and cache.invalidated == [] and deliveries_recorded(engine) == 0


def test_a_sandbox_body_that_names_no_event_is_refused(receiver, rasa, engine, asked_about_order):
    answer = receiver.receive("sandbox", *sandbox({"data": {"order": {"number": "100234"}}}, "order.shipped"))
    assert answer.status == 400 and answer.body["error"]["type"] == "invalid_request"
    assert trigger_intent_calls(rasa) == [] and deliveries_recorded(engine) == 0


@pytest.mark.parametrize(("topic", "holds"), [
    ("orders/paid", OrderStatus.SHIPPED),  # the shipped order's body, replayed under another topic
    ("orders/updated", OrderStatus.SHIPPED),
    ("orders/fulfilled", OrderStatus.PAID),  # a topic the order has not reached
])
def test_a_shopify_topic_the_shops_order_does_not_agree_with_tells_nobody(topic, holds, receiver, rasa, eshop,
                                                                         asked_about_order):
    eshop.holds("100234", holds, *([parcel()] if holds is OrderStatus.SHIPPED else []))
    _, body = shipped("shopify", "100234")
    delayed_body = body.replace(b'"shipment_status": null', b'"shipment_status": "delayed"')
    answer = receiver.receive("shopify", *shopify(json.loads(delayed_body), topic))
    assert (answer.status, answer.body) == (200, {"status": "applied"})
    assert trigger_intent_calls(rasa) == []


def test_the_shops_answer_decides_and_a_rejected_topic_leaves_the_true_news_to_tell(receiver, rasa,
                                                                                   asked_about_order):
    _, body = shipped("shopify", "100234")
    receiver.receive("shopify", *shopify(json.loads(body), "orders/paid"))
    receiver.receive("shopify", *shopify(json.loads(body), "orders/fulfilled"))
    assert [call["body"] for call in trigger_intent_calls(rasa)] == [SHIPPED_100234]


@pytest.mark.parametrize("sender", SENDERS)
def test_news_about_an_order_the_shop_does_not_know_tells_nobody(sender, receiver, rasa, eshop, asked_about_order):
    del eshop.orders["100234"]
    assert receiver.receive(sender, *shipped(sender, "100234")).body == {"status": "applied"}
    assert trigger_intent_calls(rasa) == []


def test_a_cancelled_order_gets_no_news(receiver, rasa, eshop, asked_about_order):
    eshop.holds("100234", OrderStatus.CANCELLED, parcel())
    receiver.receive("sandbox", *shipped("sandbox", "100234"))
    assert trigger_intent_calls(rasa) == []


@pytest.mark.parametrize("sender", SENDERS)
def test_when_the_shop_cannot_be_read_nobody_is_told_the_platform_gets_its_200_and_the_news_waits(
        sender, receiver, rasa, eshop, asked_about_order, caplog):
    eshop.down = True
    with caplog.at_level(logging.INFO, logger="webhooks"):
        answer = receiver.receive(sender, *shipped(sender, "100234"))
    assert (answer.status, answer.body) == (200, {"status": "applied"}) and trigger_intent_calls(rasa) == []
    applied = [json.loads(r.getMessage()) for r in caplog.records if "webhook_applied" in r.getMessage()]
    assert [line["outcome"] for line in applied] == ["shop_unreadable"]
    eshop.down = False
    receiver.receive(sender, *shipped(sender, "100234"))  # the same news, delivered again
    assert [call["body"] for call in trigger_intent_calls(rasa)] == [SHIPPED_100234]
