"""Loading seed.yml into an empty database."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_backend import tables as t
from sandbox_backend.service_levels import due_by

SEED_FILE = Path(__file__).with_name("seed.yml")
RELATIVE = re.compile(r"^today(?:([+-]\d+)d)?(?:\s+(\d{1,2}):(\d{2}))?$")


def relative_datetime(text: str, today: date) -> datetime:
    """'today-3d 14:05' -> that moment, counted from `today` (UTC, naive)."""
    match = RELATIVE.match(text.strip())
    if not match:
        raise ValueError(f"seed date {text!r} is not like 'today', 'today-3d' or 'today+2d 14:05'")
    days, hour, minute = match.groups()
    day = today + timedelta(days=int(days or 0))
    return datetime.combine(day, time(int(hour or 12), int(minute or 0)))


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def sku_of(product_id: str, options: dict) -> str:
    return "-".join([product_id, *(str(v).lower() for v in options.values())])


def seed(session: Session, today: date, seed_file: Path = SEED_FILE) -> None:
    data = yaml.safe_load(seed_file.read_text(encoding="utf-8"))

    def when(text: str | None) -> datetime | None:
        return relative_datetime(text, today) if text else None

    prices = _seed_catalog(session, data["products"], data["default_return_policy"])
    _seed_pickup_points(session, data.get("pickup_points", []), data["carriers"])
    for c in data["customers"]:
        session.add(t.Customer(id=c["id"], email=c["email"], first_name=c["first_name"], last_name=c["last_name"],
                               phone=c.get("phone"), created_at=when(c["created_at"]),
                               loyalty_tier=c["loyalty"]["tier"], loyalty_points=c["loyalty"]["points"]))
    session.flush()
    emails = {c["id"]: c["email"] for c in data["customers"]}
    names = _variant_names(session)
    for o in data["orders"]:
        _seed_order(session, o, data, emails, names, prices, when)
    for c in data["carts"]:
        session.add(t.Cart(id=c["id"], customer_id=c.get("customer"), status=c["status"], currency="EUR",
                           updated_at=when(c["updated_at"]),
                           items=[t.CartItem(sku=i["sku"], quantity=i["quantity"]) for i in c["items"]]))
    _seed_crm(session, data["crm"], when)


def _seed_catalog(session: Session, products: list[dict], default_return_policy: dict) -> dict[str, int]:
    prices = {}
    for p in products:
        returns = {**default_return_policy, **p.get("returns", {})}
        product = t.Product(id=p["id"], name=p["name"], category=p["category"], brand=p["brand"],
                            description=p["description"], url=f"https://shop.example/products/{p['id']}",
                            tags=p["tags"], search_text="\n".join([p["name"], p["description"], *p["tags"]]).lower(),
                            returnable=returns["returnable"], return_window_days=returns["window_days"],
                            return_condition=returns["condition"])
        session.add(product)
        for v in p["variants"]:
            sku = sku_of(p["id"], v["options"])
            prices[sku] = cents(v.get("price", p["price"]))
            session.add(t.Variant(sku=sku, product_id=p["id"], title=" / ".join(map(str, v["options"].values())),
                                  options=v["options"], price_cents=prices[sku], currency="EUR", stock=v["stock"]))
    session.flush()
    return prices


def _seed_pickup_points(session: Session, points: list[dict], carriers: dict) -> None:
    for p in points:
        address = p["address"]
        session.add(t.PickupPoint(id=p["id"], name=p["name"], carrier_code=p["carrier"],
                                  carrier_name=carriers[p["carrier"]]["name"], line1=address["line1"],
                                  postal_code=address["postal_code"], city=address["city"],
                                  country=address["country"], opening_hours=p["opening_hours"]))
    session.flush()


def _variant_names(session: Session) -> dict[str, tuple[str, str]]:
    return {v.sku: (v.product.name, v.title) for v in session.scalars(select(t.Variant))}


def _seed_order(session, o, data, emails, names, prices, when) -> None:
    requested_day = when(o.get("requested_delivery_date"))
    order = t.Order(number=o["number"], status=o["status"], customer_id=o["customer"], email=emails[o["customer"]],
                    placed_at=when(o["placed_at"]), currency="EUR", shipping_address=data["addresses"][o["address"]],
                    requested_delivery_date=requested_day.date() if requested_day else None,
                    cancelled_at=when(o.get("cancelled_at")), cancel_reason=o.get("cancel_reason"),
                    refund_status=o.get("refund"))
    for line in o["lines"]:
        product_name, variant_title = names[line["sku"]]
        order.lines.append(t.OrderLine(sku=line["sku"], product_name=product_name, variant_title=variant_title,
                                       quantity=line["quantity"], unit_price_cents=prices[line["sku"]]))
    for index, s in enumerate(o.get("shipments", []), start=1):
        carrier = data["carriers"][s["carrier"]]
        order.shipments.append(t.Shipment(
            id=f"shp_{o['number']}_{index}", carrier_code=s["carrier"], carrier_name=carrier["name"],
            tracking_number=s["tracking_number"],
            tracking_url=carrier["tracking_url"].format(tracking_number=s["tracking_number"]),
            status=s["status"], shipped_at=when(s.get("shipped_at")),
            estimated_delivery=when(s["estimated_delivery"]).date() if s.get("estimated_delivery") else None,
            delivered_at=when(s.get("delivered_at")), delay_reason=s.get("delay_reason"),
            events=[t.TrackingEvent(at=when(e["at"]), status=e["status"], location=e["location"],
                                    description=e["description"]) for e in s["events"]],
        ))
    session.add(order)


def _seed_crm(session, crm: dict, when) -> None:
    for c in crm["contacts"]:
        session.add(t.Contact(id=c["id"], email=c["email"], first_name=c.get("first_name"),
                              last_name=c.get("last_name"), phone=c.get("phone"), customer_id=c.get("customer_id"),
                              lifecycle_stage=c["lifecycle_stage"], created_at=when(c["created_at"]),
                              marketing_consent=c.get("marketing_consent", False)))
    session.flush()
    for lead in crm["leads"]:
        session.add(t.Lead(**{**lead, "created_at": when(lead["created_at"])}))
    for d in crm["deals"]:
        session.add(t.Deal(id=d["id"], name=d["name"], stage=d["stage"], amount_cents=cents(d["amount"]),
                           currency="EUR", contact_id=d["contact"], created_at=when(d["created_at"])))
    for k in crm["tickets"]:
        created_at = when(k["created_at"])
        session.add(t.Ticket(id=k["id"], number=k["number"], status=k["status"], subject=k["subject"],
                             description=k["description"], priority=k["priority"], category=k["category"],
                             contact_id=k["contact"], order_number=k.get("order_number"),
                             created_at=created_at, due_at=due_by(k["priority"], created_at),
                             attachments=k.get("attachments", [])))
    for i in crm["interactions"]:
        session.add(t.Interaction(id=i["id"], contact_id=i["contact"], channel=i["channel"], kind=i["kind"],
                                  summary=i["summary"], order_number=i.get("order_number"),
                                  outcome=i.get("outcome"), created_at=when(i["created_at"])))
