"""The sandbox on PostgreSQL: seeded, serving, writing, and still never a 500 for input PostgreSQL would choke on."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.backend.client import Api
from tests.conftest import start_sandbox

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def postgres_api(tmp_path_factory):
    engine = create_engine(POSTGRES, future=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}: {str(error.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()
    server = start_sandbox(tmp_path_factory.mktemp("postgres"), POSTGRES, reset=True)
    yield Api(server)
    server.stop()


def test_seeds_and_serves_an_order(postgres_api):
    order = postgres_api.ok("GET", "/v1/orders/100236")
    assert order["status"] == "delayed"
    assert order["shipments"][0]["delay_reason"] == "Severe weather at the regional hub"
    found = postgres_api.ok("GET", "/v1/products", params={"q": "Waterproof"})["data"]
    assert {"trail-runner-gtx", "summit-rain-jacket"} <= {p["id"] for p in found}
    assert len(postgres_api.all_pages("/v1/products", limit=4)) == 15


def test_writes_land_in_postgresql(postgres_api):
    ticket = postgres_api.ok("POST", "/v1/crm/tickets", 201, headers={"Idempotency-Key": "pg-1"}, json={
        "subject": "On PostgreSQL", "description": "d", "priority": "low", "category": "other",
        "email": "pg@example.com"})
    replay = postgres_api.post("/v1/crm/tickets", headers={"Idempotency-Key": "pg-1"}, json={
        "subject": "On PostgreSQL", "description": "d", "priority": "low", "category": "other",
        "email": "pg@example.com"})
    assert replay.json() == ticket and replay.headers["Idempotent-Replayed"] == "true"
    engine = create_engine(POSTGRES, future=True)
    with engine.connect() as connection:
        stored = connection.execute(text("select number, subject from crm_tickets where id = :id"),
                                    {"id": ticket["id"]}).one()
    assert stored == (ticket["number"], "On PostgreSQL")
    engine.dispose()
    postgres_api.ok("POST", "/v1/login-codes", 202, json={"email": "ben.miller@example.com"})
    code = postgres_api.latest_code("ben.miller@example.com")
    verified = postgres_api.ok("POST", "/v1/login-codes/verify", json={"email": "ben.miller@example.com", "code": code})
    assert verified == {"verified": True, "customer_id": "cust_ben"}


def test_a_complaint_case_lands_in_postgresql_and_is_found_by_its_number(postgres_api):
    photos = ["https://fotos.example.com/käse/1.jpg", "http://127.0.0.1:9/p?x=1"]
    ticket = postgres_api.ok("POST", "/v1/crm/tickets", 201, json={
        "subject": "Complaint on PostgreSQL", "description": "d", "priority": "high", "category": "complaint",
        "email": "anna.schmidt@example.com", "due_at": "2026-11-27T16:09:53+01:00", "attachments": photos})
    assert (ticket["due_at"], ticket["attachments"], ticket["email"]) == (
        "2026-11-27T15:09:53Z", photos, "anna.schmidt@example.com")
    assert postgres_api.ok("GET", f"/v1/crm/tickets/{ticket['number'].lower()}") == ticket
    solved = postgres_api.ok("POST", f"/v1/sandbox/crm/tickets/{ticket['id']}/status", json={"status": "solved"})
    assert solved == {**ticket, "status": "solved"}


@pytest.mark.parametrize(("method", "path", "options"), [
    ("GET", "/v1/products", {"params": {"q": "a\x00b"}}),
    ("GET", "/v1/products/" + "x" * 500, {}),
    ("GET", "/v1/products", {"params": {"cursor": "bzo5OTk5OTk5OTk5OTk5OTk5OTk5OQ=="}}),
    ("POST", "/v1/crm/contacts", {"json": {"email": "long@example.com", "phone": "1" * 41}}),
    ("POST", "/v1/crm/contacts", {"json": {"email": "long@example.com", "first_name": "x\x00y"}}),
    ("POST", "/v1/crm/contacts", {"json": {"email": "long@example.com", "customer_id": "c" * 300}}),
    ("POST", "/v1/crm/contacts/ct_anna/interactions", {"json": {"channel": "c" * 41, "kind": "k", "summary": "s"}}),
    ("POST", "/v1/crm/tickets", {"json": {"subject": "s", "description": "d", "priority": "low", "category": "c",
                                          "conversation_id": "c" * 201}}),
    ("POST", "/v1/carts", {"json": {"customer_id": "\ud800"}}),
    ("POST", "/v1/crm/tickets", {"json": {"subject": "s", "description": "d", "priority": "low", "category": "c",
                                          "due_at": "0001-01-01T00:30:00+01:00"}}),
    ("POST", "/v1/crm/tickets", {"json": {"subject": "s", "description": "d", "priority": "low", "category": "c",
                                          "due_at": "9999-12-31T23:30:00-01:00"}}),
    ("POST", "/v1/crm/tickets", {"json": {"subject": "s", "description": "d", "priority": "low", "category": "c",
                                          "attachments": ["https://x.example/\ud800"]}}),
    ("GET", "/v1/crm/tickets/T-99999999999999999999", {}),
    ("GET", "/v1/crm/tickets/999999999", {}),
])
def test_input_postgresql_would_reject_is_a_4xx(postgres_api, method, path, options):
    response = postgres_api.call(method, path, **options)
    assert 400 <= response.status_code < 500, response.text
