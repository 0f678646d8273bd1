"""Deliveries as each platform sends them: signed here independently of webhooks/signatures.py.

The sandbox's deliveries are signed by sandbox_backend/webhooks.py, the sender's own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta, timezone

from sandbox_backend.webhooks import signature_header

# Newest first, as in the *_WEBHOOK_SECRETS variables: during a rotation both are active.
SECRETS = {
    "shopify": ["shopify-secret-new", "shopify-secret-old"],
    "woocommerce": ["woo-secret-new", "woo-secret-old"],
    "sandbox": ["sandbox-secret-new", "sandbox-secret-old"],
}
SENDERS = tuple(SECRETS)
EMAIL = "ben.miller@example.com"
TRACKING_URL = "https://tracking.example/dhl/JJD0099123456"


def now() -> datetime:
    return datetime.now(timezone.utc)


def base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify(payload: dict, topic: str, *, secret: str = SECRETS["shopify"][0], delivery_id: str | None = None,
            sent_at: datetime | None = None) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    # Shopify's own format: nanoseconds and a Z.
    triggered_at = (sent_at or now()).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64_hmac(secret, body),
        "X-Shopify-Shop-Domain": "outdoor-shop.myshopify.com",
        "X-Shopify-Webhook-Id": delivery_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
        "X-Shopify-Api-Version": "2024-07",
    }, body


def woocommerce(payload: dict, topic: str, *, secret: str = SECRETS["woocommerce"][0],
                delivery_id: str | None = None) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://outdoor-shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": base64_hmac(secret, body),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }, body


def sandbox(payload: dict, event: str, *, secret: str = SECRETS["sandbox"][0], delivery_id: str | None = None,
            sent_at: datetime | None = None) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    return {
        "Content-Type": "application/json",
        "X-Sandbox-Event": event,
        "X-Sandbox-Delivery-Id": delivery_id or str(uuid.uuid4()),
        "X-Sandbox-Signature": signature_header(secret, body, int((sent_at or now()).timestamp())),
    }, body


def resigned(sender: str, headers: dict[str, str], body: bytes, secret: str) -> tuple[dict[str, str], bytes]:
    """The delivery signed again, over `body`, with `secret`, as its sender would have."""
    if sender == "shopify":
        return {**headers, "X-Shopify-Hmac-Sha256": base64_hmac(secret, body)}, body
    if sender == "woocommerce":
        return {**headers, "X-WC-Webhook-Signature": base64_hmac(secret, body)}, body
    timestamp = int(headers["X-Sandbox-Signature"].split(",")[0].removeprefix("t="))
    return {**headers, "X-Sandbox-Signature": signature_header(secret, body, timestamp)}, body


def woo_time(moment: datetime) -> str:
    """WooCommerce's *_gmt format: no zone, no fraction."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def shipped(sender: str, order_number: str, *, secret_index: int = 0, delivery_id: str | None = None,
            sent_at: datetime | None = None, email: str = EMAIL) -> tuple[dict[str, str], bytes]:
    """A delivery that means "order shipped", the way `sender` says it."""
    secret, sent_at = SECRETS[sender][secret_index], sent_at or now()
    if sender == "shopify":
        order = {"id": 450789469, "order_number": int(order_number), "name": f"#{order_number}", "email": email,
                 "fulfillments": [{"id": 255858046, "created_at": "2024-07-01T10:00:00-04:00",
                                   "tracking_company": "DHL", "tracking_number": "JJD0099123456",
                                   "tracking_url": TRACKING_URL, "shipment_status": None}]}
        return shopify(order, "orders/fulfilled", secret=secret, delivery_id=delivery_id, sent_at=sent_at)
    if sender == "woocommerce":
        return woocommerce(woo_order(order_number, "completed", sent_at, email=email), "order.updated",
                           secret=secret, delivery_id=delivery_id)
    payload = {"event": "order.shipped", "created_at": woo_time(sent_at) + "Z", "data": {
        "order": {"number": order_number, "email": email, "status": "shipped"},
        "shipment": {"id": f"shp_{order_number}_1", "carrier": {"code": "dhl", "name": "DHL"},
                     "tracking_number": "JJD0099123456", "tracking_url": TRACKING_URL, "status": "in_transit",
                     "estimated_delivery": "2030-05-03", "delay_reason": None}}}
    return sandbox(payload, "order.shipped", secret=secret, delivery_id=delivery_id, sent_at=sent_at)


def woo_order(number: str, status: str, modified: datetime, *, email: str = EMAIL,
              changed_status_at: datetime | None = None) -> dict:
    """An order as WooCommerce's REST API shows it; the status's date is stamped at `changed_status_at`."""
    stamped = woo_time(changed_status_at or modified)
    return {
        "id": int(number), "number": number, "status": status, "currency": "EUR",
        "date_modified_gmt": woo_time(modified),
        "date_paid_gmt": stamped if status in ("processing", "completed") else None,
        "date_completed_gmt": stamped if status == "completed" else None,
        "billing": {"first_name": "Ben", "email": email},
        "meta_data": [{"id": 1, "key": "_wc_shipment_tracking_items", "value": [
            {"tracking_provider": "DHL", "custom_tracking_provider": "", "tracking_number": "JJD0099123456",
             "custom_tracking_link": TRACKING_URL, "date_shipped": "1719835200"}]}],
    }


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)
