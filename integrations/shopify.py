"""Adapter for a Shopify store, through the Admin GraphQL API (version 2024-10).

GraphQL reports most failures with HTTP 200 and an `errors` list, and its rate
limit is a budget of query cost points rather than HTTP 429; both are read
here, since the transport only sees a successful POST.

A new shipping address is written with `orderUpdate` (scope write_orders) while nothing has been
fulfilled; setting the same address again changes nothing, so a repeat is harmless. Delivery days,
pickup points, cancellations and returns are not done here yet: the flow offers a person.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from integrations.eshop import EShop, refuse_unless_in_warehouse
from integrations.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unsupported,
)
from integrations.models import (
    Address,
    LoginCodeCheck,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    TrackingEvent,
)
from integrations.payloads import iso_datetime, require_https, translated
from integrations.resilience import Upstream
from integrations.transport import HttpTransport

API_VERSION = "2024-10"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"

ORDER_NUMBER = re.compile(r"#?(\d+)", re.ASCII)
CUSTOMER_GID = re.compile(r"gid://shopify/Customer/(\d+)", re.ASCII)

_ORDER_FIELDS = """
    id name email createdAt displayFinancialStatus displayFulfillmentStatus cancelledAt cancelReason
    customer { id }
    shippingAddress { firstName lastName address1 address2 zip city countryCodeV2 }
    totalPriceSet { shopMoney { amount currencyCode } }"""
_FULFILLMENT_FIELDS = """
    status displayStatus createdAt estimatedDeliveryAt deliveredAt
    trackingInfo(first: 1) { company number url }"""
_LINE_ITEMS = """
    lineItems(first: 50) {
      nodes { sku title variantTitle quantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
    }"""
# The newest 20 events, so that a long journey still shows where the parcel is now.
_TRACKING_EVENTS = """
    events(first: 20, sortKey: HAPPENED_AT, reverse: true) { nodes { happenedAt status message city } }"""

ORDER_BY_NAME = f"""
query OrderByName($search: String!) {{
  orders(first: 1, query: $search) {{
    nodes {{ {_ORDER_FIELDS} {_LINE_ITEMS}
      fulfillments(first: 10) {{ {_FULFILLMENT_FIELDS} {_TRACKING_EVENTS} }}
    }}
  }}
}}"""
# The updated order as get_order reads it (an order still in the warehouse has no tracking events).
ORDER_ADDRESS_UPDATE = f"""
mutation OrderAddressUpdate($input: OrderInput!) {{
  orderUpdate(input: $input) {{
    order {{ {_ORDER_FIELDS} {_LINE_ITEMS}
      fulfillments(first: 10) {{ {_FULFILLMENT_FIELDS} }}
    }}
    userErrors {{ field message }}
  }}
}}"""
# Without line items and tracking events: for 20 orders they would cost more than the
# 1000 points Shopify allows a single query. get_order has them.
ORDERS_OF_CUSTOMER = f"""
query OrdersOfCustomer($search: String!) {{
  orders(first: 20, sortKey: CREATED_AT, reverse: true, query: $search) {{
    nodes {{ {_ORDER_FIELDS}
      fulfillments(first: 10) {{ {_FULFILLMENT_FIELDS} }}
    }}
  }}
}}"""

# Order status, first rule that applies:
#   cancelledAt set                                                  -> cancelled
#   a live fulfillment is ATTEMPTED_DELIVERY, NOT_DELIVERED, FAILURE -> delayed
#   displayFulfillmentStatus FULFILLED and every fulfillment
#     DELIVERED or PICKED_UP                                         -> delivered
#   any live fulfillment, or displayFulfillmentStatus
#     FULFILLED / PARTIALLY_FULFILLED                                -> shipped
#   displayFinancialStatus AUTHORIZED, PAID, PARTIALLY_REFUNDED      -> paid
#   anything else (PENDING, PARTIALLY_PAID, EXPIRED, VOIDED, ...)    -> pending
# AUTHORIZED counts as paid: the customer has paid, the shop captures later.
# 2024-10 has no DELAYED fulfillment status (it arrives in 2025-01); a failed or
# attempted delivery is the delay this version can tell.
PAID_FINANCIAL_STATUSES = {"AUTHORIZED", "PAID", "PARTIALLY_REFUNDED"}
SHIPPED_FULFILLMENT_STATUSES = {"FULFILLED", "PARTIALLY_FULFILLED"}
# A fulfillment Shopify cancelled or failed to create is no parcel.
DEAD_FULFILLMENTS = {"CANCELLED", "ERROR", "FAILURE"}
# Fulfillment displayStatus -> the shipment statuses the flows know (see the sandbox's openapi.yaml).
SHIPMENT_STATUSES = {
    "LABEL_PRINTED": "label_created",
    "LABEL_PURCHASED": "label_created",
    "SUBMITTED": "label_created",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "DELIVERED": "delivered",
    "PICKED_UP": "delivered",
    "ATTEMPTED_DELIVERY": "delayed",
    "NOT_DELIVERED": "delayed",
    "FAILURE": "exception",
}
IN_TRANSIT = "in_transit"
DELAYED_SHIPMENTS = {"delayed", "exception"}
REFUND_STATUSES = {"REFUNDED": "refunded", "PARTIALLY_REFUNDED": "partially_refunded"}
# What the customer is told after "was cancelled on <day>:". FRAUD and OTHER say nothing:
# accusing a customer in a chat, or guessing, helps nobody.
CANCEL_REASONS = {
    "CUSTOMER": "Cancelled at the customer's request",
    "DECLINED": "The payment was declined",
    "INVENTORY": "Some items were out of stock",
    "STAFF": "Cancelled by the shop because of an error on our side",
}

class ShopifyEShop(EShop):
    # Shopify offers no API through which another app can email a customer a one-time code.
    login_codes_supported = False
    delivery_changes = frozenset({"address"})

    def __init__(self, shop_url: str, access_token: str) -> None:
        require_https(shop_url, "Shopify shop")
        # Kept to pause calls when the cost budget runs out, as a 429's Retry-After would.
        self._upstream = Upstream()
        self._http = HttpTransport(
            shop_url, {"X-Shopify-Access-Token": access_token}, platform="shopify", upstream=self._upstream
        )

    async def get_order(self, number: str) -> Order:
        return _translated(_order, await self._order_node(number))

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
        node = await self._order_node(number)
        refuse_unless_in_warehouse(_translated(_order, node))
        changes = {"id": node["id"], "shippingAddress": _mailing_address(address)}
        data = await self._query(ORDER_ADDRESS_UPDATE, {"input": changes})
        payload = _translated(lambda d: d["orderUpdate"], data)
        _raise_for_user_errors(payload.get("userErrors"))
        return _translated(_order, payload["order"])

    async def _order_node(self, number: str) -> dict:
        match = ORDER_NUMBER.fullmatch(number.strip())
        if not match:
            raise NotFound("shopify: order numbers are digits")
        data = await self._query(ORDER_BY_NAME, {"search": f"name:#{match.group(1)}"})
        nodes = _translated(lambda d: d["orders"]["nodes"], data)
        if not nodes:
            raise NotFound("shopify: no such order")
        return nodes[0]

    async def orders_of_customer(self, customer_id: str) -> list[Order]:
        match = CUSTOMER_GID.fullmatch(customer_id)
        if not match:
            raise InvalidRequest("shopify: customer ids are gid://shopify/Customer/<number>")
        data = await self._query(ORDERS_OF_CUSTOMER, {"search": f"customer_id:{match.group(1)}"})
        return _translated(lambda d: [_order(node) for node in d["orders"]["nodes"]], data)

    async def send_login_code(self, email: str) -> None:
        raise Unsupported("Shopify cannot send a one-time code for us: verify with the order number and email")

    async def verify_login_code(self, email: str, code: str) -> LoginCodeCheck:
        raise Unsupported("Shopify cannot check a one-time code for us: verify with the order number and email")

    async def _query(self, query: str, variables: dict[str, Any]) -> Any:
        """The query's `data`; variables carry the user's input, so nothing they type can alter the query."""
        payload = await self._http.query(GRAPHQL_PATH, {"query": query, "variables": variables})
        if not isinstance(payload, dict):
            raise ServiceUnavailable("shopify: unexpected payload")
        wait = self._pause_if_budget_short(payload)
        _raise_for_errors(payload.get("errors"), wait)
        return payload.get("data")

    def _pause_if_budget_short(self, payload: dict) -> float | None:
        """Hold further calls until Shopify has restored enough points for this query again; returns the pause.

        Asking sooner only earns another THROTTLED, so the pause spares the budget and the time.
        """
        try:
            cost = payload["extensions"]["cost"]
            throttle = cost["throttleStatus"]
            shortfall = float(cost["requestedQueryCost"]) - float(throttle["currentlyAvailable"])
            wait = shortfall / float(throttle["restoreRate"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return None
        if wait <= 0:
            return None
        self._upstream.limiter.block_for(wait)
        return wait


def _raise_for_errors(errors: Any, throttle_wait: float | None) -> None:
    """GraphQL errors come with HTTP 200; any of them makes the answer unusable (partial data may miss a field)."""
    if not errors:
        return
    if not isinstance(errors, list):
        raise ServiceUnavailable("shopify: unexpected payload")
    codes = {(error.get("extensions") or {}).get("code") for error in errors if isinstance(error, dict)}
    if "THROTTLED" in codes:
        raise RateLimited("shopify: query cost budget spent", retry_after=throttle_wait)
    if "ACCESS_DENIED" in codes:
        # A missing scope (read_orders, read_customers) or protected customer data not approved for the app.
        raise AuthenticationFailed("shopify: the access token may not read every field asked for")
    if "INTERNAL_SERVER_ERROR" in codes:
        raise ServiceUnavailable("shopify: internal error")
    first = errors[0] if isinstance(errors[0], dict) else {}
    raise InvalidRequest(f"shopify refused the query: {first.get('message', 'no message')}")


def _raise_for_user_errors(errors: Any) -> None:
    """A mutation's refusal, with HTTP 200 and no GraphQL error: `field` is the path into the input."""
    if not errors:
        return
    fields = {".".join(str(part) for part in (error.get("field") or ["input"])): error.get("message", "")
              for error in errors if isinstance(error, dict)}
    raise InvalidRequest(f"shopify refused the change: {'; '.join(fields.values())}", fields)


_translated = partial(translated, "shopify")


def _mailing_address(address: Address) -> dict[str, str]:
    first_name, last_name = address.first_and_last_name()
    return {"firstName": first_name, "lastName": last_name, "address1": address.line1,
            "address2": address.line2, "zip": address.postal_code, "city": address.city,
            "countryCode": address.country}


def _address(mailing: dict | None) -> Address | None:
    if not mailing or not mailing.get("address1"):
        return None
    return Address(name=f"{mailing['firstName'] or ''} {mailing['lastName'] or ''}".strip(), line1=mailing["address1"],
                   line2=mailing["address2"] or "", postal_code=mailing["zip"] or "", city=mailing["city"] or "",
                   country=mailing["countryCodeV2"] or "")


def _money(money_bag: dict) -> Money:
    shop_money = money_bag["shopMoney"]
    return Money(Decimal(shop_money["amount"]), shop_money["currencyCode"])


def _date(value: str | None) -> date | None:
    moment = iso_datetime(value)
    return moment.date() if moment else None


def _order(node: dict) -> Order:
    live = [f for f in node["fulfillments"] if f["status"] not in DEAD_FULFILLMENTS]
    shipments = tuple(_shipment(f) for f in live)
    return Order(
        number=node["name"].lstrip("#"),
        status=_order_status(node, shipments),
        # Orders without an email (some POS sales) then belong to nobody who asks.
        email=node["email"] or "",
        customer_id=(node["customer"] or {}).get("id"),
        placed_at=iso_datetime(node["createdAt"]),
        total=_money(node["totalPriceSet"]),
        lines=tuple(_line(item) for item in node["lineItems"]["nodes"]) if "lineItems" in node else (),
        shipments=shipments,
        cancelled_at=iso_datetime(node["cancelledAt"]),
        cancel_reason=CANCEL_REASONS.get(node["cancelReason"]),
        refund_status=REFUND_STATUSES.get(node["displayFinancialStatus"]),
        shipping_address=_address(node["shippingAddress"]),
    )


def _order_status(node: dict, shipments: tuple[Shipment, ...]) -> OrderStatus:
    if node["cancelledAt"]:
        return OrderStatus.CANCELLED
    if any(s.status in DELAYED_SHIPMENTS for s in shipments):
        return OrderStatus.DELAYED
    fulfilled = node["displayFulfillmentStatus"]
    if shipments and fulfilled == "FULFILLED" and all(s.status == "delivered" for s in shipments):
        return OrderStatus.DELIVERED
    if shipments or fulfilled in SHIPPED_FULFILLMENT_STATUSES:
        return OrderStatus.SHIPPED
    if node["displayFinancialStatus"] in PAID_FINANCIAL_STATUSES:
        return OrderStatus.PAID
    return OrderStatus.PENDING


def _line(item: dict) -> OrderLine:
    return OrderLine(
        sku=item["sku"] or "",
        product_name=item["title"],
        variant_title=item["variantTitle"] or "",
        quantity=int(item["quantity"]),
        unit_price=_money(item["originalUnitPriceSet"]),
    )


def _shipment(fulfillment: dict) -> Shipment:
    tracking = fulfillment["trackingInfo"][0] if fulfillment["trackingInfo"] else {}
    # Asked newest first (see _TRACKING_EVENTS); the flows read them oldest first.
    events = tuple(reversed([_event(e) for e in fulfillment["events"]["nodes"]])) if "events" in fulfillment else ()
    status = SHIPMENT_STATUSES.get(fulfillment["displayStatus"], IN_TRANSIT)
    return Shipment(
        carrier_name=tracking.get("company") or "",
        tracking_number=tracking.get("number") or "",
        tracking_url=tracking.get("url") or "",
        status=status,
        shipped_at=iso_datetime(fulfillment["createdAt"]),
        estimated_delivery=_date(fulfillment["estimatedDeliveryAt"]),
        delivered_at=iso_datetime(fulfillment["deliveredAt"]),
        delay_reason=events[-1].description if status in DELAYED_SHIPMENTS and events else None,
        events=events,
    )


def _event(node: dict) -> TrackingEvent:
    status = node["status"].lower()
    return TrackingEvent(
        at=iso_datetime(node["happenedAt"]),
        status=status,
        location=node["city"] or "",
        description=node["message"] or status.replace("_", " ").capitalize(),
    )
