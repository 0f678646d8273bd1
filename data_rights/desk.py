"""Carrying out a data subject request over everything that holds data about a customer, audited.

The caller has established who the customer is (the chat: a one-time code sent to the email; the CLI: the
operator). Every request leaves one audit entry, whatever its outcome; errors are raised after it is written.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from integrations.config import crm_from_env, state_database_url
from integrations.crm import CRM, ConsentWithdrawal, CrmErasure, CrmExport
from integrations.errors import IntegrationError
from integrations.mail import Attachment, Mail, Mailer, mailer_from_env
from integrations.state_database import state_engine
from data_rights.audit import CONSENT, DONE, ERASE, EXPORT, FAILED, AuditEntry, AuditLog
from data_rights.conversations import ConversationStore, endpoints_file, open_conversation_store
from data_rights.state import StateRows

T = TypeVar("T")

EXPORT_FILE = "my-data.json"
EXPORT_SUBJECT = "Your data: what our shop assistant and customer service keep about you"
EXPORT_BODY = (
    "Hello,\n\nas you asked in our chat, attached is everything our shop assistant and our customer service\n"
    "system keep about this email address, as JSON: your chat conversations, what the assistant noted for\n"
    "them, and your customer service records. Your orders, invoices and your customer account are in the\n"
    "shop itself: you find them in your account there.\n\nIf you did not ask for this, please tell us.\n"
)
NOT_IN_REACH = "The assistant keeps conversations only in its memory here, until it restarts; none are exported."
MEMORY_ONLY = "Conversations: the assistant keeps them only in its memory here; they go when it restarts."
# What an erasure leaves, and why; the chat says the same in its own words (domain.yml).
SHOP_KEEPS = ("Orders and invoices stay in the shop: tax law requires keeping them (up to 10 years). The shop "
              "account itself is closed by the shop on request.")
AUDIT_KEEPS = "A record that this request was made and answered, without the email or any other personal data."


@dataclass(frozen=True)
class DataExport:
    email: str
    exported_at: datetime
    conversations: Mapping[str, list[dict[str, Any]]]
    state: Mapping[str, list[dict[str, Any]]]
    crm: CrmExport
    requests: tuple[AuditEntry, ...]
    notes: tuple[str, ...] = ()

    def as_json(self) -> str:
        return json.dumps({
            "email": self.email,
            "exported_at": _utc(self.exported_at),
            "conversations": [{"conversation": sender, "events": events}
                              for sender, events in sorted(self.conversations.items())],
            "assistant_records": self.state,
            "customer_service": {"system": self.crm.platform,
                                 "records": {kind: list(records) for kind, records in self.crm.records.items()}},
            "data_requests": [{**asdict(entry), "requested_at": _utc(entry.requested_at)} for entry in self.requests],
            "notes": list(self.notes),
        }, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Erasure:
    conversations: int  # how many conversations were deleted
    events: int
    state: Mapping[str, int]
    crm: CrmErasure
    kept: tuple[str, ...] = (SHOP_KEEPS, AUDIT_KEEPS)

    @property
    def everything_kept(self) -> tuple[str, ...]:
        return self.kept + self.crm.kept


class PrivacyDesk:
    def __init__(self, crm: CRM, conversations: ConversationStore | None, state_database: Engine,
                 mailer: Mailer) -> None:
        self.crm = crm
        self.conversations = conversations
        self.audit = AuditLog(state_database)
        self._state = StateRows(state_database)
        self._mailer = mailer

    async def export(self, email: str, requested_by: str) -> DataExport:
        """Everything kept about the email, gathered now (audited)."""
        return await self._audited(requested_by, EXPORT, email, lambda: self._gather(email))

    async def send_export(self, email: str, requested_by: str, idempotency_key: str) -> DataExport:
        """The export, mailed to the email itself as a JSON attachment (audited once, with the mail's outcome)."""
        async def gather_and_mail() -> DataExport:
            export = await self._gather(email)
            mail = Mail(email, EXPORT_SUBJECT, EXPORT_BODY,
                        (Attachment(EXPORT_FILE, "application/json", export.as_json()),))
            await self._mailer.send(mail, idempotency_key=idempotency_key)
            return export

        return await self._audited(requested_by, EXPORT, email, gather_and_mail)

    async def erase(self, email: str, requested_by: str) -> Erasure:
        """Delete the customer's conversations, state rows and CRM records (audited).

        The state rows go first: that cancels CRM writes still waiting in the outbox, which would otherwise
        bring the contact back. Repeating an erasure is safe, so a failed one is simply asked again.
        """
        async def erase_everywhere() -> Erasure:
            senders = await asyncio.to_thread(self._senders, email)
            state = await asyncio.to_thread(self._state.erase, email, senders)
            crm = await self.crm.erase_contact(email)
            if self.conversations is None:
                return Erasure(0, 0, state, crm, (SHOP_KEEPS, AUDIT_KEEPS, MEMORY_ONLY))
            events = await asyncio.to_thread(self.conversations.delete, senders)
            return Erasure(len(senders), events, state, crm)

        return await self._audited(requested_by, ERASE, email, erase_everywhere)

    async def withdraw_marketing_consent(self, email: str, requested_by: str) -> ConsentWithdrawal:
        return await self._audited(requested_by, CONSENT, email, lambda: self.crm.withdraw_marketing_consent(email))

    def record_refusal(self, requested_by: str, kind: str, email: str, result: str) -> None:
        """A request that was not carried out (not verified, not possible here): audited all the same."""
        self.audit.record(requested_by, kind, email, result)

    async def _gather(self, email: str) -> DataExport:
        senders = await asyncio.to_thread(self._senders, email)
        conversations = {sender: await asyncio.to_thread(self.conversations.events, sender)
                         for sender in senders} if self.conversations else {}
        state = await asyncio.to_thread(self._state.about, email, senders)
        crm = await self.crm.export_contact(email)
        requests = await asyncio.to_thread(self.audit.entries_about, email)
        return DataExport(email, datetime.now(timezone.utc), conversations, state, crm, tuple(requests),
                          () if self.conversations else (NOT_IN_REACH,))

    def _senders(self, email: str) -> set[str]:
        """The customer's conversations: those that mention the email, and those linked to it once verified."""
        mentioning = self.conversations.senders_mentioning(email) if self.conversations else set()
        return mentioning | self._state.linked_senders(email)

    async def _audited(self, requested_by: str, kind: str, email: str, work: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await work()
        except (IntegrationError, SQLAlchemyError) as failure:
            await asyncio.to_thread(self.audit.record, requested_by, kind, email, f"{FAILED}:{type(failure).__name__}")
            raise
        await asyncio.to_thread(self.audit.record, requested_by, kind, email, DONE)
        return result


def desk_from_env(env: Mapping[str, str] = os.environ, crm: CRM | None = None) -> PrivacyDesk:
    """The desk on this installation's CRM, tracker store (RASA_ENDPOINTS_FILE), state database and mail."""
    return PrivacyDesk(crm or crm_from_env(env), open_conversation_store(endpoints_file(env), env),
                       state_engine(state_database_url(env)), mailer_from_env(env))


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
