"""Queries and writes of the sandbox, one function per API operation.

Plain synchronous functions: each runs inside the request's transaction (see
database.transaction) and returns JSON-ready data. List functions take a
limit and an offset and return (items, next offset or None).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any, Callable

import yaml
from sqlalchemy import Text, case, cast, delete, func, select, update
from sqlalchemy.orm import Session

from sandbox_backend import labels
from sandbox_backend import tables as t
from sandbox_backend.errors import Conflict, NotFound, OrderStateConflict, ReturnRefused, ValidationFailed
from sandbox_backend.seed import SEED_FILE
from sandbox_backend.service_levels import due_by

LOGIN_CODE_TTL = timedelta(minutes=10)
LOGIN_CODE_ATTEMPTS = 5
# The public link to a return's label (label_links.py): the store knows returns, the app signs links.
LabelLink = Callable[[t.Return], str]


def now() -> datetime:
    # Microseconds kept: "newest first" must hold for writes within the same second.
    return datetime.utcnow()


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# ---- catalog

def list_products(s: Session, q: str | None, category: str | None, limit: int, offset: int) -> tuple[list, int | None]:
    query = select(t.Product).order_by(t.Product.id)
    if category:
        query = query.where(t.Product.category == category.lower())
    if q:
        query = query.where(t.Product.search_text.contains(q.lower(), autoescape=True))
    return _page(s, query, limit, offset, product_json)


def get_product(s: Session, product_id: str) -> dict:
    return product_json(_get(s, t.Product, product_id, "product"))


# ---- customers and orders

def find_customers(s: Session, email: str, limit: int, offset: int) -> tuple[list, int | None]:
    query = select(t.Customer).where(t.Customer.email == email).order_by(t.Customer.id)
    return _page(s, query, limit, offset, customer_json)


def get_customer(s: Session, customer_id: str) -> dict:
    return customer_json(_get(s, t.Customer, customer_id, "customer"))


def get_order(s: Session, number: str) -> dict:
    return order_json(_get(s, t.Order, number, "order"))


def list_orders(s: Session, customer_id: str | None, email: str | None, limit: int,
                offset: int) -> tuple[list, int | None]:
    query = select(t.Order).order_by(t.Order.placed_at.desc(), t.Order.number.desc())
    if customer_id:
        query = query.where(t.Order.customer_id == customer_id)
    if email:
        query = query.where(t.Order.email == email)
    return _page(s, query, limit, offset, order_json)


# ---- what a shop does to its orders, carts and stock: each returns (the answer, the webhook event's data)

@lru_cache(maxsize=1)
def _shop_settings() -> dict:
    """seed.yml: besides the seed data, the shop's carriers, shipping countries and returns warehouse."""
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def carriers() -> dict[str, dict]:
    """The mock carriers of seed.yml by code: their names and tracking URL templates."""
    return _shop_settings()["carriers"]


def shipping_countries() -> tuple[str, ...]:
    return tuple(_shop_settings()["shipping_countries"])


def ship_order(s: Session, number: str, carrier: str, tracking_number: str,
               estimated_delivery: date | None) -> tuple[dict, dict]:
    """Hand a parcel to a carrier: a new shipment, and a paid order becomes shipped."""
    order = _get(s, t.Order, number, "order")
    if order.status not in ("paid", "shipped", "delayed"):
        raise ValidationFailed(f"A {order.status} order cannot be shipped.", {"number": f"order is {order.status}"})
    shipped_at = now()
    shipment = t.Shipment(
        id=f"shp_{number}_{len(order.shipments) + 1}", carrier_code=carrier, carrier_name=carriers()[carrier]["name"],
        tracking_number=tracking_number,
        tracking_url=carriers()[carrier]["tracking_url"].format(tracking_number=tracking_number),
        status="in_transit", shipped_at=shipped_at, estimated_delivery=estimated_delivery,
        events=[t.TrackingEvent(at=shipped_at, status="label_created", location="Warehouse",
                                description="Shipment data received")],
    )
    order.shipments.append(shipment)
    if order.status == "paid":
        order.status = "shipped"
    s.flush()
    return order_json(order), {"order": _order_ref(order), "shipment": shipment_json(shipment)}


def delay_order(s: Session, number: str, reason: str, estimated_delivery: date) -> tuple[dict, dict]:
    """The carrier reports a delay of the newest parcel still on its way."""
    order = _get(s, t.Order, number, "order")
    on_the_way = [shipment for shipment in order.shipments if shipment.status != "delivered"]
    if not on_the_way:
        raise ValidationFailed("This order has no parcel on its way.", {"number": "no parcel on its way"})
    shipment = max(on_the_way, key=lambda candidate: candidate.shipped_at or datetime.min)
    shipment.status, shipment.delay_reason, shipment.estimated_delivery = "delayed", reason, estimated_delivery
    location = shipment.events[-1].location if shipment.events else ""
    shipment.events.append(t.TrackingEvent(at=now(), status="delayed", location=location,
                                           description=f"Delayed: {reason}"[:300]))
    order.status = "delayed"
    s.flush()
    return order_json(order), {"order": _order_ref(order), "shipment": shipment_json(shipment)}


def pay_order(s: Session, number: str) -> tuple[dict, dict]:
    """The mock payment provider confirms the payment of a pending order."""
    order = _get(s, t.Order, number, "order")
    if order.status != "pending":
        raise ValidationFailed(f"A {order.status} order cannot be paid.", {"number": f"order is {order.status}"})
    order.status = "paid"
    s.flush()
    answer = order_json(order)
    return answer, {"order": {**_order_ref(order), "total": answer["total"]}}


def abandon_cart(s: Session, cart_id: str) -> tuple[dict, dict]:
    """An open cart left without checking out."""
    cart = _get(s, t.Cart, cart_id, "cart")
    if cart.status != "open":
        raise ValidationFailed("Only an open cart can be abandoned.", {"cart": f"status is {cart.status}"})
    cart.status, cart.updated_at = "abandoned", now()
    s.flush()
    customer = s.get(t.Customer, cart.customer_id) if cart.customer_id else None
    answer = cart_json(cart)
    return answer, {"cart": answer, "email": customer.email if customer else None}


def set_stock(s: Session, sku: str, stock: int) -> tuple[dict, dict]:
    variant = _get(s, t.Variant, sku, "variant")
    variant.stock = stock
    s.flush()
    product = product_json(variant.product)
    return product, {"product": product}


def _order_ref(order: t.Order) -> dict:
    return {"number": order.number, "email": order.email, "status": order.status}


# ---- service requests: delivery changes, cancellations and returns

# An order can be changed or cancelled until it leaves the warehouse.
CHANGEABLE_STATUSES = ("pending", "paid")
RETURN_REASONS = ("changed_mind", "wrong_size", "not_as_described", "wrong_item", "defective", "arrived_damaged",
                  "other")
# Faulty or wrong goods may come back whatever their condition: the shop's fault, not the customer's.
FAULTY_REASONS = ("wrong_item", "defective", "arrived_damaged")
ITEM_CONDITIONS = ("unopened", "unused", "used")
# The conditions each product's rule (products.return_condition) accepts for a return.
RETURN_CONDITION_RULES = {"unopened": ("unopened",), "unused": ("unopened", "unused"), "any": ITEM_CONDITIONS}
RETURN_CARRIER = "Sandbox Parcel"
REFUND_OF_RETURN = {"open": "awaiting_return", "received": "pending", "refunded": "refunded"}


def change_delivery(s: Session, number: str, address: dict | None, delivery_date: date | None,
                    pickup_point_id: str | None = None) -> dict:
    """A new shipping address (or pickup point) and/or delivery day, while the order is still in the warehouse.

    A pickup point is input: an unknown one is a 422 before the order's state is looked at.
    """
    changes: dict[str, Any] = {"requested_delivery_date": delivery_date} if delivery_date else {}
    if pickup_point_id is not None:
        point = s.get(t.PickupPoint, pickup_point_id)
        if point is None:
            raise ValidationFailed("No pickup point with that id.", {"pickup_point_id": "does not exist"})
        changes |= {"shipping_address": pickup_address(point), "pickup_point_id": point.id}
    elif address is not None:
        changes |= {"shipping_address": address, "pickup_point_id": None}
    return order_json(_change_unshipped_order(s, number, changes))


def list_pickup_points(s: Session, country: str, postal_code: str | None, limit: int) -> list[dict]:
    """The country's pickup points, nearest first: the longest common postcode prefix, then id (no geo)."""
    wanted = _postcode_key(postal_code or "")

    def nearness(point: t.PickupPoint) -> tuple[int, str]:
        have = _postcode_key(point.postal_code)
        common = next((i for i, (a, b) in enumerate(zip(wanted, have)) if a != b), min(len(wanted), len(have)))
        return -common, point.id

    points = sorted(s.scalars(select(t.PickupPoint).where(t.PickupPoint.country == country)), key=nearness)
    return [pickup_point_json(p) for p in points[:limit]]


def _postcode_key(postal_code: str) -> str:
    return "".join(postal_code.upper().split())


def pickup_address(point: t.PickupPoint) -> dict:
    """The shipping address of an order sent to this point."""
    return {"name": f"{point.name} (pickup)", "line1": point.line1, "line2": "", "postal_code": point.postal_code,
            "city": point.city, "country": point.country}


def cancel_order(s: Session, number: str, reason: str) -> dict:
    """Cancel an order still in the warehouse; a paid one is then to be refunded in full."""
    return order_json(_change_unshipped_order(s, number, {
        "status": "cancelled", "cancelled_at": now(), "cancel_reason": reason,
        # Evaluated against the status before this update: only what was paid is refunded.
        "refund_status": case((t.Order.status == "paid", "pending"), else_=None),
    }))


def _change_unshipped_order(s: Session, number: str, values: dict) -> t.Order:
    """Apply `values` in one conditional UPDATE, so of two concurrent requests only one finds the order unshipped."""
    changed = s.execute(
        update(t.Order)
        .where(t.Order.number == number, t.Order.status.in_(CHANGEABLE_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    order = s.get(t.Order, number, populate_existing=True)
    if order is None:
        raise NotFound(f"No order with id {number!r}.")
    if changed.rowcount == 0:
        raise _unchangeable(order)
    return order


def _unchangeable(order: t.Order) -> OrderStateConflict:
    if order.status == "cancelled":
        return OrderStateConflict("order_cancelled", f"Order {order.number} is cancelled.")
    return OrderStateConflict("order_already_shipped", f"Order {order.number} has left the warehouse ({order.status}).")


@dataclass(frozen=True)
class Returnable:
    """One SKU of an order: how much of it may still come back, or why none may."""

    sku: str
    product_name: str
    unit_price_cents: int
    quantity_ordered: int
    quantity_left: int  # ordered minus already in a return
    condition_rule: str
    window_ends_on: date | None
    reason_code: str | None  # why nothing may come back; None when something may

    def json(self) -> dict:
        eligible = self.reason_code is None
        return {"sku": self.sku, "product_name": self.product_name, "quantity_ordered": self.quantity_ordered,
                "quantity_returnable": self.quantity_left if eligible else 0, "eligible": eligible,
                "reason_code": self.reason_code, "window_ends_on": _day(self.window_ends_on)}


def return_eligibility(s: Session, number: str) -> dict:
    order = _get(s, t.Order, number, "order")
    return {"order_number": number, "delivered_on": _day(_delivered_on(order)),
            "lines": [line.json() for line in _returnables(s, order).values()]}


def _returnables(s: Session, order: t.Order) -> dict[str, Returnable]:
    # Per SKU: an order may list one SKU on several lines.
    ordered: dict[str, int] = {}
    first_line: dict[str, t.OrderLine] = {}
    for line in order.lines:
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
        first_line.setdefault(line.sku, line)
    returned = _returned_quantities(s, order.number)
    delivered_on, today = _delivered_on(order), now().date()
    return {sku: _returnable(s.get(t.Variant, sku), first_line[sku], quantity, quantity - returned.get(sku, 0),
                             order.status, delivered_on, today)
            for sku, quantity in ordered.items()}


def _returnable(variant: t.Variant | None, line: t.OrderLine, ordered: int, left: int, order_status: str,
                delivered_on: date | None, today: date) -> Returnable:
    product = variant.product if variant else None
    returnable = bool(product and product.returnable)
    window_ends_on = delivered_on + timedelta(days=product.return_window_days) if returnable and delivered_on else None
    reason = ("not_returnable" if not returnable
              else "order_cancelled" if order_status == "cancelled"
              else "not_delivered_yet" if window_ends_on is None
              else "outside_return_window" if today > window_ends_on
              else "already_returned" if left <= 0
              else None)
    return Returnable(sku=line.sku, product_name=line.product_name, unit_price_cents=line.unit_price_cents,
                      quantity_ordered=ordered, quantity_left=max(left, 0),
                      condition_rule=product.return_condition if product else "unopened",
                      window_ends_on=window_ends_on, reason_code=reason)


def _delivered_on(order: t.Order) -> date | None:
    """The day the last parcel arrived, once every parcel has: the return window counts from there.

    Lines are not tied to parcels, so a partly delivered order is not delivered yet for returns.
    """
    if not order.shipments or any(shipment.delivered_at is None for shipment in order.shipments):
        return None
    return max(shipment.delivered_at for shipment in order.shipments).date()


def _returned_quantities(s: Session, order_number: str) -> dict[str, int]:
    """Per SKU, how many are already in a return of this order, whatever its status."""
    rows = s.execute(
        select(t.ReturnItem.sku, func.sum(t.ReturnItem.quantity))
        .join(t.Return, t.Return.id == t.ReturnItem.return_id)
        .where(t.Return.order_number == order_number)
        .group_by(t.ReturnItem.sku)
    )
    return {sku: int(quantity) for sku, quantity in rows}


def create_return(s: Session, order_number: str, items: list[dict], label_link: LabelLink) -> dict:
    """An RMA with a prepaid label for items the policy lets come back; refused whole if any may not."""
    order = s.get(t.Order, order_number)
    if order is None:
        raise ValidationFailed("Unknown order_number.", {"order_number": "does not exist"})
    # The number before the quantities already returned: a return of this order committed after this count
    # has the same number, so ours collides and is retried, and the retry counts that return's items too.
    number = _next_rma_number(s, order_number)
    returnables = _returnables(s, order)
    refusals = {f"items[{index}]": reason for index, item in enumerate(items)
                if (reason := _refusal(item, returnables.get(item["sku"])))}
    if refusals:
        raise ReturnRefused("Some items cannot be returned.", refusals)
    rma = t.Return(id=new_id("ret"), number=number, order_number=order_number,
                   status="open", currency=order.currency, carrier_name=RETURN_CARRIER,
                   tracking_number=f"SBX{secrets.randbelow(10**10):010d}", created_at=now(),
                   items=[t.ReturnItem(sku=item["sku"], product_name=returnables[item["sku"]].product_name,
                                       quantity=item["quantity"], reason=item["reason"], condition=item["condition"],
                                       unit_price_cents=returnables[item["sku"]].unit_price_cents)
                          for item in items])
    s.add(rma)
    s.flush()
    return return_json(rma, label_link)


def _refusal(item: dict, returnable: Returnable | None) -> str | None:
    """Why this item may not come back, as a reason code; None when it may."""
    if returnable is None:
        return "not_in_order"
    if returnable.reason_code:
        return returnable.reason_code
    if item["quantity"] > returnable.quantity_left:
        return "quantity_exceeds_returnable"
    if item["condition"] not in RETURN_CONDITION_RULES[returnable.condition_rule] \
            and item["reason"] not in FAULTY_REASONS:
        return "condition_not_accepted"
    return None


def _next_rma_number(s: Session, order_number: str) -> str:
    """RMA-100235-2 after RMA-100235-1: numbered without gaps, so concurrent returns of one order collide on it."""
    count = s.scalar(select(func.count()).select_from(t.Return).where(t.Return.order_number == order_number))
    return f"RMA-{order_number}-{count + 1}"


def get_return(s: Session, reference: str, label_link: LabelLink) -> dict:
    return return_json(_find_return(s, reference), label_link)


def list_returns(s: Session, order_number: str, label_link: LabelLink, limit: int,
                 offset: int) -> tuple[list, int | None]:
    return _newest_first(s, t.Return, partial(return_json, label_link=label_link), limit, offset,
                         order_number=order_number)


def return_label(s: Session, reference: str) -> bytes:
    rma = _find_return(s, reference)
    order = s.get(t.Order, rma.order_number)
    return labels.return_label_pdf(
        carrier=rma.carrier_name, tracking_number=rma.tracking_number, rma_number=rma.number,
        sender=order.shipping_address, recipient=_shop_settings()["returns_warehouse"],
        items=[f"{item.quantity} x {item.product_name}" for item in rma.items])


def receive_return(s: Session, reference: str, label_link: LabelLink) -> tuple[dict, dict]:
    """The warehouse has the parcel: the refund is due."""
    return _advance_return(s, reference, "open", "received", label_link)


def refund_return(s: Session, reference: str, label_link: LabelLink) -> tuple[dict, dict]:
    """The money is back with the customer."""
    return _advance_return(s, reference, "received", "refunded", label_link)


def _advance_return(s: Session, reference: str, before: str, after: str, label_link: LabelLink) -> tuple[dict, dict]:
    rma = _find_return(s, reference)
    if rma.status != before:
        raise ValidationFailed(f"A {rma.status} return cannot become {after}.", {"return": f"status is {rma.status}"})
    rma.status = after
    setattr(rma, f"{after}_at", now())  # received_at, refunded_at
    s.flush()
    answer = return_json(rma, label_link)
    return answer, {"return": answer, "order": _order_ref(s.get(t.Order, rma.order_number))}


def _find_return(s: Session, reference: str) -> t.Return:
    """A return by its id (ret_...) or its number (RMA-...)."""
    rma = s.get(t.Return, reference) or s.scalars(select(t.Return).where(t.Return.number == reference)).first()
    if rma is None:
        raise NotFound(f"No return with id or number {reference!r}.")
    return rma


# ---- login codes

def request_login_code(s: Session, email: str, pepper: str) -> None:
    customer = s.scalars(select(t.Customer).where(t.Customer.email == email)).first()
    if customer is None:
        return  # Same answer either way: nobody learns who is a customer.
    code = f"{secrets.randbelow(10**6):06d}"
    record = s.get(t.LoginCode, email) or t.LoginCode(email=email)
    record.code_hash = _code_hash(pepper, email, code)
    record.expires_at = now() + LOGIN_CODE_TTL
    record.attempts_left = LOGIN_CODE_ATTEMPTS
    s.add(record)
    s.add(t.Mail(to=email, subject="Your one-time code", sent_at=now(),
                 body=f"Hi {customer.first_name}, your code is {code}. "
                      f"It is valid for {LOGIN_CODE_TTL.seconds // 60} minutes."))


def verify_login_code(s: Session, email: str, code: str, pepper: str) -> dict:
    # Spend the attempt before comparing, in one UPDATE: concurrent guesses cannot share an attempt.
    spent = s.execute(
        update(t.LoginCode)
        .where(t.LoginCode.email == email, t.LoginCode.attempts_left > 0, t.LoginCode.expires_at >= now())
        .values(attempts_left=t.LoginCode.attempts_left - 1)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount == 0:
        return {"verified": False, "attempts_left": 0}
    record = s.get(t.LoginCode, email, populate_existing=True)
    if not hmac.compare_digest(record.code_hash, _code_hash(pepper, email, code)):
        return {"verified": False, "attempts_left": record.attempts_left}
    s.delete(record)  # one time only
    customer = s.scalars(select(t.Customer).where(t.Customer.email == email)).one()
    return {"verified": True, "customer_id": customer.id}


def mailbox(s: Session, to: str) -> list[dict]:
    mails = s.scalars(select(t.Mail).where(t.Mail.to == to).order_by(t.Mail.id.desc()))
    return [{"to": m.to, "subject": m.subject, "body": m.body, "sent_at": _ts(m.sent_at),
             "attachments": list(m.attachments or [])} for m in mails]


def send_mail(s: Session, to: str, subject: str, body: str, attachments: list[dict]) -> dict:
    """The mock mail carrier takes a mail for delivery: it lands in the mailbox of `to`."""
    s.add(t.Mail(to=to, subject=subject, body=body, attachments=attachments, sent_at=now()))
    return {"status": "sent"}


def _code_hash(pepper: str, email: str, code: str) -> str:
    return hmac.new(pepper.encode(), f"{email}:{code}".encode(), hashlib.sha256).hexdigest()


# ---- carts

def create_cart(s: Session, customer_id: str | None) -> dict:
    if customer_id is not None:
        _must_exist(s, t.Customer, customer_id, "customer_id")
    cart = t.Cart(id=new_id("cart"), customer_id=customer_id, status="open", currency="EUR", updated_at=now())
    s.add(cart)
    s.flush()
    return cart_json(cart)


def get_cart(s: Session, cart_id: str) -> dict:
    return cart_json(_get(s, t.Cart, cart_id, "cart"))


def add_cart_item(s: Session, cart_id: str, sku: str, quantity: int) -> dict:
    cart = _get(s, t.Cart, cart_id, "cart")
    if cart.status != "open":
        raise ValidationFailed("This cart is no longer open.", {"cart": f"status is {cart.status}"})
    variant = s.get(t.Variant, sku)
    if variant is None:
        raise ValidationFailed("Unknown SKU.", {"sku": "no such variant"})
    item = next((i for i in cart.items if i.sku == sku), None)
    wanted = quantity + (item.quantity if item else 0)
    if wanted > variant.stock:
        raise ValidationFailed("Not enough stock.", {"quantity": f"only {variant.stock} in stock"})
    if item:
        item.quantity = wanted
    else:
        cart.items.append(t.CartItem(sku=sku, quantity=quantity, variant=variant))
    cart.updated_at = now()
    s.flush()
    return cart_json(cart)


# ---- CRM

def find_contacts(s: Session, email: str | None, limit: int, offset: int) -> tuple[list, int | None]:
    return _newest_first(s, t.Contact, contact_json, limit, offset, email=email)


def get_contact(s: Session, contact_id: str) -> dict:
    return contact_json(_get(s, t.Contact, contact_id, "contact"))


def upsert_contact(s: Session, fields: dict) -> tuple[int, dict]:
    """(201, new contact) or (200, the contact with that email, non-empty fields merged in)."""
    if fields.get("customer_id"):
        _must_exist(s, t.Customer, fields["customer_id"], "customer_id")
    contact = s.scalars(select(t.Contact).where(t.Contact.email == fields["email"])).first()
    status = 200 if contact else 201
    if contact is None:
        contact = t.Contact(id=new_id("ct"), email=fields["email"], lifecycle_stage="subscriber", created_at=now(),
                            marketing_consent=False)
        s.add(contact)
    for name in ("first_name", "last_name", "phone", "customer_id"):
        if fields.get(name):
            setattr(contact, name, fields[name])
    if contact.customer_id is None:
        customer = s.scalars(select(t.Customer).where(t.Customer.email == fields["email"])).first()
        contact.customer_id = customer.id if customer else None
    if contact.customer_id:
        contact.lifecycle_stage = "customer"
    s.flush()
    return status, contact_json(contact)


def create_interaction(s: Session, contact_id: str, fields: dict) -> dict:
    _get(s, t.Contact, contact_id, "contact")
    interaction = t.Interaction(id=new_id("ix"), contact_id=contact_id, created_at=now(), **fields)
    s.add(interaction)
    s.flush()
    return interaction_json(interaction)


def list_interactions(s: Session, contact_id: str, limit: int, offset: int) -> tuple[list, int | None]:
    _get(s, t.Contact, contact_id, "contact")
    return _newest_first(s, t.Interaction, interaction_json, limit, offset, contact_id=contact_id)


def create_ticket(s: Session, fields: dict) -> dict:
    """A new open ticket; without a due_at of the caller's, its priority sets one (service_levels.py)."""
    email = fields.pop("email", None)
    if fields.get("contact_id"):
        _must_exist(s, t.Contact, fields["contact_id"], "contact_id")
    elif email:
        fields["contact_id"] = upsert_contact(s, {"email": email})[1]["id"]
    opened_at = now()
    fields["due_at"] = fields.get("due_at") or due_by(fields["priority"], opened_at)
    ticket = t.Ticket(id=new_id("tk"), number=_next_ticket_number(s), status="open", created_at=opened_at,
                      **fields)
    s.add(ticket)
    s.flush()
    return ticket_json(ticket)


def get_ticket(s: Session, reference: str) -> dict:
    return ticket_json(_find_ticket(s, reference))


def set_ticket_status(s: Session, reference: str, status: str) -> dict:
    """The support team's side: a ticket worked on (open), waiting for the customer (pending) or solved."""
    ticket = _find_ticket(s, reference)
    ticket.status = status
    s.flush()
    return ticket_json(ticket)


# T-000101, t-101 or 101: what a customer may type for a ticket number.
TICKET_NUMBER = re.compile(r"^(?:T-)?0*([0-9]{1,9})$", re.IGNORECASE)


def _find_ticket(s: Session, reference: str) -> t.Ticket:
    """A ticket by its id (tk_...) or its number, with or without the T- and the leading zeros."""
    ticket = s.get(t.Ticket, reference)
    number = TICKET_NUMBER.match(reference)
    if ticket is None and number:
        ticket = s.scalars(select(t.Ticket).where(t.Ticket.number == f"T-{int(number.group(1)):06d}")).first()
    if ticket is None:
        raise NotFound(f"No ticket with id or number {reference!r}.")
    return ticket


def _next_ticket_number(s: Session) -> str:
    """T-000102 after T-000101. Two concurrent creations collide on the unique number; the loser retries."""
    highest = s.scalar(select(func.max(t.Ticket.number)))
    return f"T-{int(highest[2:]) + 1 if highest else 1:06d}"


def list_tickets(s: Session, contact_id: str | None, limit: int, offset: int) -> tuple[list, int | None]:
    return _newest_first(s, t.Ticket, ticket_json, limit, offset, contact_id=contact_id)


def list_leads(s: Session, email: str | None, limit: int, offset: int) -> tuple[list, int | None]:
    return _newest_first(s, t.Lead, lead_json, limit, offset, email=email)


def create_lead(s: Session, fields: dict) -> dict:
    lead = t.Lead(id=new_id("lead"), status="new", created_at=now(), **fields)
    s.add(lead)
    s.flush()
    return lead_json(lead)


def list_deals(s: Session, contact_id: str | None, limit: int, offset: int) -> tuple[list, int | None]:
    return _newest_first(s, t.Deal, deal_json, limit, offset, contact_id=contact_id)


# ---- data subject rights: a person's CRM data, its erasure, their marketing consent

# A won deal is a commercial record the shop must keep (in Germany 6 to 10 years, HGB 257 / AO 147):
# erasure keeps it without the person, the others go.
KEPT_DEAL_STAGES = ("won",)


def personal_data(s: Session, email: str) -> dict:
    """Every CRM record about this email: its contact, what hangs on the contact, and leads with the email."""
    contact_ids = _contact_ids(s, email)
    on_contact = lambda table: s.scalars(  # noqa: E731
        select(table).where(table.contact_id.in_(contact_ids)).order_by(table.created_at, table.id))
    return {
        "email": email,
        "contacts": [contact_json(c) for c in s.scalars(select(t.Contact).where(t.Contact.id.in_(contact_ids)))],
        "interactions": [interaction_json(i) for i in on_contact(t.Interaction)],
        "tickets": [ticket_json(k) for k in on_contact(t.Ticket)],
        "deals": [deal_json(d) for d in on_contact(t.Deal)],
        "leads": [lead_json(lead) for lead in s.scalars(
            select(t.Lead).where(t.Lead.email == email).order_by(t.Lead.created_at, t.Lead.id))],
    }


def erase_personal_data(s: Session, email: str) -> dict:
    """Delete the CRM's records about this email; won deals stay, without the contact. Repeating it erases nothing."""
    on_contact = lambda table: table.contact_id.in_(_contact_ids(s, email))  # noqa: E731
    erased = {"interactions": _delete(s, t.Interaction, on_contact(t.Interaction)),
              "tickets": _delete(s, t.Ticket, on_contact(t.Ticket)),
              "deals": _delete(s, t.Deal, on_contact(t.Deal), t.Deal.stage.not_in(KEPT_DEAL_STAGES))}
    kept_deals = s.execute(update(t.Deal).where(on_contact(t.Deal)).values(contact_id=None)
                           .execution_options(synchronize_session=False)).rowcount
    erased["leads"] = _delete(s, t.Lead, t.Lead.email == email)
    erased["contacts"] = _delete(s, t.Contact, t.Contact.email == email)
    # The stored first answers to creations (contacts, tickets) repeat the email: they go too.
    erased["stored_answers"] = _delete(s, t.IdempotencyRecord, func.lower(cast(t.IdempotencyRecord.body, Text))
                                       .contains(email, autoescape=True))
    kept = [f"{kept_deals} won deal(s), without name or email: commercial records the shop must keep"] \
        if kept_deals else []
    return {"email": email, "erased": erased, "kept": kept}


def withdraw_marketing_consent(s: Session, email: str) -> dict:
    """No more marketing email to this address; the contact, if there is one, says so from now on."""
    contact = s.scalars(select(t.Contact).where(t.Contact.email == email)).first()
    if contact is not None:
        contact.marketing_consent = False
    return {"email": email, "contact_id": contact.id if contact else None, "marketing_consent": False}


def _contact_ids(s: Session, email: str) -> list[str]:
    return list(s.scalars(select(t.Contact.id).where(t.Contact.email == email)))


def _delete(s: Session, table, *where) -> int:
    """Delete the matching rows in one statement; how many. Rows loaded in this session are not looked at."""
    return s.execute(delete(table).where(*where).execution_options(synchronize_session=False)).rowcount


# ---- idempotency

def idempotent(s: Session, client: str, key: str | None, route: str, request_hash: str,
               create: Callable[[], tuple[int, Any]]) -> tuple[int, Any, bool]:
    """(status, body, replayed): the stored answer for a known key, else a new creation stored under the key.

    The record is written in the creation's transaction: both happen, or neither.
    """
    if key is None:
        status, body = create()
        return status, body, False
    record = s.scalars(select(t.IdempotencyRecord).where(
        t.IdempotencyRecord.client == client, t.IdempotencyRecord.key == key, t.IdempotencyRecord.route == route,
    )).first()
    if record:
        if record.request_hash != request_hash:
            raise Conflict("This Idempotency-Key was already used with a different request body.",
                           {"Idempotency-Key": "already used with a different body"})
        return record.status, record.body, True
    status, body = create()
    s.add(t.IdempotencyRecord(client=client, key=key, route=route, request_hash=request_hash, status=status,
                              body=body, created_at=now()))
    return status, body, False


# ---- helpers and JSON shapes

def _get(s: Session, table, key: str, what: str):
    row = s.get(table, key)
    if row is None:
        raise NotFound(f"No {what} with id {key!r}.")
    return row


def _newest_first(s: Session, table, to_json, limit: int, offset: int, **equal_to) -> tuple[list, int | None]:
    """A page of `table`'s rows, newest first, matching every filter that is not None."""
    query = select(table).order_by(table.created_at.desc(), table.id.desc())
    for column, value in equal_to.items():
        if value is not None:
            query = query.where(getattr(table, column) == value)
    return _page(s, query, limit, offset, to_json)


def _must_exist(s: Session, table, key: str, field: str) -> None:
    if s.get(table, key) is None:
        raise ValidationFailed(f"Unknown {field}.", {field: "does not exist"})


def _page(s: Session, query, limit: int, offset: int, to_json) -> tuple[list, int | None]:
    rows = list(s.scalars(query.offset(offset).limit(limit + 1)))
    next_offset = offset + limit if len(rows) > limit else None
    return [to_json(r) for r in rows[:limit]], next_offset


def _ts(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _money(amount_cents: int, currency: str) -> dict:
    return {"amount": f"{Decimal(amount_cents) / 100:.2f}", "currency": currency}


def product_json(p: t.Product) -> dict:
    return {
        "id": p.id, "name": p.name, "category": p.category, "brand": p.brand, "description": p.description,
        "url": p.url, "tags": p.tags,
        "return_policy": {"returnable": p.returnable, "window_days": p.return_window_days,
                          "condition": p.return_condition},
        "variants": [
            {"sku": v.sku, "title": v.title, "options": v.options, "price": _money(v.price_cents, v.currency),
             "stock": v.stock, "available": v.stock > 0}
            for v in p.variants
        ],
    }


def customer_json(c: t.Customer) -> dict:
    return {"id": c.id, "email": c.email, "first_name": c.first_name, "last_name": c.last_name, "phone": c.phone,
            "created_at": _ts(c.created_at), "loyalty": {"tier": c.loyalty_tier, "points": c.loyalty_points}}


def order_json(o: t.Order) -> dict:
    total = sum(line.unit_price_cents * line.quantity for line in o.lines)
    return {
        "number": o.number, "status": o.status, "customer_id": o.customer_id, "email": o.email,
        "placed_at": _ts(o.placed_at), "currency": o.currency, "total": _money(total, o.currency),
        "lines": [
            {"sku": line.sku, "product_name": line.product_name, "variant_title": line.variant_title,
             "quantity": line.quantity, "unit_price": _money(line.unit_price_cents, o.currency)}
            for line in o.lines
        ],
        "shipping_address": o.shipping_address, "requested_delivery_date": _day(o.requested_delivery_date),
        "shipments": [shipment_json(s) for s in o.shipments],
        "cancelled_at": _ts(o.cancelled_at), "cancel_reason": o.cancel_reason,
        "refund": {"status": o.refund_status, "amount": _money(total, o.currency)} if o.refund_status else None,
        "pickup_point_id": o.pickup_point_id,
    }


def pickup_point_json(p: t.PickupPoint) -> dict:
    return {"id": p.id, "name": p.name, "carrier": {"code": p.carrier_code, "name": p.carrier_name},
            "address": {"line1": p.line1, "postal_code": p.postal_code, "city": p.city, "country": p.country},
            "opening_hours": p.opening_hours}


def return_json(r: t.Return, label_link: LabelLink) -> dict:
    refund_cents = sum(item.unit_price_cents * item.quantity for item in r.items)
    return {
        "id": r.id, "number": r.number, "order_number": r.order_number, "status": r.status,
        "items": [{"sku": i.sku, "product_name": i.product_name, "quantity": i.quantity, "reason": i.reason,
                   "condition": i.condition, "unit_price": _money(i.unit_price_cents, r.currency)} for i in r.items],
        "label": {"carrier": r.carrier_name, "tracking_number": r.tracking_number,
                  "label_url": label_link(r)},
        "refund": {"status": REFUND_OF_RETURN[r.status], "amount": _money(refund_cents, r.currency)},
        "created_at": _ts(r.created_at), "received_at": _ts(r.received_at), "refunded_at": _ts(r.refunded_at),
    }


def shipment_json(s: t.Shipment) -> dict:
    return {
        "id": s.id, "carrier": {"code": s.carrier_code, "name": s.carrier_name},
        "tracking_number": s.tracking_number, "tracking_url": s.tracking_url, "status": s.status,
        "shipped_at": _ts(s.shipped_at),
        "estimated_delivery": s.estimated_delivery.isoformat() if s.estimated_delivery else None,
        "delivered_at": _ts(s.delivered_at), "delay_reason": s.delay_reason,
        "events": [{"at": _ts(e.at), "status": e.status, "location": e.location, "description": e.description}
                   for e in s.events],
    }


def cart_json(c: t.Cart) -> dict:
    items = [{"sku": i.sku, "product_name": i.variant.product.name, "quantity": i.quantity,
              "unit_price": _money(i.variant.price_cents, c.currency)} for i in c.items]
    subtotal = sum(i.variant.price_cents * i.quantity for i in c.items)
    return {"id": c.id, "customer_id": c.customer_id, "status": c.status, "items": items,
            "subtotal": _money(subtotal, c.currency), "updated_at": _ts(c.updated_at)}


def contact_json(c: t.Contact) -> dict:
    return {"id": c.id, "email": c.email, "first_name": c.first_name, "last_name": c.last_name, "phone": c.phone,
            "customer_id": c.customer_id, "lifecycle_stage": c.lifecycle_stage, "created_at": _ts(c.created_at),
            "marketing_consent": c.marketing_consent}


def interaction_json(i: t.Interaction) -> dict:
    return {"id": i.id, "contact_id": i.contact_id, "channel": i.channel, "kind": i.kind, "summary": i.summary,
            "order_number": i.order_number, "outcome": i.outcome, "conversation_id": i.conversation_id,
            "created_at": _ts(i.created_at)}


def ticket_json(k: t.Ticket) -> dict:
    return {"id": k.id, "number": k.number, "status": k.status, "subject": k.subject, "description": k.description,
            "priority": k.priority, "category": k.category, "contact_id": k.contact_id,
            "email": k.contact.email if k.contact else None, "order_number": k.order_number,
            "conversation_id": k.conversation_id, "attachments": list(k.attachments or []),
            "created_at": _ts(k.created_at), "due_at": _ts(k.due_at)}


def lead_json(lead: t.Lead) -> dict:
    return {"id": lead.id, "email": lead.email, "name": lead.name, "company": lead.company, "source": lead.source,
            "interest": lead.interest, "notes": lead.notes, "status": lead.status, "created_at": _ts(lead.created_at)}


def deal_json(d: t.Deal) -> dict:
    return {"id": d.id, "name": d.name, "stage": d.stage, "amount": _money(d.amount_cents, d.currency),
            "contact_id": d.contact_id, "created_at": _ts(d.created_at)}
