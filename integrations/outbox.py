"""A durable outbox for writes that must not be lost: CRM interaction logs, tickets, leads.

A write is first stored in a database (SQLite by default, PostgreSQL in
production) under its idempotency key, then delivered. When the CRM is down
the row stays and is retried with growing pauses until it goes through, so a
CRM outage costs delay, never data. Delivery carries the same key every time,
and the adapters make a repeated key return the first result, so a write that
reached the CRM just before a crash is not doubled on the next attempt.

Rows are claimed before delivery, so several action-server processes sharing a
database never deliver the same row at the same time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import JSON, Column, DateTime, Integer, String, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.errors import IntegrationError, Misconfigured, ServiceUnavailable
from integrations.state_database import StateTable, utc_now

logger = logging.getLogger(__name__)

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"
FIRST_PAUSE = timedelta(seconds=2)
LONGEST_PAUSE = timedelta(minutes=10)
# A claim outlives any single delivery (a few upstream calls within their time budgets).
CLAIM = timedelta(seconds=30)

Deliver = Callable[[str, dict[str, Any]], Awaitable[Any]]


class OutboxRow(StateTable):
    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    idempotency_key = Column(String(200), nullable=False, unique=True)
    kind = Column(String(50), nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(20), nullable=False, default=PENDING, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False)
    claimed_until = Column(DateTime)
    last_error = Column(String(100))
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime)
    result = Column(JSON)


@dataclass(frozen=True)
class Outcome:
    """What became of one write: `result` is what the CRM returned when it was delivered."""

    key: str
    status: str
    result: dict[str, Any] | None = None


class Outbox:
    def __init__(self, engine: Engine, deliver: Deliver, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._deliver = deliver
        self._clock = clock

    async def submit(self, kind: str, payload: dict[str, Any], key: str) -> Outcome:
        """Store the write, then try to deliver it now; it stays pending if the CRM cannot take it yet."""
        await asyncio.to_thread(self._store, kind, payload, key)
        return await self._deliver_one(key)

    async def deliver_due(self) -> list[Outcome]:
        """Try every pending write whose pause is over (called periodically and after a recovery)."""
        keys = await asyncio.to_thread(self._due_keys)
        return [await self._deliver_one(key) for key in keys]

    def counts(self) -> dict[str, int]:
        with Session(self._engine, future=True) as session:
            rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
            return {status: count for status, count in rows}

    def _store(self, kind: str, payload: dict[str, Any], key: str) -> None:
        now = self._clock()
        try:
            with Session(self._engine, future=True) as session, session.begin():
                session.add(OutboxRow(
                    idempotency_key=key, kind=kind, payload=payload, next_attempt_at=now, created_at=now,
                ))
        except IntegrityError:
            pass  # the same write was submitted before (a repeated message): one row is enough

    def _due_keys(self) -> list[str]:
        with Session(self._engine, future=True) as session:
            return list(session.scalars(
                select(OutboxRow.idempotency_key)
                .where(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= self._clock())
                .order_by(OutboxRow.id)
            ))

    async def _deliver_one(self, key: str) -> Outcome:
        row = await asyncio.to_thread(self._claim, key)
        if row is None:
            return await asyncio.to_thread(self._outcome, key)
        kind, payload, attempts = row
        try:
            result = await self._deliver(kind, payload)
        except (ServiceUnavailable, Misconfigured) as exc:
            # The CRM is down, busy or not set up yet: the write waits until it is fixed.
            await asyncio.to_thread(self._postpone, key, attempts + 1, type(exc).__name__)
            _log("outbox_write_postponed", kind, key, type(exc).__name__)
        except IntegrationError as exc:
            # The CRM refuses this write as it is: retrying cannot help, so it is set aside for a person.
            await asyncio.to_thread(self._finish, key, REJECTED, None, type(exc).__name__)
            _log("outbox_write_rejected", kind, key, type(exc).__name__)
        else:
            await asyncio.to_thread(self._finish, key, DELIVERED, _plain(result), None)
        return await asyncio.to_thread(self._outcome, key)

    def _claim(self, key: str) -> tuple[str, dict[str, Any], int] | None:
        now = self._clock()
        with Session(self._engine, future=True) as session, session.begin():
            claimed = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.idempotency_key == key,
                    OutboxRow.status == PENDING,
                    or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                )
                .values(claimed_until=now + CLAIM)
            ).rowcount
            if not claimed:
                return None
            row = session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one()
            return row.kind, dict(row.payload), row.attempts

    def _finish(self, key: str, status: str, result: dict[str, Any] | None, error: str | None) -> None:
        with Session(self._engine, future=True) as session, session.begin():
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.idempotency_key == key)
                .values(
                    status=status, result=result, last_error=error, claimed_until=None,
                    attempts=OutboxRow.attempts + 1, delivered_at=self._clock() if status == DELIVERED else None,
                    # Once the CRM has it, the copy here (emails, transcripts) is not kept; a rejected
                    # write keeps it so a person can see what failed.
                    **({"payload": {}} if status == DELIVERED else {}),
                )
            )

    def _postpone(self, key: str, attempts: int, error: str) -> None:
        pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (attempts - 1))
        with Session(self._engine, future=True) as session, session.begin():
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.idempotency_key == key)
                .values(attempts=attempts, last_error=error, claimed_until=None, next_attempt_at=self._clock() + pause)
            )

    def _outcome(self, key: str) -> Outcome:
        with Session(self._engine, future=True) as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one()
            return Outcome(key, row.status, row.result)


def _plain(result: Any) -> dict[str, Any] | None:
    """The CRM's answer as JSON-able data, kept so a repeated submit can answer without calling again."""
    if result is None:
        return None
    return json.loads(json.dumps(asdict(result) if is_dataclass(result) else result, default=str))


def _log(event: str, kind: str, key: str, error: str) -> None:
    # The key names the conversation turn, never the customer; payloads stay out of logs.
    logger.warning(json.dumps({"event": event, "kind": kind, "idempotency_key": key, "error": error}))
