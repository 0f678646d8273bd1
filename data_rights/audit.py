"""The audit log of data subject requests: who asked, when, for what, about whom, and how it ended.

It outlives the erasure it records (it shows the shop answered the request), so it holds no personal data:
the subject is the SHA-256 of the lower-cased email (the same hash as the conversation links), the
requester a conversation pseudonym ("conv-...", never the sender id) or "operator", the result a short code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import Column, DateTime, Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from integrations.state_database import StateTable, utc_now
from webhooks.conversations import email_hash

EXPORT, ERASE, CONSENT = "export", "erase", "consent"
OPERATOR = "operator"
# How a request ended: carried out, refused before anything was done, or failed on the way (with the error's
# name appended, e.g. "failed:ServiceUnavailable").
DONE, NOT_VERIFIED, UNSUPPORTED, FAILED = "done", "not_verified", "unsupported", "failed"


class PrivacyRequest(StateTable):
    __tablename__ = "privacy_requests"
    id = Column(Integer, primary_key=True, autoincrement=True)
    requested_by = Column(String(40), nullable=False)
    requested_at = Column(DateTime, nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    subject = Column(String(64), nullable=False, index=True)
    result = Column(String(60), nullable=False)


@dataclass(frozen=True)
class AuditEntry:
    requested_by: str
    requested_at: datetime
    kind: str
    result: str


class AuditLog:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def record(self, requested_by: str, kind: str, email: str, result: str) -> None:
        with Session(self._engine, future=True) as session, session.begin():
            session.add(PrivacyRequest(requested_by=requested_by, requested_at=self._clock(), kind=kind,
                                       subject=email_hash(email), result=result[:60]))

    def entries_about(self, email: str) -> list[AuditEntry]:
        """The requests about this email, oldest first."""
        with Session(self._engine, future=True) as session:
            rows = session.scalars(select(PrivacyRequest).where(PrivacyRequest.subject == email_hash(email))
                                   .order_by(PrivacyRequest.requested_at, PrivacyRequest.id))
            return [AuditEntry(row.requested_by, row.requested_at, row.kind, row.result) for row in rows]
