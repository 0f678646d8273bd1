"""Adapters for the built-in sandbox backend (see sandbox_backend/openapi.yaml)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, Sequence
from urllib.parse import quote

from integrations.crm import CRM, ConsentWithdrawal, CrmErasure, CrmExport
from integrations.errors import Conflict, IntegrationError, InvalidRequest, NotFound, Refused
from integrations.eshop import EShop
from integrations.models import (
    Address,
    Cancellation,
    Contact,
    Interaction,
    LoginCodeCheck,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PickupPoint,
    Refund,
    ReturnableLine,
    ReturnEligibility,
    ReturnItem,
    Rma,
    RmaLine,
    RmaStatus,
    Shipment,
    Ticket,
    TrackingEvent,
)
from integrations.payloads import iso_datetime, translated
from integrations.transport import HttpTransport


class SandboxEShop(EShop):
    delivery_changes = frozenset({"address", "date", "pickup"})

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def get_order(self, number: str) -> Order:
        return _translated(_order, await self._http.get(f"/v1/orders/{number}"))

    async def orders_of_customer(self, customer_id: str) -> list[Order]:
        page = await self._http.get("/v1/orders", {"customer_id": customer_id, "limit": 20})
        return [_translated(_order, item) for item in page["data"]]

    async def send_login_code(self, email: str) -> None:
        await self._http.post("/v1/login-codes", {"email": email})

    async def verify_login_code(self, email: str, code: str) -> LoginCodeCheck:
        result = await self._http.post("/v1/login-codes/verify", {"email": email, "code": code})
        return LoginCodeCheck(
            verified=bool(result["verified"]),
            customer_id=result.get("customer_id"),
            attempts_left=int(result.get("attempts_left", 0)),
        )

    def forget_cached_catalog(self) -> int:
        return self._http.invalidate_cache("/v1/products")

    async def change_delivery(
        self,
        number: str,
        *,
        address: Address | None = None,
        delivery_date: date | None = None,
        pickup_point_id: str | None = None,
        idempotency_key: str,
    ) -> Order:
        body = {
            "address": _address_body(address) if address else None,
            "pickup_point_id": pickup_point_id,
            "delivery_date": delivery_date.isoformat() if delivery_date else None,
        }
        data = await self._change_order(number, "delivery-change", _without_none(body), idempotency_key)
        return _translated(_order, data)

    async def pickup_points(self, country: str, postal_code: str, limit: int = 3) -> list[PickupPoint]:
        params = {"country": country, "postal_code": postal_code, "limit": limit}
        page = await self._http.get("/v1/pickup-points", params)
        return [_translated(_pickup_point, item) for item in page["data"]]

    async def cancel_order(self, number: str, *, reason: str, idempotency_key: str) -> Cancellation:
        data = await self._change_order(number, "cancellation", {"reason": reason}, idempotency_key)
        return _translated(_cancellation, data)

    async def return_eligibility(self, number: str) -> ReturnEligibility:
        return _translated(_eligibility, await self._http.get(f"/v1/orders/{number}/return-eligibility"))

    async def create_return(self, number: str, items: list[ReturnItem], *, idempotency_key: str) -> Rma:
        body = {
            "order_number": number,
            "items": [
                {"sku": i.sku, "quantity": i.quantity, "reason": i.reason.value, "condition": i.condition.value}
                for i in items
            ],
        }
        try:
            data = await self._http.post("/v1/returns", body, idempotency_key=idempotency_key)
        except InvalidRequest as invalid:
            refusal = _return_refusal(invalid, items)
            if refusal is None:
                raise
            raise refusal from invalid
        return _translated(_rma, data)

    async def get_return(self, rma_number: str) -> Rma:
        return _translated(_rma, await self._http.get(f"/v1/returns/{quote(rma_number, safe='')}"))

    async def returns_of_order(self, number: str) -> list[Rma]:
        page = await self._http.get("/v1/returns", {"order_number": number, "limit": 100})
        return [_translated(_rma, item) for item in page["data"]]

    async def _change_order(self, number: str, action: str, body: dict[str, Any], idempotency_key: str) -> Any:
        try:
            return await self._http.post(f"/v1/orders/{number}/{action}", body, idempotency_key=idempotency_key)
        except Conflict as conflict:
            # The 409's type says which: a rule of the order's state, or ("conflict") a reused Idempotency-Key.
            if conflict.code not in ORDER_STATE_REFUSALS:
                raise
            raise Refused(str(conflict), conflict.code) from conflict


class SandboxCRM(CRM):
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def upsert_contact(
        self, email: str, *, first_name: str | None = None, last_name: str | None = None
    ) -> Contact:
        body = {"email": email, "first_name": first_name, "last_name": last_name}
        data = await self._http.post("/v1/crm/contacts", {k: v for k, v in body.items() if v})
        return _translated(_contact, data)

    async def log_interaction(
        self,
        contact_id: str,
        *,
        kind: str,
        summary: str,
        channel: str,
        conversation_id: str,
        order_number: str | None = None,
        outcome: str | None = None,
        idempotency_key: str,
    ) -> Interaction:
        body = {
            "kind": kind,
            "summary": summary,
            "channel": channel,
            "conversation_id": conversation_id,
            "order_number": order_number,
            "outcome": outcome,
        }
        data = await self._http.post(
            f"/v1/crm/contacts/{contact_id}/interactions", _without_none(body), idempotency_key=idempotency_key
        )
        return _translated(_interaction, data)

    async def create_ticket(
        self,
        *,
        subject: str,
        description: str,
        priority: str,
        category: str,
        conversation_id: str,
        email: str | None = None,
        order_number: str | None = None,
        idempotency_key: str,
        due_at: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Ticket:
        body = {
            "subject": subject,
            "description": description,
            "priority": priority,
            "category": category,
            "conversation_id": conversation_id,
            "email": email,
            "order_number": order_number,
            "due_at": due_at,  # the sandbox reads ISO 8601 itself, and sets one by priority when there is none
            "attachments": list(attachments) or None,
        }
        data = await self._http.post("/v1/crm/tickets", _without_none(body), idempotency_key=idempotency_key)
        return _translated(_ticket, data)

    async def get_ticket(self, number: str) -> Ticket:
        if not number.strip():
            raise NotFound("sandbox: no ticket without a number")
        # Quoted: what a customer typed must stay one path segment ("../contacts" finds no ticket).
        return _translated(_ticket, await self._http.get(f"/v1/crm/tickets/{quote(number, safe='')}"))

    # The email goes in a query string or a body, never in a path: paths are logged, emails must not be.
    async def export_contact(self, email: str) -> CrmExport:
        return _translated(_crm_export, await self._http.get("/v1/crm/personal-data", {"email": email}))

    async def erase_contact(self, email: str) -> CrmErasure:
        # Erasing twice erases nothing more, so the transport may retry it like a keyed creation.
        return _translated(_crm_erasure, await self._http.post("/v1/crm/personal-data/erasure", {"email": email}))

    async def withdraw_marketing_consent(self, email: str) -> ConsentWithdrawal:
        data = await self._http.post("/v1/crm/marketing-consent/withdrawal", {"email": email})
        return _translated(lambda payload: ConsentWithdrawal("sandbox", had_contact=payload["contact_id"] is not None),
                           data)


_translated = partial(translated, "sandbox")

# The types of the sandbox's 409s that name a rule of the order's state rather than a reused key.
ORDER_STATE_REFUSALS = {"order_already_shipped", "order_cancelled"}
# The reason codes the sandbox gives refused return items in a 422's fields ("items[0]": "not_returnable").
RETURN_REFUSALS = {
    "not_returnable", "order_cancelled", "not_delivered_yet", "outside_return_window", "already_returned",
    "not_in_order", "quantity_exceeds_returnable", "condition_not_accepted",
}
ITEM_FIELD = re.compile(r"^items\[(\d+)\]$")


def _return_refusal(invalid: InvalidRequest, items: list[ReturnItem]) -> IntegrationError | None:
    """The 422 of a return as what it means: an unknown order, items the policy refuses, or neither (None)."""
    if "order_number" in invalid.fields:
        return NotFound(str(invalid))
    refused = {}
    for field, reason in invalid.fields.items():
        match = ITEM_FIELD.match(field)
        if match and int(match.group(1)) < len(items) and reason in RETURN_REFUSALS:
            refused[items[int(match.group(1))].sku] = reason
    if not refused:
        return None
    return Refused(str(invalid), next(iter(refused.values())), refused)


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _money(data: dict) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _order(data: dict) -> Order:
    refund = data.get("refund") or {}
    return Order(
        number=str(data["number"]),
        status=OrderStatus(data["status"]),
        email=data["email"],
        customer_id=data.get("customer_id"),
        placed_at=iso_datetime(data["placed_at"]),
        total=_money(data["total"]),
        lines=tuple(
            OrderLine(
                sku=line["sku"],
                product_name=line["product_name"],
                variant_title=line.get("variant_title") or "",
                quantity=int(line["quantity"]),
                unit_price=_money(line["unit_price"]),
            )
            for line in data.get("lines", [])
        ),
        shipments=tuple(_shipment(item) for item in data.get("shipments", [])),
        cancelled_at=iso_datetime(data.get("cancelled_at")),
        cancel_reason=data.get("cancel_reason"),
        refund_status=refund.get("status"),
        shipping_address=_address(data.get("shipping_address")),
        requested_delivery_date=_date(data.get("requested_delivery_date")),
        pickup_point_id=data.get("pickup_point_id"),
    )


def _pickup_point(data: dict) -> PickupPoint:
    address = data["address"]
    return PickupPoint(
        id=data["id"],
        name=data["name"],
        carrier_name=data["carrier"]["name"],
        address=Address(
            name=data["name"],
            line1=address["line1"],
            postal_code=address["postal_code"],
            city=address["city"],
            country=address["country"],
        ),
        opening_hours=data.get("opening_hours") or "",
    )


def _address(data: dict | None) -> Address | None:
    if not data:
        return None
    return Address(
        name=data["name"],
        line1=data["line1"],
        line2=data.get("line2") or "",
        postal_code=data["postal_code"],
        city=data["city"],
        country=data["country"],
    )


def _address_body(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "postal_code": address.postal_code,
        "city": address.city,
        "country": address.country,
    }


def _refund(data: dict | None) -> Refund | None:
    return Refund(status=data["status"], amount=_money(data["amount"])) if data else None


def _cancellation(data: dict) -> Cancellation:
    return Cancellation(order=_order(data), refund=_refund(data.get("refund")))


def _eligibility(data: dict) -> ReturnEligibility:
    return ReturnEligibility(
        order_number=str(data["order_number"]),
        delivered_on=_date(data.get("delivered_on")),
        lines=tuple(
            ReturnableLine(
                sku=line["sku"],
                product_name=line["product_name"],
                quantity_ordered=int(line["quantity_ordered"]),
                quantity_returnable=int(line["quantity_returnable"]),
                eligible=bool(line["eligible"]),
                reason_code=line.get("reason_code"),
                window_ends_on=_date(line.get("window_ends_on")),
            )
            for line in data["lines"]
        ),
    )


def _rma(data: dict) -> Rma:
    return Rma(
        id=data["id"],
        number=data["number"],
        order_number=str(data["order_number"]),
        status=RmaStatus(data["status"]),
        items=tuple(
            RmaLine(
                sku=item["sku"],
                product_name=item["product_name"],
                quantity=int(item["quantity"]),
                reason=item["reason"],
                condition=item["condition"],
            )
            for item in data["items"]
        ),
        carrier_name=data["label"]["carrier"],
        tracking_number=data["label"]["tracking_number"],
        label_url=data["label"]["label_url"],
        refund=_refund(data["refund"]),
        created_at=iso_datetime(data["created_at"]),
    )


def _shipment(data: dict) -> Shipment:
    return Shipment(
        carrier_name=data["carrier"]["name"],
        tracking_number=data["tracking_number"],
        tracking_url=data["tracking_url"],
        status=data["status"],
        shipped_at=iso_datetime(data.get("shipped_at")),
        estimated_delivery=_date(data.get("estimated_delivery")),
        delivered_at=iso_datetime(data.get("delivered_at")),
        delay_reason=data.get("delay_reason"),
        events=tuple(
            TrackingEvent(
                at=iso_datetime(event["at"]),
                status=event["status"],
                location=event.get("location") or "",
                description=event.get("description") or "",
            )
            for event in data.get("events", [])
        ),
    )


# What the sandbox's CRM keeps about a person, by kind (GET /v1/crm/personal-data).
PERSONAL_DATA_KINDS = ("contacts", "interactions", "tickets", "deals", "leads")


def _crm_export(data: dict) -> CrmExport:
    records = {kind: tuple(data[kind]) for kind in PERSONAL_DATA_KINDS}
    if not all(isinstance(record, dict) for kind_records in records.values() for record in kind_records):
        raise TypeError("personal data records are no JSON objects")
    return CrmExport("sandbox", records)


def _crm_erasure(data: dict) -> CrmErasure:
    return CrmErasure("sandbox", {str(kind): int(count) for kind, count in data["erased"].items()},
                      tuple(str(reason) for reason in data["kept"]))


def _contact(data: dict) -> Contact:
    return Contact(id=data["id"], email=data["email"], first_name=data.get("first_name"), last_name=data.get("last_name"))


def _interaction(data: dict) -> Interaction:
    return Interaction(
        id=data["id"],
        contact_id=data["contact_id"],
        channel=data["channel"],
        kind=data["kind"],
        summary=data["summary"],
        order_number=data.get("order_number"),
        outcome=data.get("outcome"),
        conversation_id=data.get("conversation_id"),
    )


def _ticket(data: dict) -> Ticket:
    return Ticket(
        id=data["id"],
        number=data["number"],
        status=data["status"],
        subject=data["subject"],
        priority=data["priority"],
        email=data.get("email"),
        created_at=iso_datetime(data.get("created_at")),
        due_at=iso_datetime(data.get("due_at")),
        category=data.get("category"),
    )
