"""What keeps a sick upstream from taking the conversations down with it.

One `Upstream` per platform bundles a circuit breaker, a client-side rate
limit (which also honours the platform's Retry-After) and a read cache. The
transport consults it on every call; adapters never see it. All of it is
thread-safe because calls run in worker threads.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from dataclasses import dataclass, field
from typing import Any, Callable

Clock = Callable[[], float]


class CircuitBreaker:
    """Fails fast after `threshold` failures in a row, for `cool_down` seconds.

    An upstream that is down would otherwise cost every conversation the whole
    time budget before it hears the apology. After the cool-down one trial call
    goes through: success closes the circuit, failure opens it again.
    """

    def __init__(self, threshold: int = 5, cool_down: float = 30.0, clock: Clock = time.monotonic) -> None:
        self._threshold = threshold
        self._cool_down = cool_down
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if self._clock() - self._opened_at < self._cool_down or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_running = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._failures >= self._threshold:
                self._opened_at = self._clock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None


class RateLimiter:
    """A token bucket of `rate` calls per second (bursts up to `burst`), plus the upstream's own Retry-After.

    `wait_time()` says how long the next call must wait; the transport waits
    only when that fits in the call's budget, and otherwise gives up at once
    rather than hammering a platform that asked us to slow down.
    """

    def __init__(self, rate: float = 10.0, burst: int = 20, clock: Clock = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._refilled_at = clock()
        self._blocked_until = 0.0

    def wait_time(self) -> float:
        with self._lock:
            self._refill()
            blocked = max(0.0, self._blocked_until - self._clock())
            shortage = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate
            return max(blocked, shortage)

    def take(self) -> None:
        with self._lock:
            self._refill()
            self._tokens -= 1

    def block_for(self, seconds: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now


class TtlCache:
    """Answers to reads that change rarely (catalog, shipping zones, FAQ), kept for `ttl` seconds.

    Webhooks invalidate entries by key prefix as soon as the shop says something changed.
    """

    def __init__(self, clock: Clock = time.monotonic, max_entries: int = 1000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self._clock():
                self._entries.pop(key, None)
                return False, None
            return True, entry[1]

    def put(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self._clock() + ttl, value)

    def invalidate(self, prefix: str = "") -> int:
        with self._lock:
            doomed = [key for key in self._entries if key.startswith(prefix)]
            for key in doomed:
                del self._entries[key]
            return len(doomed)


@dataclass
class Upstream:
    """The protective state of one platform, shared by every call to it."""

    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    cache: TtlCache = field(default_factory=TtlCache)


def retry_after_seconds(header: str | None, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> float | None:
    """The delay a 429 or 503 asks for, in seconds (Retry-After is either seconds or an HTTP date); None if absent."""
    if not header:
        return None
    try:
        return max(0.0, float(header.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - now()).total_seconds())
    except (TypeError, ValueError):
        return None
