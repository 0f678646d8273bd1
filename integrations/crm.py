"""The CRM port: where conversations leave a trace a human can pick up."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from integrations.errors import InvalidRequest, Unsupported
from integrations.models import Contact, Interaction, Ticket

# What create_ticket accepts as attachments, whatever the CRM: the sandbox refuses more with a 422.
MAX_ATTACHMENTS, MAX_LINK_LENGTH = 10, 500


# ---- what the data subject rights methods return

@dataclass(frozen=True)
class CrmExport:
    """Everything the CRM holds about one email, for the customer's copy of their data.

    `records` maps a kind of record, in the platform's own words ("contacts", "tickets", "notes"...), to the
    records as JSON objects: an export shows the data as the CRM keeps it, not as the flows read it.
    """

    platform: str
    records: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.records.values())


@dataclass(frozen=True)
class CrmErasure:
    """What an erasure removed (how many records of each kind) and what the platform still keeps, said plainly."""

    platform: str
    erased: Mapping[str, int] = field(default_factory=dict)
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentWithdrawal:
    """Marketing consent withdrawn for an email; `had_contact` says whether the CRM knew the email at all."""

    platform: str
    had_contact: bool


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

    # ---- data subject rights (GDPR access, erasure, objection to marketing). Not abstract: an adapter whose
    # platform cannot do one inherits its refusal (Unsupported), and the customer is told a colleague will.
    # Callers must have proven that the email is the customer's before calling any of them.

    async def export_contact(self, email: str) -> CrmExport:
        """Every record the CRM holds about this email: the contact and what hangs on it. Empty if none."""
        raise self._unsupported("data exports")

    async def erase_contact(self, email: str) -> CrmErasure:
        """Delete the contact with this email and the records that hang on it, where the platform allows.

        Repeating it erases nothing more and is no error; an email the CRM does not know erases nothing.
        """
        raise self._unsupported("erasure")

    async def withdraw_marketing_consent(self, email: str) -> ConsentWithdrawal:
        """No more marketing to this email: every marketing subscription is withdrawn. Repeating it is no error."""
        raise self._unsupported("marketing consent")

    def handles(self, request: str) -> bool:
        """Whether this adapter carries out `request`, one of the optional methods above ("erase_contact", ...)."""
        return getattr(type(self), request) is not getattr(CRM, request)

    def _unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"{type(self).__name__} does not handle {what}")


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
