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
from urllib.parse import urlencode

import requests

from integrations.auth import ApiKey, Credentials
from integrations.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from integrations.resilience import Upstream, retry_after_seconds

logger = logging.getLogger(__name__)

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# When set, every call made in this context ends by then, whatever its own budget: an action that
# calls twice must still answer in time. Unset for work done after the reply (background writes).
shared_deadline: ContextVar[float | None] = ContextVar("shared_deadline", default=None)


def answer_within(seconds: float | None) -> None:
    """Give every upstream call made from here on, in this context, `seconds` in all (None: no shared limit)."""
    shared_deadline.set(None if seconds is None else time.monotonic() + seconds)

# When a 429 names no Retry-After, leave the platform alone this long.
DEFAULT_RATE_LIMIT_PAUSE = 1.0
# Shopify answers 402 when the shop's plan is frozen and 423 when the shop is locked: the shop
# is out of service, which is neither the user's fault nor a malformed request.
UNAVAILABLE_STATUSES = {402, 423}


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
    """HTTP to one platform, with every protection in one place.

    `credentials` supplies the auth headers per attempt (an API key, or OAuth2
    tokens refreshed on a 401). `upstream` holds the platform's circuit breaker,
    rate limit and read cache. `idempotent_creations` says whether the platform
    honours our Idempotency-Key: only then is a creation retried here; otherwise
    the adapter makes repeats safe and a failed creation surfaces at once.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        platform: str,
        timeouts: Timeouts = Timeouts(),
        max_attempts: int = 2,
        credentials: Credentials | None = None,
        upstream: Upstream | None = None,
        idempotent_creations: bool = True,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._platform = platform
        self._timeouts = timeouts
        self._max_attempts = max_attempts
        self._credentials = credentials or ApiKey({})
        self._upstream = upstream or Upstream()
        self._idempotent_creations = idempotent_creations
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", **headers})

    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, cache_for: float | None = None) -> Any:
        """A read; with `cache_for` (seconds) the answer is reused until it expires or a webhook invalidates it."""
        if cache_for is None:
            return await asyncio.to_thread(self._call, "GET", path, params, None, None)
        key = path + "?" + urlencode(sorted((params or {}).items()))
        hit, value = self._upstream.cache.get(key)
        if hit:
            return value
        value = await asyncio.to_thread(self._call, "GET", path, params, None, None)
        self._upstream.cache.put(key, value, cache_for)
        return value

    async def post(self, path: str, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> Any:
        """A creation. A key per logical call makes retries safe where the platform applies it once."""
        key = idempotency_key or str(uuid.uuid4())
        return await asyncio.to_thread(self._call, "POST", path, None, body, key)

    async def query(self, path: str, body: Mapping[str, Any]) -> Any:
        """A POST that only reads (a GraphQL query, a search endpoint): safe to retry, so no key."""
        return await asyncio.to_thread(self._call, "POST", path, None, body, None)

    async def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        """An update that sets fields to given values: repeating it changes nothing more."""
        return await asyncio.to_thread(self._call, "PATCH", path, None, body, None)

    def invalidate_cache(self, path_prefix: str = "") -> int:
        """Forget cached reads under `path_prefix`; returns how many were dropped."""
        return self._upstream.cache.invalidate(path_prefix)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> Any:
        breaker = self._upstream.breaker
        if not breaker.allow():
            raise ServiceUnavailable(f"{self._platform}: circuit open after repeated failures")
        upstream_failed = True
        try:
            result = self._call_with_retries(method, path, params, body, idempotency_key)
            upstream_failed = False
            return result
        except RateLimited:
            upstream_failed = False  # a platform that asks us to slow down is busy, not broken
            raise
        except (NotFound, InvalidRequest, Conflict, AuthenticationFailed):
            upstream_failed = False  # the platform answered sensibly; the request was the problem
            raise
        finally:
            breaker.record_failure() if upstream_failed else breaker.record_success()

    def _call_with_retries(self, method, path, params, body, idempotency_key) -> Any:
        deadline = min(time.monotonic() + self._timeouts.budget, shared_deadline.get() or float("inf"))
        retry_allowed = idempotency_key is None or self._idempotent_creations
        fresh_credentials_tried = False
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_rate_limit(deadline)
            headers = self._request_headers(idempotency_key)
            try:
                return self._attempt(method, path, params, body, headers, deadline, attempt)
            except AuthenticationFailed:
                if fresh_credentials_tried or not self._credentials.refused():
                    raise
                fresh_credentials_tried = True
            except ServiceUnavailable as failure:
                # A 429's Retry-After is in the limiter: never retry sooner than the platform asked.
                delay = max(_backoff(attempt), self._upstream.limiter.wait_time())
                if not retry_allowed or attempt >= self._max_attempts or time.monotonic() + delay >= deadline:
                    raise
                logger.info("retrying %s %s after: %s", method, path, failure)
                time.sleep(delay)

    def _wait_for_rate_limit(self, deadline: float) -> None:
        limiter = self._upstream.limiter
        wait = limiter.wait_time()
        if wait > 0:
            if time.monotonic() + wait >= deadline:
                raise RateLimited(f"{self._platform}: rate limited, try again in {wait:.1f} s", retry_after=wait)
            time.sleep(wait)
        limiter.take()

    def _attempt(self, method, path, params, body, headers, deadline, attempt) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServiceUnavailable(f"{self._platform}: time budget spent")
        timeout = (min(self._timeouts.connect, remaining), min(self._timeouts.read, remaining))
        started = time.monotonic()
        status: int | str = "error"
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                params=params,
                json=body,
                headers={**self._credentials.headers(), **headers},
                timeout=timeout,
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
        code = _error_code(payload)
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            self._upstream.limiter.block_for(wait if wait is not None else DEFAULT_RATE_LIMIT_PAUSE)
            raise RateLimited(message, retry_after=wait, code=code)
        if status >= 500 or status in UNAVAILABLE_STATUSES:
            raise ServiceUnavailable(message, code=code)
        if status in (401, 403):
            raise AuthenticationFailed(message, code=code)
        if status == 404:
            raise NotFound(message, code=code)
        if status == 409:
            raise Conflict(message, code=code)
        raise InvalidRequest(message, _error_fields(payload), code=code)

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
    """The platform's own words: {"error": {"message"}} (sandbox), {"message"} (HubSpot, WooCommerce), {"errors": "..."} (Shopify)."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        for key in ("message", "errors"):
            if isinstance(payload.get(key), str):
                return payload[key]
    return None


def _error_code(payload: Any) -> str | None:
    """The platform's name for the error: {"error": {"type"}} (sandbox), {"status": "error", "category"}
    (HubSpot), {"code"} (WooCommerce). Shopify's {"errors"} names none."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        code = error.get("type")
    elif payload.get("status") == "error":
        code = payload.get("category")
    else:
        code = payload.get("code")
    return code if isinstance(code, str) and code else None


def _error_fields(payload: Any) -> dict[str, str]:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        fields = payload["error"].get("fields")
        if isinstance(fields, dict):
            return {str(k): str(v) for k, v in fields.items()}
    return {}


def _backoff(attempt: int) -> float:
    """Exponential, with jitter so that many conversations do not retry in step."""
    return 0.05 * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
