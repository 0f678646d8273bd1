"""The CRM port: where conversations leave a trace a human can pick up."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Sequence
from urllib.parse import urlsplit

from integrations.errors import InvalidRequest
from integrations.models import Contact, Interaction, Ticket

# What create_ticket accepts as attachments, whatever the CRM: the sandbox refuses more with a 422.
MAX_ATTACHMENTS, MAX_LINK_LENGTH = 10, 500


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
        due_at: str | None = None,
        attachments: Sequence[str] = (),
    ) -> Ticket:
        """Open a case for a human; the key makes a repeated request return the same case.

        Keywords are JSON values, because the outbox stores them as JSON until the CRM takes them:
        `due_at` is an ISO 8601 date-time with its offset ("2026-11-20T14:05:00+00:00"; the CRM sets one
        by priority when it is None), `attachments` links (http/https) to what the customer sent, e.g.
        photos; a list as well as a tuple.
        """

    @abstractmethod
    async def get_ticket(self, number: str) -> Ticket:
        """The case with this number (as create_ticket's Ticket.number); raises NotFound.

        Its `email` is whom it belongs to; callers must compare it with the customer's verified email
        before showing anything of the case.
        """


# ---- create_ticket's JSON keywords, checked the same way by adapters whose platform does not check them

def due_moment(due_at: str | None) -> datetime | None:
    """create_ticket's `due_at` as an aware UTC datetime; InvalidRequest unless ISO 8601 with an offset."""
    if due_at is None:
        return None
    try:
        moment = datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise InvalidRequest("due_at must be an ISO 8601 date-time with its offset", {"due_at": "invalid"})
    return moment.astimezone(timezone.utc)


def checked_attachments(attachments: Sequence[str]) -> list[str]:
    """create_ticket's `attachments`: at most MAX_ATTACHMENTS http(s) links of MAX_LINK_LENGTH, else InvalidRequest."""
    links = list(attachments)
    if len(links) > MAX_ATTACHMENTS:
        raise InvalidRequest(f"at most {MAX_ATTACHMENTS} attachments", {"attachments": "too many"})
    problems = {f"attachments[{index}]": "not an http or https link" for index, link in enumerate(links)
                if not _is_web_link(link)}
    if problems:
        raise InvalidRequest("attachments must be http or https links", problems)
    return links


def _is_web_link(link: object) -> bool:
    if not isinstance(link, str) or len(link) > MAX_LINK_LENGTH:
        return False
    # Whitespace or control characters would let a link break out of the text it is written into.
    if any(character.isspace() or not character.isprintable() for character in link):
        return False
    try:
        parts = urlsplit(link)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
