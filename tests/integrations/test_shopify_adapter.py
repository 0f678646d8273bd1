"""The Shopify adapter against a local fake of the Admin GraphQL API 2024-10 (tests/fakes/shopify.py).

The fake parses each query against Shopify's schema, answers only the fields asked for and
keeps the cost limits, so a query that Shopify would refuse fails here too.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from integrations import shopify
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
from integrations.shopify import ShopifyEShop
from integrations.transport import Timeouts
from tests.fakes import ERROR_500, HTML, MALFORMED, SLOW, THROTTLE
from tests.fakes.shopify import (
    GRAPHQL_INTERNAL_ERROR,
    event,
    fulfillment,
    line_item,
    order,
    running_shopify_fake,
)

ANNA = "gid://shopify/Customer/7001"


def run(coroutine):
    return asyncio.run(coroutine)


def order_from_fake(number: str, *orders: dict):
    with running_shopify_fake(orders) as fake:
        return run(ShopifyEShop(fake.base_url, fake.token).get_order(number))


def shipped(*display_statuses: str, fulfillment_status: str = "FULFILLED") -> dict:
    return order(1001, fulfillment_status=fulfillment_status, fulfillments=tuple(map(fulfillment, display_statuses)))


@pytest.mark.parametrize(
    "stored, expected",
    [
        (order(1001, financial="PENDING"), OrderStatus.PENDING),
        (order(1001, financial="PARTIALLY_PAID"), OrderStatus.PENDING),
        (order(1001, financial="PAID"), OrderStatus.PAID),
        (order(1001, financial="AUTHORIZED"), OrderStatus.PAID),
        (shipped("IN_TRANSIT"), OrderStatus.SHIPPED),
        (shipped("LABEL_PRINTED"), OrderStatus.SHIPPED),
        (shipped("DELIVERED", fulfillment_status="PARTIALLY_FULFILLED"), OrderStatus.SHIPPED),
        (shipped("DELIVERED"), OrderStatus.DELIVERED),
        (shipped("PICKED_UP"), OrderStatus.DELIVERED),
        (shipped("DELIVERED", "IN_TRANSIT"), OrderStatus.SHIPPED),
        (shipped("ATTEMPTED_DELIVERY"), OrderStatus.DELAYED),
        (shipped("NOT_DELIVERED"), OrderStatus.DELAYED),
        (shipped("FAILURE"), OrderStatus.DELAYED),
        (order(1001, cancelled_at="2024-05-02T12:00:00Z", cancel_reason="CUSTOMER"), OrderStatus.CANCELLED),
    ],
    ids=["pending", "partly-paid", "paid", "authorized", "in-transit", "label-printed", "partly-fulfilled",
         "delivered", "picked-up", "one-of-two-delivered", "attempted-delivery", "not-delivered", "failure",
         "cancelled"],
)
def test_each_shopify_state_maps_to_our_status(stored, expected):
    assert order_from_fake("1001", stored).status is expected


def test_a_shipment_carries_carrier_tracking_link_dates_and_events_oldest_first():
    stored = order(1003, fulfillment_status="FULFILLED", fulfillments=(fulfillment(
        "IN_TRANSIT", created_at="2024-05-03T08:00:00Z", company="DHL Express", number="JD014600003",
        url="https://www.dhl.com/track?id=JD014600003", estimated_delivery_at="2024-05-06T18:00:00Z",
        events=(event("CONFIRMED", "2024-05-03T08:00:00Z", "Label created", "Leipzig"),
                event("IN_TRANSIT", "2024-05-04T06:10:00Z", "Arrived at the hub", "Berlin"),
                event("IN_TRANSIT", "2024-05-04T21:45:00Z", None, None))),))
    (shipment,) = order_from_fake("1003", stored).shipments
    assert (shipment.carrier_name, shipment.tracking_number) == ("DHL Express", "JD014600003")
    assert shipment.tracking_url == "https://www.dhl.com/track?id=JD014600003"
    assert shipment.status == "in_transit" and shipment.delay_reason is None
    assert shipment.shipped_at == datetime(2024, 5, 3, 8, 0, tzinfo=timezone.utc)
    assert shipment.estimated_delivery == date(2024, 5, 6)
    assert [(e.status, e.location, e.description) for e in shipment.events] == [
        ("confirmed", "Leipzig", "Label created"),
        ("in_transit", "Berlin", "Arrived at the hub"),
        ("in_transit", "", "In transit"),
    ]


def test_a_long_journey_keeps_its_newest_twenty_events():
    events = tuple(event("IN_TRANSIT", f"2024-05-{day:02d}T10:00:00Z", f"Scan {day}") for day in range(1, 26))
    stored = order(1003, fulfillment_status="FULFILLED", fulfillments=(fulfillment("IN_TRANSIT", events=events),))
    (shipment,) = order_from_fake("1003", stored).shipments
    assert [e.description for e in shipment.events] == [f"Scan {day}" for day in range(6, 26)]
    assert shipment.latest_event.description == "Scan 25"


def test_a_delivered_shipment_says_when():
    stored = order(1004, fulfillment_status="FULFILLED",
                   fulfillments=(fulfillment("DELIVERED", delivered_at="2024-05-05T11:32:00Z"),))
    (shipment,) = order_from_fake("1004", stored).shipments
    assert shipment.status == "delivered"
    assert shipment.delivered_at == datetime(2024, 5, 5, 11, 32, tzinfo=timezone.utc)


def test_a_delay_is_explained_by_the_latest_carrier_event():
    stored = order(1006, fulfillment_status="FULFILLED", fulfillments=(fulfillment("ATTEMPTED_DELIVERY", events=(
        event("IN_TRANSIT", "2024-05-04T06:10:00Z", "Arrived at the hub", "Berlin"),
        event("ATTEMPTED_DELIVERY", "2024-05-05T09:00:00Z", "Nobody at home, will try again tomorrow", "Berlin"))),))
    (shipment,) = order_from_fake("1006", stored).shipments
    assert shipment.status == "delayed"
    assert shipment.delay_reason == "Nobody at home, will try again tomorrow"


def test_cancelled_and_failed_fulfillments_are_no_parcels():
    stored = order(1002, fulfillments=(fulfillment("CANCELED", status="CANCELLED"),
                                       fulfillment("LABEL_VOIDED", status="FAILURE")))
    found = order_from_fake("1002", stored)
    assert found.shipments == () and found.status is OrderStatus.PAID


def test_a_cancelled_order_says_when_why_and_whether_it_was_refunded():
    stored = order(1005, financial="REFUNDED", cancelled_at="2024-05-02T12:00:00Z", cancel_reason="INVENTORY")
    found = order_from_fake("1005", stored)
    assert found.cancelled_at == datetime(2024, 5, 2, 12, 0, tzinfo=timezone.utc)
    assert found.cancel_reason == "Some items were out of stock"
    assert found.refund_status == "refunded"


def test_a_fraud_cancellation_gives_the_customer_no_reason():
    stored = order(1005, financial="VOIDED", cancelled_at="2024-05-02T12:00:00Z", cancel_reason="FRAUD")
    found = order_from_fake("1005", stored)
    assert found.cancel_reason is None and found.refund_status is None


def test_order_fields_and_lines_are_translated():
    stored = order(1002, email="Anna.Schmidt@example.com", created_at="2024-05-02T09:30:00Z", total="64.85",
                   lines=(line_item("TEE-BLUE-M", "Organic Tee", "Blue / M", 2, "29.95"),
                          line_item("GIFT-CARD", "Gift card", None, 1, "4.95")))
    found = order_from_fake("1002", stored)
    assert found.number == "1002" and found.customer_id == ANNA
    assert found.placed_at == datetime(2024, 5, 2, 9, 30, tzinfo=timezone.utc)
    assert (found.total.amount, found.total.currency) == (Decimal("64.85"), "EUR")
    assert [(l.sku, l.product_name, l.variant_title, l.quantity, l.unit_price.amount) for l in found.lines] == [
        ("TEE-BLUE-M", "Organic Tee", "Blue / M", 2, Decimal("29.95")),
        ("GIFT-CARD", "Gift card", "", 1, Decimal("4.95")),
    ]
    assert found.belongs_to(" anna.schmidt@EXAMPLE.com ")
    assert not found.belongs_to("ben.miller@example.com")


def test_the_request_uses_the_token_header_the_api_version_and_a_name_search():
    with running_shopify_fake((order(1002),)) as fake:
        found = run(ShopifyEShop(fake.base_url, fake.token).get_order("#1002"))
    assert found.number == "1002"
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", "/admin/api/2024-10/graphql.json")
    assert request.header("X-Shopify-Access-Token") == fake.token
    assert request.header("Authorization") is None
    body = json.loads(request.body)
    assert body["variables"] == {"search": "name:#1002"}


def test_an_unknown_order_is_not_found():
    with pytest.raises(NotFound):
        order_from_fake("4711", order(1002))


def test_a_number_that_is_no_number_is_not_found_without_asking():
    with running_shopify_fake() as fake:
        shop = ShopifyEShop(fake.base_url, fake.token)
        for number in ("abc", "1002 OR name:#1003", "", "#"):
            with pytest.raises(NotFound):
                run(shop.get_order(number))
    assert fake.requests == []


def test_a_customer_gets_their_twenty_newest_orders_without_lines_in_one_query():
    annas = [order(2000 + day, created_at=f"2024-04-{day:02d}T10:00:00Z") for day in range(1, 26)]
    bens = [order(3000, email="ben.miller@example.com", customer=7002, created_at="2024-04-30T10:00:00Z")]
    with running_shopify_fake(annas + bens) as fake:
        # 20 orders with their lines would cost more than Shopify's 1000 points: the fake would refuse.
        found = run(ShopifyEShop(fake.base_url, fake.token).orders_of_customer(ANNA))
    assert [o.number for o in found] == [str(2000 + day) for day in range(25, 5, -1)]
    assert all(o.customer_id == ANNA and o.lines == () for o in found)
    (request,) = fake.requests
    assert json.loads(request.body)["variables"] == {"search": "customer_id:7001"}


def test_a_customer_id_that_is_no_shopify_gid_is_refused_without_asking():
    with running_shopify_fake() as fake:
        with pytest.raises(InvalidRequest):
            run(ShopifyEShop(fake.base_url, fake.token).orders_of_customer("cust_anna"))
    assert fake.requests == []


def test_a_wrong_token_is_an_authentication_failure_that_does_not_repeat_the_token():
    with running_shopify_fake() as fake:
        with pytest.raises(AuthenticationFailed) as failure:
            run(ShopifyEShop(fake.base_url, "shpat_wrong").get_order("1002"))
    assert "shpat_wrong" not in str(failure.value)


def test_a_token_without_the_customers_scope_is_an_authentication_failure():
    with running_shopify_fake(scopes=frozenset({"read_orders"})) as fake:
        with pytest.raises(AuthenticationFailed):
            run(ShopifyEShop(fake.base_url, fake.token).get_order("1002"))


def test_a_query_shopify_refuses_is_an_invalid_request(monkeypatch):
    monkeypatch.setattr(shopify, "ORDER_BY_NAME", "query($search: String!) { order(query: $search) { name } }")
    with running_shopify_fake() as fake:
        with pytest.raises(InvalidRequest, match="doesn't exist on type 'QueryRoot'"):
            run(ShopifyEShop(fake.base_url, fake.token).get_order("1002"))


def test_throttled_raises_rate_limited_and_holds_back_the_next_call_until_points_are_back():
    with running_shopify_fake() as fake:
        shop = ShopifyEShop(fake.base_url, fake.token)
        fake.misbehave(THROTTLE)
        with pytest.raises(RateLimited) as throttled:
            run(shop.get_order("1002"))
        # The query asks for ~400 points and Shopify restores 100 a second.
        assert 3 < throttled.value.retry_after < 4.5
        started = time.monotonic()
        with pytest.raises(RateLimited):
            run(shop.get_order("1002"))
        assert time.monotonic() - started < 0.1
    assert len(fake.requests) == 1


@pytest.mark.parametrize("mode", [ERROR_500, MALFORMED, HTML, GRAPHQL_INTERNAL_ERROR])
def test_a_broken_upstream_is_unavailable(mode):
    with running_shopify_fake() as fake:
        fake.misbehave(mode)
        with pytest.raises(ServiceUnavailable) as failure:
            run(ShopifyEShop(fake.base_url, fake.token).get_order("1002"))
    assert not isinstance(failure.value, RateLimited)


def test_a_slow_upstream_is_given_up_within_the_time_budget():
    with running_shopify_fake() as fake:
        fake.misbehave(SLOW, seconds=3)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            run(ShopifyEShop(fake.base_url, fake.token).get_order("1002"))
        assert time.monotonic() - started < Timeouts().budget + 0.3  # the fake answers only after 3 s


def test_login_codes_are_unsupported_and_say_so_up_front():
    assert ShopifyEShop.login_codes_supported is False
    with running_shopify_fake() as fake:
        shop = ShopifyEShop(fake.base_url, fake.token)
        with pytest.raises(Unsupported):
            run(shop.send_login_code("anna.schmidt@example.com"))
        with pytest.raises(Unsupported):
            run(shop.verify_login_code("anna.schmidt@example.com", "123456"))
    assert fake.requests == []


def test_the_token_is_never_sent_in_clear_to_another_machine():
    with pytest.raises(ValueError):
        ShopifyEShop("http://example.myshopify.com", "shpat_x")
    ShopifyEShop("https://example.myshopify.com", "shpat_x")


# --- A new shipping address (orderUpdate, scope write_orders) ---

NEW_ADDRESS = Address(name="Anna Schmidt", line1="Gartenweg 3", postal_code="80331", city="München", country="DE",
                      line2="2. OG")


def test_the_shipping_address_is_read_from_the_order():
    assert order_from_fake("1002", order(1002)).shipping_address == Address(
        name="Anna Schmidt", line1="Lindenstr. 1", postal_code="10969", city="Berlin", country="DE")


def test_a_new_address_replaces_the_old_one_in_the_shop():
    with running_shopify_fake((order(1002),)) as fake:
        changed = run(ShopifyEShop(fake.base_url, fake.token).change_delivery(
            "1002", address=NEW_ADDRESS, idempotency_key="k1"))
        stored = fake.orders[0]["shippingAddress"]
    assert changed.shipping_address == NEW_ADDRESS and changed.status is OrderStatus.PAID
    assert (stored["address1"], stored["address2"], stored["zip"], stored["city"], stored["countryCodeV2"]) == (
        "Gartenweg 3", "2. OG", "80331", "München", "DE")
    mutation = json.loads(fake.requests[-1].body)
    assert mutation["query"].lstrip().startswith("mutation")
    assert mutation["variables"]["input"]["id"] == "gid://shopify/Order/5001002", "the order's gid, from the read"


@pytest.mark.parametrize(("stored", "reason"), [
    (shipped("IN_TRANSIT"), "order_already_shipped"),
    (order(1001, cancelled_at="2024-05-02T12:00:00Z", cancel_reason="CUSTOMER"), "order_cancelled"),
])
def test_an_order_that_left_or_ended_keeps_its_address(stored, reason):
    with running_shopify_fake((stored,)) as fake:
        with pytest.raises(Refused) as refused:
            run(ShopifyEShop(fake.base_url, fake.token).change_delivery(
                "1001", address=NEW_ADDRESS, idempotency_key="k1"))
    assert refused.value.reason == reason
    assert not any("mutation" in json.loads(r.body)["query"] for r in fake.requests)


def test_an_order_gone_between_read_and_write_is_a_user_error_naming_the_field(monkeypatch):
    read = ShopifyEShop._order_node

    async def node_of_a_deleted_order(self, number):
        return {**await read(self, number), "id": "gid://shopify/Order/404"}

    monkeypatch.setattr(ShopifyEShop, "_order_node", node_of_a_deleted_order)
    with running_shopify_fake((order(1002),)) as fake:
        with pytest.raises(InvalidRequest) as refused:
            run(ShopifyEShop(fake.base_url, fake.token).change_delivery(
                "1002", address=NEW_ADDRESS, idempotency_key="k1"))
    assert refused.value.fields == {"id": "Order does not exist"}


def test_an_address_shopify_cannot_take_is_an_invalid_request_and_changes_nothing():
    not_a_country_code = Address(name="Anna", line1="Gartenweg 3", postal_code="80331", city="München",
                                 country="Germany")
    with running_shopify_fake((order(1002),)) as fake:
        with pytest.raises(InvalidRequest, match="countryCode"):
            run(ShopifyEShop(fake.base_url, fake.token).change_delivery(
                "1002", address=not_a_country_code, idempotency_key="k1"))
        assert fake.orders[0]["shippingAddress"]["city"] == "Berlin"


def test_a_token_without_write_orders_cannot_change_the_address():
    with running_shopify_fake((order(1002),), scopes=frozenset({"read_orders", "read_customers"})) as fake:
        with pytest.raises(AuthenticationFailed):
            run(ShopifyEShop(fake.base_url, fake.token).change_delivery(
                "1002", address=NEW_ADDRESS, idempotency_key="k1"))
        assert fake.orders[0]["shippingAddress"]["city"] == "Berlin"


def test_delivery_days_and_pickup_points_are_not_done_on_shopify():
    with running_shopify_fake((order(1002),)) as fake:
        shop = ShopifyEShop(fake.base_url, fake.token)
        with pytest.raises(Unsupported):
            run(shop.change_delivery("1002", delivery_date=date(2030, 1, 7), idempotency_key="k1"))
        with pytest.raises(Unsupported):
            run(shop.change_delivery("1002", pickup_point_id="DHL-1", idempotency_key="k1"))
    assert fake.requests == []
