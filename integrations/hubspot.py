"""Adapter for HubSpot's CRM, through the CRM v3 objects API with a private app's access token.

Contacts are found by email and created when new; interactions become notes on the contact's
timeline; cases become tickets in the default Help Desk pipeline, associated with the customer.
A case is read back by its number (HubSpot's ticket id) with the email of its contact, so the
dialogue can show its status only to that customer.

HubSpot ignores Idempotency-Key, so this adapter makes repeats safe itself: every note and ticket
carries our key in a custom property, and a write first searches for an object with that key.

Setup the shop does once (the adapter cannot work without it): create a single-line text property
with the internal name `chatbot_idempotency_key` on notes and on tickets, either
  - in HubSpot: Settings → Properties → pick the object (Notes, then Tickets) → Create property,
    field type "Single-line text", internal name chatbot_idempotency_key; or
  - through the API, once per object (a token with the crm.schemas.*.write scopes):
    POST /crm/v3/properties/{notes|tickets}
    {"name": "chatbot_idempotency_key", "label": "Chatbot idempotency key", "type": "string",
     "fieldType": "text", "groupName": <a property group of that object, see GET /crm/v3/properties/{object}/groups>}
Without it HubSpot refuses the search or the creation, and the adapter raises Misconfigured naming
the property: the outbox keeps such writes until the property exists. The private app needs the scopes crm.objects.contacts.read/write and tickets.

Due dates and attachments: a new portal has no ticket property to write either into (SLA due dates,
where Service Hub has them, are set by HubSpot's own SLA rules). So create_ticket writes the due date
and the attachment links into the ticket's `content` text, below the description, where the agent
reads them, and nowhere else. get_ticket cannot read them back: its Ticket has due_at None.

Data subject rights (the customer proved the email first):
  export    the contact (EXPORT_CONTACT_PROPERTIES) and its associated notes and tickets, as HubSpot keeps
            them (batch read);
  erasure   the contact's notes and tickets are archived (HubSpot keeps archived records restorable for
            90 days, then deletes them: CrmErasure.kept says so), then the contact is deleted for good with
            HubSpot's GDPR delete, by its id: deleting by email would block the address for good when no
            contact has it;
  marketing the email is unsubscribed from all email subscriptions (communication preferences v4).
The private app then also needs the scope to write subscription statuses (communication preferences).
Only the first page of a contact's associations is read (HubSpot pages them at 100 and more).

Known limit: HubSpot's search index trails writes by a few seconds. A contact created meanwhile
is caught by the 409 that names it; a note or ticket repeated within those seconds is not found
by the search and would be created twice.

Mappings, kept deliberately small:
  priority  low -> LOW; normal, medium -> MEDIUM; high, urgent -> HIGH (a new portal knows only these
            three); read back LOW -> low, MEDIUM -> normal, HIGH -> high.
  category  billing, payment, refund -> BILLING_ISSUE; product, defect and the complaint kinds
            (complaint, defective, damaged, arrived_damaged, wrong_item, missing, warranty) ->
            PRODUCT_ISSUE; handover, question, general -> GENERAL_INQUIRY; anything else is left
            unset. Ours is also written into the ticket's text, so nothing is lost. Read back
            (get_ticket) as HubSpot's: PRODUCT_ISSUE -> product, BILLING_ISSUE -> billing,
            GENERAL_INQUIRY -> general, FEATURE_REQUEST -> feature_request.
  status    stage "4" (Closed in the default pipeline) -> closed; "2" (Waiting on contact) ->
            pending; any other stage -> open.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from html import escape
from typing import Any, Sequence
from urllib.parse import quote

import requests

from integrations.crm import CRM, ConsentWithdrawal, CrmErasure, CrmExport, checked_attachments, due_moment
from integrations.errors import Conflict, InvalidRequest, Misconfigured, NotFound
from integrations.models import Contact, Interaction, Ticket
from integrations.payloads import iso_datetime, require_https, translated
from integrations.transport import HttpTransport

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
OBJECTS = "/crm/v3/objects"
IDEMPOTENCY_PROPERTY = "chatbot_idempotency_key"
CONTACT_PROPERTIES = ["email", "firstname", "lastname"]
TICKET_PROPERTIES = ["subject", "hs_pipeline_stage", "hs_ticket_priority", "createdate", IDEMPOTENCY_PROPERTY]
# What get_ticket reads: no `content` (the agent's text) and no key, only what the status answer needs.
READ_TICKET_PROPERTIES = ["subject", "hs_pipeline_stage", "hs_ticket_priority", "createdate", "hs_ticket_category"]
# HUBSPOT_DEFINED association types, from the object created to the contact.
NOTE_TO_CONTACT, TICKET_TO_CONTACT = 202, 16
# The default Help Desk pipeline every portal has, its first stage (New) and its Closed stage.
DEFAULT_PIPELINE, NEW_STAGE, CLOSED_STAGE = "0", "1", "4"
STATUSES = {CLOSED_STAGE: "closed", "2": "pending"}  # "2": Waiting on contact; other stages: open
PRIORITIES = {"low": "LOW", "normal": "MEDIUM", "medium": "MEDIUM", "high": "HIGH", "urgent": "HIGH"}
OUR_PRIORITIES = {"LOW": "low", "MEDIUM": "normal", "HIGH": "high"}
CATEGORIES = {
    "billing": "BILLING_ISSUE", "payment": "BILLING_ISSUE", "refund": "BILLING_ISSUE",
    "product": "PRODUCT_ISSUE", "defect": "PRODUCT_ISSUE",
    **dict.fromkeys(("complaint", "defective", "damaged", "arrived_damaged", "wrong_item", "missing", "warranty"),
                    "PRODUCT_ISSUE"),
    "handover": "GENERAL_INQUIRY", "question": "GENERAL_INQUIRY", "general": "GENERAL_INQUIRY",
}
OUR_CATEGORIES = {"PRODUCT_ISSUE": "product", "BILLING_ISSUE": "billing", "GENERAL_INQUIRY": "general",
                  "FEATURE_REQUEST": "feature_request"}
# HubSpot's ids are numbers: anything else a customer types as a case number names no ticket.
TICKET_ID = re.compile(r"[1-9][0-9]{0,19}", re.ASCII)
# HubSpot names the contact that has the email in its 409 message; it has no field for it.
EXISTING_ID = re.compile(r"Existing ID: (\d+)", re.ASCII)
# What a data export reads of the contact, and of its notes and tickets.
EXPORT_CONTACT_PROPERTIES = ["email", "firstname", "lastname", "phone", "company", "createdate", "lastmodifieddate"]
EXPORT_PROPERTIES = {"notes": ["hs_timestamp", "hs_note_body", "hs_createdate"],
                     "tickets": ["subject", "content", "hs_pipeline_stage", "hs_ticket_priority",
                                 "hs_ticket_category", "createdate"]}
# HubSpot reads and archives at most 100 objects per batch call.
BATCH_SIZE = 100
PREFERENCES = "/communication-preferences/v4/statuses"
ARCHIVED_RETENTION = ("HubSpot keeps archived notes and tickets restorable for 90 days, then deletes them",)
# An email in a path (the communication preferences name the contact by it) is logged as this.
EMAIL_IN_PATH = re.compile(r"[^/?]*(?:@|%40)[^/?]*")


class _HubSpotTransport(HttpTransport):
    """The shared transport with two HubSpot needs it does not cover yet (candidates for transport.py):
    archive and GDPR delete answer 204 without a body, which is success, not a malformed answer; and
    the communication preferences name the contact by email in the path, which must not be logged."""

    def _parse(self, response: requests.Response) -> Any:
        return {} if response.status_code == 204 else super()._parse(response)

    def _log_call(self, method, path, status, started, attempt, headers) -> None:
        super()._log_call(method, EMAIL_IN_PATH.sub("{email}", path), status, started, attempt, headers)


class HubSpotCRM(CRM):
    def __init__(self, access_token: str, base_url: str = DEFAULT_BASE_URL) -> None:
        require_https(base_url, "HubSpot API")
        if not access_token:
            raise ValueError("a HubSpot private app access token is needed")
        # HubSpot does not honour Idempotency-Key: a creation is never retried by the transport.
        self._http = _HubSpotTransport(
            base_url, {"Authorization": f"Bearer {access_token}"}, platform="hubspot", idempotent_creations=False
        )

    async def upsert_contact(
        self, email: str, *, first_name: str | None = None, last_name: str | None = None
    ) -> Contact:
        # HubSpot keeps emails in lower case; searching for another spelling would miss the contact.
        email = email.strip().lower()
        found = await self._find_one("contacts", "email", email, CONTACT_PROPERTIES)
        if found is None:
            found = await self._create_contact(email, first_name, last_name)
        return await self._with_names(_translated(_contact, found), first_name, last_name)

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
        details = {"kind": kind, "summary": summary, "channel": channel, "conversation_id": conversation_id,
                   "order_number": order_number, "outcome": outcome}
        note = await self._find_by_key("notes", idempotency_key, [IDEMPOTENCY_PROPERTY])
        if note is None:
            body = {
                "properties": {
                    "hs_timestamp": _utc_now(),
                    "hs_note_body": _note_body(**details),
                    IDEMPOTENCY_PROPERTY: idempotency_key,
                },
                "associations": [_association(contact_id, NOTE_TO_CONTACT)],
            }
            note = await self._create_keyed("notes", body, idempotency_key)
        # The note's HTML is for people; what it says is what was asked to be logged under this key.
        return _translated(lambda payload: _interaction(payload, contact_id, details), note)

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
        if priority not in PRIORITIES:
            raise InvalidRequest(f"hubspot: no ticket priority for {priority!r}", {"priority": "unknown"})
        case = _Case(category=category, conversation_id=conversation_id, order_number=order_number,
                     due=due_moment(due_at), attachments=checked_attachments(attachments))
        properties = {**_ticket_properties(subject, description, priority, case), IDEMPOTENCY_PROPERTY: idempotency_key}
        ticket = await self._find_by_key("tickets", idempotency_key, TICKET_PROPERTIES)
        if ticket is None:
            associations = []
            if email:
                contact = await self.upsert_contact(email)
                associations.append(_association(contact.id, TICKET_TO_CONTACT))
            ticket = await self._create_keyed("tickets", {"properties": properties, "associations": associations},
                                              idempotency_key)
        known = {"email": email.strip().lower() if email else None, "due_at": case.due, "category": category}
        return _translated(lambda payload: _ticket(payload, properties, known), ticket)

    async def get_ticket(self, number: str) -> Ticket:
        if not TICKET_ID.fullmatch(number.strip()):
            raise NotFound(f"hubspot: no ticket numbered {number!r}")
        ticket = await self._http.get(f"{OBJECTS}/tickets/{number.strip()}",
                                      {"properties": ",".join(READ_TICKET_PROPERTIES), "associations": "contacts"})
        contact_id = _translated(_first_contact_id, ticket)
        email = await self._email_of_contact(contact_id) if contact_id else None
        return _translated(lambda payload: _read_ticket(payload, email), ticket)

    async def export_contact(self, email: str) -> CrmExport:
        contact = await self._find_one("contacts", "email", email.strip().lower(), EXPORT_CONTACT_PROPERTIES)
        if contact is None:
            return CrmExport("hubspot")
        contact_id = _translated(_object_id, contact)
        associated = await self._associated(contact_id)
        records = {"contacts": (_translated(_record, contact),)}
        for object_type, ids in associated.items():
            records[object_type] = tuple(await self._read_batch(object_type, ids))
        return CrmExport("hubspot", records)

    async def erase_contact(self, email: str) -> CrmErasure:
        contact = await self._find_one("contacts", "email", email.strip().lower(), ["email"])
        if contact is None:
            return CrmErasure("hubspot", {"contacts": 0, "notes": 0, "tickets": 0})
        contact_id = _translated(_object_id, contact)
        erased = {object_type: await self._archive(object_type, ids)
                  for object_type, ids in (await self._associated(contact_id)).items()}
        # Last, by id: once the contact is gone its notes and tickets could no longer be found.
        await self._http.post(f"{OBJECTS}/contacts/gdpr-delete", {"objectId": contact_id})
        return CrmErasure("hubspot", {"contacts": 1, **erased}, ARCHIVED_RETENTION)

    async def withdraw_marketing_consent(self, email: str) -> ConsentWithdrawal:
        email = email.strip().lower()
        contact = await self._find_one("contacts", "email", email, ["email"])
        # verbose=true: without it HubSpot answers with an empty body.
        answer = await self._http.post(f"{PREFERENCES}/{quote(email, safe='')}/unsubscribe-all?channel=EMAIL"
                                       "&verbose=true", {})
        _translated(_completed, answer)
        return ConsentWithdrawal("hubspot", had_contact=contact is not None)

    async def _associated(self, contact_id: str) -> dict[str, list[str]]:
        """The ids of the contact's notes and tickets (HubSpot's first page of each)."""
        contact = await self._http.get(f"{OBJECTS}/contacts/{contact_id}",
                                       {"properties": "email", "associations": ",".join(EXPORT_PROPERTIES)})
        return {object_type: _translated(lambda payload: _associated_ids(payload, object_type), contact)
                for object_type in EXPORT_PROPERTIES}

    async def _read_batch(self, object_type: str, ids: list[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), BATCH_SIZE):
            body = {"properties": EXPORT_PROPERTIES[object_type],
                    "inputs": [{"id": object_id} for object_id in ids[start:start + BATCH_SIZE]]}
            page = await self._http.query(f"{OBJECTS}/{object_type}/batch/read", body)
            records += [_translated(_record, result) for result in _translated(_results, page)]
        return records

    async def _archive(self, object_type: str, ids: list[str]) -> int:
        for start in range(0, len(ids), BATCH_SIZE):
            inputs = [{"id": object_id} for object_id in ids[start:start + BATCH_SIZE]]
            await self._http.post(f"{OBJECTS}/{object_type}/batch/archive", {"inputs": inputs})
        return len(ids)

    async def _email_of_contact(self, contact_id: str) -> str | None:
        try:
            contact = await self._http.get(f"{OBJECTS}/contacts/{contact_id}", {"properties": "email"})
        except NotFound:
            return None  # deleted meanwhile: the case is nobody's to see
        return _translated(lambda payload: _set_properties(payload).get("email") or None, contact)

    async def _find_one(self, object_type: str, name: str, value: str, properties: list[str]) -> dict | None:
        """The first object whose property `name` equals `value`, by HubSpot's search (a read: retried if need be)."""
        body = {
            "filterGroups": [{"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}],
            "properties": properties,
            "limit": 1,
        }
        page = await self._http.query(f"{OBJECTS}/{object_type}/search", body)
        results = _translated(_results, page)
        return results[0] if results else None

    async def _find_by_key(self, object_type: str, key: str, properties: list[str]) -> dict | None:
        try:
            return await self._find_one(object_type, IDEMPOTENCY_PROPERTY, key, properties)
        except InvalidRequest as refused:
            # The body is ours and fixed but for the key; a refusal means the portal lacks the property.
            raise _missing_property(object_type, refused) from refused

    async def _create_keyed(self, object_type: str, body: dict[str, Any], key: str) -> Any:
        try:
            return await self._http.post(f"{OBJECTS}/{object_type}", body, idempotency_key=key)
        except InvalidRequest as refused:
            if IDEMPOTENCY_PROPERTY in str(refused):
                raise _missing_property(object_type, refused) from refused
            raise

    async def _create_contact(self, email: str, first_name: str | None, last_name: str | None) -> Any:
        properties = {"email": email, "firstname": first_name, "lastname": last_name}
        try:
            return await self._http.post(
                f"{OBJECTS}/contacts", {"properties": {k: v for k, v in properties.items() if v}}
            )
        except Conflict as conflict:
            # Created meanwhile, or not yet in the search index: HubSpot names the contact that has the email.
            match = EXISTING_ID.search(str(conflict))
            if match is None:
                raise
            logger.info("hubspot: contact %s already had the email; using it", match.group(1))
            return await self._http.get(
                f"{OBJECTS}/contacts/{match.group(1)}", {"properties": ",".join(CONTACT_PROPERTIES)}
            )

    async def _with_names(self, contact: Contact, first_name: str | None, last_name: str | None) -> Contact:
        """Set the names given that HubSpot does not have yet; names not given are left as they are."""
        changes = {}
        if first_name and first_name != contact.first_name:
            changes["firstname"] = first_name
        if last_name and last_name != contact.last_name:
            changes["lastname"] = last_name
        if not changes:
            return contact
        updated = await self._http.patch(f"{OBJECTS}/contacts/{contact.id}", {"properties": changes})
        # HubSpot's answer to an update need not repeat the email; what it leaves out is known already.
        known = {"email": contact.email, "firstname": contact.first_name, "lastname": contact.last_name}
        return _translated(lambda payload: _contact(payload, known), updated)


_translated = partial(translated, "hubspot")


def _missing_property(object_type: str, refused: InvalidRequest) -> Misconfigured:
    return Misconfigured(
        f"hubspot refused the custom property {IDEMPOTENCY_PROPERTY} on {object_type}: the shop must create it "
        f"on notes and tickets (Settings → Properties, or POST /crm/v3/properties/{object_type}; see "
        f"integrations/hubspot.py). HubSpot said: {refused}",
        code=refused.code,
    )


def _association(contact_id: str, type_id: int) -> dict[str, Any]:
    kind = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return {"to": {"id": contact_id}, "types": [kind]}


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _note_body(*, kind, summary, channel, conversation_id, order_number, outcome) -> str:
    """hs_note_body is HTML: every value is escaped, so a customer's words cannot become markup."""
    facts = [("Kind", kind), ("Channel", channel), ("Order", f"#{order_number}" if order_number else None),
             ("Outcome", outcome), ("Conversation", conversation_id)]
    lines = "<br>".join(f"<strong>{label}:</strong> {escape(value)}" for label, value in facts if value)
    return f"<p><strong>Chat assistant</strong></p><p>{escape(summary)}</p><p>{lines}</p>"


@dataclass(frozen=True)
class _Case:
    """What a ticket says besides its subject, description and priority."""

    category: str
    conversation_id: str
    order_number: str | None
    due: datetime | None
    attachments: list[str]


def _ticket_properties(subject: str, description: str, priority: str, case: _Case) -> dict[str, str]:
    properties = {
        "subject": subject,
        "content": description + "\n\n--\n" + _case_facts(case),
        "hs_pipeline": DEFAULT_PIPELINE,
        "hs_pipeline_stage": NEW_STAGE,
        "hs_ticket_priority": PRIORITIES[priority],
    }
    if case.category.lower() in CATEGORIES:
        properties["hs_ticket_category"] = CATEGORIES[case.category.lower()]
    return properties


def _case_facts(case: _Case) -> str:
    """`content` is plain text: the facts HubSpot has no default property for go below the description."""
    due = case.due.strftime("%Y-%m-%d %H:%M UTC") if case.due else None
    facts = [f"Category: {case.category}", f"Order: #{case.order_number}" if case.order_number else None,
             f"Answer due: {due}" if due else None, f"Conversation: {case.conversation_id}",
             *(f"Attachment: {link}" for link in case.attachments)]
    return "\n".join(fact for fact in facts if fact)


def _results(page: dict) -> list[dict]:
    results = page["results"]
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise TypeError("search results are no list of objects")
    return results


def _object_id(payload: dict) -> str:
    value = payload["id"]
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError("an object without an id")
    return str(value)


def _set_properties(payload: dict) -> dict[str, str]:
    """The object's properties that have a value (HubSpot sends null for a property asked for but unset)."""
    return {name: value for name, value in payload["properties"].items() if value is not None}


def _contact(payload: dict, known: dict[str, str | None] | None = None) -> Contact:
    properties = {**(known or {}), **_set_properties(payload)}
    return Contact(
        id=_object_id(payload),
        email=properties["email"],
        first_name=properties.get("firstname") or None,
        last_name=properties.get("lastname") or None,
    )


def _interaction(payload: dict, contact_id: str, details: dict[str, Any]) -> Interaction:
    return Interaction(id=_object_id(payload), contact_id=contact_id, **details)


def _ticket(payload: dict, sent: dict[str, str], known: dict[str, Any]) -> Ticket:
    """HubSpot's values win (an agent may have closed the case); what we sent fills what its answer leaves out.

    A ticket that was created must not read as a failure because an answer omitted a property. `known`:
    what HubSpot does not keep as such (the due time, our category) or keeps on the contact (the email).
    """
    properties = {**sent, **_set_properties(payload)}
    priority = properties.get("hs_ticket_priority") or ""
    return Ticket(
        id=_object_id(payload),
        number=str(properties.get("hs_object_id") or _object_id(payload)),
        status=STATUSES.get(properties["hs_pipeline_stage"], "open"),
        subject=properties["subject"],
        priority=OUR_PRIORITIES.get(priority, priority.lower()),
        created_at=_created_at(payload, properties),
        **known,
    )


def _read_ticket(payload: dict, email: str | None) -> Ticket:
    """A ticket as get_ticket reads it: HubSpot's category, no due time (it is only in the ticket's text)."""
    properties = _set_properties(payload)
    category = (properties.get("hs_ticket_category") or "").split(";")[0]
    return _ticket(payload, {}, {"email": email, "due_at": None,
                                 "category": OUR_CATEGORIES.get(category, category.lower() or None)})


def _created_at(payload: dict, properties: dict[str, str]) -> datetime | None:
    return iso_datetime(properties.get("createdate") or payload.get("createdAt"))


def _record(payload: dict) -> dict[str, Any]:
    """An object as an export shows it: HubSpot's id, its properties that have a value, and its dates."""
    return {"id": _object_id(payload), "properties": _set_properties(payload),
            "createdAt": payload.get("createdAt"), "updatedAt": payload.get("updatedAt")}


def _associated_ids(payload: dict, object_type: str) -> list[str]:
    """The ids in the answer's `associations` of that type (left out by HubSpot when there are none)."""
    results = (payload.get("associations") or {}).get(object_type, {}).get("results") or []
    return list(dict.fromkeys(str(result["id"]) for result in results))


def _completed(payload: dict) -> None:
    """An action answer (the communication preferences') that says it finished without errors."""
    if payload["status"] != "COMPLETE" or payload.get("numErrors"):
        raise ValueError(f"the change did not complete ({payload['status']})")


def _first_contact_id(payload: dict) -> str | None:
    """The first contact in the answer's `associations` (absent when there is none).

    HubSpot's shape: {"associations": {"contacts": {"results": [{"id": "201", "type": "ticket_to_contact"}],
    "paging"?}}}. A case with several contacts shows as the first one's: the others are not told its status.
    """
    results = (payload.get("associations") or {}).get("contacts", {}).get("results") or []
    ids = [str(result["id"]) for result in results]
    return ids[0] if ids else None
