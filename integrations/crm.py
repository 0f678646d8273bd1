"""The CRM port: where conversations leave a trace a human can pick up."""

from __future__ import annotations

from abc import ABC, abstractmethod

from integrations.models import Contact, Interaction, Ticket


class CRM(ABC):
    @abstractmethod
    async def upsert_contact(
        self, email: str, *, first_name: str | None = None, last_name: str | None = None
    ) -> Contact:
        """The contact with this email, created if new; never a duplicate."""

    @abstractmethod
    async def log_interaction(
        self,
        contact_id: str,
        *,
        kind: str,
        summary: str,
        channel: str,
        conversation_id: str,
        order_number: str | None = None,
        outcome: str | None = None,
        idempotency_key: str,
    ) -> Interaction:
        """Record what happened in a conversation on the contact's timeline."""

    @abstractmethod
    async def create_ticket(
        self,
        *,
        subject: str,
        description: str,
        priority: str,
        category: str,
        conversation_id: str,
        email: str | None = None,
        order_number: str | None = None,
        idempotency_key: str,
    ) -> Ticket:
        """Open a case for a human; the key makes a repeated request return the same case."""
