"""A WooCommerce REST API v3 store, with the Shipment Tracking extension, on a loopback port.

It checks consumer key and secret as WooCommerce's REST authentication does (HTTP Basic),
validates the query parameters it knows as the WP REST API does (400 rest_invalid_param),
pages lists with `page`/`per_page` and the X-WP-Total / X-WP-TotalPages headers, and
answers in WooCommerce's JSON shapes, errors included ({"code", "message", "data": {"status"}}).
Without trackings (`trackings=None`) the extension is not installed: its routes are 404 rest_no_route.
An order is updated with POST, PUT or PATCH on its route (WordPress's editable methods) by a key with
Read/Write permission: status, shipping address and meta data, checked against the order schema.

Run it alone with `python -m tests.fakes.woocommerce --port N [--consumer-key K --consumer-secret S]`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import re
import secrets
import time
from typing import Any, ContextManager

from tests.fakes import FakePlatform, Reply, Request, json_reply, running, serve_until_terminated

ORDERS = re.compile(r"/wp-json/wc/v3/orders/?")
ORDER = re.compile(r"/wp-json/wc/v3/orders/(\d+)/?")
TRACKINGS = re.compile(r"/wp-json/wc-shipment-tracking/v3/orders/(\d+)/shipment-trackings/?")
ORDER_BYS = {"date", "id", "include", "title", "slug", "modified"}
MAX_PER_PAGE = 100
STATUS_CHOICES = {"any", "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
                  "checkout-draft", "trash"}
ORDER_STATUSES = STATUS_CHOICES - {"any", "trash"}
EDITABLE = {"POST", "PUT", "PATCH"}
SHIPPING_FIELDS = {"first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                   "country", "phone"}
CRITICAL_ERROR = ("<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/"
                  "documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>")


def wp_error(status: int, code: str, message: str, **data: Any) -> Reply:
    return json_reply(status, {"code": code, "message": message, "data": {"status": status, **data}})


NO_ROUTE = ("rest_no_route", "No route was found matching the URL and request method.")


# --- Test data in WooCommerce's shape. ---

def line_item(name: str = "Organic Tee", *, sku: str = "TEE-BLUE-M", quantity: int = 1, price: float = 29.95,
              variation: dict[str, str] | None = None) -> dict:
    """A line; `variation` (attribute label -> value) makes it a variation, named as WooCommerce names those."""
    attributes = variation or {}
    meta = [{"id": i + 1, "key": "pa_" + label.lower(), "value": value.lower(), "display_key": label,
             "display_value": value} for i, (label, value) in enumerate(attributes.items())]
    meta.append({"id": 99, "key": "_reduced_stock", "value": str(quantity), "display_key": "_reduced_stock",
                 "display_value": str(quantity)})
    total = f"{price * quantity:.2f}"
    return {
        "id": 1, "name": f"{name} - {', '.join(attributes.values())}" if attributes else name,
        "product_id": 501, "variation_id": 601 if attributes else 0, "quantity": quantity, "tax_class": "",
        "subtotal": total, "subtotal_tax": "0.00", "total": total, "total_tax": "0.00", "taxes": [],
        "meta_data": meta, "sku": sku, "price": price, "image": {"id": "", "src": ""},
        "parent_name": name if attributes else None,
    }


def tracking(provider: str = "DHL", number: str = "JD014600003", date_shipped: str = "2024-05-03",
             link: str | None = None) -> dict:
    return {
        "tracking_id": secrets.token_hex(16),
        "tracking_provider": provider,
        "tracking_link": link if link is not None else f"https://www.dhl.de/de/privatkunden.html?piececode={number}",
        "tracking_number": number,
        "date_shipped": date_shipped,
    }


def order(order_id: int, *, status: str = "processing", email: str = "anna.schmidt@example.com",
          customer_id: int = 12, created: str = "2024-05-02T09:30:00", modified: str | None = None,
          total: str = "59.90", currency: str = "EUR", lines: tuple[dict, ...] | None = None,
          refunds: tuple[dict, ...] = ()) -> dict:
    paid = status in ("processing", "completed", "refunded")
    return {
        "id": order_id, "parent_id": 0, "number": str(order_id), "order_key": "wc_order_" + secrets.token_hex(6),
        "created_via": "checkout", "version": "8.9.1", "status": status, "currency": currency,
        "date_created": created, "date_created_gmt": created,
        "date_modified": modified or created, "date_modified_gmt": modified or created,
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "4.95", "shipping_tax": "0.00",
        "cart_tax": "0.00", "total": total, "total_tax": "0.00", "prices_include_tax": True,
        "customer_id": customer_id, "customer_note": "",
        "billing": {"first_name": "Anna", "last_name": "Schmidt", "company": "", "address_1": "Lindenstr. 1",
                    "address_2": "", "city": "Berlin", "state": "", "postcode": "10969", "country": "DE",
                    "email": email, "phone": ""},
        "shipping": {"first_name": "Anna", "last_name": "Schmidt", "company": "", "address_1": "Lindenstr. 1",
                     "address_2": "", "city": "Berlin", "state": "", "postcode": "10969", "country": "DE",
                     "phone": ""},
        "payment_method": "stripe", "payment_method_title": "Credit card", "transaction_id": "",
        "date_paid": created if paid else None, "date_paid_gmt": created if paid else None,
        "date_completed": modified if status == "completed" else None,
        "date_completed_gmt": modified if status == "completed" else None,
        "meta_data": [], "line_items": list(lines if lines is not None else (line_item(),)),
        "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [],
        "refunds": [{"id": 900 + i, "reason": r.get("reason", ""), "total": r["total"]} for i, r in enumerate(refunds)],
    }


DEMO_ORDERS = (
    order(1001, status="pending"),
    order(1002),
    order(1003, status="completed", modified="2024-05-03T08:00:00"),
    order(1004, status="cancelled", modified="2024-05-02T12:00:00", email="ben.miller@example.com", customer_id=13),
)
DEMO_TRACKINGS = {1003: [tracking()]}


class WooCommerceFake(FakePlatform):
    def __init__(self, orders: tuple[dict, ...] | list[dict] = DEMO_ORDERS,
                 trackings: dict[int, list[dict]] | None = None, *, consumer_key: str | None = None,
                 consumer_secret: str | None = None, read_only: bool = False, port: int = 0) -> None:
        super().__init__(port)
        self.consumer_key = consumer_key or "ck_" + secrets.token_hex(20)
        self.consumer_secret = consumer_secret or "cs_" + secrets.token_hex(20)
        self.read_only = read_only  # the key's permission is Read rather than Read/Write
        self.orders = {o["id"]: o for o in orders}
        self.trackings = trackings

    def answer(self, request: Request) -> Reply:
        collection, order_match = ORDERS.fullmatch(request.path), ORDER.fullmatch(request.path)
        # Without the extension its routes do not exist at all.
        trackings_match = TRACKINGS.fullmatch(request.path) if self.trackings is not None else None
        if order_match and request.method in EDITABLE:
            return self._authentication_error(request, single=True, write=True) or \
                self._update_order(int(order_match.group(1)), request.body)
        if request.method != "GET" or not (collection or order_match or trackings_match):
            return wp_error(404, *NO_ROUTE)
        refused = self._authentication_error(request, single=not collection)
        if refused:
            return refused
        if collection:
            return self._list_orders(request.query)
        order_id = int((order_match or trackings_match).group(1))
        if order_id not in self.orders:
            if order_match:
                return wp_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return wp_error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        if order_match:
            return json_reply(200, self.orders[order_id])
        return json_reply(200, self.trackings.get(order_id, []))

    def throttled(self, request: Request) -> Reply:
        # WooCommerce itself does not limit its REST API; the host's web server or firewall does, in plain text.
        return Reply(429, b"Too Many Requests", {"Retry-After": "5"}, content_type="text/plain")

    def internal_error(self) -> Reply:
        return json_reply(500, {"code": "internal_server_error", "message": CRITICAL_ERROR,
                                "data": {"status": 500}, "additional_errors": []})

    def _authentication_error(self, request: Request, *, single: bool, write: bool = False) -> Reply | None:
        """WooCommerce's Basic authentication: no credentials leave the request anonymous, wrong ones fail it."""
        key, secret = _basic_credentials(request.header("Authorization"))
        if key is not None and key != self.consumer_key:
            return wp_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if key is not None and secret != self.consumer_secret:
            return wp_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        if write and (key is None or self.read_only):
            return wp_error(401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        if key is None:
            message = "Sorry, you cannot view this resource." if single else "Sorry, you cannot list resources."
            return wp_error(401, "woocommerce_rest_cannot_view", message)
        return None

    def _update_order(self, order_id: int, body: bytes) -> Reply:
        try:
            changes = json.loads(body or b"{}")
        except ValueError:
            changes = None
        if not isinstance(changes, dict):
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if order_id not in self.orders:
            return wp_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        invalid = _invalid_order_changes(changes)
        if invalid:
            return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(invalid)}", params=invalid)
        updated = self.orders[order_id]
        if "status" in changes:
            updated["status"] = changes["status"]
        # Only the address fields sent change, as WooCommerce sets them one by one.
        updated["shipping"].update({k: v for k, v in changes.get("shipping", {}).items() if k in SHIPPING_FIELDS})
        for entry in changes.get("meta_data", []):
            _set_meta(updated["meta_data"], entry["key"], entry.get("value"))
        updated["date_modified"] = updated["date_modified_gmt"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return json_reply(200, updated)

    def _list_orders(self, query: dict[str, str]) -> Reply:
        invalid = _invalid_list_params(query)
        if invalid:
            return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(invalid)}", params=invalid)
        orders = list(self.orders.values())
        if "customer" in query:
            orders = [o for o in orders if o["customer_id"] == int(query["customer"])]
        if query.get("status", "any") != "any":
            orders = [o for o in orders if o["status"] == query["status"]]
        field = {"date": "date_created_gmt", "modified": "date_modified_gmt"}.get(query.get("orderby", "date"), "id")
        orders.sort(key=lambda o: (o[field], o["id"]), reverse=query.get("order", "desc") == "desc")
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        pages = math.ceil(len(orders) / per_page)
        if page > pages > 0:
            return wp_error(400, "rest_post_invalid_page_number",
                            "The page number requested is larger than the number of pages available.")
        headers = {"X-WP-Total": str(len(orders)), "X-WP-TotalPages": str(pages)}
        return json_reply(200, orders[(page - 1) * per_page: page * per_page], headers)


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.startswith("Basic "):
        return None, None
    try:
        key, _, secret = base64.b64decode(header[len("Basic "):], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return key, secret


def _invalid_list_params(query: dict[str, str]) -> dict[str, str]:
    """The WP REST API checks each parameter against its schema; unknown parameters pass unread."""
    invalid = {}
    for name in ("customer", "page", "per_page"):
        if name in query and not query[name].isdigit():
            invalid[name] = f"{name} is not of type integer."
    if query.get("per_page", "1").isdigit() and not 1 <= int(query.get("per_page", "1")) <= MAX_PER_PAGE:
        invalid["per_page"] = f"per_page must be between 1 and {MAX_PER_PAGE} (inclusive)"
    if query.get("page", "1").isdigit() and int(query.get("page", "1")) < 1:
        invalid["page"] = "page must be greater than or equal to 1"
    if query.get("orderby", "date") not in ORDER_BYS:
        invalid["orderby"] = f"orderby is not one of {', '.join(sorted(ORDER_BYS))}."
    if query.get("order", "desc") not in ("asc", "desc"):
        invalid["order"] = "order is not one of asc and desc."
    if query.get("status", "any") not in STATUS_CHOICES:
        invalid["status"] = "status is not one of the order statuses."
    return invalid


def _invalid_order_changes(changes: dict[str, Any]) -> dict[str, str]:
    """The order schema's checks of what this fake can change; other fields pass unread, as unknown ones do."""
    invalid = {}
    if "status" in changes and changes["status"] not in ORDER_STATUSES:
        invalid["status"] = f"status is not one of {', '.join(sorted(ORDER_STATUSES))}."
    shipping = changes.get("shipping", {})
    if not isinstance(shipping, dict) or not all(isinstance(v, str) for v in shipping.values()):
        invalid["shipping"] = "shipping is not of type object."
    meta = changes.get("meta_data", [])
    if not isinstance(meta, list) or not all(isinstance(e, dict) and isinstance(e.get("key"), str) for e in meta):
        invalid["meta_data"] = "meta_data[0][key] is not of type string."
    return invalid


def _set_meta(meta_data: list[dict], key: str, value: Any) -> None:
    for entry in meta_data:
        if entry["key"] == key:
            entry["value"] = value
            return
    meta_data.append({"id": 1000 + len(meta_data), "key": key, "value": value})


def running_woocommerce_fake(orders: tuple[dict, ...] | list[dict] = DEMO_ORDERS,
                             trackings: dict[int, list[dict]] | None = None, *, consumer_key: str | None = None,
                             consumer_secret: str | None = None, read_only: bool = False) -> ContextManager[WooCommerceFake]:
    """A started fake: `.base_url`, `.consumer_key`, `.consumer_secret`, `.orders`, `.requests`, `.misbehave(mode)`."""
    return running(WooCommerceFake(orders, trackings, consumer_key=consumer_key, consumer_secret=consumer_secret,
                                   read_only=read_only))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--consumer-key", help="default: a random one, printed")
    parser.add_argument("--consumer-secret", help="default: a random one, printed")
    options = parser.parse_args()
    fake = WooCommerceFake(DEMO_ORDERS, DEMO_TRACKINGS, consumer_key=options.consumer_key,
                           consumer_secret=options.consumer_secret, port=options.port)
    serve_until_terminated(fake, {"consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret})


if __name__ == "__main__":
    main()
