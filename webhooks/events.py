"""What a verified delivery means, whoever sent it: one normalised Event, or None for a topic we ignore.

Per sender, the topics read:
- Shopify: orders/fulfilled (shipped), orders/paid, orders/updated (only when a fulfillment's shipment
  status is "delayed"), products/create|update|delete. checkouts/update is ignored: it fires on every
  change of a checkout and says nothing about abandonment.
- WooCommerce: order.created|updated, read as "shipped" or "paid" only on the save that completed or paid
  the order (order.updated fires on every save), product.created|updated|deleted|restored. WooCommerce has
  no delay status and no cart webhooks.
- Sandbox: its own events (sandbox_backend/webhooks.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from webhooks.signatures import SANDBOX, SHOPIFY, WOOCOMMERCE, parse_time

ORDER_SHIPPED = "order_shipped"
DELIVERY_DELAYED = "delivery_delayed"
PAYMENT_SUCCEEDED = "payment_succeeded"
CART_ABANDONED = "cart_abandoned"
PRODUCT_CHANGED = "product_changed"

# A WooCommerce save that completes or pays an order stamps that date and date_modified together.
SAME_SAVE = timedelta(seconds=60)
UNKNOWN_DELAY = "the carrier reported a delay"


class UnusablePayload(ValueError):
    """A signed payload without what its topic must carry (say, an order without a number)."""


@dataclass(frozen=True)
class Event:
    kind: str
    order_number: str | None = None
    email: str | None = None
    product_id: str | None = None
    cart_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    eta: str | None = None  # an ISO date
    delay_reason: str | None = None

    def news_key(self) -> str:
        """The same for two events that would tell the customer the same thing."""
        news = [self.kind, self.order_number, self.cart_id, self.tracking_number, self.eta, self.delay_reason]
        return hashlib.sha256(json.dumps(news).encode()).hexdigest()


def event_from(sender: str, topic: str, payload: dict[str, Any]) -> Event | None:
    read = READERS[sender].get(topic)
    return read(payload) if read else None


def time_in_payload(sender: str, payload: dict[str, Any]) -> datetime | None:
    """When the change happened, for a sender that puts no time in its headers (WooCommerce).

    date_modified_gmt is part of the signed body. Payloads without it (a deleted product: only its id)
    cannot be judged for age and are taken; the delivery id still refuses a replay.
    """
    return parse_time(payload.get("date_modified_gmt") or "") if sender == WOOCOMMERCE else None


# ---- Shopify

def _shopify_shipped(order: dict) -> Event:
    fulfillment = _newest(order.get("fulfillments"))
    return Event(ORDER_SHIPPED, **_shopify_order(order), **_shopify_tracking(fulfillment))


def _shopify_delayed(order: dict) -> Event | None:
    fulfillments = order.get("fulfillments") if isinstance(order.get("fulfillments"), list) else []
    delayed = _newest([f for f in fulfillments if isinstance(f, dict) and f.get("shipment_status") == "delayed"])
    if not delayed:
        return None
    return Event(DELIVERY_DELAYED, **_shopify_order(order), **_shopify_tracking(delayed), delay_reason=UNKNOWN_DELAY)


def _shopify_paid(order: dict) -> Event:
    return Event(PAYMENT_SUCCEEDED, **_shopify_order(order))


def _shopify_order(order: dict) -> dict[str, str | None]:
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    return {"order_number": _required(_text(order, "order_number"), "order_number"),
            "email": _text(order, "email") or _text(order, "contact_email") or _text(customer, "email")}


def _shopify_tracking(fulfillment: dict) -> dict[str, str | None]:
    return {"carrier": _text(fulfillment, "tracking_company"), "tracking_number": _text(fulfillment, "tracking_number"),
            "tracking_url": _text(fulfillment, "tracking_url")}


# ---- WooCommerce

def _woo_order(order: dict) -> Event | None:
    status = order.get("status")
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    fields = {"order_number": _required(_text(order, "number") or _text(order, "id"), "number"),
              "email": _text(billing, "email")}
    if status == "completed" and _saved_together(order, "date_completed_gmt"):
        return Event(ORDER_SHIPPED, **fields, **_woo_tracking(order))
    if status == "processing" and _saved_together(order, "date_paid_gmt"):
        return Event(PAYMENT_SUCCEEDED, **fields)
    return None


def _saved_together(order: dict, date_field: str) -> bool:
    modified, stamped = parse_time(order.get("date_modified_gmt") or ""), parse_time(order.get(date_field) or "")
    return bool(modified and stamped) and abs(modified - stamped) <= SAME_SAVE


def _woo_tracking(order: dict) -> dict[str, str | None]:
    """The newest parcel of the Shipment Tracking extension, when the shop uses it."""
    items = next((m.get("value") for m in order.get("meta_data") or []
                  if isinstance(m, dict) and m.get("key") == "_wc_shipment_tracking_items"), None)
    item = items[-1] if isinstance(items, list) and items and isinstance(items[-1], dict) else {}
    return {"carrier": _text(item, "custom_tracking_provider") or _text(item, "tracking_provider"),
            "tracking_number": _text(item, "tracking_number"), "tracking_url": _text(item, "custom_tracking_link")}


# ---- the sandbox

def _sandbox_shipment(kind: str) -> Callable[[dict], Event]:
    def read(payload: dict) -> Event:
        data = _object(payload, "data")
        order, shipment = _object(data, "order"), _object(data, "shipment")
        carrier = shipment.get("carrier") if isinstance(shipment.get("carrier"), dict) else {}
        return Event(kind, order_number=_required(_text(order, "number"), "number"), email=_text(order, "email"),
                     carrier=_text(carrier, "name"), tracking_number=_text(shipment, "tracking_number"),
                     tracking_url=_text(shipment, "tracking_url"), eta=_text(shipment, "estimated_delivery"),
                     delay_reason=(_text(shipment, "delay_reason") or UNKNOWN_DELAY) if kind == DELIVERY_DELAYED
                     else None)
    return read


def _sandbox_paid(payload: dict) -> Event:
    order = _object(_object(payload, "data"), "order")
    return Event(PAYMENT_SUCCEEDED, order_number=_required(_text(order, "number"), "number"),
                 email=_text(order, "email"))


def _sandbox_abandoned(payload: dict) -> Event:
    data = _object(payload, "data")
    return Event(CART_ABANDONED, cart_id=_required(_text(_object(data, "cart"), "id"), "cart id"),
                 email=_text(data, "email"))


def _sandbox_product(payload: dict) -> Event:
    return _product(_object(_object(payload, "data"), "product"))


# ---- shared

def _product(product: dict) -> Event:
    return Event(PRODUCT_CHANGED, product_id=_required(_text(product, "id"), "product id"))


def _newest(fulfillments: Any) -> dict:
    usable = [f for f in fulfillments or [] if isinstance(f, dict)] if isinstance(fulfillments, list) else []
    return max(usable, key=lambda f: str(f.get("created_at") or ""), default={})


def _object(payload: dict, key: str) -> dict:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise UnusablePayload(f"'{key}' is not an object")
    return value


def _text(mapping: dict, key: str) -> str | None:
    """A string or whole-number field as a non-empty string (Shopify's ids and numbers are JSON numbers)."""
    value = mapping.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _required(value: str | None, what: str) -> str:
    if value is None:
        raise UnusablePayload(f"no {what}")
    return value


READERS: dict[str, dict[str, Callable[[dict], Event | None]]] = {
    SHOPIFY: {
        "orders/fulfilled": _shopify_shipped,
        "orders/updated": _shopify_delayed,
        "orders/paid": _shopify_paid,
        **{topic: _product for topic in ("products/create", "products/update", "products/delete")},
    },
    WOOCOMMERCE: {
        "order.created": _woo_order,
        "order.updated": _woo_order,
        **{f"product.{action}": _product for action in ("created", "updated", "deleted", "restored")},
    },
    SANDBOX: {
        "order.shipped": _sandbox_shipment(ORDER_SHIPPED),
        "order.delayed": _sandbox_shipment(DELIVERY_DELAYED),
        "payment.succeeded": _sandbox_paid,
        "cart.abandoned": _sandbox_abandoned,
        "product.updated": _sandbox_product,
    },
}
