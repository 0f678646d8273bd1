"""The rows of the bot's state database about one customer, found by their email and their conversations.

  conversation_links  conversations to tell the shop's news, by sender id and by the email's hash;
  csat_ratings        ratings, by the conversation's pseudonym;
  outbox              CRM writes, by the pseudonym in their key, or the email in what they carry (a pending
                      write holds the email and the transcript; a delivered one, the CRM's answer).
Erasing the outbox rows also cancels CRM writes still waiting: delivered later, they would bring the
contact back. Not erased: the privacy audit log (audit.py: no personal data, and the proof the request was
answered), and the verification attempt counters (actions/attempt_limits.py: hashed keys, gone within the
hour), which guard the very proof an erasure needs.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import String, cast, delete, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions.csat import CsatRating
from integrations.outbox import OutboxRow
from webhooks.conversations import email_hash
from webhooks.tables import ConversationLink


def conversation_pseudonym(sender_id: str) -> str:
    """The conversation's name in the state database, logs and the CRM (actions.backends.conversation_ref)."""
    return "conv-" + hashlib.sha256(sender_id.encode()).hexdigest()[:16]


class StateRows:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def linked_senders(self, email: str) -> set[str]:
        """The conversations linked to this email once its owner was verified in them."""
        with Session(self._engine, future=True) as session:
            return set(session.scalars(select(ConversationLink.sender_id)
                                       .where(ConversationLink.email_hash == email_hash(email))))

    def about(self, email: str, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The rows about the customer, per table, as JSON objects."""
        senders = set(sender_ids)
        with Session(self._engine, future=True) as session:
            return {table.__tablename__: [_as_json(row) for row in session.scalars(select(table).where(where))]
                    for table, where in self._conditions(email, senders)}

    def erase(self, email: str, sender_ids: Iterable[str]) -> dict[str, int]:
        """Delete the rows about the customer; how many per table."""
        senders = set(sender_ids)
        with Session(self._engine, future=True) as session, session.begin():
            return {table.__tablename__: session.execute(
                        delete(table).where(where).execution_options(synchronize_session=False)).rowcount
                    for table, where in self._conditions(email, senders)}

    @staticmethod
    def _conditions(email: str, senders: set[str]) -> list[tuple[Any, Any]]:
        pseudonyms = sorted(conversation_pseudonym(sender) for sender in senders)
        email = email.strip().lower()
        carries_email = [func.lower(cast(column, String)).contains(email, autoescape=True)
                         for column in (OutboxRow.payload, OutboxRow.result)]
        # Keys name the conversation's turn ("handover:conv-…:<message>"), never the customer.
        keyed_by_conversation = [OutboxRow.idempotency_key.contains(pseudonym, autoescape=True)
                                 for pseudonym in pseudonyms]
        return [
            (OutboxRow, or_(*carries_email, *keyed_by_conversation)),
            (ConversationLink, or_(ConversationLink.email_hash == email_hash(email),
                                   ConversationLink.sender_id.in_(sorted(senders)))),
            (CsatRating, CsatRating.conversation.in_(pseudonyms)),
        ]


def _as_json(row: Any) -> dict[str, Any]:
    values = {column.key: getattr(row, column.key) for column in row.__table__.columns}
    return {key: value.isoformat() if isinstance(value, (datetime, date)) else value for key, value in values.items()}
