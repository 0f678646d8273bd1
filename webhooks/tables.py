"""The webhook tables in the bot's state database (integrations.config.state_database_url).

Times are naive UTC: SQLite keeps no time zones, and both databases must compare the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class WebhookDelivery(Base):
    """A delivery (or a piece of news, see reactions.py) already taken: the unique key lets only one in."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("sender", "delivery_id"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender = Column(String(40), nullable=False)
    delivery_id = Column(String(200), nullable=False)
    received_at = Column(DateTime, nullable=False, index=True)


class ConversationLink(Base):
    """A Rasa conversation that asked about an order or whose customer was verified.

    `email_hash` is the SHA-256 of the lower-cased email (conversations.email_hash): the email itself is
    never stored. `sender_id` is kept as is, because Rasa needs it to reach the conversation.
    """

    __tablename__ = "conversation_links"
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(200), nullable=False)
    order_number = Column(String(40), index=True)
    email_hash = Column(String(64), index=True)
    linked_at = Column(DateTime, nullable=False, index=True)


def state_engine(url: str) -> Engine:
    # Deliveries are handled in worker threads, so a SQLite connection must be usable from any of them.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    Base.metadata.create_all(engine)
    return engine


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
