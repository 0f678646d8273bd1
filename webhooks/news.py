"""What the shop's own data says about an order's news: the only source of what a customer is told.

Shopify and WooCommerce do not sign their topic header, and anyone can type a message with an EXTERNAL_*
intent and entities of their choosing: neither may decide what a customer hears. So the receiver tells a
conversation only news that the order, read back from the shop, agrees with (reactions.py), and
action_tell_order_news reads the order again and takes every value it tells from it (actions/news.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Iterable

from integrations.models import Order, OrderStatus, Shipment
from webhooks.events import CART_ABANDONED, DELIVERY_DELAYED, ORDER_SHIPPED, PAYMENT_SUCCEEDED

# The intent the receiver triggers for each kind of news; the action reads the kind back from it.
INTENTS = {
    ORDER_SHIPPED: "EXTERNAL_order_shipped",
    DELIVERY_DELAYED: "EXTERNAL_delivery_delayed",
    PAYMENT_SUCCEEDED: "EXTERNAL_payment_succeeded",
    CART_ABANDONED: "EXTERNAL_cart_abandoned",
}
KINDS = {intent: kind for kind, intent in INTENTS.items()}
# Shipment statuses (the sandbox's openapi.yaml; adapters map theirs onto these) of a parcel running late.
DELAYED_SHIPMENTS = frozenset({"delayed", "exception"})
# A parcel that has arrived or is late is not news of "on its way".
NOT_ON_THE_WAY = DELAYED_SHIPMENTS | {"delivered"}


@dataclass(frozen=True)
class ShopNews:
    """News the shop's current data agrees with; `shipment` is the parcel it is about, when there is one."""

    kind: str
    order_number: str
    shipment: Shipment | None = None

    def key(self) -> str:
        """The same for two readings that would tell the customer the same thing."""
        parcel = self.shipment
        news = [self.kind, self.order_number, parcel and parcel.tracking_number,
                parcel and parcel.estimated_delivery and parcel.estimated_delivery.isoformat(),
                parcel and parcel.delay_reason]
        return hashlib.sha256(json.dumps(news).encode()).hexdigest()


def shop_news(kind: str, order: Order) -> ShopNews | None:
    """The news of `kind` as the shop's order tells it, or None when the order does not say so now."""
    if order.status is OrderStatus.CANCELLED:
        return None
    if kind == PAYMENT_SUCCEEDED:
        return ShopNews(kind, order.number) if order.status is OrderStatus.PAID else None
    if kind == ORDER_SHIPPED:
        parcel = _newest(s for s in order.shipments if s.status not in NOT_ON_THE_WAY)
        # A shop may mark an order shipped without tracking (WooCommerce without its tracking extension).
        return ShopNews(kind, order.number, parcel) if parcel or order.status is OrderStatus.SHIPPED else None
    if kind == DELIVERY_DELAYED:
        parcel = _newest(s for s in order.shipments if s.status in DELAYED_SHIPMENTS)
        return ShopNews(kind, order.number, parcel) if parcel else None
    return None


def _newest(shipments: Iterable[Shipment]) -> Shipment | None:
    # Through timestamp(): an adapter may give a time without a zone, and those do not compare with the others.
    return max(shipments, key=lambda s: s.shipped_at.timestamp() if s.shipped_at else float("-inf"), default=None)
