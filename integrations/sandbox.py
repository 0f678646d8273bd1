"""Adapters for the built-in sandbox backend (see sandbox_backend/openapi.yaml)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from integrations.crm import CRM
from integrations.eshop import EShop
from integrations.models import (
    Contact,
    Interaction,
    LoginCodeCheck,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    Ticket,
    TrackingEvent,
)
from integrations.payloads import iso_datetime, translated
from integrations.transport import HttpTransport


class SandboxEShop(EShop):
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
    ) -> Ticket:
        body = {
            "subject": subject,
            "description": description,
            "priority": priority,
            "category": category,
            "conversation_id": conversation_id,
            "email": email,
            "order_number": order_number,
        }
        data = await self._http.post("/v1/crm/tickets", _without_none(body), idempotency_key=idempotency_key)
        return _translated(_ticket, data)


_translated = partial(translated, "sandbox")


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
    )
