"""The e-shop port's service requests through the sandbox adapter, against the real sandbox over HTTP.

Each test that writes gets a freshly seeded sandbox of its own, so no test depends on another's changes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from integrations.config import eshop_from_env
from integrations.errors import Conflict, InvalidRequest, NotFound, Refused, Unsupported
from integrations.models import (
    Address,
    Cancellation,
    ItemCondition,
    Money,
    Order,
    OrderStatus,
    PickupPoint,
    Refund,
    ReturnableLine,
    ReturnItem,
    ReturnReason,
    Rma,
    RmaStatus,
)
from integrations.sandbox import SandboxEShop
from integrations.shopify import ShopifyEShop
from integrations.transport import HttpTransport
from integrations.woocommerce import WooCommerceEShop

NEW_ADDRESS = Address(name="Ben Miller", line1="10 Downing Street", postal_code="SW1A 2AA", city="London",
                      country="GB")
TEE = ReturnItem("merino-tee-l-green", 1, ReturnReason.WRONG_SIZE, ItemCondition.UNUSED)


def shop_of(server):
    return eshop_from_env({"SANDBOX_URL": server.base_url, "SANDBOX_API_KEY": server.api_key})


@pytest.fixture
def seeded_shop(sandbox_server):
    """The session's sandbox: for reads and refusals, which change nothing."""
    return shop_of(sandbox_server)


@pytest.fixture
def fresh_shop(launch_sandbox):
    """A freshly seeded sandbox of this test's own: for writes."""
    return shop_of(launch_sandbox())


def run(coroutine):
    return asyncio.run(coroutine)


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def next_weekday(days: int) -> date:
    wanted = datetime.now(timezone.utc).date() + timedelta(days=days)
    return wanted + timedelta(days=1) if wanted.weekday() == 6 else wanted


def test_orders_carry_their_shipping_address(seeded_shop):
    order = run(seeded_shop.get_order("100234"))
    assert order.shipping_address == Address(name="Ben Miller", line1="221 Baker Street", line2="Flat 3",
                                              postal_code="NW1 6XE", city="London", country="GB")
    assert order.requested_delivery_date is None


# ---- delivery changes

def test_a_delivery_change_returns_the_updated_order(fresh_shop):
    wanted = next_weekday(4)
    order = run(fresh_shop.change_delivery("100232", address=NEW_ADDRESS, delivery_date=wanted,
                                           idempotency_key=new_key()))
    assert isinstance(order, Order) and order.status is OrderStatus.PAID
    assert (order.shipping_address, order.requested_delivery_date) == (NEW_ADDRESS, wanted)
    assert run(fresh_shop.get_order("100232")) == order


def test_an_address_the_shop_cannot_deliver_to_is_an_invalid_request_naming_the_field(seeded_shop):
    with pytest.raises(InvalidRequest) as refused:
        run(seeded_shop.change_delivery("100232", address=Address("Ben", "x", "12345", "London", "GB"),
                                        idempotency_key=new_key()))
    assert refused.value.fields == {"address.postal_code": "not a postcode of GB"}


# ---- pickup points

def test_pickup_points_are_typed_and_nearest_first(seeded_shop):
    points = run(seeded_shop.pickup_points("DE", "10115", limit=2))
    assert points == [
        PickupPoint(id="pp_berlin_mitte", name="DHL Packstation 104", carrier_name="DHL",
                    address=Address(name="DHL Packstation 104", line1="Invalidenstrasse 112", postal_code="10115",
                                    city="Berlin", country="DE"),
                    opening_hours="Mo-Su 00:00-24:00"),
        PickupPoint(id="pp_berlin_kreuzberg", name="DPD Pickup Kiosk Oranienstrasse", carrier_name="DPD",
                    address=Address(name="DPD Pickup Kiosk Oranienstrasse", line1="Oranienstrasse 40",
                                    postal_code="10969", city="Berlin", country="DE"),
                    opening_hours="Mo-Sa 08:00-20:00"),
    ]
    assert [p.id for p in run(seeded_shop.pickup_points("GB", "SW1A 2AA"))] == ["pp_london_westminster"]


def test_pickup_points_of_a_country_the_shop_does_not_ship_to_are_an_invalid_request(seeded_shop):
    with pytest.raises(InvalidRequest) as refused:
        run(seeded_shop.pickup_points("CH", "8001"))
    assert set(refused.value.fields) == {"country"}


def test_a_change_to_a_pickup_point_shows_in_the_order(fresh_shop):
    assert run(fresh_shop.get_order("100232")).pickup_point_id is None
    order = run(fresh_shop.change_delivery("100232", pickup_point_id="pp_berlin_mitte", idempotency_key=new_key()))
    assert order.pickup_point_id == "pp_berlin_mitte" and order.status is OrderStatus.PAID
    assert order.shipping_address == Address(name="DHL Packstation 104 (pickup)", line1="Invalidenstrasse 112",
                                              postal_code="10115", city="Berlin", country="DE")
    assert run(fresh_shop.get_order("100232")) == order


def test_an_unknown_pickup_point_or_one_with_an_address_is_an_invalid_request(seeded_shop):
    with pytest.raises(InvalidRequest) as refused:
        run(seeded_shop.change_delivery("100232", pickup_point_id="pp_nowhere", idempotency_key=new_key()))
    assert refused.value.fields == {"pickup_point_id": "does not exist"}
    with pytest.raises(InvalidRequest) as refused:
        run(seeded_shop.change_delivery("100232", address=NEW_ADDRESS, pickup_point_id="pp_berlin_mitte",
                                        idempotency_key=new_key()))
    assert set(refused.value.fields) == {"address", "pickup_point_id"}


def test_a_shipped_order_cannot_go_to_a_pickup_point(seeded_shop):
    with pytest.raises(Refused) as refused:
        run(seeded_shop.change_delivery("100234", pickup_point_id="pp_london_westminster",
                                        idempotency_key=new_key()))
    assert refused.value.reason == "order_already_shipped"


@pytest.mark.parametrize(("number", "reason"), [
    ("100234", "order_already_shipped"), ("100235", "order_already_shipped"), ("100236", "order_already_shipped"),
    ("100237", "order_cancelled"),
])
def test_a_change_the_order_state_forbids_is_refused_with_the_reason(seeded_shop, number, reason):
    with pytest.raises(Refused) as refused:
        run(seeded_shop.change_delivery(number, delivery_date=next_weekday(3), idempotency_key=new_key()))
    assert refused.value.reason == reason
    with pytest.raises(Refused) as refused:
        run(seeded_shop.cancel_order(number, reason="Too slow", idempotency_key=new_key()))
    assert refused.value.reason == reason


def test_a_key_reused_for_another_change_stays_a_conflict(fresh_shop):
    key = new_key()
    run(fresh_shop.change_delivery("100232", delivery_date=next_weekday(3), idempotency_key=key))
    with pytest.raises(Conflict):
        run(fresh_shop.change_delivery("100232", delivery_date=next_weekday(5), idempotency_key=key))


@pytest.mark.parametrize("reason", ["order_already_shipped", "order_cancelled"])
def test_the_refusal_comes_from_the_409s_type_without_reading_the_order_again(httpserver, reason):
    httpserver.expect_request("/v1/orders/100232/cancellation", method="POST").respond_with_json(
        {"error": {"type": reason, "message": "Order 100232 cannot change."}}, status=409)
    shop = SandboxEShop(HttpTransport(httpserver.url_for(""), {}, platform="sandbox"))
    with pytest.raises(Refused) as refused:
        run(shop.cancel_order("100232", reason="x", idempotency_key=new_key()))
    assert (refused.value.reason, refused.value.code, str(refused.value)) == (
        reason, reason, "Order 100232 cannot change.")
    assert [request.path for request, _ in httpserver.log] == ["/v1/orders/100232/cancellation"]


def test_a_409_of_another_type_stays_a_conflict_without_reading_the_order(httpserver):
    httpserver.expect_request("/v1/orders/100232/delivery-change", method="POST").respond_with_json(
        {"error": {"type": "conflict", "message": "This Idempotency-Key was already used with a different body."}},
        status=409)
    shop = SandboxEShop(HttpTransport(httpserver.url_for(""), {}, platform="sandbox"))
    with pytest.raises(Conflict) as conflict:
        run(shop.change_delivery("100232", delivery_date=next_weekday(3), idempotency_key=new_key()))
    assert not isinstance(conflict.value, Refused) and conflict.value.code == "conflict"
    assert len(httpserver.log) == 1


def test_a_key_reused_for_another_cancellation_stays_a_conflict(fresh_shop):
    # Reading the order after the 409 would find it cancelled and call this a refusal; the 409 says "key reused".
    key = new_key()
    run(fresh_shop.cancel_order("100232", reason="Ordered twice", idempotency_key=key))
    with pytest.raises(Conflict) as conflict:
        run(fresh_shop.cancel_order("100232", reason="Another reason", idempotency_key=key))
    assert not isinstance(conflict.value, Refused) and conflict.value.code == "conflict"


def test_changes_of_an_unknown_order_are_not_found(seeded_shop):
    with pytest.raises(NotFound):
        run(seeded_shop.change_delivery("99999999", delivery_date=next_weekday(3), idempotency_key=new_key()))
    with pytest.raises(NotFound):
        run(seeded_shop.cancel_order("99999999", reason="x", idempotency_key=new_key()))


# ---- cancellations

def test_cancelling_a_paid_order_gives_its_refund_and_repeats_with_the_same_key(fresh_shop):
    key = new_key()
    cancellation = run(fresh_shop.cancel_order("100232", reason="Ordered twice", idempotency_key=key))
    assert isinstance(cancellation, Cancellation)
    assert cancellation.refund == Refund("pending", Money(Decimal("140.00"), "EUR"))
    order = cancellation.order
    assert (order.status, order.cancel_reason, order.refund_status) == (
        OrderStatus.CANCELLED, "Ordered twice", "pending")
    assert run(fresh_shop.cancel_order("100232", reason="Ordered twice", idempotency_key=key)) == cancellation
    with pytest.raises(Refused) as refused:
        run(fresh_shop.cancel_order("100232", reason="Ordered twice", idempotency_key=new_key()))
    assert refused.value.reason == "order_cancelled"


def test_cancelling_an_unpaid_order_refunds_nothing(fresh_shop):
    cancellation = run(fresh_shop.cancel_order("100231", reason="Changed my mind", idempotency_key=new_key()))
    assert cancellation.order.status is OrderStatus.CANCELLED and cancellation.refund is None


# ---- returns

def test_return_eligibility_per_line(seeded_shop):
    eligibility = run(seeded_shop.return_eligibility("100241"))
    today = datetime.now(timezone.utc).date()
    assert eligibility.order_number == "100241" and eligibility.delivered_on is not None
    tee, headlamp, socks = eligibility.lines
    assert tee == ReturnableLine("merino-tee-l-green", "Merino Tee", 2, 2, True, None,
                                 eligibility.delivered_on + timedelta(days=30))
    assert (headlamp.eligible, headlamp.reason_code) == (False, "outside_return_window")
    assert headlamp.window_ends_on is not None and headlamp.window_ends_on < today
    assert (socks.eligible, socks.reason_code, socks.window_ends_on) == (False, "not_returnable", None)
    assert eligibility.eligible_lines == (tee,)


def test_a_return_is_created_once_per_key_and_found_again(fresh_shop):
    key = new_key()
    rma = run(fresh_shop.create_return("100241", [TEE], idempotency_key=key))
    assert isinstance(rma, Rma) and (rma.number, rma.status) == ("RMA-100241-1", RmaStatus.OPEN)
    assert [(line.sku, line.quantity, line.reason, line.condition) for line in rma.items] == [
        ("merino-tee-l-green", 1, "wrong_size", "unused")]
    assert rma.carrier_name == "Sandbox Parcel" and rma.tracking_number
    assert f"/labels/{rma.id}.pdf?expires=" in rma.label_url
    assert requests.get(rma.label_url, timeout=5).headers["Content-Type"] == "application/pdf"  # no key needed
    assert rma.refund == Refund("awaiting_return", Money(Decimal("59.00"), "EUR"))
    assert run(fresh_shop.create_return("100241", [TEE], idempotency_key=key)) == rma
    assert run(fresh_shop.get_return("RMA-100241-1")) == rma
    assert run(fresh_shop.returns_of_order("100241")) == [rma]
    (tee_line,) = [line for line in run(fresh_shop.return_eligibility("100241")).lines if line.sku == TEE.sku]
    assert tee_line.quantity_returnable == 1


def test_refused_items_give_the_reason_per_sku(seeded_shop):
    headlamp = ReturnItem("trail-headlamp-400-black", 1, ReturnReason.DEFECTIVE, ItemCondition.USED)
    socks = ReturnItem("wool-hiking-socks-43-46", 1, ReturnReason.CHANGED_MIND, ItemCondition.UNOPENED)
    with pytest.raises(Refused) as refused:
        run(seeded_shop.create_return("100241", [TEE, headlamp, socks], idempotency_key=new_key()))
    assert refused.value.reason == "outside_return_window"
    assert refused.value.items == {"trail-headlamp-400-black": "outside_return_window",
                                   "wool-hiking-socks-43-46": "not_returnable"}
    assert run(seeded_shop.returns_of_order("100241")) == []


@pytest.mark.parametrize(("number", "item", "reason"), [
    ("100240", ReturnItem("city-sneaker-42-white", 1, ReturnReason.WRONG_SIZE, ItemCondition.UNUSED),
     "outside_return_window"),
    ("100232", ReturnItem("merino-tee-m-grey", 1, ReturnReason.WRONG_SIZE, ItemCondition.UNUSED), "not_delivered_yet"),
    ("100241", ReturnItem("merino-tee-l-green", 5, ReturnReason.WRONG_SIZE, ItemCondition.UNUSED),
     "quantity_exceeds_returnable"),
])
def test_each_refusal_reason_reaches_the_caller(seeded_shop, number, item, reason):
    with pytest.raises(Refused) as refused:
        run(seeded_shop.create_return(number, [item], idempotency_key=new_key()))
    assert (refused.value.reason, refused.value.items) == (reason, {item.sku: reason})


def test_returns_of_unknown_orders_and_numbers_are_not_found(seeded_shop):
    with pytest.raises(NotFound):
        run(seeded_shop.create_return("99999999", [TEE], idempotency_key=new_key()))
    with pytest.raises(NotFound):
        run(seeded_shop.return_eligibility("99999999"))
    with pytest.raises(NotFound):
        run(seeded_shop.get_return("RMA-100241-404"))
    assert run(seeded_shop.returns_of_order("99999999")) == []


# ---- what other platforms do not do yet (their adapter tests cover what they do)

@pytest.mark.parametrize("shop", [
    ShopifyEShop("http://127.0.0.1:1", "token"), WooCommerceEShop("http://127.0.0.1:1", "key", "secret"),
], ids=["shopify", "woocommerce"])
def test_other_platforms_say_unsupported_without_calling_anyone(shop):
    calls = [
        shop.change_delivery("100232", pickup_point_id="pp_berlin_mitte", idempotency_key="k"),
        shop.change_delivery("100232", delivery_date=date(2030, 1, 7), idempotency_key="k"),
        shop.pickup_points("DE", "10115"),
        shop.return_eligibility("100241"),
        shop.create_return("100241", [TEE], idempotency_key="k"),
        shop.get_return("RMA-100241-1"),
        shop.returns_of_order("100241"),
    ]
    if isinstance(shop, ShopifyEShop):
        calls.append(shop.cancel_order("100232", reason="x", idempotency_key="k"))
    for call in calls:
        with pytest.raises(Unsupported):
            run(call)
