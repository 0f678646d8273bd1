"""Adapter for a WooCommerce store, through its REST API v3.

WooCommerce core knows no shipments; the Shipment Tracking extension adds them
to an order, and this adapter reads them when the extension is there.
Order numbers are WooCommerce's order ids.

Changes (a new shipping address, a cancellation) need a REST API key with Read/Write permission; with a
Read key WooCommerce refuses them, and the adapter raises AuthenticationFailed. WooCommerce core has no
delivery day and no pickup points, and cancelling does not move money: a paid order's refund is left to
the shop (WooCommerce emails it the cancellation), so the Cancellation says the refund is pending.
"""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import partial
from typing import Any

from integrations.eshop import EShop, refuse_unless_in_warehouse
from integrations.errors import InvalidRequest, NotFound, ServiceUnavailable, Unsupported
from integrations.models import (
    Address,
    Cancellation,
    LoginCodeCheck,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    Shipment,
)
from integrations.payloads import require_https, translated
from integrations.transport import HttpTransport

ORDERS_PATH = "/wp-json/wc/v3/orders"
# The extension's own namespace; it also answers under older wc/v1 and wc/v2 paths, but this is
# the one its documentation names for new integrations.
TRACKINGS_PATH = "/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings"
ORDERS_PER_CUSTOMER = 20

WOO_ID = re.compile(r"[1-9]\d*", re.ASCII)

# WooCommerce order status -> ours:
#   pending (awaiting payment), on-hold (awaiting a bank transfer or a check),
#   failed (payment declined, the customer may pay again), checkout-draft (checkout not finished) -> pending
#   processing (paid, not yet sent)                                                               -> paid
#   completed: the shop's last step, taken when the parcel leaves; WooCommerce never learns
#   whether it arrived, the carrier's tracking link does                                          -> shipped
#   cancelled, refunded                                                                           -> cancelled
# Plugins add statuses of their own; their meaning is whatever the shop decided, so an order in
# one is not guessed at: it fails as an unexpected payload and the flow offers a human.
ORDER_STATUSES = {
    "pending": OrderStatus.PENDING,
    "on-hold": OrderStatus.PENDING,
    "failed": OrderStatus.PENDING,
    "checkout-draft": OrderStatus.PENDING,
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.CANCELLED,
}
# Shipment Tracking records a carrier, a number and a day, never a delivery.
TRACKED_SHIPMENT_STATUS = "in_transit"
# WooCommerce has no idempotency keys: a cancellation keeps ours in the order's meta data, so that a
# repeated request recognises the cancellation it made and answers as the first time.
CANCELLATION_KEY = "chatbot_cancellation_key"
CANCELLATION_REASON = "chatbot_cancellation_reason"


class WooCommerceEShop(EShop):
    # WooCommerce has no API to email a customer a one-time code.
    login_codes_supported = False
    delivery_changes = frozenset({"address"})

    def __init__(self, store_url: str, consumer_key: str, consumer_secret: str) -> None:
        require_https(store_url, "WooCommerce store")
        credentials = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode("ascii")
        self._http = HttpTransport(store_url, {"Authorization": f"Basic {credentials}"}, platform="woocommerce")

    async def get_order(self, number: str) -> Order:
        order_id = _order_id(number)
        # Both reads at once: one after the other would cost the conversation a second round trip.
        order, trackings = await asyncio.gather(
            self._http.get(f"{ORDERS_PATH}/{order_id}"), self._trackings_of(order_id)
        )
        return _translated(_order, order, trackings)

    async def orders_of_customer(self, customer_id: str) -> list[Order]:
        # Customer 0 stands for every guest checkout: asking for it would list strangers' orders.
        if not WOO_ID.fullmatch(customer_id):
            raise InvalidRequest("woocommerce: customer ids are positive integers")
        params = {"customer": customer_id, "per_page": ORDERS_PER_CUSTOMER, "orderby": "date", "order": "desc"}
        page = await self._http.get(ORDERS_PATH, params)
        if not isinstance(page, list):
            raise ServiceUnavailable("woocommerce: unexpected payload")
        return [_translated(_order, item, []) for item in page]

    async def change_delivery(
        self,
        number: str,
        *,
        address: Address | None = None,
        delivery_date: date | None = None,
        pickup_point_id: str | None = None,
        idempotency_key: str,
    ) -> Order:
        address = self._only_an_address(address, delivery_date, pickup_point_id)
        order_id = _order_id(number)
        refuse_unless_in_warehouse(_translated(_order, await self._http.get(f"{ORDERS_PATH}/{order_id}"), []))
        # Setting the same address again changes nothing, so a repeat needs no key.
        updated = await self._http.patch(f"{ORDERS_PATH}/{order_id}", {"shipping": _shipping(address)})
        return _translated(_order, updated, [])

    async def cancel_order(self, number: str, *, reason: str, idempotency_key: str) -> Cancellation:
        order_id = _order_id(number)
        current = await self._http.get(f"{ORDERS_PATH}/{order_id}")
        if _translated(_meta_value, current, CANCELLATION_KEY) == idempotency_key:
            return _translated(_cancellation, current)  # this very request cancelled it before
        refuse_unless_in_warehouse(_translated(_order, current, []))
        body = {"status": "cancelled", "meta_data": [{"key": CANCELLATION_KEY, "value": idempotency_key},
                                                     {"key": CANCELLATION_REASON, "value": reason}]}
        return _translated(_cancellation, await self._http.patch(f"{ORDERS_PATH}/{order_id}", body))

    async def send_login_code(self, email: str) -> None:
        raise Unsupported("WooCommerce cannot send a one-time code: verify with the order number and email")

    async def verify_login_code(self, email: str, code: str) -> LoginCodeCheck:
        raise Unsupported("WooCommerce cannot check a one-time code: verify with the order number and email")

    async def _trackings_of(self, order_id: str) -> Any:
        try:
            return await self._http.get(TRACKINGS_PATH.format(order_id=order_id))
        except NotFound:
            return []  # the extension is not installed (rest_no_route), so the order has no tracked parcels


_translated = partial(translated, "woocommerce")


def _order_id(number: str) -> str:
    order_id = number.strip()
    if not WOO_ID.fullmatch(order_id):
        raise NotFound("woocommerce: order numbers are positive integers")
    return order_id


def _meta_value(data: dict, key: str) -> Any:
    return next((entry["value"] for entry in data["meta_data"] if entry["key"] == key), None)


def _cancellation(data: dict) -> Cancellation:
    order = _order(data, [])
    if not data["date_paid_gmt"]:
        return Cancellation(order, None)
    total = Decimal(data["total"])
    # WooCommerce lists refunds with negative totals ("-10.00").
    refunded = -sum((Decimal(refund["total"]) for refund in data["refunds"]), Decimal(0))
    if data["status"] == "refunded" or refunded >= total:
        return Cancellation(order, Refund("refunded", Money(total, data["currency"])))
    return Cancellation(order, Refund("pending", Money(total - refunded, data["currency"])))


def _shipping(address: Address) -> dict[str, str]:
    """WooCommerce's shipping fields; company and state of the old address do not belong to the new one."""
    first_name, last_name = address.first_and_last_name()
    return {"first_name": first_name, "last_name": last_name, "company": "", "address_1": address.line1,
            "address_2": address.line2, "city": address.city, "state": "", "postcode": address.postal_code,
            "country": address.country}


def _address(shipping: dict) -> Address | None:
    """The order's shipping address; None for an order with nothing to ship (only virtual products)."""
    if not shipping.get("address_1"):
        return None
    name = f"{shipping['first_name']} {shipping['last_name']}".strip()
    return Address(name=name, line1=shipping["address_1"], line2=shipping.get("address_2") or "",
                   postal_code=shipping["postcode"], city=shipping["city"], country=shipping["country"])


def _gmt(value: str | None) -> datetime | None:
    """WooCommerce's *_gmt fields are UTC without saying so."""
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if value else None


def _order(data: dict, trackings: list[dict]) -> Order:
    status = data["status"]
    currency = data["currency"]
    ended = status in ("cancelled", "refunded")
    return Order(
        number=str(data["id"]),
        status=ORDER_STATUSES[status],
        email=data["billing"]["email"] or "",
        customer_id=str(data["customer_id"]) if data["customer_id"] else None,  # 0: a guest checkout
        placed_at=_gmt(data["date_created_gmt"]),
        total=Money(Decimal(data["total"]), currency),
        lines=tuple(_line(item, currency) for item in data["line_items"]),
        shipments=tuple(_shipment(tracking) for tracking in trackings),
        # WooCommerce keeps no cancellation date; the last change of a cancelled order is, nearly always, that.
        cancelled_at=_gmt(data["date_modified_gmt"]) if ended else None,
        cancel_reason=None,
        refund_status=_refund_status(status, data["refunds"]),
        shipping_address=_address(data["shipping"]),
    )


def _refund_status(status: str, refunds: list) -> str | None:
    if status == "refunded":
        return "refunded"
    return "partially_refunded" if refunds else None


def _line(item: dict, currency: str) -> OrderLine:
    return OrderLine(
        sku=item["sku"] or "",
        # A variation's name carries its attributes ("Shirt - Blue, M"); parent_name (WooCommerce 6+) does not.
        product_name=item.get("parent_name") or item["name"],
        variant_title=_variant_title(item),
        quantity=int(item["quantity"]),
        # `price` is a JSON number: through str, so that 29.95 stays 29.95 and not its binary neighbour.
        unit_price=Money(Decimal(str(item["price"])), currency),
    )


def _variant_title(item: dict) -> str:
    """A variation's attributes ("Blue, M"); meta keys starting with "_" are WooCommerce's own bookkeeping."""
    if not item["variation_id"]:
        return ""
    return ", ".join(str(m["display_value"]) for m in item["meta_data"] if not m["key"].startswith("_"))


def _shipment(tracking: dict) -> Shipment:
    shipped_on = tracking["date_shipped"]
    return Shipment(
        carrier_name=tracking["tracking_provider"],
        tracking_number=tracking["tracking_number"],
        tracking_url=tracking["tracking_link"] or "",
        status=TRACKED_SHIPMENT_STATUS,
        shipped_at=datetime.fromisoformat(shipped_on).replace(tzinfo=timezone.utc) if shipped_on else None,
        estimated_delivery=None,
        delivered_at=None,
        delay_reason=None,
    )
