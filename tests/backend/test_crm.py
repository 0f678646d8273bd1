"""The CRM side over HTTP: contacts, interactions, tickets, leads, deals, and idempotent creation."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from sandbox_backend.service_levels import due_by
from tests.backend.client import error_of


TICKET = {"subject": "s", "description": "d", "priority": "low", "category": "other"}


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


# ---- contacts

@pytest.mark.parametrize(("email", "contact_id", "customer_id", "stage"), [
    ("anna.schmidt@example.com", "ct_anna", "cust_anna", "customer"),
    ("ben.miller@example.com", "ct_ben", "cust_ben", "customer"),
    ("carla.rossi@example.com", "ct_carla", "cust_carla", "customer"),
    ("erik.larsen@example.com", "ct_erik", None, "lead"),
])
def test_seeded_contacts_by_email_and_id(api, email, contact_id, customer_id, stage):
    (contact,) = api.ok("GET", "/v1/crm/contacts", params={"email": email.upper()})["data"]
    assert (contact["id"], contact["customer_id"], contact["lifecycle_stage"]) == (contact_id, customer_id, stage)
    assert api.ok("GET", f"/v1/crm/contacts/{contact_id}") == contact


def test_contacts_list_pages(api):
    contacts = api.all_pages("/v1/crm/contacts", limit=2)
    assert {"ct_anna", "ct_ben", "ct_carla", "ct_erik"} <= {c["id"] for c in contacts}
    assert len(contacts) == len({c["id"] for c in contacts})


def test_contact_upsert_merges_instead_of_duplicating(api):
    email = unique_email("upsert")
    created = api.post("/v1/crm/contacts", json={"email": email, "first_name": "Lena"})
    merged = api.post("/v1/crm/contacts", json={"email": email.upper(), "last_name": "Berg", "first_name": ""})
    assert (created.status_code, merged.status_code) == (201, 200)
    assert created.json()["id"] == merged.json()["id"]
    assert (merged.json()["first_name"], merged.json()["last_name"]) == ("Lena", "Berg")  # empty fields do not erase
    assert created.json()["lifecycle_stage"] == "subscriber" and created.json()["customer_id"] is None
    assert len(api.ok("GET", "/v1/crm/contacts", params={"email": email})["data"]) == 1


def test_concurrent_upserts_of_one_email_make_one_contact(api):
    email = unique_email("race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/crm/contacts", json={"email": email}), range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


def test_upserting_a_customer_email_links_the_customer(api):
    (contact,) = api.ok("GET", "/v1/crm/contacts", params={"email": "david.chen@example.com"})["data"] or [
        api.ok("POST", "/v1/crm/contacts", 201, json={"email": "david.chen@example.com"})]
    assert (contact["customer_id"], contact["lifecycle_stage"]) == ("cust_david", "customer")


def test_an_unknown_customer_id_is_422(api):
    response = api.post("/v1/crm/contacts", json={"email": unique_email("link"), "customer_id": "cust_nobody"})
    assert response.status_code == 422 and "customer_id" in error_of(response)["fields"]


def test_unknown_contact_is_404(api):
    assert api.get("/v1/crm/contacts/ct_nope").status_code == 404
    assert api.get("/v1/crm/contacts/ct_nope/interactions").status_code == 404
    assert api.post("/v1/crm/contacts/ct_nope/interactions",
                    json={"channel": "web", "kind": "k", "summary": "s"}).status_code == 404


# ---- interactions

def test_seeded_interactions(api):
    timeline = api.all_pages("/v1/crm/contacts/ct_carla/interactions", limit=100)
    carla = next(i for i in timeline if i["id"] == "ix_carla_1")
    assert (carla["channel"], carla["kind"], carla["order_number"], carla["outcome"]) == (
        "email", "order_status", "100236", "ticket_opened")


def test_interactions_are_logged_newest_first(api):
    contact = api.ok("POST", "/v1/crm/contacts", 201, json={"email": unique_email("timeline")})
    logged = [api.ok("POST", f"/v1/crm/contacts/{contact['id']}/interactions", 201,
                     json={"channel": "web", "kind": "order_status", "summary": f"turn {n}", "order_number": "100234",
                           "conversation_id": "conv-1", "outcome": "answered"})
              for n in range(3)]
    timeline = api.ok("GET", f"/v1/crm/contacts/{contact['id']}/interactions")["data"]
    assert [i["id"] for i in timeline] == [i["id"] for i in reversed(logged)]
    assert timeline[0] == {**logged[-1], "contact_id": contact["id"]}
    assert (timeline[0]["summary"], timeline[0]["conversation_id"]) == ("turn 2", "conv-1")


# ---- tickets

def test_seeded_ticket_for_the_delayed_order(api):
    ticket = api.ok("GET", "/v1/crm/tickets/tk_carla_delay")
    assert (ticket["number"], ticket["status"], ticket["contact_id"], ticket["order_number"]) == (
        "T-000101", "open", "ct_carla", "100236")
    assert ticket in api.all_pages("/v1/crm/tickets", limit=100, contact_id="ct_carla")


def test_ticket_from_an_email_opens_on_its_contact(api):
    email = unique_email("ticket")
    ticket = api.ok("POST", "/v1/crm/tickets", 201, json={
        "subject": "Parcel damaged", "description": "The box arrived crushed.", "priority": "high",
        "category": "delivery", "email": email, "order_number": "100238", "conversation_id": "conv-9"})
    (contact,) = api.ok("GET", "/v1/crm/contacts", params={"email": email})["data"]
    assert (ticket["contact_id"], ticket["status"], ticket["priority"], ticket["order_number"]) == (
        contact["id"], "open", "high", "100238")
    assert ticket["number"].startswith("T-") and int(ticket["number"][2:]) > 101
    assert api.ok("GET", f"/v1/crm/tickets/{ticket['id']}") == ticket
    assert api.ok("GET", "/v1/crm/tickets", params={"contact_id": contact["id"]})["data"] == [ticket]


def test_ticket_numbers_are_unique_under_concurrency(api):
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/crm/tickets", json=TICKET), range(5)))
    assert [a.status_code for a in answers] == [201] * 5
    assert len({a.json()["number"] for a in answers}) == 5


@pytest.mark.parametrize(("body", "field"), [
    ({**TICKET, "subject": None}, "subject"),
    ({**TICKET, "description": ""}, "description"),
    ({**TICKET, "priority": "whenever"}, "priority"),
    ({**TICKET, "priority": None}, "priority"),
    ({**TICKET, "category": None}, "category"),
    ({**TICKET, "subject": "s" * 201}, "subject"),
    ({**TICKET, "email": "nope"}, "email"),
    ({**TICKET, "contact_id": "ct_nope"}, "contact_id"),
    ({**TICKET, "order_number": "#12"}, "order_number"),
    ({**TICKET, "subject": "nul\x00byte"}, "subject"),
    ({**TICKET, "subject": "\ud800"}, "subject"),
])
def test_rule_breaking_ticket_is_422_with_the_field(api, body, field):
    response = api.post("/v1/crm/tickets", json=body)
    assert response.status_code == 422, response.text
    assert field in error_of(response)["fields"]


def test_unknown_ticket_is_404(api):
    assert api.get("/v1/crm/tickets/tk_nope").status_code == 404


# ---- complaint cases: due dates, attachments, found by number, worked on by the support team

def moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_the_seeded_complaint_is_pending_with_its_photo_and_customer(api):
    ticket = api.ok("GET", "/v1/crm/tickets/T-000102")
    assert (ticket["id"], ticket["status"], ticket["category"], ticket["email"]) == (
        "tk_anna_zip", "pending", "complaint", "anna.schmidt@example.com")
    assert ticket["attachments"] == ["https://photos.sandbox-shop.example/complaints/ridge-zip-1.jpg"]
    assert moment(ticket["due_at"]) == due_by("normal", moment(ticket["created_at"]))


@pytest.mark.parametrize("reference", ["tk_carla_delay", "T-000101", "t-000101", "T-101", "101", "000101"])
def test_a_ticket_is_found_by_its_id_or_its_number_as_a_customer_types_it(api, reference):
    ticket = api.ok("GET", f"/v1/crm/tickets/{reference}")
    assert (ticket["id"], ticket["number"], ticket["email"]) == (
        "tk_carla_delay", "T-000101", "carla.rossi@example.com")


@pytest.mark.parametrize("reference", ["T-999999", "T-", "T-1O1", "tk_carla_delay ", "-101"])
def test_no_ticket_by_a_number_that_is_none(api, reference):
    assert error_of(api.get(f"/v1/crm/tickets/{reference}"))["type"] == "not_found"


def test_a_complaint_keeps_its_due_time_and_photos(api):
    email = unique_email("complaint")
    photos = ["https://photos.example.com/p/123.jpg", "http://img.example.org/a?b=c&d=%20e"]
    ticket = api.ok("POST", "/v1/crm/tickets", 201, json={
        **TICKET, "priority": "high", "category": "complaint", "email": email,
        "due_at": "2026-11-27T16:09:53.123456+01:00", "attachments": photos})
    assert (ticket["due_at"], ticket["attachments"], ticket["email"]) == ("2026-11-27T15:09:53Z", photos, email)
    assert api.ok("GET", f"/v1/crm/tickets/{ticket['number']}") == ticket


@pytest.mark.parametrize("priority", ["urgent", "high", "normal", "low"])
def test_without_a_due_time_the_priority_sets_one(api, priority):
    ticket = api.ok("POST", "/v1/crm/tickets", 201, json={**TICKET, "priority": priority})
    created = moment(ticket["created_at"])
    # created_at is shown to the second, the due time counted from the exact moment: up to a second later.
    assert timedelta(0) <= moment(ticket["due_at"]) - due_by(priority, created) < timedelta(seconds=1)
    assert ticket["attachments"] == [] and ticket["email"] is None


@pytest.mark.parametrize(("opened", "priority", "due"), [
    ("2026-11-25 10:00", "urgent", "2026-11-25 14:00"),  # a Wednesday
    ("2026-11-28 22:30", "urgent", "2026-11-29 02:30"),  # urgent counts weekends too
    ("2026-11-25 10:00", "high", "2026-11-26 10:00"),
    ("2026-11-27 10:00", "high", "2026-11-30 10:00"),  # Friday + 1 business day: Monday
    ("2026-11-28 10:00", "high", "2026-11-30 10:00"),  # Saturday + 1: Monday too
    ("2026-11-27 10:00", "normal", "2026-12-01 10:00"),
    ("2026-11-25 10:00", "low", "2026-12-02 10:00"),  # five weekdays: a calendar week
])
def test_due_times_by_priority(opened, priority, due):
    assert due_by(priority, datetime.fromisoformat(opened)) == datetime.fromisoformat(due)


@pytest.mark.parametrize(("changes", "field"), [
    ({"due_at": "tomorrow"}, "due_at"),
    ({"due_at": "2026-11-20"}, "due_at"),
    ({"due_at": "2026-11-20T10:00:00"}, "due_at"),  # whose 10 o'clock?
    ({"due_at": 1790000000}, "due_at"),
    ({"attachments": "https://photos.example.com/p/1.jpg"}, "attachments"),
    ({"attachments": [f"https://photos.example.com/p/{n}.jpg" for n in range(11)]}, "attachments"),
    ({"attachments": ["https://photos.example.com/" + "p" * 480 + ".jpg"]}, "attachments[0]"),
    ({"attachments": ["https://ok.example.com/1.jpg", "ftp://photos.example.com/1.jpg"]}, "attachments[1]"),
    ({"attachments": ["javascript:alert(1)"]}, "attachments[0]"),
    ({"attachments": ["data:image/png;base64,iVBORw0KGgo="]}, "attachments[0]"),
    ({"attachments": ["https://"]}, "attachments[0]"),
    ({"attachments": ["https://[::1/x"]}, "attachments[0]"),
    ({"attachments": ["https://photos.example.com/a b.jpg"]}, "attachments[0]"),
    ({"attachments": ["https://photos.example.com/a\nb.jpg"]}, "attachments[0]"),
    ({"attachments": [{"url": "https://photos.example.com/1.jpg"}]}, "attachments[0]"),
])
def test_a_bad_due_time_or_link_is_422_with_the_field(api, changes, field):
    response = api.post("/v1/crm/tickets", json={**TICKET, **changes})
    assert response.status_code == 422, response.text
    assert field in error_of(response)["fields"]


def test_ten_links_of_500_characters_are_fine(api):
    link = "https://photos.example.com/" + "p" * (500 - len("https://photos.example.com/"))
    ticket = api.ok("POST", "/v1/crm/tickets", 201, json={**TICKET, "attachments": [link] * 10})
    assert ticket["attachments"] == [link] * 10


def test_the_support_team_moves_a_ticket_through_its_statuses(api):
    ticket = api.ok("POST", "/v1/crm/tickets", 201, json={**TICKET, "email": unique_email("status")})
    for status in ("pending", "open", "solved", "solved"):
        changed = api.ok("POST", f"/v1/sandbox/crm/tickets/{ticket['number']}/status", json={"status": status})
        assert changed == {**ticket, "status": status}
        assert api.ok("GET", f"/v1/crm/tickets/{ticket['id']}")["status"] == status
    refused = api.post(f"/v1/sandbox/crm/tickets/{ticket['id']}/status", json={"status": "closed"})
    assert refused.status_code == 422 and "status" in error_of(refused)["fields"]
    assert api.post(f"/v1/sandbox/crm/tickets/{ticket['id']}/status", json={"status": "open"},
                    key=None).status_code == 401
    assert api.post("/v1/sandbox/crm/tickets/T-999999/status", json={"status": "open"}).status_code == 404


# ---- leads and deals

def test_seeded_leads_and_a_new_one(api):
    (erik,) = api.ok("GET", "/v1/crm/leads", params={"email": "erik.larsen@example.com"})["data"]
    assert (erik["company"], erik["status"], erik["source"]) == ("Fjord Adventures AS", "qualified", "chat")
    email = unique_email("buyer")
    lead = api.ok("POST", "/v1/crm/leads", 201, json={"email": email, "source": "chat", "company": "Acme",
                                                       "interest": "20 headlamps"})
    assert (lead["status"], lead["company"], lead["name"]) == ("new", "Acme", None)
    assert api.ok("GET", "/v1/crm/leads", params={"email": email})["data"] == [lead]
    response = api.post("/v1/crm/leads", json={"email": email})
    assert response.status_code == 422 and "source" in error_of(response)["fields"]


def test_seeded_deals(api):
    (deal,) = api.ok("GET", "/v1/crm/deals", params={"contact_id": "ct_erik"})["data"]
    assert (deal["id"], deal["stage"]) == ("deal_fjord", "proposal")
    assert deal["amount"] == {"amount": "3960.00", "currency": "EUR"}
    assert {d["id"] for d in api.all_pages("/v1/crm/deals", limit=1)} >= {"deal_fjord", "deal_anna_club"}


# ---- idempotency

def test_same_key_and_body_replays_without_a_second_row(api):
    key, subject = str(uuid.uuid4()), f"Broken zip {uuid.uuid4().hex[:6]}"
    body = {"subject": subject, "description": "The zip broke.", "priority": "normal", "category": "product",
            "email": "ben.miller@example.com"}
    first = api.post("/v1/crm/tickets", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/crm/tickets", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    tickets = api.all_pages("/v1/crm/tickets", limit=100, contact_id="ct_ben")
    assert [t["id"] for t in tickets if t["subject"] == subject] == [first.json()["id"]]


def test_same_key_with_another_body_is_409(api):
    key = str(uuid.uuid4())
    api.ok("POST", "/v1/crm/leads", 201, json={"email": unique_email("idem"), "source": "chat"},
           headers={"Idempotency-Key": key})
    other = api.post("/v1/crm/leads", json={"email": unique_email("idem"), "source": "chat"},
                     headers={"Idempotency-Key": key})
    assert other.status_code == 409 and error_of(other)["type"] == "conflict"


def test_replayed_upsert_keeps_its_first_status(api):
    key, body = str(uuid.uuid4()), {"email": unique_email("replay")}
    assert api.post("/v1/crm/contacts", json=body, headers={"Idempotency-Key": key}).status_code == 201
    replay = api.post("/v1/crm/contacts", json=body, headers={"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert api.post("/v1/crm/contacts", json=body).status_code == 200  # without the key: an ordinary upsert


def test_a_key_is_scoped_to_its_path(api):
    key, body = str(uuid.uuid4()), {"channel": "web", "kind": "note", "summary": "same body"}
    on_anna = api.post("/v1/crm/contacts/ct_anna/interactions", json=body, headers={"Idempotency-Key": key})
    on_ben = api.post("/v1/crm/contacts/ct_ben/interactions", json=body, headers={"Idempotency-Key": key})
    assert (on_anna.status_code, on_ben.status_code) == (201, 201)
    assert on_anna.json()["contact_id"] == "ct_anna" and on_ben.json()["contact_id"] == "ct_ben"
    assert "Idempotent-Replayed" not in on_ben.headers


def test_concurrent_requests_with_one_key_create_once(api):
    key, body = str(uuid.uuid4()), {"email": unique_email("burst"), "source": "chat"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(
            lambda _: api.post("/v1/crm/leads", json=body, headers={"Idempotency-Key": key}), range(6)))
    assert [a.status_code for a in answers] == [201] * 6 and len({a.json()["id"] for a in answers}) == 1
    assert len(api.ok("GET", "/v1/crm/leads", params={"email": body["email"]})["data"]) == 1


def test_a_failed_creation_stores_no_answer(api):
    key = str(uuid.uuid4())
    failed = api.post("/v1/crm/tickets", json={**TICKET, "contact_id": "ct_nope"}, headers={"Idempotency-Key": key})
    assert failed.status_code == 422
    fixed = api.post("/v1/crm/tickets", json=TICKET, headers={"Idempotency-Key": key})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_idempotency_key_of_bad_length_is_400(api, key):
    response = api.post("/v1/crm/leads", json={"email": unique_email("k"), "source": "chat"},
                        headers={"Idempotency-Key": key})
    assert response.status_code == 400 and "Idempotency-Key" in error_of(response)["fields"]


# ---- a person's data: export, erasure, marketing consent (data subject rights)

def a_person_with_history(api) -> tuple[str, dict]:
    """A new contact with an interaction, a keyed case and a lead; (email, contact)."""
    email = unique_email("person")
    contact = api.ok("POST", "/v1/crm/contacts", 201, json={"email": email, "first_name": "Pia"})
    api.ok("POST", f"/v1/crm/contacts/{contact['id']}/interactions", 201,
           json={"channel": "web", "kind": "order_status", "summary": "Asked about an order."})
    api.ok("POST", "/v1/crm/tickets", 201, json={**TICKET, "email": email}, headers={"Idempotency-Key": email})
    api.ok("POST", "/v1/crm/leads", 201, json={"email": email, "source": "chat"})
    return email, contact


def test_a_persons_data_is_every_record_about_the_email(api):
    email, contact = a_person_with_history(api)
    data = api.ok("GET", "/v1/crm/personal-data", params={"email": email.upper()})
    assert data["contacts"] == [contact] and data["email"] == email
    assert [i["summary"] for i in data["interactions"]] == ["Asked about an order."]
    assert [t["email"] for t in data["tickets"]] == [email] and [lead["email"] for lead in data["leads"]] == [email]
    nobody = unique_email("nobody")
    assert api.ok("GET", "/v1/crm/personal-data", params={"email": nobody}) == {
        "email": nobody, "contacts": [], "interactions": [], "tickets": [], "deals": [], "leads": []}
    assert api.get("/v1/crm/personal-data").status_code == 400


def test_erasure_deletes_the_records_and_the_stored_answers_that_repeat_the_email(api):
    email, contact = a_person_with_history(api)
    other, _ = a_person_with_history(api)
    erased = api.ok("POST", "/v1/crm/personal-data/erasure", json={"email": email})
    assert erased == {"email": email, "kept": [], "erased": {"interactions": 1, "tickets": 1, "deals": 0, "leads": 1,
                                                            "contacts": 1, "stored_answers": 1}}
    assert api.get(f"/v1/crm/contacts/{contact['id']}").status_code == 404
    assert all(not records for kind, records in api.ok("GET", "/v1/crm/personal-data",
                                                       params={"email": email}).items() if kind != "email")
    assert len(api.ok("GET", "/v1/crm/personal-data", params={"email": other})["tickets"]) == 1
    again = api.ok("POST", "/v1/crm/personal-data/erasure", json={"email": email})
    assert set(again["erased"].values()) == {0}
    # The same key with the same body is a new ticket now: the stored answer with the email is gone.
    replay = api.post("/v1/crm/tickets", json={**TICKET, "email": email}, headers={"Idempotency-Key": email})
    assert replay.status_code == 201 and "Idempotent-Replayed" not in replay.headers


def test_a_won_deal_is_kept_without_the_person(fresh_api):
    erased = fresh_api.ok("POST", "/v1/crm/personal-data/erasure", json={"email": "anna.schmidt@example.com"})
    assert erased["erased"]["contacts"] == 1 and erased["erased"]["deals"] == 0
    assert "won deal" in erased["kept"][0] and "commercial records" in erased["kept"][0]
    deals = {d["id"]: d for d in fresh_api.all_pages("/v1/crm/deals", limit=100)}
    assert deals["deal_anna_club"]["contact_id"] is None and deals["deal_fjord"]["contact_id"] == "ct_erik"
    assert fresh_api.ok("GET", "/v1/orders/100231")["email"] == "anna.schmidt@example.com"  # the shop keeps it


def test_marketing_consent_is_never_assumed_and_can_be_withdrawn(fresh_api):
    assert fresh_api.ok("GET", "/v1/crm/contacts/ct_anna")["marketing_consent"] is True  # the newsletter signup
    assert fresh_api.ok("GET", "/v1/crm/contacts/ct_ben")["marketing_consent"] is False
    new = fresh_api.ok("POST", "/v1/crm/contacts", 201, json={"email": unique_email("consent")})
    assert new["marketing_consent"] is False
    withdrawn = fresh_api.ok("POST", "/v1/crm/marketing-consent/withdrawal", json={"email": "Anna.Schmidt@example.com"})
    assert withdrawn == {"email": "anna.schmidt@example.com", "contact_id": "ct_anna", "marketing_consent": False}
    assert fresh_api.ok("GET", "/v1/crm/contacts/ct_anna")["marketing_consent"] is False
    assert fresh_api.ok("POST", "/v1/crm/marketing-consent/withdrawal",
                        json={"email": unique_email("never")})["contact_id"] is None


# ---- the mock mail carrier, for the bot's own mails

def test_a_mail_lands_in_the_mailbox_with_its_attachment_once_per_key(api):
    to = unique_email("mail")
    body = {"to": to, "subject": "Your data", "body": "Attached.",
            "attachments": [{"filename": "my-data.json", "content_type": "application/json", "content": '{"a": 1}'}]}
    first = api.post("/v1/sandbox/mails", json=body, headers={"Idempotency-Key": f"mail-{to}"})
    again = api.post("/v1/sandbox/mails", json=body, headers={"Idempotency-Key": f"mail-{to}"})
    assert first.status_code == again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    (mail,) = api.ok("GET", "/v1/sandbox/mailbox", params={"to": to})["data"]
    assert (mail["subject"], mail["attachments"]) == ("Your data", body["attachments"])


@pytest.mark.parametrize(("attachments", "field"), [
    ([{"filename": "../../etc/passwd", "content_type": "application/json", "content": "{}"}], "attachments[0].filename"),
    ([{"filename": "x.exe", "content_type": "application/x-msdownload", "content": "MZ"}],
     "attachments[0].content_type"),
    ([{"filename": "a.json", "content_type": "application/json"}], "attachments[0].content"),
    (["not an object"], "attachments[0]"),
    ([{"filename": f"{n}.json", "content_type": "application/json", "content": "{}"} for n in range(6)], "attachments"),
])
def test_a_mail_with_a_bad_attachment_is_422_with_the_field(api, attachments, field):
    response = api.post("/v1/sandbox/mails", json={"to": unique_email("bad"), "subject": "s", "body": "b",
                                                   "attachments": attachments})
    assert response.status_code == 422 and field in error_of(response)["fields"]
