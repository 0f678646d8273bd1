"""The WooCommerce adapter against a local fake of its REST API v3 and Shipment Tracking (tests/fakes/woocommerce.py).

The fake checks credentials and query parameters as WooCommerce does, so a request it would refuse fails here too.
"""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from integrations.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unsupported,
)
from integrations.models import OrderStatus
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
