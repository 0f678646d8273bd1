"""Is a delivery really from its sender, and recent? Checked on the raw body bytes, before any parsing.

Shopify and WooCommerce sign only the body: base64(HMAC-SHA256(secret, body)). The sandbox signs the
time together with the body, Stripe-style (`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`),
so its timestamp cannot be changed without breaking the signature. Shopify's X-Shopify-Triggered-At is
not covered by its signature; WooCommerce sends no time at all (see events.time_in_payload).

The event type must not be rewritable either. The sandbox names it in the signed body too, so its
X-Sandbox-Event header must agree with the body or the delivery is refused. Shopify's and WooCommerce's
topic headers are signed by nothing: reactions.py reads the order back from the shop before telling anyone.

Each sender has a list of active secrets, newest first: during a rotation a delivery signed with any of
them passes. Digests are compared in constant time. Header names are expected in lower case.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

SHOPIFY, WOOCOMMERCE, SANDBOX = "shopify", "woocommerce", "sandbox"

MAX_AGE = timedelta(minutes=5)
MAX_AHEAD = timedelta(minutes=1)  # clocks differ a little; more than this is not a clock, it is a forgery
# Printable ASCII without spaces, and short enough for the webhook_deliveries column.
DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,120}$")
ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
WOOCOMMERCE_PING = re.compile(rb"^webhook_id=\d+$")


class DeliveryRejected(Exception):
    """A delivery that is not taken. `status` and `type` are what the sender is answered."""

    status, type = 400, "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadSignature(DeliveryRejected):
    status, type = 401, "invalid_signature"


class StaleDelivery(DeliveryRejected):
    status, type = 400, "stale_delivery"


class TopicMismatch(DeliveryRejected):
    """The unsigned event header says something else than the signed body: a genuine delivery rewritten."""

    status, type = 400, "topic_mismatch"


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature checked out. `sent_at` is None when the sender gives no time.

    `topic` is the signed one where the sender signs it (the sandbox), else the unsigned header's.
    """

    sender: str
    delivery_id: str
    topic: str
    sent_at: datetime | None


def verify_shopify(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> Delivery:
    _require_base64_hmac(headers.get("x-shopify-hmac-sha256"), body, secrets)
    triggered_at = parse_time(headers.get("x-shopify-triggered-at", ""))
    if triggered_at is None:
        raise DeliveryRejected("X-Shopify-Triggered-At is missing or not an ISO 8601 time.")
    return Delivery(SHOPIFY, _delivery_id(headers, "x-shopify-webhook-id"), _topic(headers, "x-shopify-topic"),
                    triggered_at)


def verify_woocommerce(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> Delivery:
    _require_base64_hmac(headers.get("x-wc-webhook-signature"), body, secrets)
    # WooCommerce derives the delivery id from the webhook's id and the current second, so two events of
    # one webhook within a second share it. The body's digest tells those apart; a replay still matches.
    delivery_id = f"{_delivery_id(headers, 'x-wc-webhook-delivery-id')}.{hashlib.sha256(body).hexdigest()[:32]}"
    return Delivery(WOOCOMMERCE, delivery_id, _topic(headers, "x-wc-webhook-topic"), None)


def verify_sandbox(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> Delivery:
    timestamp, signatures = _sandbox_signature_parts(headers.get("x-sandbox-signature", ""))
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).digest() for secret in secrets]
    if not any(hmac.compare_digest(given, wanted) for given in signatures for wanted in expected):
        raise BadSignature("The signature does not match.")
    sent_at = datetime.fromtimestamp(int(timestamp), timezone.utc)
    return Delivery(SANDBOX, _delivery_id(headers, "x-sandbox-delivery-id"), _signed_sandbox_event(headers, body),
                    sent_at)


VERIFIERS = {SHOPIFY: verify_shopify, WOOCOMMERCE: verify_woocommerce, SANDBOX: verify_sandbox}


def check_fresh(sent_at: datetime, now: datetime) -> None:
    if sent_at < now - MAX_AGE:
        raise StaleDelivery(f"The delivery is older than {int(MAX_AGE.total_seconds() // 60)} minutes.")
    if sent_at > now + MAX_AHEAD:
        raise StaleDelivery("The delivery is dated in the future.")


def is_woocommerce_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's unsigned test POST when a webhook is saved: it must get a 200 or the webhook stays off."""
    return "x-wc-webhook-signature" not in headers and WOOCOMMERCE_PING.match(body.strip()) is not None


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; without a zone it is taken as UTC (WooCommerce's *_gmt).

    Shopify sends nanoseconds, which datetime cannot hold: the digits past microseconds are dropped.
    """
    match = ISO_TIME.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    seconds, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(f"{seconds}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")
    except ValueError:  # e.g. a 31st of February
        return None
    return moment.astimezone(timezone.utc)


def json_object(body: bytes) -> dict[str, Any]:
    """The body of a delivery; every sender sends a JSON object."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DeliveryRejected("The body must be a JSON object.") from None
    if not isinstance(payload, dict):
        raise DeliveryRejected("The body must be a JSON object.")
    return payload


def _require_base64_hmac(header: str | None, body: bytes, secrets: Sequence[str]) -> None:
    try:
        given = base64.b64decode(header or "", validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("The signature is not base64.") from None
    expected = [hmac.new(secret.encode(), body, hashlib.sha256).digest() for secret in secrets]
    if not given or not any(hmac.compare_digest(given, wanted) for wanted in expected):
        raise BadSignature("The signature does not match.")


def _sandbox_signature_parts(header: str) -> tuple[str, list[bytes]]:
    """(the timestamp exactly as sent, the v1 digests) of `t=...,v1=...[,v1=...]`."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = value
        elif key == "v1":
            try:
                signatures.append(bytes.fromhex(value))
            except ValueError:
                continue
    if timestamp is None or not signatures:
        raise BadSignature("X-Sandbox-Signature must be 't=<unix seconds>,v1=<hex digest>'.")
    return timestamp, signatures


def _signed_sandbox_event(headers: Mapping[str, str], body: bytes) -> str:
    """The event the signed body names; the header, which anyone can change, must say the same."""
    event = json_object(body).get("event")
    if not isinstance(event, str) or not event.strip():
        raise DeliveryRejected("The body names no event.")
    if _topic(headers, "x-sandbox-event") != event:
        raise TopicMismatch("X-Sandbox-Event is not the event named in the signed body.")
    return event


def _delivery_id(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "")
    if not DELIVERY_ID.match(value):
        raise DeliveryRejected(f"The {name} header is missing or not a delivery id.")
    return value


def _topic(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise DeliveryRejected(f"The {name} header is missing.")
    return value
