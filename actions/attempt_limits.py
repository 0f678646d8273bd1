"""Limits on proving who you are: failed order/email pairs and one-time code requests, counted over time.

Order numbers are sequential, so with a customer's email known, a few guesses near one number find
their orders. The limits therefore live in the state database (not in a slot that a new conversation
resets) and are counted per email, per conversation and per client address over a sliding window:
- one failed pair for an email suspends proofs by order number for that email for the window; the
  owner can still prove it with a one-time code, which goes to their mailbox and cannot be guessed;
- a conversation or a client address with too many failures gets no more tries for the window;
- one-time codes are sent at most a few times per email and per conversation in their window.
A refused try gets the same answer as a wrong one, so the limits tell an attacker nothing.
Keys are hashed: the table holds no email address.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import Column, DateTime, Integer, String, delete, func, insert, select
from sqlalchemy.engine import Engine

from integrations.state_database import StateTable, utc_now

MISS, CODE = "miss", "code"


class Attempt(StateTable):
    __tablename__ = "verification_attempts"
    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(String(8), nullable=False)
    scope = Column(String(16), nullable=False)
    key_hash = Column(String(64), nullable=False, index=True)
    at = Column(DateTime, nullable=False, index=True)


@dataclass(frozen=True)
class Limits:
    """How many of each kind per scope a window allows; the README's Security section lists the settings."""

    miss_window: timedelta
    misses: Mapping[str, int]
    code_window: timedelta
    codes: Mapping[str, int]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Limits":
        number = lambda name, default: int(env.get(name) or default)  # noqa: E731
        return cls(
            miss_window=timedelta(minutes=number("VERIFY_WINDOW_MINUTES", 60)),
            misses={"email": number("VERIFY_MISSES_PER_EMAIL", 1),
                    "conversation": number("VERIFY_MISSES_PER_CONVERSATION", 3),
                    "client": number("VERIFY_MISSES_PER_CLIENT", 10)},
            code_window=timedelta(minutes=number("LOGIN_CODE_WINDOW_MINUTES", 60)),
            codes={"email": number("LOGIN_CODES_PER_EMAIL", 3),
                   "conversation": number("LOGIN_CODES_PER_CONVERSATION", 3)},
        )


class AttemptLimits:
    def __init__(self, engine: Engine, limits: Limits, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._limits = limits
        self._clock = clock

    def proof_refused(self, keys: Mapping[str, str | None]) -> bool:
        """Whether a pair may not even be checked now: some scope used up its failures."""
        return self._used_up(MISS, keys, self._limits.misses, self._limits.miss_window)

    def record_miss(self, keys: Mapping[str, str | None]) -> None:
        self._record(MISS, keys)

    def take_code(self, keys: Mapping[str, str | None]) -> bool:
        """Counts a code about to be sent; False (and nothing counted) when a scope has had its share."""
        if self._used_up(CODE, keys, self._limits.codes, self._limits.code_window):
            return False
        self._record(CODE, keys)
        return True

    def _used_up(self, kind: str, keys: Mapping[str, str | None], allowed: Mapping[str, int],
                 window: timedelta) -> bool:
        since = self._clock() - window
        with self._engine.connect() as connection:
            for scope, key in keys.items():
                if key is None or scope not in allowed:
                    continue
                count = connection.execute(
                    select(func.count()).select_from(Attempt).where(
                        Attempt.kind == kind, Attempt.scope == scope, Attempt.key_hash == _hash(key),
                        Attempt.at > since)
                ).scalar_one()
                if count >= allowed[scope]:
                    return True
        return False

    def _record(self, kind: str, keys: Mapping[str, str | None]) -> None:
        now = self._clock()
        rows = [{"kind": kind, "scope": scope, "key_hash": _hash(key), "at": now}
                for scope, key in keys.items() if key is not None]
        oldest_kept = now - max(self._limits.miss_window, self._limits.code_window)
        with self._engine.begin() as connection:
            if rows:
                connection.execute(insert(Attempt), rows)
            # Old attempts count for nothing: the table stays the size of one window.
            connection.execute(delete(Attempt).where(Attempt.at <= oldest_kept))


def _hash(key: str) -> str:
    return hashlib.sha256(key.casefold().encode()).hexdigest()
