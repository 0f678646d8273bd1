"""The sandbox backend over real HTTP: happy paths on the seed data, and every kind of bad input."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy import create_engine

from sandbox_backend.app import create_app

OPENAPI = Path(__file__).resolve().parents[2] / "sandbox_backend" / "openapi.yaml"


class Api:
    def __init__(self, server):
        self.server = server

    def call(self, method: str, path: str, *, key: str | None = "default", headers: dict | None = None, **kwargs):
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Authorization"] = f"Bearer {self.server.api_key if key == 'default' else key}"
        return requests.request(method, self.server.base_url + path, headers=all_headers, timeout=5, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.call("POST", path, **kwargs)


@pytest.fixture
def api(sandbox_server) -> Api:
    return Api(sandbox_server)


def error_of(response) -> dict:
    return response.json()["error"]


def test_health_needs_no_key(api):
    assert api.get("/health", key=None).json() == {"status": "ok"}


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_key_is_401(api, key):
    response = api.get("/v1/orders/100234", key=key)
    assert response.status_code == 401 and error_of(response)["type"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_order_with_shipment_and_events(api):
    order = api.get("/v1/orders/100234").json()
    assert (order["status"], order["email"], order["customer_id"]) == ("shipped", "ben.miller@example.com", "cust_ben")
    assert order["total"] == {"amount": "206.00", "currency": "EUR"}
    (shipment,) = order["shipments"]
    assert shipment["carrier"]["name"] == "DHL" and shipment["tracking_number"] == "JJD0099123456"
    assert shipment["tracking_url"].endswith("/dhl/JJD0099123456")
    assert [e["status"] for e in shipment["events"]][0] == "label_created" and len(shipment["events"]) == 3


def test_every_order_status_is_seeded(api):
    statuses = {api.get(f"/v1/orders/{n}").json()["status"] for n in ("100231", "100232", "100234", "100235", "100236", "100237")}
    assert statuses == {"pending", "paid", "shipped", "delivered", "delayed", "cancelled"}


def test_orders_of_a_customer_by_id_or_email(api):
    by_id = api.get("/v1/orders", params={"customer_id": "cust_anna"}).json()["data"]
    by_email = api.get("/v1/orders", params={"email": "Anna.Schmidt@example.com"}).json()["data"]
    assert [o["number"] for o in by_id] == [o["number"] for o in by_email]
    assert {"100231", "100232", "100235", "100238"} == {o["number"] for o in by_id}


def test_products_paginate_over_everything_once(api):
    seen, cursor = [], None
    while True:
        page = api.get("/v1/products", params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 15


def test_product_search_and_variants(api):
    found = api.get("/v1/products", params={"q": "cold drinks"}).json()["data"]
    assert {p["id"] for p in found} == {"cooler-bag-20l", "insulated-bottle-750"}
    shoe = api.get("/v1/products/trail-runner-gtx").json()
    out_of_stock = [v for v in shoe["variants"] if not v["available"]]
    assert out_of_stock and all(v["stock"] == 0 for v in out_of_stock)


def test_customers_by_email(api):
    (customer,) = api.get("/v1/customers", params={"email": "CARLA.ROSSI@example.com"}).json()["data"]
    assert customer["id"] == "cust_carla" and customer["loyalty"]["tier"] == "bronze"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/orders/99999999", {}),
        ("/v1/products/no-such-thing", {}),
        ("/v1/customers/cust_nobody", {}),
        ("/v1/carts/cart_nope", {}),
        ("/v1/crm/contacts/ct_nope", {}),
        ("/v1/crm/tickets/tk_nope", {}),
        ("/v1/no/such/route", {}),
    ],
)
def test_unknown_ids_and_routes_are_404_json(api, path, params):
    response = api.get(path, params=params)
    assert response.status_code == 404 and error_of(response)["type"] == "not_found"


def test_malformed_order_number_is_422(api):
    response = api.get("/v1/orders/12ab")
    assert response.status_code == 422 and "number" in error_of(response)["fields"]


def test_wrong_method_is_405_json(api):
    response = api.call("DELETE", "/v1/orders/100234")
    assert response.status_code == 405 and error_of(response)["type"] == "method_not_allowed"


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', ""])
def test_body_that_is_not_a_json_object_is_400(api, body):
    response = api.post("/v1/crm/tickets", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["type"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/crm/tickets", {"description": "no subject"}, "subject"),
        ("/v1/crm/tickets", {"subject": "s", "description": "d", "priority": "whenever"}, "priority"),
        ("/v1/crm/contacts", {"email": "not-an-email"}, "email"),
        ("/v1/crm/contacts", {"email": 42}, "email"),
        ("/v1/login-codes", {}, "email"),
        ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": 0}, "quantity"),
        ("/v1/carts/cart_anna_open/items", {"sku": "sun-cap-sand", "quantity": "2"}, "quantity"),
        ("/v1/carts/cart_anna_open/items", {"sku": "no-such-sku", "quantity": 1}, "sku"),
        ("/v1/carts/cart_anna_open/items", {"sku": "travel-mug-white", "quantity": 1}, "quantity"),
        ("/v1/carts", {"customer_id": "cust_nobody"}, "customer_id"),
    ],
)
def test_rule_breaking_input_is_422_with_the_field(api, path, body, field):
    response = api.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"limit": "101"}, {"cursor": "%%%"}])
def test_bad_paging_is_400(api, params):
    assert api.get("/v1/products", params=params).status_code == 400


def test_listing_orders_needs_a_filter(api):
    assert api.get("/v1/orders").status_code == 400


def test_idempotent_creation_replays_and_detects_misuse(api):
    key = str(uuid.uuid4())
    body = {"subject": "Broken zip", "description": "The zip broke.", "email": "ben.miller@example.com"}
    first = api.post("/v1/crm/tickets", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/crm/tickets", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/v1/crm/tickets", json={**body, "subject": "Other"}, headers={"Idempotency-Key": key})
    assert other.status_code == 409 and error_of(other)["type"] == "conflict"
    same_subject = [t for t in api.get("/v1/crm/tickets", params={"limit": 100}).json()["data"] if t["subject"] == "Broken zip"]
    assert len(same_subject) == 1


def test_contact_upsert_merges_instead_of_duplicating(api):
    email = f"upsert-{uuid.uuid4().hex[:6]}@example.com"
    created = api.post("/v1/crm/contacts", json={"email": email})
    merged = api.post("/v1/crm/contacts", json={"email": email.upper(), "first_name": "Lena"})
    assert (created.status_code, merged.status_code) == (201, 200)
    assert created.json()["id"] == merged.json()["id"] and merged.json()["first_name"] == "Lena"
    assert len(api.get("/v1/crm/contacts", params={"email": email}).json()["data"]) == 1


def test_cart_creation_and_stock_checked_items(api):
    cart = api.post("/v1/carts", json={"customer_id": "cust_david"}).json()
    filled = api.post(f"/v1/carts/{cart['id']}/items", json={"sku": "sun-cap-sand", "quantity": 2}).json()
    assert filled["items"] == [{"sku": "sun-cap-sand", "product_name": "Sun Cap", "quantity": 2,
                                "unit_price": {"amount": "27.00", "currency": "EUR"}}]
    assert filled["subtotal"]["amount"] == "54.00"
    assert api.post("/v1/carts/cart_carla_converted/items", json={"sku": "sun-cap-sand", "quantity": 1}).status_code == 422


def test_interactions_leads_and_deals(api):
    logged = api.post("/v1/crm/contacts/ct_ben/interactions",
                      json={"channel": "rest", "kind": "order_status", "summary": "asked", "order_number": "100234"})
    assert logged.status_code == 201
    timeline = api.get("/v1/crm/contacts/ct_ben/interactions").json()["data"]
    assert timeline[0]["id"] == logged.json()["id"]
    lead = api.post("/v1/crm/leads", json={"email": "buyer@example.com", "source": "chat", "company": "Acme"})
    assert lead.status_code == 201 and lead.json()["status"] == "new"
    assert api.get("/v1/crm/deals", params={"contact_id": "ct_erik"}).json()["data"][0]["amount"]["amount"] == "3960.00"
    assert api.post("/v1/crm/contacts/ct_nope/interactions", json={"channel": "c", "kind": "k", "summary": "s"}).status_code == 404


def latest_code(api, email: str) -> str:
    mails = api.get("/v1/sandbox/mailbox", params={"to": email}).json()["data"]
    return re.search(r"\b(\d{6})\b", mails[0]["body"]).group(1)


def test_login_codes_verify_once_and_lock_after_five_misses(api):
    email = "anna.schmidt@example.com"
    assert api.post("/v1/login-codes", json={"email": email}).status_code == 202
    code = latest_code(api, email)
    wrong = "000000" if code != "000000" else "111111"
    assert api.post("/v1/login-codes/verify", json={"email": email, "code": wrong}).json() == {"verified": False, "attempts_left": 4}
    assert api.post("/v1/login-codes/verify", json={"email": email, "code": code}).json() == {"verified": True, "customer_id": "cust_anna"}
    assert api.post("/v1/login-codes/verify", json={"email": email, "code": code}).json()["verified"] is False  # single use
    api.post("/v1/login-codes", json={"email": email})
    code = latest_code(api, email)
    for _ in range(5):
        api.post("/v1/login-codes/verify", json={"email": email, "code": wrong})
    assert api.post("/v1/login-codes/verify", json={"email": email, "code": code}).json() == {"verified": False, "attempts_left": 0}


def test_unknown_email_gets_the_same_answer_and_no_mail(api):
    response = api.post("/v1/login-codes", json={"email": "stranger@example.com"})
    assert response.status_code == 202 and response.json() == {"status": "sent", "expires_in": 600}
    assert api.get("/v1/sandbox/mailbox", params={"to": "stranger@example.com"}).json()["data"] == []


def test_correlation_id_is_echoed_and_logged(api, sandbox_server):
    response = api.get("/v1/orders/100235", headers={"X-Correlation-ID": "conv-test-123"})
    assert response.headers["X-Correlation-ID"] == "conv-test-123"
    assert '"correlation_id": "conv-test-123"' in sandbox_server.output()


def test_logs_carry_no_emails_codes_or_keys(api, sandbox_server):
    api.get("/v1/orders", params={"email": "ben.miller@example.com"})
    api.post("/v1/login-codes", json={"email": "david.chen@example.com"})
    code = latest_code(api, "david.chen@example.com")
    api.post("/v1/login-codes/verify", json={"email": "david.chen@example.com", "code": code})
    log = sandbox_server.output()
    assert "@example.com" not in log and code not in log and sandbox_server.api_key not in log
    assert '"route": "/v1/orders"' in log


def test_openapi_documents_exactly_the_routes_served():
    app = create_app(create_engine("sqlite://", future=True), "k", name="openapi_check")
    served = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:\w+)?>", r"{\1}", route.path)
        served |= {(method.lower(), path) for method in route.methods if method not in ("HEAD", "OPTIONS")}
    spec = yaml.safe_load(OPENAPI.read_text())
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert served == documented
