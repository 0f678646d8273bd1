"""The webhook tables in the bot's state database (integrations.state_database)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint

from integrations.state_database import StateTable


class WebhookDelivery(StateTable):
    """A delivery (or a piece of news, see reactions.py) already taken: the unique key lets only one in."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("sender", "delivery_id"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    sender = Column(String(40), nullable=False)
    delivery_id = Column(String(200), nullable=False)
    received_at = Column(DateTime, nullable=False, index=True)


class ConversationLink(StateTable):
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

