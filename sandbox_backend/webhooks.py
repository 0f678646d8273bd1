"""Webhooks the sandbox sends for its own events, signed the way a shop platform signs them.

Each event is POSTed to SANDBOX_WEBHOOK_URL as {"event", "created_at", "data"} with
X-Sandbox-Event, a fresh X-Sandbox-Delivery-Id (the same on every retry of that delivery) and
X-Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(SANDBOX_WEBHOOK_SECRET, "<t>." + body)>,
signed anew for each attempt. Sending happens on a background thread with a short timeout and a few
retries: an event never slows down or fails the API request that caused it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Mapping

import requests

logger = logging.getLogger("sandbox_backend.webhooks")

ATTEMPTS = 3
FIRST_PAUSE = 0.5  # seconds, doubled after each failed attempt
TIMEOUT = (1.0, 2.0)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookEmitter:
    def __init__(self, url: str, secret: str, first_pause: float = FIRST_PAUSE) -> None:
        self._url = url
        self._secret = secret
        self._first_pause = first_pause
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-webhooks")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookEmitter | None:
        """An emitter when SANDBOX_WEBHOOK_URL and SANDBOX_WEBHOOK_SECRET are both set, else None."""
        url, secret = env.get("SANDBOX_WEBHOOK_URL", "").strip(), env.get("SANDBOX_WEBHOOK_SECRET", "").strip()
        return cls(url, secret) if url and secret else None

    def emit(self, event: str, data: dict[str, Any]) -> str:
        """Queue the event for sending; returns its delivery id."""
        delivery_id = str(uuid.uuid4())
        body = json.dumps({"event": event, "created_at": _now(), "data": data}, ensure_ascii=False).encode()
        self._executor.submit(self._deliver, event, delivery_id, body)
        return delivery_id

    def close(self) -> None:
        """Finish the deliveries under way; queued ones are dropped, as a shop's would be on a restart."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _deliver(self, event: str, delivery_id: str, body: bytes) -> None:
        pause = self._first_pause
        for attempt in range(1, ATTEMPTS + 1):
            outcome = self._attempt(event, delivery_id, body)
            fields = {"event": event, "delivery_id": delivery_id, "attempt": attempt, **outcome}
            if outcome.get("status", 0) // 100 == 2:
                logger.info("webhook delivered", extra={"fields": fields})
                return
            logger.warning("webhook attempt failed", extra={"fields": fields})
            if attempt < ATTEMPTS:
                time.sleep(pause)
                pause *= 2
        logger.error("webhook given up", extra={"fields": {"event": event, "delivery_id": delivery_id}})

    def _attempt(self, event: str, delivery_id: str, body: bytes) -> dict[str, Any]:
        headers = {
            "Content-Type": "application/json",
            "X-Sandbox-Event": event,
            "X-Sandbox-Delivery-Id": delivery_id,
            "X-Sandbox-Signature": signature_header(self._secret, body, int(time.time())),
        }
        try:
            response = requests.post(self._url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            return {"error": type(error).__name__}
        return {"status": response.status_code}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
