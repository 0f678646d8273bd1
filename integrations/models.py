"""Typed results of the e-shop and CRM ports.

Adapters translate each platform's payloads into these; actions read only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum


class OrderStatus(str, Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


@dataclass(frozen=True)
class Variant:
    sku: str
    title: str
    price: Money
    stock: int
    options: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.stock > 0


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category: str
    description: str
    url: str
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class OrderLine:
    sku: str
    product_name: str
    variant_title: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True)
class TrackingEvent:
    at: datetime
    status: str
    location: str
    description: str


@dataclass(frozen=True)
class Shipment:
    carrier_name: str
    tracking_number: str
    tracking_url: str
    status: str
    shipped_at: datetime | None
    estimated_delivery: date | None
    delivered_at: datetime | None
    delay_reason: str | None
    events: tuple[TrackingEvent, ...] = ()

    @property
    def latest_event(self) -> TrackingEvent | None:
        return self.events[-1] if self.events else None


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    line2: str = ""

    def first_and_last_name(self) -> tuple[str, str]:
        """For platforms that keep two name fields: the first word, and the rest."""
        first, _, last = self.name.strip().partition(" ")
        return first, last.strip()


@dataclass(frozen=True)
class PickupPoint:
    """A parcel shop or locker an order still in the warehouse can be sent to instead of the customer's address."""

    id: str
    name: str
    carrier_name: str
    address: Address  # its name is the point's name
    opening_hours: str


@dataclass(frozen=True)
class Order:
    number: str
    status: OrderStatus
    email: str
    customer_id: str | None
    placed_at: datetime
    total: Money
    lines: tuple[OrderLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    refund_status: str | None = None
    shipping_address: Address | None = None  # None where the adapter does not read it yet
    requested_delivery_date: date | None = None
    pickup_point_id: str | None = None  # set when the order goes to a pickup point (then its shipping_address)

    def belongs_to(self, email: str) -> bool:
        return self.email.strip().casefold() == email.strip().casefold()


@dataclass(frozen=True)
class Refund:
    status: str  # pending, refunded; for a return also awaiting_return (until the parcel is in)
    amount: Money


@dataclass(frozen=True)
class Cancellation:
    order: Order
    refund: Refund | None  # None when nothing had been paid


class ReturnReason(str, Enum):
    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    DEFECTIVE = "defective"
    ARRIVED_DAMAGED = "arrived_damaged"
    OTHER = "other"


class ItemCondition(str, Enum):
    UNOPENED = "unopened"
    UNUSED = "unused"
    USED = "used"


@dataclass(frozen=True)
class ReturnableLine:
    """One SKU of an order: how many may still be returned, or why none may (`reason_code`)."""

    sku: str
    product_name: str
    quantity_ordered: int
    quantity_returnable: int
    eligible: bool
    reason_code: str | None = None  # not_returnable, order_cancelled, not_delivered_yet, outside_return_window...
    window_ends_on: date | None = None


@dataclass(frozen=True)
class ReturnEligibility:
    order_number: str
    delivered_on: date | None
    lines: tuple[ReturnableLine, ...] = ()

    @property
    def eligible_lines(self) -> tuple[ReturnableLine, ...]:
        return tuple(line for line in self.lines if line.eligible)


@dataclass(frozen=True)
class ReturnItem:
    """What the customer wants to send back."""

    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition


class RmaStatus(str, Enum):
    OPEN = "open"
    RECEIVED = "received"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class RmaLine:
    sku: str
    product_name: str
    quantity: int
    reason: str
    condition: str


@dataclass(frozen=True)
class Rma:
    """A return (return merchandise authorisation) with its prepaid label."""

    id: str
    number: str
    order_number: str
    status: RmaStatus
    items: tuple[RmaLine, ...]
    carrier_name: str
    tracking_number: str
    label_url: str
    refund: Refund
    created_at: datetime


@dataclass(frozen=True)
class LoginCodeCheck:
    verified: bool
    customer_id: str | None = None
    attempts_left: int = 0


@dataclass(frozen=True)
class Contact:
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True)
class Interaction:
    id: str
    contact_id: str
    channel: str
    kind: str
    summary: str
    order_number: str | None
    outcome: str | None
    conversation_id: str | None


@dataclass(frozen=True)
class Ticket:
    id: str
    number: str
    status: str  # open, pending (waiting on the customer), solved or closed
    subject: str
    priority: str
    # Whom the case belongs to: a case's status may be shown only to this email. None: nobody's.
    email: str | None = None
    created_at: datetime | None = None
    due_at: datetime | None = None  # when the team promised an answer; None where the CRM cannot say
    category: str | None = None
