"""What a verified delivery means, whoever sent it: one normalised Event, or None for a topic we ignore.

An Event names what the news is about (an order, a cart, a product), never what to tell: the values a
customer hears come from the shop's own data (webhooks/news.py). Per sender, the topics read:
- Shopify: orders/fulfilled (shipped), orders/paid, orders/updated (only when a fulfillment's shipment
  status is "delayed"), products/create|update|delete. checkouts/update is ignored: it fires on every
  change of a checkout and says nothing about abandonment. The topic is not signed: reactions.py
  tells nothing the order, read back from the shop, does not agree with.
- WooCommerce: order.created|updated, read as "shipped" or "paid" only on the save that completed or paid
  the order (order.updated fires on every save), product.created|updated|deleted|restored. WooCommerce has
  no delay status and no cart webhooks. Its topic is not signed either; the signed order's status decides.
- Sandbox: its own events (sandbox_backend/webhooks.py), named in the signed body (signatures.py).
"""

from __future__ import annotations

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


class UnusablePayload(ValueError):
    """A signed payload without what its topic must carry (say, an order without a number)."""


@dataclass(frozen=True)
class Event:
    kind: str
    order_number: str | None = None
    email: str | None = None
    product_id: str | None = None
    cart_id: str | None = None


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

def _shopify_order_news(kind: str) -> Callable[[dict], Event]:
    def read(order: dict) -> Event:
        return Event(kind, **_shopify_order(order))
    return read


def _shopify_delayed(order: dict) -> Event | None:
    fulfillments = order.get("fulfillments") if isinstance(order.get("fulfillments"), list) else []
    # orders/updated fires on every edit of an order: only one with a late parcel is worth reading back.
    if not any(isinstance(f, dict) and f.get("shipment_status") == "delayed" for f in fulfillments):
        return None
    return Event(DELIVERY_DELAYED, **_shopify_order(order))


def _shopify_order(order: dict) -> dict[str, str | None]:
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    return {"order_number": _required(_text(order, "order_number"), "order_number"),
            "email": _text(order, "email") or _text(order, "contact_email") or _text(customer, "email")}


# ---- WooCommerce

def _woo_order(order: dict) -> Event | None:
    status = order.get("status")
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    fields = {"order_number": _required(_text(order, "number") or _text(order, "id"), "number"),
              "email": _text(billing, "email")}
    if status == "completed" and _saved_together(order, "date_completed_gmt"):
        return Event(ORDER_SHIPPED, **fields)
    if status == "processing" and _saved_together(order, "date_paid_gmt"):
        return Event(PAYMENT_SUCCEEDED, **fields)
    return None


def _saved_together(order: dict, date_field: str) -> bool:
    modified, stamped = parse_time(order.get("date_modified_gmt") or ""), parse_time(order.get(date_field) or "")
    return bool(modified and stamped) and abs(modified - stamped) <= SAME_SAVE


# ---- the sandbox

def _sandbox_order_news(kind: str) -> Callable[[dict], Event]:
    def read(payload: dict) -> Event:
        order = _object(_object(payload, "data"), "order")
        return Event(kind, order_number=_required(_text(order, "number"), "number"), email=_text(order, "email"))
    return read


def _sandbox_abandoned(payload: dict) -> Event:
    data = _object(payload, "data")
    return Event(CART_ABANDONED, cart_id=_required(_text(_object(data, "cart"), "id"), "cart id"),
                 email=_text(data, "email"))


def _sandbox_product(payload: dict) -> Event:
    return _product(_object(_object(payload, "data"), "product"))


# ---- shared

def _product(product: dict) -> Event:
    return Event(PRODUCT_CHANGED, product_id=_required(_text(product, "id"), "product id"))


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
        "orders/fulfilled": _shopify_order_news(ORDER_SHIPPED),
        "orders/updated": _shopify_delayed,
        "orders/paid": _shopify_order_news(PAYMENT_SUCCEEDED),
        **{topic: _product for topic in ("products/create", "products/update", "products/delete")},
    },
    WOOCOMMERCE: {
        "order.created": _woo_order,
        "order.updated": _woo_order,
        **{f"product.{action}": _product for action in ("created", "updated", "deleted", "restored")},
    },
    SANDBOX: {
        "order.shipped": _sandbox_order_news(ORDER_SHIPPED),
        "order.delayed": _sandbox_order_news(DELIVERY_DELAYED),
        "payment.succeeded": _sandbox_order_news(PAYMENT_SUCCEEDED),
        "cart.abandoned": _sandbox_abandoned,
        "product.updated": _sandbox_product,
    },
}
