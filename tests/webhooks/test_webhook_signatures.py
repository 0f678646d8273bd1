"""Signature and age checks of each sender, on the raw bytes, independent of HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.webhooks.platforms import SECRETS, minutes, now, sandbox, shipped, shopify, woocommerce
from webhooks.signatures import (
    VERIFIERS,
    BadSignature,
    DeliveryRejected,
    StaleDelivery,
    TopicMismatch,
    check_fresh,
    is_woocommerce_ping,
    parse_time,
)

SHIPPED_EVENT = {"event": "order.shipped", "data": {}}
SIGNATURE_HEADERS = {"shopify": "x-shopify-hmac-sha256", "woocommerce": "x-wc-webhook-signature",
                     "sandbox": "x-sandbox-signature"}


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def verify(sender: str, headers: dict, body: bytes, secrets: list[str] | None = None):
    return VERIFIERS[sender](lower(headers), body, SECRETS[sender] if secrets is None else secrets)


@pytest.mark.parametrize("sender", SECRETS)
def test_a_delivery_signed_with_the_current_secret_passes(sender):
    headers, body = shipped(sender, "100234", delivery_id="delivery-1")
    delivery = verify(sender, headers, body)
    assert delivery.sender == sender and delivery.delivery_id.startswith("delivery-1")
    assert delivery.topic == {"shopify": "orders/fulfilled", "woocommerce": "order.updated",
                              "sandbox": "order.shipped"}[sender]


@pytest.mark.parametrize("sender", SECRETS)
def test_during_a_rotation_the_previous_secret_passes_and_a_retired_one_does_not(sender):
    headers, body = shipped(sender, "100234", secret_index=1)
    verify(sender, headers, body)
    with pytest.raises(BadSignature):
        verify(sender, headers, body, secrets=SECRETS[sender][:1])


@pytest.mark.parametrize("sender", SECRETS)
def test_a_changed_body_fails(sender):
    headers, body = shipped(sender, "100234")
    with pytest.raises(BadSignature):
        verify(sender, headers, body.replace(b"100234", b"100235"))


@pytest.mark.parametrize("sender", SECRETS)
@pytest.mark.parametrize("signature", [None, "", "not base64 !", "AAAA", "t=1,v1=zz", "t=,v1=00"])
def test_a_missing_or_garbled_signature_fails(sender, signature):
    headers, body = shipped(sender, "100234")
    headers = {name: value for name, value in lower(headers).items() if name != SIGNATURE_HEADERS[sender]}
    if signature is not None:
        headers[SIGNATURE_HEADERS[sender]] = signature
    with pytest.raises(BadSignature):
        verify(sender, headers, body)


def test_the_sandbox_timestamp_is_signed_with_the_body():
    headers, body = sandbox(SHIPPED_EVENT, "order.shipped", sent_at=now() - minutes(10))
    digest = headers["X-Sandbox-Signature"].split(",v1=")[1]
    headers["X-Sandbox-Signature"] = f"t={int(now().timestamp())},v1={digest}"  # made to look fresh
    with pytest.raises(BadSignature):
        verify("sandbox", headers, body)


def test_the_sandbox_accepts_several_v1_digests_as_stripe_sends_them_during_a_rotation():
    headers, body = sandbox(SHIPPED_EVENT, "order.shipped", secret="unknown")
    timestamp = headers["X-Sandbox-Signature"].split(",")[0]
    good = sandbox(SHIPPED_EVENT, "order.shipped")[0]["X-Sandbox-Signature"]
    assert timestamp == good.split(",")[0]
    headers["X-Sandbox-Signature"] = f"{headers['X-Sandbox-Signature']},{good.split(',')[1]}"
    assert verify("sandbox", headers, body).topic == "order.shipped"


def test_the_sandbox_event_is_the_one_its_signed_body_names():
    headers, body = sandbox(SHIPPED_EVENT, "order.shipped")
    assert verify("sandbox", headers, body).topic == "order.shipped"
    with pytest.raises(TopicMismatch):
        verify("sandbox", {**headers, "X-Sandbox-Event": "order.delayed"}, body)
    unnamed_headers, unnamed = sandbox({"data": {}}, "order.shipped")
    with pytest.raises(DeliveryRejected, match="names no event"):
        verify("sandbox", unnamed_headers, unnamed)


@pytest.mark.parametrize(("sender", "header"), [("shopify", "x-shopify-webhook-id"),
                                                ("woocommerce", "x-wc-webhook-delivery-id"),
                                                ("sandbox", "x-sandbox-delivery-id")])
def test_a_signed_delivery_without_its_delivery_id_is_refused(sender, header):
    headers, body = shipped(sender, "100234")
    headers = lower(headers)
    for value in (None, "", "has space", "x" * 121):
        wrong = {name: v for name, v in headers.items() if name != header} | ({header: value} if value else {})
        with pytest.raises(DeliveryRejected) as refused:
            verify(sender, wrong, body)
        assert refused.value.status == 400


def test_shopify_needs_its_triggered_at_time():
    headers, body = shopify({"id": 1}, "products/update")
    headers["X-Shopify-Triggered-At"] = "yesterday"
    with pytest.raises(DeliveryRejected, match="Triggered-At"):
        verify("shopify", headers, body)


def test_woocommerce_tells_apart_two_events_that_share_a_delivery_id():
    first = verify("woocommerce", *woocommerce({"id": 1}, "product.updated", delivery_id="same-second"))
    second = verify("woocommerce", *woocommerce({"id": 2}, "product.updated", delivery_id="same-second"))
    replay = verify("woocommerce", *woocommerce({"id": 1}, "product.updated", delivery_id="same-second"))
    assert first.delivery_id != second.delivery_id and first.delivery_id == replay.delivery_id


def test_woocommerce_sends_no_time():
    assert verify("woocommerce", *shipped("woocommerce", "100234")).sent_at is None


@pytest.mark.parametrize(("age", "fresh"), [(timedelta(minutes=4, seconds=59), True),
                                            (timedelta(minutes=5, seconds=1), False),
                                            (timedelta(seconds=-59), True),
                                            (timedelta(seconds=-61), False)])
def test_deliveries_older_than_five_minutes_or_more_than_a_minute_ahead_are_stale(age, fresh):
    moment = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
    if fresh:
        check_fresh(moment - age, moment)
    else:
        with pytest.raises(StaleDelivery):
            check_fresh(moment - age, moment)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-07-01T14:05:09.877041743Z", datetime(2024, 7, 1, 14, 5, 9, 877041, tzinfo=timezone.utc)),
    ("2024-07-01T16:05:09+02:00", datetime(2024, 7, 1, 14, 5, 9, tzinfo=timezone.utc)),
    ("2024-07-01T14:05:09", datetime(2024, 7, 1, 14, 5, 9, tzinfo=timezone.utc)),
    ("2024-02-31T14:05:09Z", None), ("1719842709", None), ("", None),
])
def test_times_are_read_as_the_platforms_write_them(text, expected):
    assert parse_time(text) == expected


def test_only_woocommerces_unsigned_test_post_counts_as_its_ping():
    assert is_woocommerce_ping({}, b"webhook_id=12")
    assert not is_woocommerce_ping({"x-wc-webhook-signature": "x"}, b"webhook_id=12")
    assert not is_woocommerce_ping({}, b'{"webhook_id": 12}')
