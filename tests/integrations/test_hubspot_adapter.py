"""The HubSpot adapter against a local fake of the CRM v3 objects API (tests/fakes/hubspot.py).

The fake refuses what HubSpot refuses (unknown properties and options, wrong association types,
a second contact with the same email) and can lag its search index behind writes as HubSpot does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from integrations.errors import (
    AuthenticationFailed,
    InvalidRequest,
    Misconfigured,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from integrations.hubspot import HubSpotCRM
from integrations.models import Ticket
from integrations.outbox import Outbox
from integrations.state_database import state_engine
from integrations.transport import Timeouts
from tests.fakes import ERROR_500, HTML, MALFORMED, SLOW, THROTTLE, json_reply, running
from tests.fakes.hubspot import WRONG_SHAPE, FakeHubSpot, running_hubspot_fake

REPO = Path(__file__).resolve().parents[2]
ANNA = "anna.schmidt@example.com"
CONTACTS, NOTES, TICKETS = "/crm/v3/objects/contacts", "/crm/v3/objects/notes", "/crm/v3/objects/tickets"


def run(coroutine):
    return asyncio.run(coroutine)


def crm_for(fake) -> HubSpotCRM:
    return HubSpotCRM(fake.token, fake.base_url)


def calls(fake, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests[since:]]


def body_of(fake, method: str, path: str) -> dict:
    return json.loads(next(r.body for r in fake.requests if (r.method, r.path) == (method, path)))


def log_lookup(crm: HubSpotCRM, contact_id: str, key: str = "lookup:conv-1:3", **overrides):
    details = {"kind": "order_status", "summary": "Asked where order #1002 is; told it is shipped.",
               "channel": "web", "conversation_id": "conv-1", "order_number": "1002", "outcome": "answered",
               "idempotency_key": key, **overrides}
    return run(crm.log_interaction(contact_id, **details))


def open_case(crm: HubSpotCRM, key: str = "handover:conv-1:7", **overrides):
    ticket = {"subject": "Chat handover: the customer asked for a person", "description": "user: my parcel is late",
              "priority": "normal", "category": "handover", "conversation_id": "conv-1", "email": ANNA,
              "idempotency_key": key, **overrides}
    return run(crm.create_ticket(**ticket))


# --- Contacts ---

def test_a_new_contact_is_created_with_its_names_and_a_lower_case_email():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact = run(crm.upsert_contact(" Anna.Schmidt@Example.com ", first_name="Anna", last_name="Schmidt"))
    assert (contact.email, contact.first_name, contact.last_name) == (ANNA, "Anna", "Schmidt")
    (stored,) = fake.objects("contacts")
    assert stored["id"] == contact.id and stored["properties"]["email"] == ANNA
    assert calls(fake) == [("POST", CONTACTS + "/search"), ("POST", CONTACTS)]
    search = body_of(fake, "POST", CONTACTS + "/search")
    assert search["filterGroups"] == [{"filters": [{"propertyName": "email", "operator": "EQ", "value": ANNA}]}]
    assert set(search["properties"]) == {"email", "firstname", "lastname"}
    created = {"properties": {"email": ANNA, "firstname": "Anna", "lastname": "Schmidt"}}
    assert body_of(fake, "POST", CONTACTS) == created


def test_a_known_contact_is_found_again_whatever_the_case_of_the_email():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        first = run(crm.upsert_contact(ANNA))
        seen = len(fake.requests)
        again = run(crm.upsert_contact("ANNA.Schmidt@EXAMPLE.com"))
    assert again.id == first.id and len(fake.objects("contacts")) == 1
    assert calls(fake, seen) == [("POST", CONTACTS + "/search")]  # found: no creation attempted


def test_a_contact_search_does_not_see_yet_is_taken_from_hubspots_conflict_answer():
    # HubSpot's search index lags behind writes; its uniqueness check does not, and answers 409 naming the contact.
    with running_hubspot_fake(search_lag=60) as fake:
        crm = crm_for(fake)
        first = run(crm.upsert_contact(ANNA, first_name="Anna"))
        seen = len(fake.requests)
        again = run(crm.upsert_contact(ANNA, first_name="Anna"))
    assert again == first and len(fake.objects("contacts")) == 1
    assert calls(fake, seen) == [("POST", CONTACTS + "/search"), ("POST", CONTACTS), ("GET", f"{CONTACTS}/{first.id}")]
    assert fake.requests[-1].query == {"properties": "email,firstname,lastname"}


def test_the_conflict_path_still_sets_names_hubspot_does_not_have():
    with running_hubspot_fake(search_lag=60) as fake:
        crm = crm_for(fake)
        first = run(crm.upsert_contact(ANNA))
        again = run(crm.upsert_contact(ANNA, last_name="Schmidt"))
    assert again.id == first.id and again.last_name == "Schmidt"
    assert fake.objects("contacts")[0]["properties"]["lastname"] == "Schmidt"


def test_names_are_changed_only_when_given_and_different():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA, "Anna", "Schmidt")
        unchanged = run(crm.upsert_contact(ANNA, first_name="Anna"))
        kept = run(crm.upsert_contact(ANNA))
        assert [m for m, _ in calls(fake)] == ["POST", "POST"]  # two searches, no update
        renamed = run(crm.upsert_contact(ANNA, first_name="Anna", last_name="Meyer"))
    assert unchanged.id == kept.id == renamed.id == contact_id
    assert (kept.first_name, kept.last_name) == ("Anna", "Schmidt")
    assert (renamed.first_name, renamed.last_name) == ("Anna", "Meyer")
    assert calls(fake)[-1] == ("PATCH", f"{CONTACTS}/{contact_id}")
    assert json.loads(fake.requests[-1].body) == {"properties": {"lastname": "Meyer"}}


def test_an_update_answered_without_the_email_still_gives_the_whole_contact():
    with running_hubspot_fake() as fake:
        contact_id = fake.add_contact(ANNA, "Anna", "Schmidt")
        original = fake.answer

        def terse_updates(request):
            reply = original(request)
            if request.method != "PATCH":
                return reply
            return json_reply(200, {"id": contact_id, "properties": {"lastname": "Meyer"}})

        fake.answer = terse_updates
        renamed = run(crm_for(fake).upsert_contact(ANNA, last_name="Meyer"))
    assert (renamed.id, renamed.email, renamed.first_name, renamed.last_name) == (contact_id, ANNA, "Anna", "Meyer")


# --- Interactions: notes on the contact's timeline ---

def test_an_interaction_becomes_a_note_associated_with_the_contact():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA)
        before = datetime.now(timezone.utc)
        interaction = log_lookup(crm, contact_id)
    (note,) = fake.objects("notes")
    assert interaction.id == note["id"] and interaction.contact_id == contact_id
    assert (interaction.kind, interaction.order_number, interaction.outcome) == ("order_status", "1002", "answered")
    properties = note["properties"]
    assert properties["chatbot_idempotency_key"] == "lookup:conv-1:3"
    stamped = datetime.fromisoformat(properties["hs_timestamp"].replace("Z", "+00:00"))
    assert properties["hs_timestamp"].endswith("Z")
    assert before - timedelta(seconds=1) <= stamped <= before + timedelta(seconds=5)
    for fact in ("order_status", "web", "#1002", "answered", "conv-1", "told it is shipped"):
        assert fact in properties["hs_note_body"]
    assert fake.associated("notes", note["id"], "contacts") == [(contact_id, 202)]
    assert fake.associated("contacts", contact_id, "notes") == [(note["id"], 201)]
    (association,) = body_of(fake, "POST", NOTES)["associations"]
    assert association["types"] == [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]


def test_what_the_customer_typed_cannot_become_markup_in_the_note():
    with running_hubspot_fake() as fake:
        contact_id = fake.add_contact(ANNA)
        log_lookup(crm_for(fake), contact_id, summary='<img src=x onerror="alert(1)"> & more', outcome="<b>done</b>")
    body = fake.objects("notes")[0]["properties"]["hs_note_body"]
    assert "<img" not in body and "<b>done" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; more" in body and "&lt;b&gt;done&lt;/b&gt;" in body


def test_logging_the_same_interaction_twice_leaves_one_note():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA)
        first = log_lookup(crm, contact_id)
        seen = len(fake.requests)
        again = log_lookup(crm, contact_id)
        assert calls(fake, seen) == [("POST", NOTES + "/search")]
        other = log_lookup(crm, contact_id, key="lookup:conv-1:4")
    assert again == first and other.id != first.id
    assert len(fake.objects("notes")) == 2
    search = body_of(fake, "POST", NOTES + "/search")
    assert search["filterGroups"][0]["filters"] == [
        {"propertyName": "chatbot_idempotency_key", "operator": "EQ", "value": "lookup:conv-1:3"}]


# --- Tickets ---

def test_a_ticket_is_opened_in_the_default_pipeline_for_the_customer():
    with running_hubspot_fake() as fake:
        ticket = open_case(crm_for(fake), order_number="1002")
    (stored,) = fake.objects("tickets")
    (contact,) = fake.objects("contacts")
    assert ticket.id == ticket.number == stored["id"] == stored["properties"]["hs_object_id"]
    assert (ticket.status, ticket.priority, ticket.subject) == ("open", "normal", stored["properties"]["subject"])
    properties = stored["properties"]
    assert (properties["hs_pipeline"], properties["hs_pipeline_stage"]) == ("0", "1")
    assert properties["chatbot_idempotency_key"] == "handover:conv-1:7"
    assert properties["hs_ticket_category"] == "GENERAL_INQUIRY"
    assert properties["content"].startswith("user: my parcel is late")
    for fact in ("Category: handover", "Order: #1002", "Conversation: conv-1"):
        assert fact in properties["content"]
    assert contact["properties"]["email"] == ANNA
    assert fake.associated("tickets", ticket.id, "contacts") == [(contact["id"], 16)]
    assert fake.tickets_of_contact_with_email(ANNA.upper())[0]["id"] == ticket.id


def test_a_ticket_is_opened_once_per_key():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        first = open_case(crm)
        seen = len(fake.requests)
        again = open_case(crm)
        assert calls(fake, seen) == [("POST", TICKETS + "/search")]
        other = open_case(crm, key="handover:conv-2:1")
    assert again == first and other.number != first.number
    assert len(fake.objects("tickets")) == 2 and len(fake.objects("contacts")) == 1


def test_a_ticket_for_a_known_customer_uses_their_contact():
    with running_hubspot_fake() as fake:
        contact_id = fake.add_contact(ANNA, "Anna", "Schmidt")
        ticket = open_case(crm_for(fake), email="Anna.Schmidt@example.com")
    assert len(fake.objects("contacts")) == 1
    assert fake.associated("tickets", ticket.id, "contacts") == [(contact_id, 16)]


def test_a_ticket_without_an_email_is_associated_with_nobody():
    with running_hubspot_fake() as fake:
        ticket = open_case(crm_for(fake), email=None)
    assert fake.objects("contacts") == [] and fake.associated("tickets", ticket.id, "contacts") == []


@pytest.mark.parametrize("ours, hubspots, read_back", [
    ("low", "LOW", "low"), ("normal", "MEDIUM", "normal"), ("medium", "MEDIUM", "normal"),
    ("high", "HIGH", "high"), ("urgent", "HIGH", "high"),
])
def test_priorities_map_onto_hubspots_three(ours, hubspots, read_back):
    with running_hubspot_fake() as fake:
        ticket = open_case(crm_for(fake), priority=ours)
    assert fake.objects("tickets")[0]["properties"]["hs_ticket_priority"] == hubspots
    assert ticket.priority == read_back


def test_an_unknown_priority_is_refused_without_asking():
    with running_hubspot_fake() as fake:
        with pytest.raises(InvalidRequest):
            open_case(crm_for(fake), priority="asap")
    assert fake.requests == []


@pytest.mark.parametrize("ours, hubspots", [
    ("billing", "BILLING_ISSUE"), ("Refund", "BILLING_ISSUE"), ("product", "PRODUCT_ISSUE"),
    ("handover", "GENERAL_INQUIRY"), ("delivery", None),
])
def test_categories_map_onto_hubspots_defaults_or_are_left_out(ours, hubspots):
    with running_hubspot_fake() as fake:
        open_case(crm_for(fake), category=ours)
    properties = fake.objects("tickets")[0]["properties"]
    assert properties.get("hs_ticket_category") == hubspots
    assert f"Category: {ours}" in properties["content"]


def test_a_ticket_closed_in_hubspot_reads_as_closed():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        ticket = open_case(crm)
        # As an agent closing it in HubSpot would, through HubSpot's own API.
        closed = requests.patch(f"{fake.base_url}{TICKETS}/{ticket.id}", timeout=2,
                                json={"properties": {"hs_pipeline_stage": "4"}},
                                headers={"Authorization": f"Bearer {fake.token}"})
        assert closed.status_code == 200
        assert open_case(crm).status == "closed"


# --- Complaint cases: due time and photos in the text, read back with the customer's email ---

PHOTOS = ["https://photos.example.com/p/123.jpg", "http://img.example.org/a?b=c"]
WRITTEN = {"subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category",
           "chatbot_idempotency_key", "hs_object_id", "createdate", "hs_lastmodifieddate"}


def open_complaint(crm: HubSpotCRM, **overrides):
    # JSON values, as the outbox hands them over.
    complaint = {"key": "complaint:conv-1:abc", "category": "complaint", "priority": "high",
                 "due_at": "2026-11-27T16:09:53.123456+01:00", "attachments": list(PHOTOS)}
    return open_case(crm, **{**complaint, **overrides})


def test_a_complaint_writes_its_due_time_and_photos_into_the_tickets_text_only():
    with running_hubspot_fake() as fake:
        ticket = open_complaint(crm_for(fake))
    properties = fake.objects("tickets")[0]["properties"]
    assert set(properties) == WRITTEN  # no other property carries the due time or the links
    assert properties["hs_ticket_category"] == "PRODUCT_ISSUE" and properties["hs_ticket_priority"] == "HIGH"
    facts = properties["content"].split("\n--\n")[1].splitlines()
    assert facts == ["Category: complaint", "Answer due: 2026-11-27 15:09 UTC", "Conversation: conv-1",
                     f"Attachment: {PHOTOS[0]}", f"Attachment: {PHOTOS[1]}"]
    assert (ticket.email, ticket.category, ticket.status) == (ANNA, "complaint", "open")
    assert ticket.due_at == datetime(2026, 11, 27, 15, 9, 53, 123456, tzinfo=timezone.utc)
    assert ticket.created_at == datetime.fromisoformat(properties["createdate"].replace("Z", "+00:00"))


def test_a_repeated_complaint_reads_the_same():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        first = open_complaint(crm)
        assert open_complaint(crm) == first
    assert len(fake.objects("tickets")) == 1


@pytest.mark.parametrize("overrides, field", [
    ({"due_at": "2026-11-27T16:09:53"}, "due_at"),  # no offset: whose clock?
    ({"due_at": "next friday"}, "due_at"),
    ({"attachments": ["javascript:alert(1)"]}, "attachments[0]"),
    ({"attachments": [PHOTOS[0], "https://photos.example.com/a b.jpg"]}, "attachments[1]"),
    ({"attachments": ["https://photos.example.com/" + "p" * 480]}, "attachments[0]"),
    ({"attachments": PHOTOS * 6}, "attachments"),
])
def test_a_bad_due_time_or_link_is_refused_without_asking(overrides, field):
    with running_hubspot_fake() as fake:
        with pytest.raises(InvalidRequest) as refused:
            open_complaint(crm_for(fake), **overrides)
    assert field in refused.value.fields and fake.requests == []


def test_a_case_is_read_back_by_its_number_with_its_customers_email():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        opened = open_complaint(crm)
        contact_id = fake.objects("contacts")[0]["id"]
        seen = len(fake.requests)
        ticket = run(crm.get_ticket(opened.number))
    assert ticket == Ticket(id=opened.id, number=opened.number, status="open", subject=opened.subject, priority="high",
                            email=ANNA, created_at=opened.created_at, due_at=None, category="product")
    assert calls(fake, seen) == [("GET", f"{TICKETS}/{opened.id}"), ("GET", f"{CONTACTS}/{contact_id}")]
    read, contact = fake.requests[seen:]
    assert read.query == {"properties": "subject,hs_pipeline_stage,hs_ticket_priority,createdate,hs_ticket_category",
                          "associations": "contacts"}
    assert contact.query == {"properties": "email"}


def test_the_fake_answers_associations_in_hubspots_shape():
    with running_hubspot_fake() as fake:
        ticket = open_case(crm_for(fake))
        contact_id = fake.objects("contacts")[0]["id"]
        answer = requests.get(f"{fake.base_url}{TICKETS}/{ticket.id}", params={"associations": "contacts,notes"},
                              headers={"Authorization": f"Bearer {fake.token}"}, timeout=2).json()
        alone = open_case(crm_for(fake), key="handover:conv-3:1", email=None)
        without = requests.get(f"{fake.base_url}{TICKETS}/{alone.id}", params={"associations": "contacts"},
                               headers={"Authorization": f"Bearer {fake.token}"}, timeout=2).json()
    assert answer["associations"] == {"contacts": {"results": [{"id": contact_id, "type": "ticket_to_contact"}]}}
    assert "associations" not in without


def test_a_case_of_another_customer_comes_with_that_customers_email():
    # The adapter says whose case it is; the dialogue compares that with the email the asker verified.
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        fake.add_contact(ANNA, "Anna", "Schmidt")
        bens = open_complaint(crm, email="Ben.Miller@example.com")
        ticket = run(crm.get_ticket(bens.number))
    assert ticket.email == "ben.miller@example.com" != ANNA


def test_a_case_of_nobody_has_no_email():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        opened = open_case(crm, email=None)
        seen = len(fake.requests)
        ticket = run(crm.get_ticket(opened.number))
    assert ticket.email is None and calls(fake, seen) == [("GET", f"{TICKETS}/{opened.id}")]


def test_a_case_whose_contact_was_deleted_has_no_email():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        opened = open_case(crm)
        original = fake.answer

        def contact_gone(request):
            if request.method == "GET" and request.path.startswith(CONTACTS + "/"):
                return json_reply(404, {"status": "error", "message": "Object not found.",
                                        "category": "OBJECT_NOT_FOUND"})
            return original(request)

        fake.answer = contact_gone
        assert run(crm.get_ticket(opened.number)).email is None


@pytest.mark.parametrize("stage, status", [("1", "open"), ("2", "pending"), ("3", "open"), ("4", "closed")])
def test_a_case_reads_as_its_stage_says(stage, status):
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        opened = open_case(crm)
        requests.patch(f"{fake.base_url}{TICKETS}/{opened.id}", json={"properties": {"hs_pipeline_stage": stage}},
                       headers={"Authorization": f"Bearer {fake.token}"}, timeout=2).raise_for_status()
        assert run(crm.get_ticket(opened.number)).status == status


@pytest.mark.parametrize("ours, read_back", [("billing", "billing"), ("handover", "general"), ("delivery", None)])
def test_a_case_reads_back_hubspots_category(ours, read_back):
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        opened = open_case(crm, category=ours)
        assert run(crm.get_ticket(opened.number)).category == read_back


def test_an_unknown_case_number_is_not_found():
    with running_hubspot_fake() as fake:
        with pytest.raises(NotFound):
            run(crm_for(fake).get_ticket("99999"))
    assert calls(fake) == [("GET", f"{TICKETS}/99999")]


@pytest.mark.parametrize("number", ["T-000101", "", " ", "12a", "0", "../contacts/10001", "1" * 21])
def test_what_is_no_hubspot_ticket_id_is_not_found_without_asking(number):
    with running_hubspot_fake() as fake:
        with pytest.raises(NotFound):
            run(crm_for(fake).get_ticket(number))
    assert fake.requests == []


# --- The custom property the shop must create ---

@pytest.mark.parametrize("strict_search", [True, False], ids=["search-refuses", "search-ignores"])
@pytest.mark.parametrize("write", ["note", "ticket"])
def test_without_the_custom_property_every_keyed_write_says_what_to_create(strict_search, write):
    with running_hubspot_fake(custom_property=False, strict_search=strict_search) as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA)
        with pytest.raises(Misconfigured) as refused:
            log_lookup(crm, contact_id) if write == "note" else open_case(crm)
    message = str(refused.value)
    assert "chatbot_idempotency_key" in message and "Settings → Properties" in message
    assert not isinstance(refused.value, InvalidRequest), "the shop's setup, not the write, is at fault"
    assert fake.objects("notes") == [] and fake.objects("tickets") == []


def test_a_case_written_before_the_property_exists_waits_in_the_outbox_and_lands_once(tmp_path):
    moment = datetime(2026, 11, 24, 12, 0, 0)
    with running_hubspot_fake(custom_property=False) as fake:
        crm = crm_for(fake)

        async def deliver(kind: str, payload: dict):
            return await crm.create_ticket(**payload)

        outbox = Outbox(state_engine(f"sqlite:///{tmp_path / 'outbox.db'}"), deliver, lambda: moment)
        case = {"subject": "Chat handover", "description": "user: my parcel is late", "priority": "normal",
                "category": "handover", "conversation_id": "conv-1", "email": ANNA,
                "idempotency_key": "handover:conv-1:7"}
        assert run(outbox.submit("ticket", case, "handover:conv-1:7")).status == "pending"
        fake.custom_property = True  # the shop follows the instructions in the error
        moment += timedelta(minutes=1)
        [outcome] = run(outbox.deliver_due())
        assert outcome.status == "delivered"
        assert run(outbox.deliver_due()) == []
        assert len(fake.objects("tickets")) == 1


# --- Failures ---

def test_a_wrong_token_is_an_authentication_failure_that_does_not_repeat_the_token():
    with running_hubspot_fake() as fake:
        with pytest.raises(AuthenticationFailed) as failure:
            run(HubSpotCRM("pat-eu1-wrong", fake.base_url).upsert_contact(ANNA))
    assert "pat-eu1-wrong" not in str(failure.value)
    assert fake.requests[0].header("Authorization") == "Bearer pat-eu1-wrong"


def test_the_token_travels_as_a_bearer_token():
    with running_hubspot_fake() as fake:
        run(crm_for(fake).upsert_contact(ANNA))
    assert all(r.header("Authorization") == f"Bearer {fake.token}" for r in fake.requests)


def test_a_rate_limit_raises_rate_limited_and_holds_back_the_next_call():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        fake.misbehave(THROTTLE)
        with pytest.raises(RateLimited) as throttled:
            run(crm.upsert_contact(ANNA))
        assert throttled.value.retry_after == 1.0
        assert "secondly limit" in str(throttled.value)
        started = time.monotonic()
        with pytest.raises(RateLimited):
            run(crm.upsert_contact(ANNA))
        assert time.monotonic() - started < 0.1
    assert len(fake.requests) == 1


OPERATIONS = {
    "upsert_contact": lambda crm: run(crm.upsert_contact(ANNA)),
    "log_interaction": lambda crm: log_lookup(crm, "10001"),
    "create_ticket": lambda crm: open_case(crm),
    "get_ticket": lambda crm: run(crm.get_ticket("10001")),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("mode", [ERROR_500, MALFORMED, HTML, WRONG_SHAPE])
def test_a_broken_upstream_is_unavailable(mode, operation):
    with running_hubspot_fake() as fake:
        fake.misbehave(mode)
        with pytest.raises(ServiceUnavailable) as failure:
            OPERATIONS[operation](crm_for(fake))
    assert not isinstance(failure.value, RateLimited)


def test_a_creation_answered_with_the_wrong_shape_is_unavailable_and_not_repeated():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA)
        original = fake.answer

        def wrong_shape_for_creations(request):
            reply = original(request)
            return reply if request.path.endswith("/search") else json_reply(201, {"properties": {}})

        fake.answer = wrong_shape_for_creations
        with pytest.raises(ServiceUnavailable):
            log_lookup(crm, contact_id)
    assert calls(fake) == [("POST", NOTES + "/search"), ("POST", NOTES)]


def test_a_created_ticket_reads_as_opened_even_when_hubspots_answer_leaves_properties_out():
    with running_hubspot_fake() as fake:
        original = fake.answer

        def terse_creations(request):
            reply = original(request)
            if (request.method, request.path) != ("POST", TICKETS):
                return reply
            return json_reply(201, {"id": json.loads(reply.body)["id"], "properties": {}})

        fake.answer = terse_creations
        ticket = open_case(crm_for(fake), priority="high")
    assert (ticket.number, ticket.status, ticket.priority) == (fake.objects("tickets")[0]["id"], "open", "high")


def test_a_failed_creation_is_not_retried_by_the_transport():
    # HubSpot ignores Idempotency-Key: a second POST after a 500 could leave two notes.
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = fake.add_contact(ANNA)
        original = fake.answer

        def failing_creations(request):
            return fake.internal_error() if request.path == NOTES else original(request)

        fake.answer = failing_creations
        with pytest.raises(ServiceUnavailable):
            log_lookup(crm, contact_id)
    assert calls(fake).count(("POST", NOTES)) == 1


def test_a_slow_upstream_is_given_up_within_the_time_budget():
    with running_hubspot_fake() as fake:
        fake.misbehave(SLOW, seconds=2)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            run(crm_for(fake).upsert_contact(ANNA))
        assert time.monotonic() - started < Timeouts().budget + 0.3  # the fake answers only after 2 s


# --- Configuration and logs ---

def test_the_token_is_never_sent_in_clear_to_another_machine():
    with pytest.raises(ValueError):
        HubSpotCRM("pat-eu1-x", "http://api.hubapi.com")
    HubSpotCRM("pat-eu1-x")
    HubSpotCRM("pat-eu1-x", "https://api.hubapi.com")
    HubSpotCRM("pat-eu1-x", "http://127.0.0.1:8080")
    with pytest.raises(ValueError):
        HubSpotCRM("", "https://api.hubapi.com")


def test_logs_carry_neither_the_token_nor_the_email(caplog):
    caplog.set_level(logging.DEBUG)
    with running_hubspot_fake(search_lag=60) as fake:
        crm = crm_for(fake)
        contact = run(crm.upsert_contact(ANNA, first_name="Anna"))
        run(crm.upsert_contact(ANNA, last_name="Schmidt"))  # the 409 path, which logs the existing id
        log_lookup(crm, contact.id)
        open_case(crm)
        with pytest.raises(AuthenticationFailed):
            run(HubSpotCRM(fake.token + "x", fake.base_url).upsert_contact(ANNA))
    lines = [record.getMessage() for record in caplog.records]
    assert sum('"event": "upstream_call"' in line for line in lines) >= 8
    assert any(contact.id in line and "already had the email" in line for line in lines)
    for line in lines:
        assert fake.token not in line and "anna" not in line.lower() and "example.com" not in line


def test_the_fake_runs_as_a_process_for_end_to_end_tests():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.hubspot", "--port", "0", "--token", "pat-eu1-e2e"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        details = json.loads(process.stdout.readline())
        assert details["token"] == "pat-eu1-e2e"
        contact = run(HubSpotCRM("pat-eu1-e2e", details["base_url"]).upsert_contact(ANNA))
        assert contact.email == ANNA
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


# --- Data subject rights: export, erasure, marketing consent ---

def customer_with_history(crm: HubSpotCRM, email: str = ANNA) -> str:
    """A contact with one note and one case, written the way the bot writes them; its id."""
    contact = run(crm.upsert_contact(email, first_name="Anna"))
    log_lookup(crm, contact.id, key=f"lookup:{email}")
    open_case(crm, key=f"handover:{email}", email=email)
    return contact.id


def test_an_export_holds_the_contact_its_notes_and_its_tickets_as_hubspot_keeps_them():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = customer_with_history(crm)
        customer_with_history(crm, "ben.miller@example.com")
        export = run(crm.export_contact(" Anna.Schmidt@Example.com "))
    assert export.platform == "hubspot" and not export.empty
    (contact,) = export.records["contacts"]
    assert contact["id"] == contact_id and contact["properties"]["email"] == ANNA
    (note,) = export.records["notes"]
    assert "Asked where order #1002 is" in note["properties"]["hs_note_body"]
    (ticket,) = export.records["tickets"]
    assert ticket["properties"]["subject"] == "Chat handover: the customer asked for a person"
    assert "my parcel is late" in ticket["properties"]["content"]
    assert calls(fake)[-2:] == [("POST", f"{NOTES}/batch/read"), ("POST", f"{TICKETS}/batch/read")]


def test_an_unknown_email_exports_nothing():
    with running_hubspot_fake() as fake:
        export = run(crm_for(fake).export_contact("nobody@example.com"))
    assert export.empty and export.records == {}


def test_erasure_archives_notes_and_tickets_then_gdpr_deletes_the_contact_by_its_id():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        contact_id = customer_with_history(crm)
        ben_id = customer_with_history(crm, "ben.miller@example.com")
        erasure = run(crm.erase_contact(ANNA))
        again = run(crm.erase_contact(ANNA))
        afterwards = run(crm.export_contact(ANNA))
    assert erasure.erased == {"contacts": 1, "notes": 1, "tickets": 1}
    assert "restorable for 90 days" in erasure.kept[0]
    assert body_of(fake, "POST", f"{CONTACTS}/gdpr-delete") == {"objectId": contact_id}
    assert again.erased == {"contacts": 0, "notes": 0, "tickets": 0} and afterwards.empty
    assert [c["id"] for c in fake.objects("contacts")] == [ben_id]  # Ben's contact, note and case stay
    assert len(fake.objects("notes")) == len(fake.objects("tickets")) == 1
    assert fake.blocklisted == set()  # never by email: that would block an address nobody has


def test_marketing_consent_is_withdrawn_for_all_email_subscriptions():
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        run(crm.upsert_contact(ANNA))
        withdrawal = run(crm.withdraw_marketing_consent("Anna.Schmidt@example.com"))
        stranger = run(crm.withdraw_marketing_consent("nobody@example.com"))
    assert withdrawal.had_contact and not stranger.had_contact
    assert fake.unsubscribed_from_all == {ANNA, "nobody@example.com"}
    (request,) = [r for r in fake.requests if "unsubscribe-all" in r.path][:1]
    assert request.path == "/communication-preferences/v4/statuses/anna.schmidt%40example.com/unsubscribe-all"
    assert request.query == {"channel": "EMAIL", "verbose": "true"}


class CancellingHubSpot(FakeHubSpot):
    """A portal whose communication preferences call ends CANCELED (HubSpot's action answers can)."""

    def _unsubscribe_all(self, request):
        return json_reply(200, {"status": "CANCELED", "results": [], "numErrors": 1,
                                "startedAt": "2026-11-20T14:05:00Z", "completedAt": "2026-11-20T14:05:01Z"})


def test_a_withdrawal_hubspot_did_not_complete_is_unavailable():
    with running(CancellingHubSpot()) as fake:
        with pytest.raises(ServiceUnavailable) as failure:
            run(crm_for(fake).withdraw_marketing_consent(ANNA))
    assert "did not complete (CANCELED)" in str(failure.value.__cause__)


def test_data_subject_calls_log_no_email(caplog):
    caplog.set_level(logging.INFO)
    with running_hubspot_fake() as fake:
        crm = crm_for(fake)
        customer_with_history(crm)
        run(crm.export_contact(ANNA))
        run(crm.withdraw_marketing_consent(ANNA))
        run(crm.erase_contact(ANNA))
    lines = [record.getMessage() for record in caplog.records if "upstream_call" in record.getMessage()]
    assert any("unsubscribe-all" in line and "{email}" in line for line in lines)
    assert any("gdpr-delete" in line and '"status": 204' in line for line in lines)
    for line in lines:
        assert "anna" not in line.lower() and "%40" not in line and "example.com" not in line
