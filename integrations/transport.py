"""One place for how we talk HTTP to any platform.

Timeouts, the time budget, retries, idempotency keys, correlation ids, logging
and the mapping of HTTP failures onto `integrations.errors` all live here, so
adapters only translate payloads. Calls run in a worker thread because
`requests` blocks and the action server serves every conversation on one
event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Mapping

import requests

from integrations.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
)

logger = logging.getLogger(__name__)

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504, 500})


@dataclass(frozen=True)
class Timeouts:
    """Limits that keep a quick answer inside the 700 ms end-to-end budget.

    `budget` caps a whole call, retries included; `connect` and `read` cap
    each attempt (and are cut down to what is left of the budget).
    """

    connect: float = 0.25
    read: float = 0.45
    budget: float = 0.6


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        platform: str,
        timeouts: Timeouts = Timeouts(),
        max_attempts: int = 2,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._platform = platform
        self._timeouts = timeouts
        self._max_attempts = max_attempts
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", **headers})

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await asyncio.to_thread(self._call, "GET", path, params, None, None)

    async def post(self, path: str, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> Any:
        # A key per logical call makes the retries below safe for creations too.
        key = idempotency_key or str(uuid.uuid4())
        return await asyncio.to_thread(self._call, "POST", path, None, body, key)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> Any:
        deadline = time.monotonic() + self._timeouts.budget
        headers = self._request_headers(idempotency_key)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._attempt(method, path, params, body, headers, deadline, attempt)
            except ServiceUnavailable as failure:
                backoff = 0.05 * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                if attempt == self._max_attempts or time.monotonic() + backoff >= deadline:
                    raise
                logger.info("retrying %s %s after: %s", method, path, failure)
                time.sleep(backoff)
        raise AssertionError("unreachable: the loop returns or raises")

    def _attempt(self, method, path, params, body, headers, deadline, attempt) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServiceUnavailable(f"{self._platform}: time budget spent")
        timeout = (min(self._timeouts.connect, remaining), min(self._timeouts.read, remaining))
        started = time.monotonic()
        status: int | str = "error"
        try:
            response = self._session.request(
                method, self._base_url + path, params=params, json=body, headers=headers, timeout=timeout
            )
            status = response.status_code
        except requests.Timeout as exc:
            status = "timeout"
            raise ServiceUnavailable(f"{self._platform}: timed out") from exc
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"{self._platform}: unreachable") from exc
        finally:
            self._log_call(method, path, status, started, attempt, headers)
        return self._parse(response)

    def _request_headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {"X-Correlation-ID": correlation_id.get() or str(uuid.uuid4())}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _parse(self, response: requests.Response) -> Any:
        payload = _json_or_none(response)
        status = response.status_code
        if 200 <= status < 300:
            if payload is None:
                raise ServiceUnavailable(f"{self._platform}: malformed response")
            return payload
        message = _error_message(payload) or f"{self._platform} answered HTTP {status}"
        if status in RETRYABLE_STATUSES or status >= 500:
            raise ServiceUnavailable(message)
        if status in (401, 403):
            raise AuthenticationFailed(message)
        if status == 404:
            raise NotFound(message)
        if status == 409:
            raise Conflict(message)
        raise InvalidRequest(message, _error_fields(payload))

    def _log_call(self, method, path, status, started, attempt, headers) -> None:
        # Paths carry ids only; query strings and bodies may carry emails, so they stay out.
        logger.info(
            json.dumps(
                {
                    "event": "upstream_call",
                    "platform": self._platform,
                    "method": method,
                    "path": path,
                    "status": status,
                    "attempt": attempt,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "correlation_id": headers["X-Correlation-ID"],
                }
            )
        )


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(payload: Any) -> str | None:
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(payload.get("message"), str):
            return payload["message"]
    return None


def _error_fields(payload: Any) -> dict[str, str]:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        fields = payload["error"].get("fields")
        if isinstance(fields, dict):
            return {str(k): str(v) for k, v in fields.items()}
    return {}
