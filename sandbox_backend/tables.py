"""The sandbox's tables. Money is kept in cents, emails in lower case, times as naive UTC."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Product(Base):
    __tablename__ = "products"
    id = Column(String(80), primary_key=True)
    name = Column(String(200), nullable=False)
    category = Column(String(80), nullable=False, index=True)
    brand = Column(String(80), nullable=False)
    description = Column(Text, nullable=False)
    url = Column(String(300), nullable=False)
    tags = Column(JSON, nullable=False, default=list)
    # Name, description and tags in lower case: what ?q= searches, the same way on every database.
    search_text = Column(Text, nullable=False)
    # Return policy: whether it may come back at all, for how many days after delivery, and in what
    # condition (a rule of RETURN_CONDITION_RULES in store.py).
    returnable = Column(Boolean, nullable=False)
    return_window_days = Column(Integer, nullable=False)
    return_condition = Column(String(20), nullable=False)
    variants = relationship("Variant", order_by="Variant.sku", lazy="selectin", back_populates="product")


class Variant(Base):
    __tablename__ = "variants"
    sku = Column(String(80), primary_key=True)
    product_id = Column(ForeignKey("products.id"), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    options = Column(JSON, nullable=False, default=dict)
    price_cents = Column(Integer, nullable=False)
    currency = Column(String(3), nullable=False)
    stock = Column(Integer, nullable=False)
    product = relationship("Product", lazy="joined", back_populates="variants")


class Customer(Base):
    __tablename__ = "customers"
    id = Column(String(80), primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    phone = Column(String(40))
    created_at = Column(DateTime, nullable=False)
    loyalty_tier = Column(String(20), nullable=False)
    loyalty_points = Column(Integer, nullable=False)


class Order(Base):
    __tablename__ = "orders"
    number = Column(String(10), primary_key=True)
    status = Column(String(20), nullable=False)
    customer_id = Column(ForeignKey("customers.id"), index=True)
    email = Column(String(254), nullable=False, index=True)
    placed_at = Column(DateTime, nullable=False)
    currency = Column(String(3), nullable=False)
    shipping_address = Column(JSON, nullable=False)
    requested_delivery_date = Column(Date)
    cancelled_at = Column(DateTime)
    cancel_reason = Column(String(300))
    refund_status = Column(String(20))
    # Set when the order goes to a pickup point (its address is then shipping_address); None otherwise.
    pickup_point_id = Column(ForeignKey("pickup_points.id"))
    lines = relationship("OrderLine", order_by="OrderLine.id", lazy="selectin")
    shipments = relationship("Shipment", order_by="Shipment.id", lazy="selectin")


class PickupPoint(Base):
    """A parcel shop or locker an order can be delivered to instead of the customer's address."""

    __tablename__ = "pickup_points"
    id = Column(String(40), primary_key=True)
    name = Column(String(90), nullable=False)
    carrier_code = Column(String(20), nullable=False)
    carrier_name = Column(String(80), nullable=False)
    line1 = Column(String(200), nullable=False)
    postal_code = Column(String(10), nullable=False)
    city = Column(String(100), nullable=False)
    country = Column(String(2), nullable=False, index=True)
    opening_hours = Column(String(200), nullable=False)


class OrderLine(Base):
    __tablename__ = "order_lines"
    id = Column(Integer, primary_key=True)
    order_number = Column(ForeignKey("orders.number"), nullable=False, index=True)
    sku = Column(String(80), nullable=False)
    product_name = Column(String(200), nullable=False)
    variant_title = Column(String(200), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price_cents = Column(Integer, nullable=False)


class Shipment(Base):
    __tablename__ = "shipments"
    id = Column(String(40), primary_key=True)
    order_number = Column(ForeignKey("orders.number"), nullable=False, index=True)
    carrier_code = Column(String(20), nullable=False)
    carrier_name = Column(String(80), nullable=False)
    tracking_number = Column(String(80), nullable=False)
    tracking_url = Column(String(300), nullable=False)
    status = Column(String(30), nullable=False)
    shipped_at = Column(DateTime)
    estimated_delivery = Column(Date)
    delivered_at = Column(DateTime)
    delay_reason = Column(String(300))
    events = relationship("TrackingEvent", order_by="TrackingEvent.at", lazy="selectin")


class Return(Base):
    """A return (RMA): what the customer sends back, with its prepaid label, from open to refunded."""

    __tablename__ = "returns"
    id = Column(String(40), primary_key=True)
    # RMA-<order>-<n>: unique, so two returns of one order created at once collide and the loser retries.
    number = Column(String(30), nullable=False, unique=True)
    order_number = Column(ForeignKey("orders.number"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    currency = Column(String(3), nullable=False)
    carrier_name = Column(String(80), nullable=False)
    tracking_number = Column(String(40), nullable=False)
    created_at = Column(DateTime, nullable=False)
    received_at = Column(DateTime)
    refunded_at = Column(DateTime)
    items = relationship("ReturnItem", order_by="ReturnItem.id", lazy="selectin")


class ReturnItem(Base):
    __tablename__ = "return_items"
    id = Column(Integer, primary_key=True)
    return_id = Column(ForeignKey("returns.id"), nullable=False, index=True)
    sku = Column(String(80), nullable=False)
    product_name = Column(String(200), nullable=False)
    quantity = Column(Integer, nullable=False)
    reason = Column(String(30), nullable=False)
    condition = Column(String(20), nullable=False)
    unit_price_cents = Column(Integer, nullable=False)


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    id = Column(Integer, primary_key=True)
    shipment_id = Column(ForeignKey("shipments.id"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    status = Column(String(30), nullable=False)
    location = Column(String(120), nullable=False)
    description = Column(String(300), nullable=False)


class LoginCode(Base):
    __tablename__ = "login_codes"
    email = Column(String(254), primary_key=True)
    code_hash = Column(String(64), nullable=False)
    expires_at = Column(DateTime, nullable=False)
    attempts_left = Column(Integer, nullable=False)


class Mail(Base):
    """What the sandbox would have emailed: the mock mail carrier's outbox."""

    __tablename__ = "mails"
    id = Column(Integer, primary_key=True)
    to = Column(String(254), nullable=False, index=True)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    sent_at = Column(DateTime, nullable=False)
    # Files sent along ({"filename", "content_type", "content"}), e.g. a customer's data export as JSON.
    attachments = Column(JSON, nullable=False, default=list)


class Cart(Base):
    __tablename__ = "carts"
    id = Column(String(40), primary_key=True)
    customer_id = Column(ForeignKey("customers.id"))
    status = Column(String(20), nullable=False)
    currency = Column(String(3), nullable=False)
    updated_at = Column(DateTime, nullable=False)
    items = relationship("CartItem", order_by="CartItem.id", lazy="selectin")


class CartItem(Base):
    __tablename__ = "cart_items"
    id = Column(Integer, primary_key=True)
    cart_id = Column(ForeignKey("carts.id"), nullable=False, index=True)
    sku = Column(ForeignKey("variants.sku"), nullable=False)
    quantity = Column(Integer, nullable=False)
    variant = relationship("Variant", lazy="joined")


class Contact(Base):
    __tablename__ = "crm_contacts"
    id = Column(String(40), primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    first_name = Column(String(100))
    last_name = Column(String(100))
    phone = Column(String(40))
    customer_id = Column(String(80))
    lifecycle_stage = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)
    # Whether the contact agreed to marketing email (a newsletter): never assumed, only given and withdrawn.
    marketing_consent = Column(Boolean, nullable=False, default=False)


class Interaction(Base):
    __tablename__ = "crm_interactions"
    id = Column(String(40), primary_key=True)
    contact_id = Column(ForeignKey("crm_contacts.id"), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    kind = Column(String(60), nullable=False)
    summary = Column(Text, nullable=False)
    order_number = Column(String(10))
    outcome = Column(String(60))
    conversation_id = Column(String(200))
    created_at = Column(DateTime, nullable=False)


class Ticket(Base):
    __tablename__ = "crm_tickets"
    id = Column(String(40), primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    status = Column(String(20), nullable=False)
    subject = Column(String(200), nullable=False)
    description = Column(Text, nullable=False)
    priority = Column(String(10), nullable=False)
    category = Column(String(60), nullable=False)
    contact_id = Column(ForeignKey("crm_contacts.id"), index=True)
    order_number = Column(String(10))
    conversation_id = Column(String(200))
    created_at = Column(DateTime, nullable=False)
    # When the team promised an answer: given by the caller, or set from the priority (service_levels.py).
    due_at = Column(DateTime, nullable=False)
    attachments = Column(JSON, nullable=False, default=list)  # http(s) links the customer sent, e.g. photos
    contact = relationship("Contact", lazy="joined")  # whose case it is: its email decides who may see it


class Lead(Base):
    __tablename__ = "crm_leads"
    id = Column(String(40), primary_key=True)
    email = Column(String(254), nullable=False, index=True)
    name = Column(String(200))
    company = Column(String(200))
    source = Column(String(60), nullable=False)
    interest = Column(String(300))
    notes = Column(Text)
    status = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Deal(Base):
    __tablename__ = "crm_deals"
    id = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    stage = Column(String(40), nullable=False)
    amount_cents = Column(Integer, nullable=False)
    currency = Column(String(3), nullable=False)
    contact_id = Column(ForeignKey("crm_contacts.id"), index=True)
    created_at = Column(DateTime, nullable=False)


class IdempotencyRecord(Base):
    """The first answer to a creation, replayed when the same client sends the same key to the same route."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client", "key", "route"),)
    id = Column(Integer, primary_key=True)
    client = Column(String(64), nullable=False)  # sha256 of the API key: the key itself is never stored
    key = Column(String(255), nullable=False)
    route = Column(String(300), nullable=False)
    request_hash = Column(String(64), nullable=False)
    status = Column(Integer, nullable=False)
    body = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False)
