"""The WooCommerce adapter against a local fake of its REST API v3 and Shipment Tracking (tests/fakes/woocommerce.py).

The fake checks credentials and query parameters as WooCommerce does, so a request it would refuse fails here too.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from integrations.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    RateLimited,
    Refused,
    ServiceUnavailable,
    Unsupported,
)
from integrations.models import Address, OrderStatus
from integrations.transport import Timeouts
from integrations.woocommerce import WooCommerceEShop
from tests.fakes import ERROR_500, HTML, MALFORMED, SLOW, THROTTLE
from tests.fakes.woocommerce import line_item, order, running_woocommerce_fake, tracking

TRACKINGS_PATH = "/wp-json/wc-shipment-tracking/v3/orders/{}/shipment-trackings"


def run(coroutine):
    return asyncio.run(coroutine)


def shop_for(fake) -> WooCommerceEShop:
    return WooCommerceEShop(fake.base_url, fake.consumer_key, fake.consumer_secret)


def order_from_fake(number: str, *orders: dict, trackings: dict[int, list[dict]] | None = None):
    with running_woocommerce_fake(orders, trackings if trackings is not None else {}) as fake:
        return run(shop_for(fake).get_order(number))


@pytest.mark.parametrize(
    "woo_status, expected",
    [
        ("pending", OrderStatus.PENDING),
        ("on-hold", OrderStatus.PENDING),
        ("failed", OrderStatus.PENDING),
        ("checkout-draft", OrderStatus.PENDING),
        ("processing", OrderStatus.PAID),
        ("completed", OrderStatus.SHIPPED),
        ("cancelled", OrderStatus.CANCELLED),
        ("refunded", OrderStatus.CANCELLED),
    ],
)
def test_each_woocommerce_status_maps_to_ours(woo_status, expected):
    assert order_from_fake("1002", order(1002, status=woo_status)).status is expected


def test_a_status_added_by_a_plugin_is_not_guessed_at():
    with pytest.raises(ServiceUnavailable):
        order_from_fake("1002", order(1002, status="ready-to-ship"))


def test_shipments_come_from_the_shipment_tracking_extension():
    trackings = {1003: [tracking("DHL", "JD014600003", "2024-05-03", "https://www.dhl.de/track?piececode=JD014600003"),
                        tracking("UPS", "1Z999AA10123456784", "2024-05-04", "https://www.ups.com/track?tracknum=1Z")]}
    found = order_from_fake("1003", order(1003, status="completed"), trackings=trackings)
    assert [(s.carrier_name, s.tracking_number, s.tracking_url, s.status) for s in found.shipments] == [
        ("DHL", "JD014600003", "https://www.dhl.de/track?piececode=JD014600003", "in_transit"),
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z", "in_transit"),
    ]
    assert found.shipments[0].shipped_at == datetime(2024, 5, 3, tzinfo=timezone.utc)
    assert found.shipments[0].estimated_delivery is None and found.shipments[0].events == ()


def test_without_the_extension_an_order_simply_has_no_shipments():
    with running_woocommerce_fake((order(1003, status="completed"),), trackings=None) as fake:
        found = run(shop_for(fake).get_order("1003"))
    assert found.status is OrderStatus.SHIPPED and found.shipments == ()
    assert TRACKINGS_PATH.format(1003) in [r.path for r in fake.requests]


def test_a_cancelled_order_takes_its_last_change_as_the_cancellation_date():
    found = order_from_fake("1004", order(1004, status="cancelled", modified="2024-05-02T12:00:00"))
    assert found.cancelled_at == datetime(2024, 5, 2, 12, 0, tzinfo=timezone.utc)
    assert found.cancel_reason is None and found.refund_status is None


def test_refunds_say_whether_all_or_part_was_paid_back():
    assert order_from_fake("1004", order(1004, status="refunded", refunds=({"total": "-59.90"},))).refund_status \
        == "refunded"
    partly = order_from_fake("1002", order(1002, status="processing", refunds=({"total": "-4.95"},)))
    assert partly.refund_status == "partially_refunded" and partly.status is OrderStatus.PAID


def test_order_fields_and_lines_are_translated():
    stored = order(1002, email="Anna.Schmidt@example.com", customer_id=12, created="2024-05-02T09:30:00",
                   total="64.85", lines=(line_item("Organic Tee", sku="TEE-BLUE-M", quantity=2, price=29.95,
                                                   variation={"Color": "Blue", "Size": "M"}),
                                         line_item("Gift wrap", sku="", quantity=1, price=4.95)))
    found = order_from_fake("1002", stored)
    assert (found.number, found.customer_id) == ("1002", "12")
    assert found.placed_at == datetime(2024, 5, 2, 9, 30, tzinfo=timezone.utc)
    assert (found.total.amount, found.total.currency) == (Decimal("64.85"), "EUR")
    assert [(l.sku, l.product_name, l.variant_title, l.quantity, l.unit_price.amount) for l in found.lines] == [
        ("TEE-BLUE-M", "Organic Tee", "Blue, M", 2, Decimal("29.95")),
        ("", "Gift wrap", "", 1, Decimal("4.95")),
    ]
    assert found.belongs_to(" anna.schmidt@EXAMPLE.com ")
    assert not found.belongs_to("ben.miller@example.com")


def test_a_guest_checkout_has_no_customer():
    assert order_from_fake("1002", order(1002, customer_id=0)).customer_id is None


def test_requests_use_basic_auth_and_the_v3_paths_and_never_the_query_string():
    with running_woocommerce_fake((order(1002),), {}) as fake:
        run(shop_for(fake).get_order("1002"))
    expected = "Basic " + base64.b64encode(f"{fake.consumer_key}:{fake.consumer_secret}".encode()).decode()
    assert sorted(r.path for r in fake.requests) == ["/wp-json/wc-shipment-tracking/v3/orders/1002/shipment-trackings",
                                                     "/wp-json/wc/v3/orders/1002"]
    for request in fake.requests:
        assert request.method == "GET" and request.header("Authorization") == expected
        assert request.query == {}


def test_an_unknown_order_is_not_found():
    with pytest.raises(NotFound):
        order_from_fake("4711", order(1002))


def test_a_number_that_is_no_woocommerce_id_is_not_found_without_asking():
    with running_woocommerce_fake() as fake:
        shop = shop_for(fake)
        for number in ("abc", "#1002", "0", "-1", "1002/notes", ""):
            with pytest.raises(NotFound):
                run(shop.get_order(number))
    assert fake.requests == []


def test_a_customer_gets_their_twenty_newest_orders():
    annas = [order(2000 + day, customer_id=12, created=f"2024-04-{day:02d}T10:00:00") for day in range(1, 26)]
    bens = [order(3000, customer_id=13, email="ben.miller@example.com", created="2024-04-30T10:00:00")]
    with running_woocommerce_fake(annas + bens, {}) as fake:
        found = run(shop_for(fake).orders_of_customer("12"))
    assert [o.number for o in found] == [str(2000 + day) for day in range(25, 5, -1)]
    assert all(o.customer_id == "12" for o in found)
    (request,) = fake.requests
    assert request.path == "/wp-json/wc/v3/orders"
    assert request.query == {"customer": "12", "per_page": "20", "orderby": "date", "order": "desc"}


@pytest.mark.parametrize("customer_id", ["0", "cust_anna", "12&customer=13", ""])
def test_a_customer_id_woocommerce_cannot_have_is_refused_without_asking(customer_id):
    with running_woocommerce_fake() as fake:
        with pytest.raises(InvalidRequest):
            run(shop_for(fake).orders_of_customer(customer_id))
    assert fake.requests == []


@pytest.mark.parametrize("wrong", ["key", "secret"])
def test_wrong_credentials_are_an_authentication_failure(wrong):
    with running_woocommerce_fake() as fake:
        key = "ck_wrong" if wrong == "key" else fake.consumer_key
        secret = "cs_wrong" if wrong == "secret" else fake.consumer_secret
        with pytest.raises(AuthenticationFailed, match=f"Consumer {wrong} is invalid"):
            run(WooCommerceEShop(fake.base_url, key, secret).get_order("1002"))


def test_throttled_by_the_host_raises_rate_limited_with_its_retry_after():
    with running_woocommerce_fake() as fake:
        fake.misbehave(THROTTLE)
        with pytest.raises(RateLimited) as throttled:
            run(shop_for(fake).get_order("1002"))
    assert throttled.value.retry_after == 5.0


@pytest.mark.parametrize("mode", [ERROR_500, MALFORMED, HTML])
def test_a_broken_upstream_is_unavailable(mode):
    with running_woocommerce_fake() as fake:
        fake.misbehave(mode)
        with pytest.raises(ServiceUnavailable) as failure:
            run(shop_for(fake).get_order("1002"))
    assert not isinstance(failure.value, RateLimited)


def test_a_slow_upstream_is_given_up_within_the_time_budget():
    with running_woocommerce_fake() as fake:
        fake.misbehave(SLOW, seconds=3)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            run(shop_for(fake).get_order("1002"))
        assert time.monotonic() - started < Timeouts().budget + 0.3  # the fake answers only after 3 s


def test_login_codes_are_unsupported_and_say_so_up_front():
    assert WooCommerceEShop.login_codes_supported is False
    with running_woocommerce_fake() as fake:
        shop = shop_for(fake)
        with pytest.raises(Unsupported):
            run(shop.send_login_code("anna.schmidt@example.com"))
        with pytest.raises(Unsupported):
            run(shop.verify_login_code("anna.schmidt@example.com", "123456"))
    assert fake.requests == []


def test_the_secret_is_never_sent_in_clear_to_another_machine():
    with pytest.raises(ValueError):
        WooCommerceEShop("http://shop.example.com", "ck_x", "cs_x")
    WooCommerceEShop("https://shop.example.com", "ck_x", "cs_x")


# --- Changes: a new shipping address and cancellations (a key with Read/Write permission) ---

NEW_ADDRESS = Address(name="Anna Schmidt", line1="Gartenweg 3", postal_code="80331", city="München", country="DE",
                      line2="2. OG")


def writes(fake) -> list[tuple[str, str, dict]]:
    return [(r.method, r.path, json.loads(r.body)) for r in fake.requests if r.method != "GET"]


def test_the_shipping_address_is_read_from_the_order():
    found = order_from_fake("1002", order(1002))
    assert found.shipping_address == Address(name="Anna Schmidt", line1="Lindenstr. 1", postal_code="10969",
                                             city="Berlin", country="DE")


def test_a_new_address_replaces_the_old_one_in_the_shop():
    stored = order(1002)
    stored["shipping"].update(company="Old GmbH", state="BE")
    with running_woocommerce_fake((stored,), {}) as fake:
        changed = run(shop_for(fake).change_delivery("1002", address=NEW_ADDRESS, idempotency_key="k1"))
        shipping = fake.orders[1002]["shipping"]
    assert changed.shipping_address == NEW_ADDRESS
    assert (shipping["address_1"], shipping["address_2"], shipping["postcode"], shipping["city"]) == (
        "Gartenweg 3", "2. OG", "80331", "München")
    assert (shipping["first_name"], shipping["last_name"], shipping["company"], shipping["state"]) == (
        "Anna", "Schmidt", "", ""), "nothing of the old address stays behind"
    [(method, path, _)] = writes(fake)
    assert (method, path) == ("PATCH", "/wp-json/wc/v3/orders/1002")


@pytest.mark.parametrize(("status", "reason"), [("completed", "order_already_shipped"),
                                                ("cancelled", "order_cancelled"), ("refunded", "order_cancelled")])
def test_an_order_that_left_or_ended_is_not_changed(status, reason):
    with running_woocommerce_fake((order(1002, status=status),), {}) as fake:
        shop = shop_for(fake)
        with pytest.raises(Refused) as address_refused:
            run(shop.change_delivery("1002", address=NEW_ADDRESS, idempotency_key="k1"))
        with pytest.raises(Refused) as cancel_refused:
            run(shop.cancel_order("1002", reason="customer_request", idempotency_key="k2"))
    assert address_refused.value.reason == cancel_refused.value.reason == reason
    assert writes(fake) == []


def test_woocommerce_has_no_delivery_days_or_pickup_points():
    with running_woocommerce_fake((order(1002),), {}) as fake:
        shop = shop_for(fake)
        with pytest.raises(Unsupported):
            run(shop.change_delivery("1002", delivery_date=date(2030, 1, 7), idempotency_key="k1"))
        with pytest.raises(Unsupported):
            run(shop.change_delivery("1002", pickup_point_id="DHL-1", idempotency_key="k1"))
    assert fake.requests == [], "refused without asking the shop"


def test_cancelling_a_paid_order_leaves_its_refund_to_the_shop():
    with running_woocommerce_fake((order(1002, status="processing", total="59.90"),), {}) as fake:
        cancellation = run(shop_for(fake).cancel_order("1002", reason="customer_request", idempotency_key="k1"))
        stored = fake.orders[1002]
    assert cancellation.order.status is OrderStatus.CANCELLED and stored["status"] == "cancelled"
    assert (cancellation.refund.status, cancellation.refund.amount.amount) == ("pending", Decimal("59.90"))
    assert {m["key"]: m["value"] for m in stored["meta_data"]} == {
        "chatbot_cancellation_key": "k1", "chatbot_cancellation_reason": "customer_request"}


def test_cancelling_an_unpaid_order_refunds_nothing():
    with running_woocommerce_fake((order(1001, status="pending"),), {}) as fake:
        cancellation = run(shop_for(fake).cancel_order("1001", reason="customer_request", idempotency_key="k1"))
    assert cancellation.refund is None and cancellation.order.status is OrderStatus.CANCELLED


def test_what_was_refunded_already_is_not_owed_again():
    partly = order(1002, total="59.90", refunds=({"total": "-19.95"},))
    with running_woocommerce_fake((partly,), {}) as fake:
        cancellation = run(shop_for(fake).cancel_order("1002", reason="customer_request", idempotency_key="k1"))
    assert cancellation.refund.amount.amount == Decimal("39.95")


def test_a_repeated_cancellation_gets_the_first_answer_and_writes_once():
    with running_woocommerce_fake((order(1002),), {}) as fake:
        shop = shop_for(fake)
        first = run(shop.cancel_order("1002", reason="customer_request", idempotency_key="k1"))
        again = run(shop.cancel_order("1002", reason="customer_request", idempotency_key="k1"))
        with pytest.raises(Refused) as other_request:
            run(shop.cancel_order("1002", reason="customer_request", idempotency_key="k2"))
    assert again.refund == first.refund and again.order.status is OrderStatus.CANCELLED
    assert other_request.value.reason == "order_cancelled"
    assert len(writes(fake)) == 1


def test_a_read_only_key_cannot_change_orders_and_says_it_is_the_setup():
    with running_woocommerce_fake((order(1002),), {}, read_only=True) as fake:
        with pytest.raises(AuthenticationFailed, match="not allowed to edit"):
            run(shop_for(fake).cancel_order("1002", reason="customer_request", idempotency_key="k1"))
        assert fake.orders[1002]["status"] == "processing"
