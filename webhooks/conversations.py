"""Which Rasa conversation to tell when the shop reports news about an order or a customer.

The action server remembers a conversation once its customer is verified (remember_conversation);
a webhook later finds the newest conversation for the order, or else for the customer's email, and the
action that tells the news checks that its conversation is one of those (conversation_follows).
Emails are kept only as a SHA-256 of their lower-cased form.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from integrations.config import state_database_url
from integrations.state_database import state_engine, utc_now
from webhooks.tables import ConversationLink

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Past this, news about an order is no longer news to that conversation.
LINK_LIFETIME = timedelta(days=30)


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class ConversationLinks:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def remember(self, sender_id: str, order_number: str | None = None, email_hash: str | None = None) -> None:
        """Link the conversation to the order and/or the customer; linking again makes it the newest."""
        if not (order_number or email_hash):
            raise ValueError("give an order number, an email hash or both")
        if email_hash is not None and not SHA256_HEX.match(email_hash):
            raise ValueError("email_hash must be conversations.email_hash(email), never the email itself")
        with Session(self._engine, future=True) as session, session.begin():
            link = session.scalars(select(ConversationLink).where(
                ConversationLink.sender_id == sender_id,
                _equals_or_null(ConversationLink.order_number, order_number),
                _equals_or_null(ConversationLink.email_hash, email_hash),
            )).first()
            if link is None:
                link = ConversationLink(sender_id=sender_id, order_number=order_number, email_hash=email_hash)
                session.add(link)
            link.linked_at = self._clock()

    def conversation_for(self, order_number: str | None, email_hash: str | None) -> str | None:
        """The sender id of the newest conversation about the order, else of the customer; None if none."""
        with Session(self._engine, future=True) as session:
            for column, value in ((ConversationLink.order_number, order_number),
                                  (ConversationLink.email_hash, email_hash)):
                if value is None:
                    continue
                sender_id = session.scalar(
                    select(ConversationLink.sender_id)
                    .where(column == value, ConversationLink.linked_at >= self._clock() - LINK_LIFETIME)
                    .order_by(ConversationLink.linked_at.desc(), ConversationLink.id.desc())
                    .limit(1)
                )
                if sender_id is not None:
                    return sender_id
        return None

    def follows(self, sender_id: str, order_number: str, email_hash: str) -> bool:
        """Whether the conversation was linked, recently enough, to the order or to the customer it belongs to."""
        with Session(self._engine, future=True) as session:
            return session.scalar(
                select(ConversationLink.id)
                .where(ConversationLink.sender_id == sender_id,
                       (ConversationLink.order_number == order_number) | (ConversationLink.email_hash == email_hash),
                       ConversationLink.linked_at >= self._clock() - LINK_LIFETIME)
                .limit(1)
            ) is not None

    def purge(self) -> int:
        with Session(self._engine, future=True) as session, session.begin():
            return session.execute(
                delete(ConversationLink).where(ConversationLink.linked_at < self._clock() - LINK_LIFETIME)
            ).rowcount


def remember_conversation(sender_id: str, order_number: str | None = None, email_hash: str | None = None) -> None:
    """For the action server, after a customer is verified. Blocking: call it via asyncio.to_thread."""
    _state_links().remember(sender_id, order_number=order_number, email_hash=email_hash)


def conversation_follows(sender_id: str, order_number: str, email_hash: str) -> bool:
    """For the action server, before it tells news about an order. Blocking: call it via asyncio.to_thread."""
    return _state_links().follows(sender_id, order_number, email_hash)


@lru_cache(maxsize=1)
def _state_links() -> ConversationLinks:
    return ConversationLinks(state_engine(state_database_url()))


def _equals_or_null(column, value: str | None):
    return column.is_(None) if value is None else column == value
